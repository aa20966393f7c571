"""The package logger and the CLI's -v/-vv/-q: what is decided goes to stderr, data stays on stdout.

The library configures nothing (a NullHandler on "gzspatial"); the CLI's root options add a stderr
handler for one run, and every line it writes has its control characters made visible.
"""

import csv
import io
import logging
import subprocess
import sys

import pytest

from .conftest import invoke_cli


@pytest.fixture
def points_csv(tmp_path):
    path = tmp_path / "points.csv"
    path.write_text("name,lon,lat\nA,113.3245,23.1066\nB,abc,23.1\n", encoding="utf-8")
    return path


def _stdout_rows(result):
    return list(csv.reader(io.StringIO(result.stdout.decode("utf-8"))))


def test_verbose_logs_the_crs_decision_and_route_on_stderr_only(points_csv):
    result = invoke_cli("-v", "join", str(points_csv), "-o", "-", "--crs", "gcj02")
    assert result.returncode == 0, result.stderr.decode()
    err = result.stderr.decode()
    assert f"INFO gzspatial.attribute: {points_csv}: coordinates in gcj02 (--crs)" in err
    assert f"{points_csv} -> -: streamed batch by batch" in err
    assert "encoding utf-8-sig, delimiter ','" in err and f"{points_csv}: answered by layers 20" in err
    assert "DEBUG" not in err
    rows = _stdout_rows(result)  # stdout is the CSV and nothing else
    assert rows[0][:3] == ["name", "lon", "lat"] and [r[0] for r in rows[1:]] == ["A", "B"]
    assert "gzspatial" not in result.stdout.decode()


def test_crs_named_by_a_column_is_logged_with_the_column(tmp_path):
    path = tmp_path / "amap.csv"
    path.write_text("name,gcj_lng,gcj_lat\nA,113.3245,23.1066\n", encoding="utf-8")
    result = invoke_cli("-v", "join", str(path), "-o", "-")
    assert result.returncode == 0, result.stderr.decode()
    assert "coordinates in gcj02 (column 'gcj_lng')" in result.stderr.decode()


def test_very_verbose_adds_debug_lines_with_times(points_csv):
    result = invoke_cli("-vv", "join", str(points_csv), "-o", "-", "--crs", "wgs84")
    assert result.returncode == 0, result.stderr.decode()
    debug = [line for line in result.stderr.decode().splitlines() if " DEBUG " in line]
    assert any("batch of 2 rows" in line and "'invalid': 1" in line for line in debug), debug
    assert all(line.split(" ms ")[0].strip().isdigit() for line in debug)  # relative time in ms


def test_default_logs_no_info_and_quiet_silences_the_summary(points_csv):
    plain = invoke_cli("join", str(points_csv), "-o", "-", "--crs", "wgs84")
    assert plain.returncode == 0 and "INFO" not in plain.stderr.decode()
    assert "joined 2 rows" in plain.stderr.decode()  # the summary, not a log line
    quiet = invoke_cli("-q", "join", str(points_csv), "-o", "-", "--crs", "wgs84")
    assert quiet.returncode == 0 and quiet.stderr == b"" and quiet.stdout == plain.stdout


def test_quiet_and_verbose_together_is_an_error():
    result = invoke_cli("-q", "-v", "locate", "113.3", "23.1")
    err = result.stderr.decode()
    assert result.returncode == 2 and "-q/--quiet and -v/--verbose" in err and len(err.splitlines()) == 1


def test_locate_json_stays_clean_with_debug():
    import json

    result = invoke_cli("-vv", "locate", "113.40", "23.12", "--json")
    assert result.returncode == 0
    assert json.loads(result.stdout)["district"]["name_en"] == "Tianhe"
    assert "DEBUG gzspatial.locator: locate 113.4 23.12 in wgs84" in result.stderr.decode()


def test_warnings_still_reach_the_cli_user_and_quiet_hides_them():
    from gzspatial.cli import app

    @app.command("_warn_for_test", hidden=True)
    def _warn() -> None:
        logging.getLogger("gzspatial.figure").warning("label %r overlaps others", "琶洲")

    try:
        shown = invoke_cli("_warn_for_test")
        hidden = invoke_cli("-q", "_warn_for_test")
    finally:
        app.registered_commands.pop()
    assert shown.stderr.decode() == "warning: label '琶洲' overlaps others\n"
    assert hidden.stderr == b""


def test_the_cli_leaves_the_logger_as_it_found_it(points_csv):
    logger = logging.getLogger("gzspatial")
    before = (list(logger.handlers), logger.level)
    invoke_cli("-vv", "join", str(points_csv), "-o", "-", "--crs", "wgs84")
    invoke_cli("-v", "locate", "abc", "23")  # an error exit, too
    assert (list(logger.handlers), logger.level) == before
    assert any(isinstance(h, logging.NullHandler) for h in logger.handlers)


def test_the_library_prints_nothing_without_configuration(tmp_path):
    code = (
        "import logging, pandas as pd, gzspatial\n"
        "gzspatial.locate(113.40, 23.12)\n"
        "gzspatial.join(pd.DataFrame({'lon': ['x', '113.3'], 'lat': [23.1, 23.1]}), crs='wgs84')\n"
        "logging.getLogger('gzspatial.figure').warning('would reach stderr without the NullHandler')\n"
        "print('done')\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout == b"done\n" and result.stderr == b""


def test_the_library_logs_to_an_application_handler(caplog):
    import gzspatial

    with caplog.at_level(logging.DEBUG, logger="gzspatial"):
        gzspatial.locate(113.40, 23.12, crs="wgs84")
    assert any(r.name == "gzspatial.locator" and "answered by layers" in r.getMessage() for r in caplog.records)


def test_hostile_text_in_a_log_line_is_neutralised(tmp_path):
    hostile = tmp_path / "x\x1b]0;pwned\x07\x1b[2J.csv"  # a file name is data too
    hostile.write_text("lon,lat\n113.3245,23.1066\n", encoding="utf-8")
    result = invoke_cli("-v", "join", str(hostile), "-o", "-", "--crs", "wgs84")
    assert result.returncode == 0, result.stderr.decode()
    err = result.stderr.decode()
    assert "\x1b" not in err and "\x07" not in err
    assert "x\\x1b]0;pwned\\x07\\x1b[2J.csv: coordinates in wgs84 (--crs)" in err


def test_a_message_with_line_breaks_stays_one_line():
    from gzspatial.cli import app

    @app.command("_log_for_test", hidden=True)
    def _log() -> None:
        logging.getLogger("gzspatial.io").info("cell %s", "a\nINFO forged line\r\x1b[31m")

    try:
        result = invoke_cli("-v", "_log_for_test")
    finally:
        app.registered_commands.pop()
    assert result.stderr.decode().splitlines() == ["INFO gzspatial.io: cell a\\x0aINFO forged line\\x0d\\x1b[31m"]

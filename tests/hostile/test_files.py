"""Hostile and careless file cases (issue #9 part 3): only the output is ever written, and only whole.

Every case drives the real CLI and checks: the exit code, one stderr line, rows in = rows out, the
input's columns byte-identical, no stray file in the folder, and nothing but the output changed.
"""

import csv
import errno
import hashlib
import io as _io
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gzspatial import io
from gzspatial.cli import app

from ..conftest import ROOT, invoke_cli, run_cli

ROWS = [("名称", "lon", "lat"), ("甲 =1+1", "113.3245", "23.1066"), ("乙", "113.40", "23.20"), ("丙", "", "")]
OUTPUTS = ("out.csv", "out.tsv", "out.xlsx", "out.geojson", "out.gpkg", "out.parquet")


def write_points(path: Path, rows=ROWS) -> Path:
    with open(path, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    return path


def snapshot(folder: Path) -> dict[str, tuple]:
    """Every entry of ``folder`` (hidden ones too, not following links): kind and content digest."""
    state = {}
    for entry in sorted(os.scandir(folder), key=lambda e: e.name):
        info = entry.stat(follow_symlinks=False)
        if stat.S_ISREG(info.st_mode):
            state[entry.name] = ("file", hashlib.sha256(Path(entry.path).read_bytes()).hexdigest())
        elif stat.S_ISLNK(info.st_mode):
            state[entry.name] = ("link", os.readlink(entry.path))
        else:
            state[entry.name] = (stat.S_IFMT(info.st_mode), None)
    return state


def one_line_error(stderr: str, code: int, returncode: int) -> str:
    assert returncode == code, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in stderr, stderr
    return lines[0]


def invoke(runner, *args):
    result = runner.invoke(app, [str(a) for a in args])
    return result


def write_text_xlsx(path: Path, rows) -> Path:
    """An .xlsx whose every cell is text (a formula-looking cell stays text, as Excel keeps a typed ')."""
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for r, row in enumerate(rows, start=1):
        for c, value in enumerate(row, start=1):
            cell = sheet.cell(r, c)
            cell.value = value
            cell.data_type = "s"
    book.save(path)
    return path


def csv_rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


# --- outputs that are not regular files -----------------------------------------------------------


def _fifo(p):
    os.mkfifo(p)


def _socket(p):
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(p))
    sock.close()


def _char_device(p):
    try:
        os.mknod(p, stat.S_IFCHR | 0o666, os.makedev(1, 3))  # a /dev/null twin
    except PermissionError:
        pytest.skip("cannot create device nodes here")


NODES = {
    "folder": lambda p: p.mkdir(),
    "fifo": _fifo,
    "socket": _socket,
    "char device": _char_device,
    "link to /dev/null": lambda p: p.symlink_to("/dev/null"),
    "link to folder": lambda p: p.symlink_to(p.parent / "sub") if (p.parent / "sub").mkdir() is None else None,
    "link to fifo": lambda p: (_fifo(p.parent / "real_fifo"), p.symlink_to(p.parent / "real_fifo")),
    "link to a file": lambda p: ((p.parent / "victim.txt").write_text("victim"), p.symlink_to(p.parent / "victim.txt")),
    "dangling link": lambda p: p.symlink_to(p.parent / "nowhere.csv"),
}
COMMANDS = {
    "join": lambda src, out: ["join", src, "--crs", "wgs84", "-o", out],
    "convert": lambda src, out: ["convert", src, "--from", "wgs84", "-o", out],
    "sample": lambda src, out: ["sample", "enterprises", "-n", "5", "-o", out],
    "map html": lambda src, out: ["map", "-o", out],
    "map png": lambda src, out: ["map", "-o", out],
}


@pytest.mark.parametrize("node", NODES)
@pytest.mark.parametrize("command", COMMANDS)
def test_output_that_is_not_a_regular_file_is_refused(tmp_path, runner, node, command):
    source = write_points(tmp_path / "in.csv")
    name = {"map html": "out.html", "map png": "out.png"}.get(command, "out.csv")
    target = tmp_path / name
    NODES[node](target)
    before = snapshot(tmp_path)
    result = invoke(runner, *COMMANDS[command](source, target))
    line = one_line_error(result.stderr, 2, result.exit_code)
    assert repr(str(target)) in line
    assert snapshot(tmp_path) == before  # the node, the link and what it points to are untouched
    assert Path("/dev/null").is_char_device()


@pytest.mark.parametrize("target", ["file.txt/out.csv", "file.txt/sub/out.gpkg"])
def test_output_under_a_regular_file_is_refused(tmp_path, runner, target):
    source = write_points(tmp_path / "in.csv")
    (tmp_path / "file.txt").write_text("keep", encoding="utf-8")
    before = snapshot(tmp_path)
    result = invoke(runner, "join", source, "--crs", "wgs84", "-o", tmp_path / target)
    one_line_error(result.stderr, 2, result.exit_code)
    assert snapshot(tmp_path) == before


# --- nothing but the output is touched ----------------------------------------------------------


def _bystanders(folder: Path, stem: str, suffix: str) -> list[Path]:
    """Files a careless scheme might take for its own temporary files."""
    live = os.getpid()  # a running process: its "temporary file" must stay
    names = [
        f".{stem}.tmp{suffix}",  # the old fixed temp name
        f".{stem}{suffix}.tmp",
        f".victim.tmp{suffix}",
        f".{stem}{suffix}.gztmp-{live}-0123456789ab{suffix}",
        f".{stem}{suffix}.gztmp-x-0123456789ab{suffix}",
        f"{stem}{suffix}.bak",
        f"{stem}.tmp",
    ]
    paths = [folder / name for name in names]
    for i, path in enumerate(paths):
        path.write_text(f"bystander {i}", encoding="utf-8")
    return paths


@pytest.mark.parametrize("output", OUTPUTS)
def test_only_the_output_is_written(tmp_path, runner, output):
    source = write_points(tmp_path / "in.csv")
    stem, suffix = output.split(".")[0], "." + output.split(".")[1]
    _bystanders(tmp_path, stem, suffix)
    before = snapshot(tmp_path)
    result = invoke(runner, "join", source, "--crs", "wgs84", "-o", tmp_path / output)
    assert result.exit_code == 0, result.stderr
    after = snapshot(tmp_path)
    assert set(after) - set(before) == {output}
    assert {k: v for k, v in after.items() if k != output} == before
    if suffix == ".csv":  # (.tsv delimiters are issue #9 part 4, not this file's concern)
        rows = csv_rows(tmp_path / output)
        assert len(rows) == len(ROWS) and [r[:3] for r in rows] == [list(r) for r in ROWS]


@pytest.mark.parametrize("output", ["pts.geojson", "pts.gpkg", "pts.csv"])
def test_an_input_named_like_the_old_temp_name_survives(tmp_path, runner, output):
    """Issue #9: a join to pts.geojson deleted its input .pts.tmp.geojson."""
    stem, suffix = output.split(".")
    source = write_points(tmp_path / f".{stem}.tmp.csv")
    victim = tmp_path / f".{stem}.tmp.{suffix}"  # for pts.csv: the input itself
    if victim != source:
        victim.write_text("victim", encoding="utf-8")
    before = snapshot(tmp_path)
    result = invoke(runner, "join", source, "--crs", "wgs84", "-o", tmp_path / output)
    assert result.exit_code == 0, result.stderr
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if k != output} == before


@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_an_input_named_like_a_temp_file_of_the_output_is_refused(tmp_path, runner, suffix):
    output = tmp_path / f"out{suffix}"
    source = write_points(tmp_path / f".out{suffix}.gztmp-{dead_pid()}-0123456789ab{suffix}")
    if suffix == ".geojson":  # a GeoJSON input of that name
        invoke(runner, "join", write_points(tmp_path / "p.csv"), "--crs", "wgs84", "-o", tmp_path / "p.geojson")
        source.write_bytes((tmp_path / "p.geojson").read_bytes())
    before = snapshot(tmp_path)
    result = invoke(runner, "join", source, "--crs", "wgs84", "-o", output)
    line = one_line_error(result.stderr, 2, result.exit_code)
    assert "named like a temporary file" in line
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("output", ["out.csv", "out.geojson", "out.gpkg", "out.parquet"])
def test_leftovers_of_a_killed_run_are_removed_by_the_next_run(tmp_path, runner, output):
    source = write_points(tmp_path / "in.csv")
    suffix = Path(output).suffix
    pid = dead_pid()
    leftovers = [tmp_path / f".{output}.gztmp-{pid}-00000000000a{suffix}"]
    leftovers.append(tmp_path / f".{output}.gztmp-{pid}-00000000000b.d")
    leftovers[0].write_bytes(b"half written" * 1000)
    leftovers[1].mkdir()
    (leftovers[1] / output).write_bytes(b"half written")
    other = tmp_path / f".other{suffix}.gztmp-{pid}-00000000000a{suffix}"  # another output's: not ours to remove
    other.write_bytes(b"x")
    result = invoke(runner, "join", source, "--crs", "wgs84", "-o", tmp_path / output)
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["in.csv", output, other.name])


@pytest.mark.process
def test_a_kill_9_leftover_is_removed_by_the_next_real_run(tmp_path):
    source = _big_csv(tmp_path / "big.csv", 200_000)
    target = tmp_path / "out.csv"
    process = _start("join", source, "--crs", "wgs84", "-o", target, "--quiet")
    temp = _wait_for_temp(tmp_path, target, process)
    process.kill()
    process.communicate()
    assert temp.exists() and not target.exists()
    small = write_points(tmp_path / "small.csv")
    result = run_cli("join", str(small), "--crs", "wgs84", "-o", str(target), "--quiet")  # a real process as well
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["big.csv", "out.csv", "small.csv"]
    assert len(csv_rows(target)) == len(ROWS)


# --- signals ---------------------------------------------------------------------------------------


def _big_csv(path: Path, rows: int) -> Path:
    lines = ["name,lon,lat"] + [
        f"n{i},{113.2 + (i % 997) * 3e-4:.6f},{23.0 + (i % 991) * 2e-4:.6f}" for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _start(*args) -> subprocess.Popen:
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("GZ_DEBUG", None)
    return subprocess.Popen(
        [sys.executable, "-m", "gzspatial", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )


def _wait_for_temp(folder: Path, target: Path, process: subprocess.Popen) -> Path:
    pattern = io.temp_name_pattern(target)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        found = [p for p in folder.iterdir() if pattern.fullmatch(p.name)]
        if found:
            return found[0]
        assert process.poll() is None, "the run ended before its temporary file was seen"
        time.sleep(0.01)
    raise AssertionError("no temporary file appeared")


@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
@pytest.mark.process
def test_signal_during_a_cli_write_removes_the_temp_file(tmp_path, sig, code):
    source = _big_csv(tmp_path / "big.csv", 1_500_000)  # two 32 MB batches: the write outlasts the signal
    target = tmp_path / "out.csv"
    target.write_text("old output\n", encoding="utf-8")
    before = snapshot(tmp_path)
    process = _start("join", source, "--crs", "wgs84", "-o", target, "--quiet")
    _wait_for_temp(tmp_path, target, process)
    process.send_signal(sig)
    _, err = process.communicate(timeout=120)
    assert process.returncode == code, err.decode()
    assert "Traceback" not in err.decode()
    assert snapshot(tmp_path) == before  # old output intact, no temporary file


WRITER = """
import sys, time
from pathlib import Path
from gzspatial import io
target, kind = Path(sys.argv[1]), sys.argv[2]
if kind == "handle":
    with io.atomic_output(target, "wb") as handle:
        handle.write(b"partial" * 1000)
        handle.flush()
        print("writing", flush=True)
        time.sleep(60)
else:
    with io.atomic_output_path(target) as tmp:
        tmp.write_bytes(b"partial")
        print("writing", flush=True)
        time.sleep(60)
"""


@pytest.mark.parametrize("kind", ["handle", "path"])
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, -signal.SIGINT)])
@pytest.mark.process
def test_signal_during_a_library_write_removes_the_temp_file(tmp_path, kind, sig, code):
    target = tmp_path / "out.gpkg"
    target.write_bytes(b"old")
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(target), kind], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT
    )
    assert process.stdout.readline() == b"writing\n"
    assert len(list(tmp_path.iterdir())) == 2
    process.send_signal(sig)
    process.communicate(timeout=60)
    assert process.returncode == code
    assert [p.name for p in tmp_path.iterdir()] == ["out.gpkg"] and target.read_bytes() == b"old"


# --- concurrent runs ---------------------------------------------------------------------------------


@pytest.mark.parametrize("output", ["same.csv", "same.geojson"])
@pytest.mark.process
def test_two_concurrent_runs_both_succeed_with_a_complete_output(tmp_path, output):
    sources = [_big_csv(tmp_path / "a.csv", 30_000), _big_csv(tmp_path / "b.csv", 20_000)]
    target = tmp_path / output
    processes = [_start("join", s, "--crs", "wgs84", "-o", target, "--quiet") for s in sources]
    results = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [r[1] for r in results]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["a.csv", "b.csv", output])
    # The survivor is the whole output of one of the runs (both reported success).
    if output.endswith(".csv"):
        assert len(csv_rows(target)) - 1 in (30_000, 20_000)
    else:
        import json

        assert len(json.loads(target.read_text(encoding="utf-8"))["features"]) in (30_000, 20_000)


# --- disk full, unwritable targets ---------------------------------------------------------------------


@pytest.mark.parametrize("output", ["out.csv", "out.tsv", "out.geojson", "out.gpkg", "out.parquet"])
@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EIO])
def test_write_errors_are_one_line_and_keep_the_old_output(tmp_path, runner, monkeypatch, output, code):
    source = write_points(tmp_path / "in.csv")
    target = tmp_path / output
    target.write_bytes(b"old output")
    before = snapshot(tmp_path)

    def fail(fd):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(io.os, "fsync", fail)  # the write reaches the disk at fsync: where a full disk shows
    result = invoke(runner, "join", source, "--crs", "wgs84", "-o", target)
    line = one_line_error(result.stderr, 2, result.exit_code)
    assert os.strerror(code) in line and "old file is unchanged" in line
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("code", [errno.EACCES, errno.EPERM, errno.EROFS, errno.EXDEV])
def test_failed_rename_is_one_line_and_removes_the_temp(tmp_path, runner, monkeypatch, code):
    source = write_points(tmp_path / "in.csv")
    target = tmp_path / "out.csv"
    before = snapshot(tmp_path)

    def fail(src, dst):
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(io.os, "replace", fail)
    result = invoke(runner, "convert", source, "--from", "wgs84", "-o", target)
    line = one_line_error(result.stderr, 2, result.exit_code)
    assert "nothing was written" in line
    assert snapshot(tmp_path) == before


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs (needs mount rights: skipped where there are none)."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True)
    if done.returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    yield mount
    subprocess.run(["umount", str(mount)], check=True)


@pytest.mark.parametrize("output", ["out.csv", "out.geojson", "out.gpkg", "out.parquet"])
def test_a_really_full_disk(tmp_path, tiny_disk, output):
    # GeoParquet stores the gz_ names as dictionaries, zstd-compressed: 5,000 rows fit in 64 KiB
    source = _big_csv(tmp_path / "big.csv", 20_000 if output == "out.parquet" else 5_000)
    target = tiny_disk / output
    target.write_bytes(b"old output")
    result = invoke_cli("join", str(source), "--crs", "wgs84", "-o", str(target), "--quiet")
    line = one_line_error(result.stderr.decode(), 2, result.returncode)
    assert "No space left on device" in line
    assert [p.name for p in tiny_disk.iterdir()] == [output] and target.read_bytes() == b"old output"


def test_a_read_only_file_system(tmp_path, tiny_disk):
    source = write_points(tmp_path / "in.csv")
    target = tiny_disk / "out.csv"
    target.write_bytes(b"old output")
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_disk)], check=True)
    result = invoke_cli("join", str(source), "--crs", "wgs84", "-o", str(target))
    line = one_line_error(result.stderr.decode(), 2, result.returncode)
    assert "not writable" in line and target.read_bytes() == b"old output"
    subprocess.run(["mount", "-o", "remount,rw", str(tiny_disk)], check=True)


# --- --excel-safe ---------------------------------------------------------------------------------------------

PAYLOADS = ['=HYPERLINK("http://evil","x")', "=cmd|' /C calc'!A0", "+1+1", "-1+1", "@SUM(1)", "\t=1", "\r=1", "\n=1"]
KEPT = ["-3.5", "+86", "普通", "a=b", ""]


def _payload_rows():
    rows = [("名称", "备注", "lon", "lat")]
    for i, text in enumerate(PAYLOADS + KEPT):
        rows.append((text, f"row {i}", f"{113.3 + i * 0.001:.4f}", "-23.1" if text == "-3.5" else "23.1"))
    return rows


@pytest.mark.parametrize(
    ("command", "source_name"),
    [
        (lambda s, o: ["join", s, "--crs", "wgs84", "-o", o, "--excel-safe"], "in.csv"),  # streaming
        (lambda s, o: ["join", s, "--crs", "wgs84", "-o", o, "--excel-safe"], "in.xlsx"),  # through a frame
        (lambda s, o: ["convert", s, "--from", "wgs84", "-o", o, "--excel-safe"], "in.csv"),
        (lambda s, o: ["convert", s, "--from", "wgs84", "-o", o, "--excel-safe"], "in.xlsx"),
    ],
)
def test_excel_safe_csv_prefixes_formula_text(tmp_path, runner, command, source_name):
    rows = _payload_rows()
    source = tmp_path / source_name
    if source_name.endswith(".csv"):
        write_points(source, rows)
    else:
        write_text_xlsx(source, rows)
    before = hashlib.sha256(source.read_bytes()).hexdigest()
    target = tmp_path / "out.csv"
    result = invoke(runner, *command(source, target))
    assert result.exit_code == 0, result.stderr
    out = csv_rows(target)
    assert len(out) == len(rows) and out[0][:4] == list(rows[0])
    expected = ["'" + p for p in PAYLOADS] + KEPT
    if source_name.endswith(".xlsx"):  # XML turns a CR in a cell into LF when read
        expected = [e.replace("\r", "\n") for e in expected]
    assert [r[0] for r in out[1:]] == expected
    assert [r[1:4] for r in out[1:]] == [list(r[1:4]) for r in rows[1:]]  # other text and coordinates unchanged
    assert hashlib.sha256(source.read_bytes()).hexdigest() == before


def test_without_excel_safe_csv_keeps_cells_as_read(tmp_path, runner):
    rows = _payload_rows()
    source = write_points(tmp_path / "in.csv", rows)
    result = invoke(runner, "join", source, "--crs", "wgs84", "-o", tmp_path / "out.csv")
    assert result.exit_code == 0, result.stderr
    assert [r[:4] for r in csv_rows(tmp_path / "out.csv")] == [list(r) for r in rows]


def test_excel_safe_on_stdout(tmp_path):
    # (no CR/LF payloads: pandas, which writes stdout, leaves a CR inside a cell unquoted)
    payloads = [p for p in PAYLOADS if p[0] not in "\r\n"]
    rows = [("名称", "lon", "lat")] + [(p, "113.3", "23.1") for p in payloads + KEPT]
    source = write_points(tmp_path / "in.csv", rows)
    result = invoke_cli("convert", str(source), "--from", "wgs84", "-o", "-", "--excel-safe")
    assert result.returncode == 0, result.stderr.decode()
    out = list(csv.reader(_io.StringIO(result.stdout.decode("utf-8"), newline="")))
    assert [r[0] for r in out[1:]] == ["'" + p for p in payloads] + KEPT


GIS_FEATURE = '{"type":"Feature","geometry":%s,"properties":{"n":%s}}'
BOWTIE = '{"type":"Polygon","coordinates":[[[113.3,23.1],[113.4,23.2],[113.4,23.1],[113.3,23.2],[113.3,23.1]]]}'


@pytest.mark.parametrize("name", ["in.geojson", "in.gpkg", "in.parquet", "in.xlsx", "in.shp"])
@pytest.mark.parametrize("output", ["out.csv", "out.xlsx"])
def test_an_empty_gis_parquet_or_excel_input_is_one_line(tmp_path, runner, name, output):
    """A 0-byte GIS, Parquet or Excel file: one line saying it is empty, not the drivers' own words."""
    source = tmp_path / name
    source.write_bytes(b"")
    result = runner.invoke(app, ["join", str(source), "-o", str(tmp_path / output), "--crs", "wgs84"])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1, result.stderr
    assert f"{source} is empty (0 bytes)" in result.stderr and not (tmp_path / output).exists()


@pytest.mark.parametrize("output", ["out.csv", "out.xlsx", "out.gpkg", "out.parquet"])
def test_broken_and_featureless_geojson(tmp_path, runner, output):
    """Broken GeoJSON is one line naming the file; a GeoJSON without features gives an empty output."""
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type":"FeatureCollection","features":[', encoding="utf-8")
    result = runner.invoke(app, ["join", str(broken), "-o", str(tmp_path / output)])
    assert result.exit_code == 2 and result.stderr.count("\n") == 1 and "broken.geojson" in result.stderr
    assert not (tmp_path / output).exists()


@pytest.mark.parametrize("output", ["out.csv", "out.gpkg", "out.parquet"])
def test_hostile_gis_rows_are_flagged_in_order_never_dropped(tmp_path, runner, output):
    """A bow-tie polygon, a null geometry, a swapped point and text that looks like a formula or holds
    an escape: every row comes out, in order, each with its status (the GIS input streams)."""
    features = [
        GIS_FEATURE % (BOWTIE, '"=HYPERLINK(\\"http://x\\")"'),
        GIS_FEATURE % ("null", '"\\u001b[31mred"'),
        GIS_FEATURE % ('{"type":"Point","coordinates":[23.1,113.3]}', '"swapped"'),
        GIS_FEATURE % ('{"type":"Point","coordinates":[113.3245,23.1066]}', '"ok"'),
    ]  # fmt: skip
    source = tmp_path / "hostile.geojson"
    source.write_text('{"type":"FeatureCollection","features":[' + ",".join(features) + "]}", encoding="utf-8")
    result = runner.invoke(app, ["join", str(source), "-o", str(tmp_path / output), "--quiet"])
    assert result.exit_code == 0, result.stderr
    import geopandas
    import pandas as pd

    if output.endswith(".csv"):
        back = pd.read_csv(tmp_path / output, dtype=str, keep_default_na=False)
    else:
        back = (
            geopandas.read_parquet(tmp_path / output)
            if output.endswith(".parquet")
            else geopandas.read_file(tmp_path / output)
        )
    assert list(back["n"]) == ['=HYPERLINK("http://x")', "\x1b[31mred", "swapped", "ok"]
    assert list(back["gz_status"]) == ["invalid", "missing", "swapped", "ok"]
    assert "Self-intersection" in back["gz_note"].iloc[0]


@pytest.mark.parametrize("node", ["folder", "char device", "fifo", "link to /dev/null"])
def test_extensionless_non_file_output_is_named_for_what_it_is(tmp_path, runner, node):
    """An output without an extension that is a folder, device, FIFO or link (``-o /dev/null``, ``-o .``)
    is refused for what it is, not for its missing extension."""
    source = write_points(tmp_path / "in.csv")
    target = tmp_path / "out"
    NODES[node](target)
    before = snapshot(tmp_path)
    result = invoke(runner, "join", source, "--crs", "wgs84", "-o", target)
    line = one_line_error(result.stderr, 2, result.exit_code)
    assert repr(str(target)) in line and "without an extension" not in line
    assert snapshot(tmp_path) == before

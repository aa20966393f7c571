"""Tests of gzspatial.excel (the .xlsx writer) and the .xlsx outputs of join, convert, sample and stats."""

import contextlib
import errno
import gc
import sys
import zipfile

import numpy as np
import openpyxl
import pandas as pd
import pytest

import gzspatial
from gzspatial import excel, io
from gzspatial._errors import GzError
from gzspatial.attribute import GZ_COLUMNS

from .conftest import invoke_cli

PAYLOADS = [
    '=HYPERLINK("http://example.invalid/?q="&A1,"click")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-1+1",
    "@SUM(1)",
    "\t=1+1",
    "=1",
    " =1+1",
    "#N/A",
    "#DIV/0!",
    "=",
]


def _sheet_xml(path) -> str:
    with zipfile.ZipFile(path) as archive:
        return "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/"))


def _cells(path, sheet=None):
    book = openpyxl.load_workbook(path)
    ws = book[sheet] if sheet else book.worksheets[0]
    return [[(c.value, c.data_type) for c in row] for row in ws.iter_rows()]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_text_that_looks_like_a_formula_is_written_as_text(tmp_path, payload):
    path = tmp_path / "t.xlsx"
    excel.write_xlsx(excel.Sheet("t", pd.DataFrame({payload: [payload, "plain"]})), path)
    assert _cells(path) == [[(payload, "s")], [(payload, "s")], [("plain", "s")]]
    assert "<f>" not in _sheet_xml(path) and "<f " not in _sheet_xml(path)
    assert pd.read_excel(path, dtype=str, keep_default_na=False)[payload].tolist() == [payload, "plain"]


def test_carriage_return_reads_back_as_line_feed(tmp_path):
    """XML normalises line ends: a CR-led cell stays text and comes back LF-led (documented)."""
    path = tmp_path / "t.xlsx"
    excel.write_xlsx(excel.Sheet("t", pd.DataFrame({"v": ["\r=1+1", "a\r\nb"]})), path)
    assert _cells(path)[1:] == [[("\n=1+1", "s")], [("a\nb", "s")]]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["113.30", "", "23.1066"], [113.3, None, 23.1066]),
        (["0", "-12", "0.5"], [0, -12, 0.5]),
        (["2015", "1995"], [2015, 1995]),
        (["44010300000", "1"], [44010300000, 1]),  # 11 digits: Excel shows it whole
        (["0440103", "1"], ["0440103", "1"]),  # a leading zero would be lost
        (["440103000000", "1"], ["440103000000", "1"]),  # 12 digits: shown as 4.40103E+11
        (["1234567890.123456", "1"], ["1234567890.123456", "1"]),  # 16 significant digits
        (["+5", "1"], ["+5", "1"]),
        (["1e5", "1"], ["1e5", "1"]),
        (["1,000", "1"], ["1,000", "1"]),
        ([" 5", "1"], [" 5", "1"]),
        ([".5", "1"], [".5", "1"]),
        (["5.", "1"], ["5.", "1"]),
        (["1_000", "1"], ["1_000", "1"]),
        (["113.3", "abc"], ["113.3", "abc"]),  # one text cell keeps the whole column text
        (["", "", ""], [None, None, None]),
    ],
)
def test_decimal_text_columns_become_numbers_only_when_exact(tmp_path, cells, expected):
    path = tmp_path / "t.xlsx"
    excel.write_xlsx(excel.Sheet("t", pd.DataFrame({"v": cells, "row": range(len(cells))})), path)
    got = [row[0] for row in _cells(path)[1:]]
    assert [v for v, _ in got] == expected
    assert [t for _, t in got] == ["n" if v is None or isinstance(v, int | float) else "s" for v in expected]


def test_typed_columns_keep_their_types(tmp_path):
    path = tmp_path / "t.xlsx"
    frame = pd.DataFrame(
        {
            "int": [1, 2, 3],
            "float": [1.5, np.nan, np.inf],
            "bool": pd.array([True, None, False], dtype="boolean"),
            "when": pd.to_datetime(["2024-01-02", None, "2025-03-04 05:06:07"], format="ISO8601"),
            "mixed": [1, "=1+1", None],
            "category": pd.Categorical(["440106", "440106", ""]),
        }
    )
    excel.write_xlsx(excel.Sheet("t", frame), path)
    rows = _cells(path)[1:]
    assert [r[0] for r in rows] == [(1, "n"), (2, "n"), (3, "n")]
    assert [r[1] for r in rows] == [(1.5, "n"), (None, "n"), ("inf", "s")]  # Excel has no infinity
    assert [r[2] for r in rows] == [(True, "b"), (None, "n"), (False, "b")]
    assert rows[0][3][0].year == 2024 and rows[0][3][1] == "d" and rows[1][3][0] is None
    assert [r[4] for r in rows] == [(1, "n"), ("=1+1", "s"), (None, "n")]
    assert [r[5] for r in rows] == [("440106", "s"), ("440106", "s"), (None, "n")]  # labels stay text


def test_layout_frozen_bold_header_filter_and_fitted_widths(tmp_path):
    path = tmp_path / "t.xlsx"
    frame = pd.DataFrame(
        {"a": ["x"] * 3, "名称": ["广州市天河区科技园"] * 3, "ascii": ["abcdefghi"] * 3, "n": [1, 2, 3]}
    )
    excel.write_xlsx(excel.Sheet("数据", frame), path)
    ws = openpyxl.load_workbook(path)["数据"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == "A1:D4"
    assert all(c.font.b for c in ws[1]) and not any(c.font.b for c in ws[2])
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["A"] == excel.MIN_WIDTH
    assert widths["B"] == 9 * 2 + excel.WIDTH_PADDING  # nine CJK characters count double
    assert widths["C"] == 9 + excel.WIDTH_PADDING
    very_long = tmp_path / "long.xlsx"
    excel.write_xlsx(excel.Sheet("t", pd.DataFrame({"v": ["y" * 500]})), very_long)
    assert openpyxl.load_workbook(very_long).active.column_dimensions["A"].width == excel.MAX_WIDTH


def test_several_sheets_total_rows_and_number_formats(tmp_path):
    path = tmp_path / "t.xlsx"
    table = pd.DataFrame({"unit": ["a", "b", "_total"], "share": [0.25, 0.75, np.nan]})
    excel.write_xlsx(
        [
            excel.Sheet("one", table, number_formats={"share": "0.0%"}, total_rows=1),
            excel.Sheet("bad:/name?" + "x" * 40, table),
        ],
        path,
    )
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["one", ("bad__name_" + "x" * 40)[:31]]
    ws = book["one"]
    assert ws["B2"].number_format == "0.0%" and ws["B2"].value == 0.25
    assert ws["A4"].font.b and not ws["A3"].font.b and ws.auto_filter.ref == "A1:B3"  # totals outside the filter


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (
            pd.DataFrame({"name": ["ok", "x" * 32_768]}),
            r"row 2, column 'name', has 32,768 characters.*\.csv or \.parquet",
        ),
        (pd.DataFrame({"name": ["ok", "a\x00b"]}), r"row 2, column 'name', holds the control character U\+0000"),
        (pd.DataFrame({"v": ["\x1b[2J"]}), r"row 1, column 'v', holds the control character U\+001B"),
        (pd.DataFrame({"v": [1, "\x0b"]}), r"row 2, column 'v', holds the control character U\+000B"),
        (pd.DataFrame({"a\x07": ["x"]}), r"the header of column 1 holds the control character U\+0007"),
    ],
)
def test_limits_are_errors_before_writing(tmp_path, frame, message):
    path = tmp_path / "t.xlsx"
    with pytest.raises(excel.ExcelLimitError, match=message):
        excel.write_xlsx(excel.Sheet("t", frame), path)
    assert list(tmp_path.iterdir()) == []
    assert issubclass(excel.ExcelLimitError, GzError)


def test_cell_of_exactly_the_limit_is_kept_whole(tmp_path):
    path = tmp_path / "t.xlsx"
    text = "广" * excel.MAX_CELL_CHARS
    excel.write_xlsx(excel.Sheet("t", pd.DataFrame({"v": [text]})), path)
    assert openpyxl.load_workbook(path).active["A2"].value == text


def test_too_many_rows_or_columns(tmp_path, monkeypatch):
    with pytest.raises(excel.ExcelLimitError, match=r"1,048,576 rows do not fit .*at most 1,048,575"):
        excel.check_rows(1_048_576)
    excel.check_rows(1_048_575)
    monkeypatch.setattr(excel, "MAX_COLUMNS", 3)
    with pytest.raises(excel.ExcelLimitError, match="4 columns do not fit"):
        excel.write_xlsx(excel.Sheet("t", pd.DataFrame([[1, 2, 3, 4]])), tmp_path / "t.xlsx")
    assert not (tmp_path / "t.xlsx").exists()


class _FullDisk:
    """A binary file that takes ``room`` bytes and then fails like a full disk."""

    def __init__(self, room: int):
        self.room, self.written = room, 0

    def write(self, data) -> int:
        if self.written + len(data) > self.room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self.written += len(data)
        return len(data)

    def tell(self) -> int:
        return self.written

    def seekable(self) -> bool:
        return False

    def flush(self) -> None:
        pass


@pytest.mark.parametrize("room", [0, 200, 3000])
def test_full_disk_fails_cleanly(tmp_path, monkeypatch, room):
    """The error propagates once: no 'Exception ignored in ZipFile.__del__', no temporary parts left."""
    from openpyxl.worksheet import _writer

    @contextlib.contextmanager
    def full_disk(path, mode="w", **kwargs):
        yield _FullDisk(room)

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    monkeypatch.setattr(io, "atomic_output", full_disk)
    before = set(_writer.ALL_TEMP_FILES)
    frame = pd.DataFrame({"name": [f"企业{i}" for i in range(2000)], "lon": np.linspace(113, 114, 2000)})
    with pytest.raises(OSError, match="No space left"):
        excel.write_xlsx([excel.Sheet("a", frame), excel.Sheet("b", frame)], tmp_path / "t.xlsx")
    gc.collect()
    assert unraisable == []
    leftovers = [p for p in set(_writer.ALL_TEMP_FILES) - before if __import__("os").path.exists(p)]
    assert leftovers == []


def test_io_write_table_uses_the_writer_and_keeps_the_sheet_name(tmp_path):
    source = tmp_path / "in.xlsx"
    excel.write_xlsx(excel.Sheet("企业名录", pd.DataFrame({"名称": ["=1+1"], "lng": ["113.3"]})), source)
    frame = io.read_table(source)
    assert frame.attrs["sheet"] == "企业名录" and frame["名称"].tolist() == ["=1+1"]
    io.write_table(frame, tmp_path / "out.xlsx")
    assert openpyxl.load_workbook(tmp_path / "out.xlsx").sheetnames == ["企业名录"]
    assert _cells(tmp_path / "out.xlsx")[1] == [("=1+1", "s"), (113.3, "n")]
    io.write_table(pd.DataFrame({"a": [1]}), tmp_path / "plain.xlsx")
    assert openpyxl.load_workbook(tmp_path / "plain.xlsx").sheetnames == ["Sheet1"]


# --- the commands ---------------------------------------------------------------------------


@pytest.fixture
def enterprises_xlsx(tmp_path):
    """A small Excel input on a named sheet; coordinates as numbers, one formula-like name as text."""
    frame = pd.DataFrame(
        {
            "企业名称": ["甲公司", '=HYPERLINK("http://example.invalid","乙")', "丙"],
            "统一代码": ["0440103", "440103000000", "91440101"],
            "经度": ["113.3245", "113.40", "113.2644"],
            "纬度": ["23.1066", "23.12", "23.1291"],
        }
    )
    path = tmp_path / "企业.xlsx"
    excel.write_xlsx(excel.Sheet("企业名录", frame), path)
    return path


def test_join_to_xlsx_keeps_sheet_numbers_and_stable_gz_headers(tmp_path, enterprises_xlsx):
    out = tmp_path / "joined.xlsx"
    result = invoke_cli("join", str(enterprises_xlsx), "-o", str(out), "--lang", "zh", "--quiet", "--crs", "wgs84")
    assert result.returncode == 0, result.stderr.decode()
    book = openpyxl.load_workbook(out)
    assert book.sheetnames == ["企业名录"]
    rows = _cells(out, "企业名录")
    header = [v for v, _ in rows[0]]
    assert header[:4] == ["企业名称", "统一代码", "经度", "纬度"] and header[4:] == list(GZ_COLUMNS)
    assert [r[2] for r in rows[1:]] == [(113.3245, "n"), (113.4, "n"), (113.2644, "n")]
    assert [r[1] for r in rows[1:]] == [("0440103", "s"), ("440103000000", "s"), ("91440101", "s")]
    assert rows[2][0] == ('=HYPERLINK("http://example.invalid","乙")', "s")
    column = dict(zip(header, zip(*rows[1:], strict=True), strict=True))
    assert {t for _, t in column["gz_district_code"]} == {"s"} and column["gz_district_code"][0][0].startswith("4401")
    assert {t for _, t in column["gz_axis_distance_m"]} == {"n"} and column["gz_on_axis"][0][1] == "b"
    assert [v for v, _ in column["gz_status"]] == ["ok", "ok", "ok"]
    assert "<f>" not in _sheet_xml(out)


def test_join_csv_to_xlsx_makes_coordinates_numbers(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("名称,经度,纬度\n甲,113.3245,23.1066\n乙,113.40,23.12\n", encoding="gbk")
    out = tmp_path / "out.xlsx"
    assert invoke_cli("join", str(source), "-o", str(out), "--crs", "wgs84", "--quiet").returncode == 0
    assert [r[1:3] for r in _cells(out)[1:]] == [[(113.3245, "n"), (23.1066, "n")], [(113.4, "n"), (23.12, "n")]]
    assert openpyxl.load_workbook(out).sheetnames == ["Sheet1"]


def test_convert_and_sample_to_xlsx(tmp_path, enterprises_xlsx):
    out = tmp_path / "converted.xlsx"
    result = invoke_cli("convert", str(enterprises_xlsx), "--from", "gcj02", "--to", "wgs84", "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    rows = _cells(out, "企业名录")
    assert [v for v, _ in rows[0]][-4:] == ["wgs84_lon", "wgs84_lat", "gz_status", "gz_note"]
    assert rows[2][0] == ('=HYPERLINK("http://example.invalid","乙")', "s") and rows[1][4][1] == "n"
    sample = tmp_path / "sample.xlsx"
    assert invoke_cli("sample", "enterprises", "-n", "50", "-o", str(sample)).returncode == 0
    back = _cells(sample)
    header = [v for v, _ in back[0]]
    assert len(back) == 51 and {back[1][header.index(c)][1] for c in ("经度", "纬度", "成立年份")} == {"n"}
    assert back[1][header.index("企业名称")][1] == "s"


@pytest.fixture(scope="module")
def joined_csv(tmp_path_factory, layers):
    town = layers["nodes"].set_index("id").geometry["university-town"].representative_point()
    frame = pd.DataFrame(
        {
            "name": ["a", "b", "c", "d", "e"],
            "类别": ["高新技术企业", "孵化器", "高新技术企业", "孵化器", "高新技术企业"],
            "lon": [town.x, town.x, 113.2644, 116.4, ""],
            "lat": [town.y, town.y, 23.1291, 39.9, ""],
        }
    )
    path = tmp_path_factory.mktemp("stats") / "joined.csv"
    gzspatial.join(frame, crs="wgs84").to_csv(path, index=False)
    return path


@pytest.mark.parametrize("lang", [None, "zh"])
def test_stats_to_xlsx(tmp_path, joined_csv, lang):
    out = tmp_path / "stats.xlsx"
    args = ["stats", str(joined_csv), "--by", "node", "--by", "core", "--category", "类别", "-o", str(out)]
    result = invoke_cli(*args, *(["--lang", lang] if lang else []))
    assert result.returncode == 0, result.stderr.decode()
    book = openpyxl.load_workbook(out)
    zh = lang == "zh"
    assert book.sheetnames == (["按点位", "按核心", "说明"] if zh else ["by node", "by core", "about"])
    ws = book.worksheets[1]  # by core
    header = [c.value for c in ws[1]]
    expected = ["编号", "名称", "英文名称", "数量", "占比"] if zh else ["unit", "name_zh", "name_en", "count", "share"]
    assert header[:5] == expected and header[-2:] == (["数量：孵化器", "数量：高新技术企业"] if zh else
                                                      ["count:孵化器", "count:高新技术企业"])  # fmt: skip
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == 4 + 3 and [r[0] for r in rows[-3:]] == ["_outside", "_not_located", "_total"]
    counts = [r[3] for r in rows]
    assert all(isinstance(c, int) for c in counts) and counts[-1] == sum(counts[:-1]) == 5  # adds up to the rows
    assert counts[-3:] == [1, 2, 5]  # 广州站 is in no core; 116.4,39.9 is outside Guangzhou; one blank
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref == f"A1:{ws.cell(1, len(header)).column_letter}5"
    assert ws["E2"].number_format == "0.0%" and ws.cell(len(rows) + 1, 1).font.b
    assert all(ws.column_dimensions[c.column_letter].width >= excel.display_width(c.value) for c in ws[1])
    node = book.worksheets[0]
    node_rows = list(node.iter_rows(min_row=2, values_only=True))
    assert len(node_rows) == 28 + 3 and node_rows[-1][4] == 5  # count_primary total = rows
    about = dict(book.worksheets[2].iter_rows(min_row=2, values_only=True))
    assert about["行数" if zh else "rows"] == 5 and str(joined_csv) in about.values()
    assert "<f>" not in _sheet_xml(out)

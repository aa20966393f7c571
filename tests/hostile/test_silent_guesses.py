"""Nothing silently wrong: no guessed coordinate system, column, encoding, number or delimiter.

Each class of careless input either stops with one line (exit 2) naming the choices, or comes out
row by row with a status that says what was wrong. Never a plausible answer with status ``ok``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from gzspatial import crs

from ..conftest import invoke_cli as run_cli

TIANHE_WGS = (113.3246, 23.1216)  # 天河中央商务区 (WGS84)


def _csv(path, text: str, encoding: str = "utf-8"):
    path.write_bytes(text.encode(encoding))
    return path


def _one_line_error(result, *needles: str) -> str:
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


def _joined(path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


# --- coordinate system -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("plain.csv", "name,lon,lat\na,113.3246,23.1216\n"),
        ("chinese.csv", "名称,经度,纬度\n甲,113.3246,23.1216\n"),
        ("semicolon.csv", "name;lng;lat\na;113.3246;23.1216\n"),
        ("xy.csv", "name,x,y\na,113.3246,23.1216\n"),
    ],
)
def test_table_without_crs_asks(tmp_path, name, content):
    source = _csv(tmp_path / name, content)
    result = run_cli("join", str(source), "-o", str(tmp_path / "out.csv"))
    _one_line_error(result, "does not say which coordinate system", "--crs", "gcj02", "bd09", "坐标系")
    assert not (tmp_path / "out.csv").exists()


def test_parquet_without_crs_asks(tmp_path):
    source = tmp_path / "p.parquet"
    pd.DataFrame({"lon": [113.3246], "lat": [23.1216]}).to_parquet(source)
    _one_line_error(run_cli("join", str(source), "-o", str(tmp_path / "o.csv")), "--crs")


def test_python_api_asks_too():
    import gzspatial
    from gzspatial._errors import InputError

    with pytest.raises(InputError, match="does not say which coordinate system"):
        gzspatial.join(pd.DataFrame({"lon": [113.3], "lat": [23.1]}))


@pytest.mark.parametrize("column", ["坐标系", "crs", "coord_sys", "CRS"])
def test_per_row_system_column_is_honoured(tmp_path, column):
    gcj = crs.transform(*TIANHE_WGS, "wgs84", "gcj02")
    bd = crs.transform(*TIANHE_WGS, "wgs84", "bd09")
    rows = [
        ("wgs", *TIANHE_WGS, "wgs84"),
        ("gcj", *gcj, "gcj02"),
        ("bd", *bd, "BD-09"),
        ("bad", *TIANHE_WGS, "mercator?"),
        ("blank", *TIANHE_WGS, ""),
    ]
    text = f"name,lon,lat,{column}\n" + "".join(f"{n},{x:.8f},{y:.8f},{s}\n" for n, x, y, s in rows)
    source = _csv(tmp_path / "rows.csv", text)
    for out in ("out.csv", "out.xlsx"):  # the streaming and the frame route agree
        result = run_cli("join", str(source), "-o", str(tmp_path / out), "--quiet")
        assert result.returncode == 0, result.stderr.decode()
    joined = _joined(tmp_path / "out.csv")
    assert list(joined["gz_status"]) == ["ok", "ok", "ok", "invalid", "invalid"]
    assert joined.loc[0, "gz_primary_node"] == joined.loc[1, "gz_primary_node"] == joined.loc[2, "gz_primary_node"]
    assert float(joined.loc[1, "gz_nearest_node_m"]) == float(joined.loc[0, "gz_nearest_node_m"])
    assert "mercator?" in joined.loc[3, "gz_note"] and "blank" in joined.loc[4, "gz_note"]
    excel = pd.read_excel(tmp_path / "out.xlsx", dtype=str, keep_default_na=False)
    assert list(excel["gz_status"]) == list(joined["gz_status"])


def test_per_row_system_in_chinese_words(tmp_path):
    """坐标系 cells as Chinese exports write them (高德, 百度坐标, GPS…) name the systems; words that
    name none (百度墨卡托: Baidu's metres) are flagged, never guessed."""
    gcj = crs.transform(*TIANHE_WGS, "wgs84", "gcj02")
    bd = crs.transform(*TIANHE_WGS, "wgs84", "bd09")
    rows = [("a", *gcj, "高德"), ("b", *gcj, "火星坐标系"), ("c", *bd, "百度坐标"), ("d", *TIANHE_WGS, "GPS"),
            ("e", *bd, "百度墨卡托")]  # fmt: skip
    text = "name,lon,lat,坐标系\n" + "".join(f"{n},{x:.8f},{y:.8f},{s}\n" for n, x, y, s in rows)
    source = _csv(tmp_path / "rows.csv", text)
    result = run_cli("join", str(source), "-o", str(tmp_path / "out.csv"), "--quiet")
    assert result.returncode == 0, result.stderr.decode()
    joined = _joined(tmp_path / "out.csv")
    assert list(joined["gz_status"]) == ["ok", "ok", "ok", "ok", "invalid"]
    assert joined["gz_nearest_node_m"].iloc[:4].nunique() == 1  # one place, however it was written
    assert "百度墨卡托" in joined.loc[4, "gz_note"]


def test_per_row_system_disagreeing_with_crs_is_flagged(tmp_path):
    source = _csv(tmp_path / "rows.csv", "name,lon,lat,坐标系\na,113.3246,23.1216,gcj02\nb,113.3246,23.1216,wgs84\n")
    result = run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "wgs84", "--quiet")
    assert result.returncode == 0
    joined = _joined(tmp_path / "o.csv")
    assert list(joined["gz_status"]) == ["invalid", "ok"]
    assert joined.loc[0, "gz_note"] == "坐标系 says gcj02 but --crs says wgs84"


# --- coordinate columns ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "named"),
    [
        ("gcj_lng,gcj_lat,wgs_lng,wgs_lat", "gcj_lng, wgs_lng"),
        ("lon,lng,lat", "lon, lng"),
        ("x,y,经度,纬度", "x, 经度"),
        ("name,longitude,lat,latitude", "lat, latitude"),
    ],
)
def test_several_candidate_columns_ask(tmp_path, header, named):
    values = ",".join(["113.3", "23.1", "113.3", "23.1"][: header.count(",") + 1])
    if header.startswith("name"):
        values = "a,113.3,23.1,23.1"
    source = _csv(tmp_path / "c.csv", f"{header}\n{values}\n")
    _one_line_error(run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "wgs84"), named, "--lon")


@pytest.mark.parametrize(("lon", "lat", "given"), [("gcj_lng", "gcj_lat", "wgs84"), ("bd_lng", "bd_lat", "gcj02")])
def test_column_naming_a_system_must_agree_with_crs(tmp_path, lon, lat, given):
    source = _csv(tmp_path / "c.csv", f"name,{lon},{lat}\na,113.33,23.12\n")
    _one_line_error(run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", given), lon, given)


def test_column_naming_a_system_is_used(tmp_path):
    gcj = crs.transform(*TIANHE_WGS, "wgs84", "gcj02")
    source = _csv(tmp_path / "c.csv", f"name,gcj_lng,gcj_lat\na,{gcj[0]:.8f},{gcj[1]:.8f}\n")
    assert run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--quiet").returncode == 0
    wgs = _csv(tmp_path / "w.csv", f"name,lon,lat\na,{TIANHE_WGS[0]},{TIANHE_WGS[1]}\n")
    assert run_cli("join", str(wgs), "-o", str(tmp_path / "w_o.csv"), "--crs", "wgs84", "--quiet").returncode == 0
    a, b = _joined(tmp_path / "o.csv"), _joined(tmp_path / "w_o.csv")
    assert a.loc[0, "gz_primary_node"] == b.loc[0, "gz_primary_node"] != ""


def test_lon_and_lat_columns_naming_different_systems(tmp_path):
    source = _csv(tmp_path / "c.csv", "gcj_lng,wgs_lat\n113.3,23.1\n")
    _one_line_error(run_cli("join", str(source), "-o", str(tmp_path / "o.csv")), "different systems")


# --- encodings -------------------------------------------------------------------------------


@pytest.mark.parametrize("first", ["utf-8", "gbk"])
def test_mixed_encodings_are_an_error_naming_lines(tmp_path, first):
    second = "gbk" if first == "utf-8" else "utf-8"
    data = b"name,lon,lat\n" + "广州塔,113.3245,23.1066\n".encode(first)
    data += "天河城,113.3267,23.1322\n".encode(second) + "海心沙,113.3215,23.1152\n".encode(first)
    source = tmp_path / "mixed.csv"
    source.write_bytes(data)
    for out in ("o.csv", "o.xlsx"):
        err = _one_line_error(run_cli("join", str(source), "-o", str(tmp_path / out), "--crs", "wgs84"), "mixes")
        assert "line(s) 2" in err or "line(s) 3" in err
        assert not (tmp_path / out).exists()


def test_wrong_encoding_names_the_lines(tmp_path):
    source = _csv(tmp_path / "g.csv", "name,lon,lat\na,113.3,23.1\n广州塔,113.3245,23.1066\n", "gbk")
    for out in ("o.xlsx", "o.csv"):
        result = run_cli("join", str(source), "-o", str(tmp_path / out), "--crs", "wgs84", "--encoding", "utf-8")
        err = result.stderr.decode()
        assert result.returncode == 2 and "Traceback" not in err and err.count("\n") == 1
    frame_route = run_cli("join", str(source), "-o", str(tmp_path / "o.xlsx"), "--crs", "wgs84", "--encoding", "utf-8")
    assert "line(s) 3" in frame_route.stderr.decode()


def test_gbk_shapefile_without_cpg_reads_chinese(tmp_path):
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame(
        {"名称": ["广州塔", "天河城"]}, geometry=[shapely.Point(113.3245, 23.1066), shapely.Point(113.3267, 23.1322)],
        crs=4326,
    )  # fmt: skip
    path = tmp_path / "sites.shp"
    frame.to_file(path, encoding="gbk")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    result = run_cli("join", str(path), "-o", str(tmp_path / "o.csv"), "--quiet")
    assert result.returncode == 0, result.stderr.decode()
    assert list(_joined(tmp_path / "o.csv")["名称"]) == ["广州塔", "天河城"]


BIG5_NAMES = ["香港科技大學", "臺灣大學", "廣州市天河區", "中山大學"]


@pytest.mark.parametrize("rows", [1, 400], ids=["two names", "many rows"])
@pytest.mark.parametrize("output", ["o.csv", "o.xlsx", "o.parquet"])
def test_big5_is_asked_about_not_read_as_gbk(tmp_path, rows, output):
    """Big5 bytes decode as GBK too, into other characters: asked (exit 2 naming both), and read
    exactly with --encoding big5."""
    names = (BIG5_NAMES * rows)[: max(2, rows)]
    text = "名稱,經度,緯度\n" + "".join(f"{n},113.3245,23.1066\n" for n in names)
    source = _csv(tmp_path / "big5.csv", text, "big5")
    _one_line_error(run_cli("join", str(source), "-o", str(tmp_path / output), "--crs", "wgs84"), "big5", "gbk")
    assert not (tmp_path / output).exists()
    result = run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "wgs84", "--encoding", "big5")
    assert result.returncode == 0, result.stderr.decode()
    assert list(_joined(tmp_path / "o.csv")["名稱"]) == names


def test_gbk_with_rare_and_traditional_characters_is_not_taken_for_big5(tmp_path):
    """GBK text is read as GBK: common names with a few extension characters (堃, 燊, 犇, 淼) and a
    traditional name among many simplified ones."""
    names = ["广州市天河区五山路381号", "中山大学南校区", "黄埔区知识城", "堃燊犇淼有限公司", "廣州塔"] * 40
    source = _csv(tmp_path / "gbk.csv", "名称,经度,纬度\n" + "".join(f"{n},113.3245,23.1066\n" for n in names), "gbk")
    result = run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "wgs84", "--quiet")
    assert result.returncode == 0, result.stderr.decode()
    assert list(_joined(tmp_path / "o.csv")["名称"]) == names


def test_big5_shapefile_without_cpg_is_asked_about(tmp_path):
    import geopandas as gpd
    import shapely

    frame = gpd.GeoDataFrame({"名稱": BIG5_NAMES[:2]}, geometry=[shapely.Point(113.3245, 23.1066)] * 2, crs=4326)
    path = tmp_path / "sites.shp"
    frame.to_file(path, encoding="big5")
    path.with_suffix(".cpg").unlink(missing_ok=True)
    _one_line_error(run_cli("join", str(path), "-o", str(tmp_path / "o.csv")), "big5")
    result = run_cli("join", str(path), "-o", str(tmp_path / "o.csv"), "--encoding", "big5", "--quiet")
    assert result.returncode == 0, result.stderr.decode()
    assert list(_joined(tmp_path / "o.csv")["名稱"]) == BIG5_NAMES[:2]


@pytest.mark.parametrize("cause", ["a quote left open", "a 20 MB field"])
def test_a_row_the_reader_cannot_split_is_named(tmp_path, cause):
    """A quote left open (the rest of the file one field) or a row longer than the reader's blocks
    (8 MB) is one line naming the row, or the row after which it starts and the likely cause."""
    rows = "".join(f"企业{i},113.3245,23.1066\n" for i in range(5))
    big = '"open,113.3,23.1\n' + "x,113.3,23.1\n" * 800_000 if cause == "a quote left open" else "y" * (20 << 20)
    source = _csv(tmp_path / "long.csv", "名称,经度,纬度\n" + rows + big + ",113.3,23.1\n")
    err = _one_line_error(run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "wgs84"), "row")
    assert ("Row #7" in err and '"open' in err) if cause == "a quote left open" else ("8 MB" in err and "quote" in err)


def _formula_workbook(path, saved: bool):
    """A workbook with formula cells as a script writes it (no saved values) or as Excel saves it."""
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "企业"
    for row in (["名称", "经度", "纬度"], ["=1+1", 113.3245, 23.1066], ["x", "=113+0.3245", 23.1066],
                ["y", 113.3245, 23.1066]):  # fmt: skip
        sheet.append(row)
    book.save(path)
    if saved:  # what Excel writes: each formula with its value
        with zipfile.ZipFile(path) as archive:
            parts = {item: archive.read(item) for item in archive.namelist()}
        xml = parts["xl/worksheets/sheet1.xml"]
        xml = xml.replace(b"<f>1+1</f><v />", b"<f>1+1</f><v>2</v>")
        parts["xl/worksheets/sheet1.xml"] = xml.replace(b"<f>113+0.3245</f><v />", b"<f>113+0.3245</f><v>113.3245</v>")
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            for item, data in parts.items():
                archive.writestr(item, data)
    return path


@pytest.mark.parametrize("command", ["join", "convert"])
def test_formula_cells_without_saved_values_are_named(tmp_path, command):
    """pandas reads a formula cell no spreadsheet program computed as blank: said in one warning line
    naming the cells (the coordinate is flagged missing, the name is empty); a workbook Excel saved
    reads its values, with no warning."""
    options = ["--crs", "wgs84"] if command == "join" else ["--from", "wgs84"]
    unsaved = _formula_workbook(tmp_path / "script.xlsx", saved=False)
    result = run_cli(command, str(unsaved), "-o", str(tmp_path / "o.csv"), *options)
    assert result.returncode == 0, result.stderr.decode()
    warning = [line for line in result.stderr.decode().splitlines() if line.startswith("warning:")]
    assert len(warning) == 1 and "2 formula cell(s) have no saved value (A2, B3)" in warning[0], warning
    joined = _joined(tmp_path / "o.csv")
    assert list(joined["gz_status"]) == ["ok", "missing", "ok"] and joined["名称"].iloc[0] in ("", "nan")

    saved = _formula_workbook(tmp_path / "saved.xlsx", saved=True)
    result = run_cli(command, str(saved), "-o", str(tmp_path / "o2.csv"), *options)
    assert result.returncode == 0 and "warning" not in result.stderr.decode(), result.stderr.decode()
    joined = _joined(tmp_path / "o2.csv")
    assert list(joined["gz_status"]) == ["ok", "ok", "ok"] and str(joined["名称"].iloc[0]) == "2"


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lon", "lat", "status", "note"),
    [
        ("1_13.3246", "23.1216", "invalid", "not a number"),
        ("１１３．３２４６", "２３．１２１６", "ok", ""),
        ("113.3246E", "23.1216N", "ok", ""),
        ("东经113.3246", "北纬23.1216", "ok", ""),
        ("23.1216N", "113.3246E", "invalid", "is a latitude"),
        ("113.3246", "23.1216E", "invalid", "is a longitude"),
        ("0x71", "23.1", "invalid", "not a number"),
        ("infinity", "23.1", "invalid", "not a finite number"),
    ],
)
def test_number_forms(tmp_path, lon, lat, status, note):
    source = _csv(tmp_path / "n.csv", f"name,lon,lat\na,{lon},{lat}\n")
    for out in ("o.csv", "o.xlsx"):
        result = run_cli("join", str(source), "-o", str(tmp_path / out), "--crs", "wgs84", "--quiet")
        assert result.returncode == 0, result.stderr.decode()
    joined = _joined(tmp_path / "o.csv")
    assert joined.loc[0, "gz_status"] == status and note in joined.loc[0, "gz_note"]
    assert joined.loc[0, "lon"] == lon  # the input cell is kept as typed
    if status == "ok":
        assert joined.loc[0, "gz_district"] == "天河区"


def test_conversion_out_of_range_is_invalid(tmp_path):
    source = _csv(tmp_path / "b.csv", "name,lon,lat\nedge,-180,-90\nok,113.33,23.12\n")
    assert run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "bd09", "--quiet").returncode == 0
    joined = _joined(tmp_path / "o.csv")
    assert joined.loc[0, "gz_status"] == "invalid" and "out of range" in joined.loc[0, "gz_note"]
    assert joined.loc[1, "gz_status"] == "ok"


@pytest.mark.parametrize("system", ["EPSG:4547", "EPSG:3857", "EPSG:32649"])
def test_degrees_with_a_projected_crs_are_refused(tmp_path, system):
    source = _csv(tmp_path / "d.csv", "name,x,y\na,113.3,23.1\nb,113.4,23.2\n")
    _one_line_error(run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", system), "look like degrees")
    _one_line_error(run_cli("locate", "113.3", "23.1", "--crs", system), "look like degrees")


def test_one_implausible_projected_row_is_flagged(tmp_path):
    x, y = crs.transform(*TIANHE_WGS, "wgs84", "EPSG:4547")
    source = _csv(tmp_path / "m.csv", f"name,x,y\na,{x:.2f},{y:.2f}\nb,113.3,23.1\n")
    assert run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "EPSG:4547", "--quiet").returncode == 0
    joined = _joined(tmp_path / "o.csv")
    assert list(joined["gz_status"]) == ["ok", "invalid"] and "far outside" in joined.loc[1, "gz_note"]


def test_locate_converted_out_of_range(tmp_path):
    _one_line_error(run_cli("locate", "--crs", "bd09", "--", "-180", "-90"), "out of range")


# --- delimiters and .tsv ---------------------------------------------------------------------


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
@pytest.mark.parametrize("out", ["o.csv", "o.xlsx", "o.tsv"])
def test_delimiter_sniffed_once_for_every_route(tmp_path, delimiter, out):
    text = delimiter.join(["name", "lon", "lat"]) + "\n" + delimiter.join(["a, b", "113.3246", "23.1216"]) + "\n"
    source = _csv(tmp_path / "in.csv", text)
    result = run_cli("join", str(source), "-o", str(tmp_path / out), "--crs", "wgs84", "--quiet")
    assert result.returncode == 0, result.stderr.decode()
    if out.endswith(".xlsx"):
        joined = pd.read_excel(tmp_path / out, dtype=str)
    else:
        joined = pd.read_csv(tmp_path / out, dtype=str, sep="\t" if out.endswith(".tsv") else ",")
    assert joined.loc[0, "name"] == "a, b" and joined.loc[0, "gz_status"] == "ok"


def test_tsv_output_is_tab_separated_from_both_routes(tmp_path):
    source = _csv(tmp_path / "in.csv", "name,lon,lat\na,113.3246,23.1216\n")
    xlsx = tmp_path / "in.xlsx"
    pd.read_csv(source, dtype=str).to_excel(xlsx, index=False)
    for i, src in enumerate((source, xlsx)):
        out = tmp_path / f"o{i}.tsv"
        assert run_cli("join", str(src), "-o", str(out), "--crs", "wgs84", "--quiet").returncode == 0
        header = out.read_text(encoding="utf-8").splitlines()[0]
        assert header.count("\t") >= 16 and "," not in header


def test_delimiter_option_overrides(tmp_path):
    source = _csv(tmp_path / "in.csv", "name;lon;lat\na,b;113.3246;23.1216\n")  # a comma inside a cell
    result = run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "wgs84", "--delimiter", ";")
    assert result.returncode == 0, result.stderr.decode()
    assert _joined(tmp_path / "o.csv").loc[0, "name"] == "a,b"
    _one_line_error(
        run_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "wgs84", "--delimiter", ";;"),
        "one character",
    )

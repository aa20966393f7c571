"""Bad input is exit 2 with one line, everywhere (issue #9 part 5).

Each class is tried in several variants through the real CLI; every refusal leaves the folder as it
was (input untouched, no output, no temporary file).
"""

import csv
import hashlib
import json
import os
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from gzspatial.cli import app

from ..conftest import invoke_cli


def snapshot(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.is_file() else "dir" for p in sorted(folder.iterdir())
    }


def refused(runner, folder: Path, *args) -> str:
    """Run the CLI, expect exit 2 with one ``error:`` line and the folder unchanged; return the line."""
    before = snapshot(folder)
    result = runner.invoke(app, [str(a) for a in args])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr, result.stderr
    assert snapshot(folder) == before
    return lines[0]


def csv_rows(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        return list(csv.reader(handle))


# --- duplicate column names -----------------------------------------------------------------------

DUPLICATES = {
    "lon twice": ("name,lon,lon,lat\na,113.3,113.4,23.1\n", "'lon'"),
    "lat twice": ("name,lon,lat,lat\na,113.3,23.1,23.2\n", "'lat'"),
    "chinese": ("名称,经度,纬度,经度\n甲,113.3,23.1,113.4\n", "'经度'"),
    "other column": ("name,name,lon,lat\na,b,113.3,23.1\n", "'name'"),
    "several": ("a,a,lon,lat,b,b\n1,2,113.3,23.1,3,4\n", "'a', 'b'"),
}
TABLE_COMMANDS = {
    "join csv": lambda s, o: ["join", s, "--crs", "wgs84", "-o", o / "out.csv"],
    "join xlsx": lambda s, o: ["join", s, "--crs", "wgs84", "-o", o / "out.xlsx"],
    "join geojson": lambda s, o: ["join", s, "--crs", "wgs84", "-o", o / "out.geojson"],
    "convert": lambda s, o: ["convert", s, "--from", "wgs84", "-o", o / "out.csv"],
}


@pytest.mark.parametrize("case", DUPLICATES)
@pytest.mark.parametrize("command", TABLE_COMMANDS)
def test_duplicate_column_names(tmp_path, runner, case, command):
    text, named = DUPLICATES[case]
    source = tmp_path / "in.csv"
    source.write_text(text, encoding="utf-8")
    line = refused(runner, tmp_path, *TABLE_COMMANDS[command](source, tmp_path))
    assert "duplicate column names" in line and named in line


@pytest.mark.parametrize("case", ["lon twice", "chinese", "several"])
def test_duplicate_column_names_in_excel(tmp_path, runner, case):
    text, named = DUPLICATES[case]
    rows = list(csv.reader(text.splitlines()))
    source = tmp_path / "in.xlsx"
    pd.DataFrame(rows[1:]).to_excel(source, index=False, header=rows[0])
    line = refused(runner, tmp_path, "join", source, "--crs", "wgs84", "-o", tmp_path / "out.csv")
    assert "duplicate column names" in line and named in line


# --- broken and old Excel files ----------------------------------------------------------------------


def _truncated_xlsx(path: Path) -> None:
    pd.DataFrame({"lon": ["113.3"], "lat": ["23.1"]}).to_excel(path, index=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _zip_without_workbook(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")


BROKEN_XLSX = {
    "text": lambda p: p.write_text("lon,lat\n113.3,23.1\n", encoding="utf-8"),
    "empty": lambda p: p.write_bytes(b""),
    "truncated": _truncated_xlsx,
    "zip without workbook": _zip_without_workbook,
    "old xls bytes": lambda p: p.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504),
}


@pytest.mark.parametrize("case", BROKEN_XLSX)
@pytest.mark.parametrize("command", ["join csv", "convert"])
def test_corrupt_xlsx(tmp_path, runner, case, command):
    source = tmp_path / "in.xlsx"
    BROKEN_XLSX[case](source)
    line = refused(runner, tmp_path, *TABLE_COMMANDS[command](source, tmp_path))
    if case == "empty":  # 0 bytes is said as such, as for GIS and Parquet inputs
        assert "is empty (0 bytes): nothing to read" in line
    else:
        assert "is not a readable .xlsx workbook" in line and "save it again as .xlsx" in line


@pytest.mark.parametrize("content", [bytes.fromhex("d0cf11e0a1b11ae1") + b"\0" * 504, b"lon,lat\n1,2\n", b""])
@pytest.mark.parametrize("name", ["in.xls", "IN.XLS"])
def test_old_xls_says_save_as_xlsx(tmp_path, runner, content, name):
    source = tmp_path / name
    source.write_bytes(content)
    line = refused(runner, tmp_path, "join", source, "--crs", "wgs84", "-o", tmp_path / "out.csv")
    assert "old Excel 97-2003 .xls" in line and "save it as .xlsx" in line


# --- one projected point -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("point", "src", "dst"),
    [
        (("12614000", "2579000"), "EPSG:3857", "wgs84"),
        (("12614000", "2579000"), "EPSG:3857", "gcj02"),
        (("12614000", "2579000"), "EPSG:3857", "bd09"),
        (("12614000", "2579000"), "EPSG:3857", "EPSG:4547"),
        (("432000", "2556000"), "EPSG:4547", "gcj02"),
        (("113.3", "23.1"), "bd09", "EPSG:3857"),
    ],
)
def test_convert_one_projected_point(runner, point, src, dst):
    import pyproj

    from gzspatial import crs

    result = runner.invoke(app, ["convert", *point, "--from", src, "--to", dst])
    assert result.exit_code == 0, result.stderr
    lon, lat = (float(v) for v in result.stdout.split())
    expected = crs.transform(float(point[0]), float(point[1]), src, dst)
    assert (lon, lat) == pytest.approx(expected, abs=1e-6)
    if src == "EPSG:3857" and dst == "wgs84":  # and against pyproj alone
        x, y = pyproj.Transformer.from_crs(3857, 4326, always_xy=True).transform(12614000, 2579000)
        assert (lon, lat) == pytest.approx((x, y), abs=1e-6)


# --- static map size, dpi and pixel budget -------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--size", "0x0"], "must be two positive numbers"),
        (["--size", "0x11"], "must be two positive numbers"),
        (["--size=-15x11"], "must be two positive numbers"),
        (["--size", "15x-11"], "must be two positive numbers"),
        (["--size", "nanx11"], "must be two positive numbers"),
        (["--size", "infx11"], "must be two positive numbers"),
        (["--size", "15"], "is not WIDTHxHEIGHT"),
        (["--size", "15x11x2"], "is not WIDTHxHEIGHT"),
        (["--size", "axb"], "is not WIDTHxHEIGHT"),
        (["--dpi", "0"], "dpi 0 is not usable"),
        (["--dpi=-200"], "dpi -200 is not usable"),
        (["--size", "100x100", "--dpi", "600"], "above the limit of 250 Mpx"),
        (["--size", "200x1", "--dpi", "400"], "65,535 px a side"),
        (["--size", "0.001x0.001", "--dpi", "10"], "less than one pixel"),
    ],
)
@pytest.mark.parametrize("suffix", [".png", ".pdf"])
def test_bad_map_sizes(tmp_path, runner, options, message, suffix):
    line = refused(runner, tmp_path, "map", "-o", tmp_path / f"map{suffix}", *options)
    assert message in line


def test_pixel_cap_lets_a_large_sane_map_through():
    from gzspatial.figure import MAX_PIXELS, check_request

    assert check_request("15x11", None, None, 200) == (15.0, 11.0)
    assert check_request("40×30", None, None, 300) == (40.0, 30.0)  # 108 Mpx, under the cap
    assert 12_000 * 12_000 < MAX_PIXELS < 60_000 * 60_000


# --- several sheets, several layers ---------------------------------------------------------------------

POINTS = pd.DataFrame({"名称": ["甲", "乙", "丙"], "lon": ["113.3245", "113.40", ""], "lat": ["23.1066", "23.20", ""]})


@pytest.fixture
def workbook(tmp_path):
    path = tmp_path / "two.xlsx"
    with pd.ExcelWriter(path) as writer:
        POINTS.to_excel(writer, sheet_name="企业", index=False)
        pd.DataFrame({"说明": ["notes"]}).to_excel(writer, sheet_name="说明", index=False)
        POINTS.head(1).to_excel(writer, sheet_name="2", index=False)
    return path


@pytest.mark.parametrize("command", ["join csv", "join geojson", "convert"])
def test_several_sheets_need_sheet(tmp_path, runner, workbook, command):
    line = refused(runner, tmp_path, *TABLE_COMMANDS[command](workbook, tmp_path))
    assert "has 3 sheets ('企业', '说明', '2')" in line and "--sheet" in line


@pytest.mark.parametrize("sheet", ["x", "0", "4", "企"])
def test_unknown_sheet_lists_the_sheets(tmp_path, runner, workbook, sheet):
    line = refused(runner, tmp_path, "join", workbook, "--crs", "wgs84", "-o", tmp_path / "o.csv", "--sheet", sheet)
    assert f"has no sheet {sheet!r}" in line and "'企业', '说明', '2'" in line


@pytest.mark.parametrize(("sheet", "rows"), [("企业", 3), ("1", 3), ("2", 1), ("3", 1)])
@pytest.mark.parametrize("command", ["join", "convert"])
def test_sheet_by_name_or_number(tmp_path, runner, workbook, sheet, rows, command):
    """A sheet named "2" wins over the second sheet; numbers count from 1."""
    output = tmp_path / "out.csv"
    args = ["--crs", "wgs84"] if command == "join" else ["--from", "wgs84"]
    result = runner.invoke(app, [command, str(workbook), *args, "-o", str(output), "--sheet", sheet])
    assert result.exit_code == 0, result.stderr
    out = csv_rows(output)
    assert out[0][:3] == list(POINTS.columns) and [r[:3] for r in out[1:]] == POINTS.head(rows).values.tolist()


@pytest.fixture
def geopackage(tmp_path):
    import geopandas

    frame = geopandas.GeoDataFrame(
        POINTS.head(2), geometry=geopandas.points_from_xy([113.3245, 113.40], [23.1066, 23.20]), crs="EPSG:4326"
    )
    path = tmp_path / "two.gpkg"
    frame.to_file(path, layer="enterprises", driver="GPKG")
    frame.head(1).to_file(path, layer="other", driver="GPKG")
    return path


@pytest.mark.parametrize("output", ["out.csv", "out.geojson", "out.xlsx"])
def test_several_layers_need_layer(tmp_path, runner, geopackage, output):
    line = refused(runner, tmp_path, "join", geopackage, "-o", tmp_path / output)
    assert "has 2 layers ('enterprises', 'other')" in line and "--layer NAME" in line


@pytest.mark.parametrize("layer", ["nope", "Enterprises", ""])
def test_unknown_layer_lists_the_layers(tmp_path, runner, geopackage, layer):
    line = refused(runner, tmp_path, "join", geopackage, "-o", tmp_path / "o.csv", "--layer", layer)
    assert f"has no layer {layer!r}" in line and "'enterprises', 'other'" in line


@pytest.mark.parametrize(("layer", "rows"), [("enterprises", 2), ("other", 1)])
def test_layer_by_name(tmp_path, runner, geopackage, layer, rows):
    output = tmp_path / "out.csv"
    result = runner.invoke(app, ["join", str(geopackage), "-o", str(output), "--layer", layer])
    assert result.exit_code == 0, result.stderr
    out = csv_rows(output)
    assert [r[:3] for r in out[1:]] == POINTS.head(rows).values.tolist()


# --- a --layers folder that replaces nothing ----------------------------------------------------------------


@pytest.mark.parametrize("files", [[], ["core.geojson"], ["Nodes.GeoJSON", "readme.txt"], ["cores.json"]])
@pytest.mark.parametrize("command", [["locate", "113.3245", "23.1066"], ["layers"]])
def test_layers_folder_that_replaces_nothing_warns(tmp_path, files, command):
    folder = tmp_path / "layers"
    folder.mkdir()
    for name in files:
        (folder / name).write_text("{}", encoding="utf-8")
    result = invoke_cli(*command, "--layers", str(folder))
    err = result.stderr.decode()
    assert result.returncode == 0, err
    (line,) = err.strip().splitlines()
    assert line.startswith(f"warning: --layers {folder} replaces no layer") and "cores.geojson" in line
    assert sorted(os.listdir(folder)) == sorted(files)


def test_layers_folder_that_replaces_a_layer_does_not_warn(tmp_path):
    from gzspatial.layers import packaged_layers_dir

    folder = tmp_path / "layers"
    folder.mkdir()
    (folder / "nodes.geojson").write_bytes((packaged_layers_dir() / "nodes.geojson").read_bytes())
    result = invoke_cli("locate", "113.3245", "23.1066", "--layers", str(folder))
    assert result.returncode == 0 and "warning" not in result.stderr.decode()


# --- inputs that are not regular files -------------------------------------------------------------------

INPUT_KINDS = {
    "folder": (lambda p: p.mkdir(), "is a folder"),
    "fifo": (lambda p: os.mkfifo(p), "is a FIFO"),
    "link to /dev/zero": (lambda p: p.symlink_to("/dev/zero"), "is a character device"),
    "dangling link": (lambda p: p.symlink_to(p.parent / "nowhere.csv"), "not found"),
}


@pytest.mark.parametrize("kind", INPUT_KINDS)
@pytest.mark.parametrize("command", ["join csv", "join geojson", "convert"])
@pytest.mark.parametrize("name", ["in.csv", "in.xlsx", "in.geojson"])
def test_input_that_is_not_a_regular_file(tmp_path, runner, kind, command, name):
    make, message = INPUT_KINDS[kind]
    make(tmp_path / name)
    line = refused(runner, tmp_path, *TABLE_COMMANDS[command](tmp_path / name, tmp_path))
    assert message in line and repr(str(tmp_path / name)) in line


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (("join", "--bogus"), "--bogus"),
        (("nosuch",), "'nosuch'"),
        (("join",), "'source'"),
        (("stats", "x.csv", "--by", "street"), "'street'"),
        (("locate", "113.3", "23.1", "--corridor-km", "far"), "'--corridor-km'"),
        (("layers", "import"), "'source'"),
    ],
)
def test_usage_errors_are_one_line(args, named):
    """Unknown options and commands, missing arguments and bad choices: one line naming the value, exit 2,
    (click would print usage, a hint and the error on three lines). test_cli covers the real process."""
    result = invoke_cli(*args)
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and named in err, err
    assert "--help')" in err and "Traceback" not in err


@pytest.mark.parametrize(("lang", "prefix"), [("zh", "错误：未知坐标系 "), ("en", "error: unknown coordinate system ")])
def test_error_line_in_either_language_keeps_hostile_values_literal(tmp_path, runner, lang, prefix):
    """Translated templates are formatted once: a value holding {fields}, escapes or a newline is
    printed literally (never expanded), on one line, with control characters made visible."""
    hostile = "{crs}{0}{__class__}\x1b]0;owned\x07\nEPSG:{1}"
    result = runner.invoke(app, ["convert", "113.3", "23.1", "--from", hostile, "--lang", lang])
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 2 and len(lines) == 1 and lines[0].startswith(prefix), result.stderr
    assert "{crs}{0}{__class__}" in lines[0] and "EPSG:{1}" in lines[0] and "\x1b" not in lines[0]


@pytest.mark.parametrize("rows", [1, 60_000], ids=["exact path", "grid path"])
def test_far_and_extreme_coordinates_are_outside_never_a_warning(tmp_path, rows):
    """Valid coordinates anywhere on Earth: 'outside', with EPSG:4547 distances where the zone has
    metres for them and blank ones with a note where it has none (15°E, the antimeridian, the poles)."""
    import warnings

    import numpy as np

    import gzspatial

    lon = [15.0, -70.0, 179.999, -179.999, 0.0, 113.3, 116.4]
    lat = [0.0, 40.0, 89.999, -89.999, 0.0, 23.1, 39.9]
    frame = pd.DataFrame({"lon": lon * rows, "lat": lat * rows})
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RuntimeWarning from inf metres is a failure
        joined = gzspatial.join(frame, crs="wgs84").iloc[: len(lon)]
    assert list(joined["gz_status"]) == ["outside"] * 5 + ["ok", "outside"]
    distances = joined[["gz_axis_distance_m", "gz_nearest_node_m"]].astype(float).to_numpy()
    blank = np.isnan(distances).all(axis=1)
    assert (np.isfinite(distances).all(axis=1) | blank).all()  # never inf, never half a pair
    assert all("too far from Guangzhou for distances" in note for note in joined["gz_note"][blank])
    assert blank[0] and not blank[5] and not blank[6]


# --- geometry bytes that are not WKB --------------------------------------------------------------

BAD_WKB = {
    "truncated point": b"\x01\x01\x00\x00\x00" + bytes(8),
    "21 bytes of text": b"garbage-garbage-garba",
    "unknown type": b"\x01\x63\x00\x00\x00" + bytes(16),
    "big-endian flag, little-endian body": b"\x00\x01\x00\x00\x00" + bytes(16),
    "empty": b"",
}


@pytest.mark.parametrize("case", BAD_WKB)
@pytest.mark.parametrize("output", ["out.csv", "out.parquet"])
def test_unreadable_geometry_bytes_are_flagged_rows_not_a_failure(tmp_path, runner, case, output):
    """A GeoParquet row whose geometry is not WKB is flagged invalid, its neighbours answered."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq
    import shapely

    good = shapely.to_wkb(shapely.Point(113.3245, 23.1066))
    table = pa.table({"id": [1, 2, 3], "geometry": pa.array([good, BAD_WKB[case], good], pa.binary())})
    column = {"encoding": "WKB", "geometry_types": [], "crs": None}
    geo = {"version": "1.0.0", "primary_column": "geometry", "columns": {"geometry": column}}
    source = tmp_path / "in.parquet"
    pq.write_table(table.replace_schema_metadata({"geo": json.dumps(geo)}), source)
    result = runner.invoke(app, ["join", str(source), "--crs", "wgs84", "-o", str(tmp_path / output)])
    assert result.exit_code == 0, result.stderr
    joined = pd.read_csv(tmp_path / output) if output.endswith(".csv") else pd.read_parquet(tmp_path / output)
    assert joined["id"].tolist() == [1, 2, 3]
    status = joined["gz_status"].astype(str).tolist()
    assert status == ["ok", "invalid", "ok"]
    assert joined["gz_note"].iloc[1] == "geometry is not readable WKB"


# --- null coordinates: blank cells, whatever the container ------------------------------------------


def _null_coordinates_table():
    import pyarrow as pa

    return pa.table(
        {
            "id": pa.array([1, None, 3, 4, 5], pa.int64()),
            "lon": pa.array([113.3245, None, 113.3245, float("nan"), None], pa.float64()),
            "lat": pa.array(["23.1066", "23.1066", None, "23.1066", None], pa.string()),
        }
    )


NULL_EXPECTED = [
    ("ok", ""),
    ("missing", "coordinate is blank"),
    ("missing", "coordinate is blank"),
    ("invalid", "longitude not a number: NaN"),  # a NaN is a number that is not one: not blank
    ("missing", "coordinate is blank"),
]


@pytest.mark.parametrize("output", ["out.csv", "out.parquet", "out.gpkg", "out.xlsx"])
def test_null_coordinates_in_parquet_are_blank_not_nan(tmp_path, runner, output):
    """A null cell of a Parquet file (numbers or text) is a blank coordinate: 'missing', as an
    empty CSV cell; only a real NaN is 'invalid'. The same whatever the output (.xlsx goes through
    a frame, the others stream)."""
    import pyarrow.parquet as pq
    import pyogrio

    source = tmp_path / "in.parquet"
    pq.write_table(_null_coordinates_table(), source)
    result = runner.invoke(app, ["join", str(source), "--crs", "wgs84", "-o", str(tmp_path / output)])
    assert result.exit_code == 0, result.stderr
    read = {".csv": pd.read_csv, ".parquet": pd.read_parquet, ".gpkg": pyogrio.read_dataframe, ".xlsx": pd.read_excel}
    joined = read[Path(output).suffix](tmp_path / output)
    got = list(zip(joined["gz_status"].astype(str), joined["gz_note"].fillna("").astype(str), strict=True))
    assert got == NULL_EXPECTED


def test_nested_values_of_parquet_keep_their_types_in_xlsx(tmp_path, runner):
    """A struct's integers stay integers in the JSON text of an .xlsx cell (pandas' numpy frames
    made them 1.0 where the struct column had a null)."""
    import openpyxl
    import pyarrow as pa
    import pyarrow.parquet as pq

    source = tmp_path / "in.parquet"
    table = pa.table({"lon": [113.3245] * 3, "lat": [23.1066] * 3, "s": [{"a": 1}, None, {"a": 3}]})
    pq.write_table(table, source)
    result = runner.invoke(app, ["join", str(source), "--crs", "wgs84", "-o", str(tmp_path / "out.xlsx")])
    assert result.exit_code == 0, result.stderr
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx").active
    assert [row[2] for row in sheet.iter_rows(min_row=2, max_row=4, values_only=True)] == ['{"a": 1}', None, '{"a": 3}']


def test_null_coordinates_of_nullable_pandas_dtypes_and_a_dask_dataset_are_blank(tmp_path):
    """pandas' NA (Float64, Int64, Arrow-backed) and a Parquet dataset's nulls on Dask: 'missing'
    too, as the single file gives; a plain float64 NaN stays 'invalid' (pandas cannot tell it apart)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    import gzspatial

    table = _null_coordinates_table()
    frame = table.to_pandas(types_mapper=pd.ArrowDtype)
    frame["lon"] = pd.array([113.3245, None, 113.3245, None, None], dtype="Float64")
    statuses = gzspatial.join(frame, crs="wgs84")["gz_status"].astype(str).tolist()
    assert statuses == ["ok", "missing", "missing", "missing", "missing"]
    frame["lon"] = pd.array([113, None, 113, 113, None], dtype="Int64")  # outside, but not blank
    assert gzspatial.join(frame, crs="wgs84")["gz_status"].astype(str).tolist()[:2] == ["outside", "missing"]
    plain = pd.DataFrame({"lon": [113.3245, float("nan")], "lat": [23.1066, 23.1066]})
    assert gzspatial.join(plain, crs="wgs84")["gz_status"].astype(str).tolist() == ["ok", "invalid"]

    folder = tmp_path / "in"
    folder.mkdir()
    pq.write_table(table.slice(0, 2), folder / "a.parquet")
    pq.write_table(table.slice(2), folder / "b.parquet")
    result = invoke_cli("join", str(folder), "-o", str(tmp_path / "out"), "--crs", "wgs84", "--quiet")
    assert result.returncode == 0, result.stderr
    joined = pq.ParquetDataset(tmp_path / "out").read()
    assert joined.schema.field("id").type == pa.int64()  # a null in an int column keeps it int
    got = list(zip(joined["gz_status"].to_pylist(), [n or "" for n in joined["gz_note"].to_pylist()], strict=True))
    assert got == NULL_EXPECTED


# --- numbers JSON has no word for ---------------------------------------------------------------------


@pytest.mark.parametrize("source", ["in.parquet", "in.csv"])
def test_non_finite_numbers_are_null_in_geojson_without_a_warning(tmp_path, source):
    """NaN and ±inf in an input's number column are null properties in GeoJSON (RFC 8259 has no
    such numbers): present, never dropped, and no GDAL warning reaches the user."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    values = [float("nan"), float("inf"), float("-inf"), 1.5, None]
    table = pa.table({"lon": [113.3245] * 5, "lat": [23.1066] * 5, "v": pa.array(values, pa.float64())})
    path = tmp_path / source
    if source.endswith(".parquet"):
        pq.write_table(table, path)
    else:
        path.write_text("lon,lat,v\n" + "".join(f"113.3245,23.1066,{v}\n" for v in ["nan", "inf", "-inf", "1.5", ""]))
    result = invoke_cli("join", str(path), "-o", str(tmp_path / "out.geojson"), "--crs", "wgs84", "--quiet")
    assert result.returncode == 0 and result.stderr == b"", result.stderr
    features = json.loads((tmp_path / "out.geojson").read_text(encoding="utf-8"))["features"]
    expected = [None, None, None, 1.5, None] if source.endswith(".parquet") else ["nan", "inf", "-inf", "1.5", ""]
    assert [f["properties"]["v"] for f in features] == expected  # a CSV's cells are text: kept as written


# --- a library's warnings -----------------------------------------------------------------------------


@pytest.mark.process
@pytest.mark.parametrize("output", ["out.csv", "out.xlsx", "out.parquet"])
def test_gdal_warnings_are_one_line_whichever_thread_reads(tmp_path, output):
    """GDAL's warning about a point without coordinates is one ``warning:`` line, whether the file
    is read on the main thread (.xlsx: a frame) or on the reading stage's (it printed "Warning 1: …"
    raw there, and a RuntimeWarning with a file name and source line on the main one); -q hides it.
    The row itself is flagged."""
    from ..conftest import run_cli

    source = tmp_path / "in.geojson"
    features = [{"type": "Feature", "properties": {"n": "a"}, "geometry": {"type": "Point", "coordinates": c}}
                for c in ([113.3245, 23.1066], [])]  # fmt: skip
    source.write_text(json.dumps({"type": "FeatureCollection", "features": features}), encoding="utf-8")
    result = run_cli("join", str(source), "-o", str(tmp_path / output))
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stderr.decode().splitlines()
    assert [line for line in lines if "dimension" in line] == [
        "warning: OGRGeoJSONReadRawPoint(): Invalid coord dimension for '[ ]'. At least 2 dimensions must be present."
    ]
    assert not [line for line in lines if line.startswith(("Warning 1", "  ")) or ".py:" in line]
    quiet = run_cli("-q", "join", str(source), "-o", str(tmp_path / output))
    assert quiet.returncode == 0 and quiet.stderr == b""

"""One pipeline: the same input gives the same gz_ answers whatever the output format."""

import json

import geopandas
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import shapely

import gzspatial
from gzspatial import pipeline
from gzspatial.attribute import GZ_COLUMNS, Options
from tests.conftest import ROOT, invoke_cli

MIXED = (
    "名称,lon,lat,地址\n"
    "天河,113.3245,23.1066,\n"  # ok
    "知识城,113.56,23.38,\n"
    "香港,114.17,22.32,\n"  # outside Guangzhou
    "swapped,23.1066,113.3245,\n"
    "空,,,\n"  # missing
    "bad,abc,23.1,\n"  # invalid
    "南沙,113.60,22.80,\n"
    '"=cmd()",113.27,23.13,广州市越秀区\n'  # a formula-looking name, kept as text
)


def _gz_text(frame) -> pd.DataFrame:
    """The gz_ columns as comparable text: blanks and missing alike, numbers to 0.1 m, flags lower-case."""
    out = {}
    for name in GZ_COLUMNS:
        values = frame[name].astype(object).where(frame[name].notna(), "")
        out[name] = [_cell(v) for v in values]
    # GeoPackage has no boolean type: gz_on_axis reads back as 1/0 (null where unknown)
    out["gz_on_axis"] = [{"1.0": "true", "0.0": "false"}.get(v, v) for v in out["gz_on_axis"]]
    return pd.DataFrame(out)


def _cell(value) -> str:
    if isinstance(value, bool | np.bool_):
        return str(bool(value)).lower()
    if isinstance(value, float | np.floating):
        return "" if np.isnan(value) else f"{value:.1f}"
    text = str(value)
    try:
        return f"{float(text):.1f}" if text not in ("", "nan") and not text.isalpha() else text.replace("nan", "")
    except ValueError:
        return text.lower() if text in ("True", "False") else text


@pytest.fixture
def mixed_csv(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED, encoding="utf-8")
    return path


def test_every_output_format_gives_the_same_gz_columns(mixed_csv, tmp_path):
    reference = _gz_text(gzspatial.join(pd.read_csv(mixed_csv, dtype=str, keep_default_na=False), crs="wgs84"))
    assert set(reference["gz_status"]) >= {"ok", "outside", "swapped", "missing", "invalid"}
    for suffix in (".csv", ".xlsx", ".parquet", ".gpkg", ".geojson"):
        out = tmp_path / f"joined{suffix}"
        result = invoke_cli("join", str(mixed_csv), "-o", str(out), "--crs", "wgs84", "--quiet")
        assert result.returncode == 0, result.stderr
        if suffix == ".csv":
            back = pd.read_csv(out, dtype=str, keep_default_na=False)
        elif suffix == ".xlsx":
            back = pd.read_excel(out, dtype=object)
        elif suffix == ".parquet":
            back = geopandas.read_parquet(out)
        else:
            back = geopandas.read_file(out)
        assert list(back["名称"].astype(str)) == ["天河", "知识城", "香港", "swapped", "空", "bad", "南沙", "=cmd()"]
        pd.testing.assert_frame_equal(_gz_text(back), reference, obj=suffix)


def test_geo_outputs_carry_wgs84_points_and_null_geometry_where_unknown(mixed_csv, tmp_path):
    out = tmp_path / "joined.parquet"
    pipeline.join_file(mixed_csv, out, options=Options(crs="wgs84"))
    back = geopandas.read_parquet(out)
    assert back.crs.to_epsg() == 4326
    assert back.geometry.iloc[0].x == pytest.approx(113.3245)
    assert back.geometry.iloc[3].x == pytest.approx(113.3245)  # swapped back
    assert back.geometry.iloc[4] is None  # missing coordinates: no point, the row kept


def test_parquet_input_streams_by_row_groups(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {"id": np.arange(1000), "lon": rng.uniform(113.2, 113.7, 1000), "lat": rng.uniform(22.8, 23.5, 1000)}
    )
    source = tmp_path / "points.parquet"
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), source, row_group_size=300)
    opened = pipeline.open_parquet(source, batch_rows=300)
    assert opened.total == 1000
    plan = pipeline.make_plan(opened.schema.names, options=Options(crs="wgs84"))
    joined = list(pipeline.join_batches(opened.batches, plan))
    assert [j.batch.num_rows for j in joined] == [300, 300, 300, 100]
    table = pa.Table.from_batches([j.batch for j in joined]).to_pandas()
    assert table["id"].tolist() == list(range(1000))
    expected = gzspatial.join(frame, crs="wgs84")
    pd.testing.assert_frame_equal(_gz_text(table), _gz_text(expected))


def test_join_file_reports_progress_and_counts(mixed_csv, tmp_path):
    seen = []
    counts = pipeline.join_file(
        mixed_csv, tmp_path / "o.csv", options=Options(crs="wgs84"), on_batch=lambda *a: seen.append(a)
    )
    assert sum(counts.values()) == 8
    assert seen and seen[-1][0] == 8 and 0 < seen[-1][1] <= seen[-1][2]


def test_a_geometry_column_is_refused_before_writing_geoparquet(tmp_path):
    source = tmp_path / "g.csv"
    source.write_text("geometry,lon,lat\nx,113.3,23.1\n", encoding="utf-8")
    result = invoke_cli("join", str(source), "-o", str(tmp_path / "o.parquet"), "--crs", "wgs84")
    assert result.returncode == 2
    assert b"geometry" in result.stderr
    assert not (tmp_path / "o.parquet").exists()


# --- stages in threads -------------------------------------------------------------------------


def test_in_background_keeps_order_and_raises_the_stage_error_where_it_happened():
    def items():
        yield from range(5)
        raise ValueError("bad block")

    stream = pipeline.in_background(items(), ahead=1)
    assert [next(stream) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="bad block"):
        next(stream)


def test_closing_the_consumer_stops_the_stage_thread():
    import threading

    produced = []

    def items():
        for i in range(1000):
            produced.append(i)
            yield i

    stream = pipeline.in_background(items(), ahead=2, name="gz-test-stage")
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()
    assert not [t for t in threading.enumerate() if t.name == "gz-test-stage"]
    assert len(produced) <= 3 + 2 + 1  # taken, queued, in hand: never the whole input


def test_an_error_in_the_attribution_stage_leaves_no_output(mixed_csv, tmp_path, monkeypatch):
    real = pipeline.join_columns
    calls = []

    def failing(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("engine failed")
        return real(*args, **kwargs)

    big = tmp_path / "big.csv"
    big.write_text(MIXED + "".join(MIXED.splitlines(keepends=True)[1:]) * 200, encoding="utf-8")
    monkeypatch.setattr(pipeline, "CSV_BLOCK_BYTES", 4096)  # many batches
    monkeypatch.setattr(pipeline, "join_columns", failing)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for suffix in (".csv", ".parquet", ".gpkg"):
        calls.clear()
        with pytest.raises(RuntimeError, match="engine failed"):
            pipeline.join_file(big, out_dir / f"o{suffix}", options=Options(crs="wgs84"))
    assert list(out_dir.iterdir()) == []  # no output, no temporary file


def test_parquet_output_stores_gz_names_as_dictionaries(mixed_csv, tmp_path):
    out = tmp_path / "o.parquet"
    pipeline.join_file(mixed_csv, out, options=Options(crs="wgs84"))
    schema = pq.read_schema(out)
    assert pa.types.is_dictionary(schema.field("gz_district").type)
    assert pa.types.is_dictionary(schema.field("gz_status").type)
    assert schema.field("名称").type == pa.string() and schema.field("gz_axis_distance_m").type == pa.float64()
    column = pq.ParquetFile(out).metadata.row_group(0).column(schema.get_field_index("gz_district"))
    assert column.compression == pipeline.PARQUET_CODEC.upper()
    assert "RLE_DICTIONARY" in column.encodings
    # min/max statistics: the input's columns and the gz_ numbers have them; gz_ names and WKB points not
    group = pq.ParquetFile(out).metadata.row_group(0)
    stats = {group.column(i).path_in_schema: group.column(i).statistics for i in range(group.num_columns)}
    assert stats["名称"].has_min_max and stats["gz_axis_distance_m"].has_min_max
    assert stats["gz_district"] is None and stats["gz_status"] is None and stats["geometry"] is None


# --- CSV read errors name the lines ------------------------------------------------------------


def test_a_wrong_encoding_names_the_line_also_after_the_first_batch(tmp_path, monkeypatch):
    good = "".join(f"企业{i},113.3,23.1\n" for i in range(400)).encode("utf-8")
    source = tmp_path / "g.csv"
    source.write_bytes(b"name,lon,lat\n" + good + "广州塔,113.3245,23.1066\n".encode("gbk"))
    monkeypatch.setattr(pipeline, "CSV_BLOCK_BYTES", 2048)  # the bad line is in a later batch
    result = invoke_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "wgs84", "--encoding", "utf-8")
    assert result.returncode == 2
    assert "line(s) 402 are not utf-8" in result.stderr.decode()
    assert not (tmp_path / "o.csv").exists()


def test_an_unknown_encoding_is_one_line(mixed_csv, tmp_path):
    result = invoke_cli("join", str(mixed_csv), "-o", str(tmp_path / "o.csv"), "--crs", "wgs84", "--encoding", "nope")
    assert result.returncode == 2
    assert "unknown encoding 'nope'" in result.stderr.decode()


# --- GIS formats and GeoParquet stream too -----------------------------------------------------


@pytest.fixture
def places():
    """Points, a polygon, a missing and an invalid (bow-tie) geometry, in CGCS2000 / 3-degree GK zone 38 (metres)."""
    import shapely

    wgs84 = [shapely.Point(113.3245, 23.1066), shapely.box(113.5, 23.3, 113.6, 23.4), None, shapely.Point(113.27, 23.1)]
    names = {"名称": ["塔", "城", "空", "中"], "n": [1, 2, 3, 4]}
    frame = geopandas.GeoDataFrame(names, geometry=wgs84, crs="EPSG:4326")
    frame = frame.to_crs("EPSG:4547")
    bowtie = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    frame.loc[3, "geometry"] = shapely.affinity.translate(bowtie, *frame.geometry.iloc[0].coords[0])
    return frame


@pytest.mark.parametrize("suffix", [".gpkg", ".parquet", ".geojson", ".shp"])
def test_a_gis_input_streams_with_the_answers_of_gzspatial_join(places, tmp_path, suffix):
    source = tmp_path / f"in{suffix}"
    if suffix == ".shp":  # one geometry type per Shapefile: points as 10 m squares
        places.geometry = [g.buffer(10, cap_style="square") if g is not None and g.geom_type == "Point" else g
                           for g in places.geometry]  # fmt: skip
    places.to_parquet(source) if suffix == ".parquet" else places.to_file(source)
    opened = pipeline.open_source(source)
    assert opened is not None and opened.geometry is not None and opened.geometry.declared == "EPSG:4547"
    opened.close()
    expected = gzspatial.join(places)
    assert list(expected["gz_status"]) == ["ok", "ok", "missing", "invalid"]
    for out_suffix in (".csv", ".parquet", ".gpkg"):
        out = tmp_path / f"joined{out_suffix}"
        pipeline.join_file(source, out)
        if out_suffix == ".csv":
            back = pd.read_csv(out, dtype=str, keep_default_na=False)
            assert back["geometry"].iloc[0].startswith(("POINT (", "POLYGON ((")) and back["geometry"].iloc[2] == ""
        else:
            back = geopandas.read_parquet(out) if out_suffix == ".parquet" else geopandas.read_file(out)
            assert back.crs.to_epsg() == 4547  # the rows' own geometry, in its CRS
            assert back.geometry.iloc[1].normalize().equals_exact(places.geometry.iloc[1].normalize(), 1e-6)
        assert back["名称"].tolist() == ["塔", "城", "空", "中"]
        pd.testing.assert_frame_equal(_gz_text(back), _gz_text(expected), obj=f"{suffix}->{out_suffix}")


@pytest.mark.parametrize("lists", [(["广州塔", "小蛮腰"], []), ([], [])], ids=["string-list", "json"])
@pytest.mark.parametrize("out_suffix", [".csv", ".parquet", ".gpkg", ".geojson", ".xlsx"])
def test_geojson_list_properties_reach_every_output(tmp_path, out_suffix, lists):
    """A GeoJSON property holding a list reaches every output (make demo's first join): GDAL reads it as a
    string list, or as the arrow.json type when every list is empty; CSV and .xlsx cells get JSON text, the
    GIS formats and Parquet keep a list where they can. Through the CLI, streamed and frame routes."""
    source = tmp_path / "in.geojson"
    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [113.3245, 23.1066]}}
    source.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {**feature, "properties": {"名称": "塔", "aliases": lists[0]}},
        {**feature, "properties": {"名称": "空", "aliases": lists[1]}},
    ]}, ensure_ascii=False), encoding="utf-8")  # fmt: skip
    out = tmp_path / f"joined{out_suffix}"
    result = invoke_cli("join", str(source), "-o", str(out), "--quiet")
    assert result.returncode == 0, result.stderr.decode()
    if out_suffix == ".csv":
        back = pd.read_csv(out, dtype=str)
    elif out_suffix == ".xlsx":
        back = pd.read_excel(out, dtype=str)
    else:
        back = geopandas.read_parquet(out) if out_suffix == ".parquet" else geopandas.read_file(out)
    aliases = [json.loads(v) if isinstance(v, str) else list(v) for v in back["aliases"]]  # text or a list type
    assert aliases == list(map(list, lists))
    assert isinstance(back["aliases"].iloc[0], str) or out_suffix in (".parquet", ".gpkg", ".geojson")
    assert list(back["gz_status"]) == ["ok", "ok"]


def test_a_gis_input_is_read_in_batches(places, tmp_path):
    source = tmp_path / "in.gpkg"
    geopandas.GeoDataFrame(pd.concat([places] * 5, ignore_index=True), crs=places.crs).to_file(source)
    opened = pipeline.open_gdal(source, batch_rows=6)
    plan = pipeline.make_geometry_plan(opened.schema.names, "geometry", opened.geometry.declared)
    joined = list(pipeline.join_batches(opened.batches, plan))
    opened.close()
    assert [j.batch.num_rows for j in joined] == [6, 6, 6, 2]
    status = pa.Table.from_batches([j.batch for j in joined]).column("gz_status").to_pylist()
    assert status == ["ok", "ok", "missing", "invalid"] * 5


def test_a_gis_input_without_a_declared_crs_asks_for_one(places, tmp_path):
    source = tmp_path / "in.parquet"
    places.set_crs(None, allow_override=True).to_parquet(source)
    result = invoke_cli("join", str(source), "-o", str(tmp_path / "o.csv"))
    assert result.returncode == 2 and b"--crs" in result.stderr
    result = invoke_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "EPSG:4547", "--quiet")
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(tmp_path / "o.csv")["gz_status"].tolist() == ["ok", "ok", "missing", "invalid"]


def test_packaged_platforms_join_to_csv_as_make_demo_does(tmp_path):
    """make demo's first join: the packaged platforms layer (JSON-typed properties) to CSV, every row kept."""
    out = tmp_path / "platforms_joined.csv"
    result = invoke_cli("join", str(ROOT / "data/geojson/platforms.geojson"), "-o", str(out), "--quiet")
    assert result.returncode == 0, result.stderr.decode()
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    source = json.loads((ROOT / "data/geojson/platforms.geojson").read_text(encoding="utf-8"))["features"]
    assert back["id"].tolist() == [f["properties"]["id"] for f in source]
    assert set(back["gz_status"]) == {"ok"}


def test_a_flatgeobuf_input_is_joined_in_its_own_order_and_crs(tmp_path):
    """FlatGeobuf (read as one table) is a GIS input like the others, not a CSV of unknown encoding."""
    source = tmp_path / "sites.fgb"
    wgs84 = geopandas.GeoDataFrame(
        {"名称": ["塔", "城", "远"]},
        geometry=[shapely.Point(113.3245, 23.1066), shapely.Point(113.45, 23.17), shapely.Point(114.06, 22.54)],
        crs="EPSG:4326",
    )
    wgs84.to_crs("EPSG:4547").to_file(source)
    as_stored = geopandas.read_file(source)  # FlatGeobuf may store features in its spatial index's order
    out = tmp_path / "joined.csv"
    result = invoke_cli("join", str(source), "-o", str(out), "--quiet")
    assert result.returncode == 0, result.stderr.decode()
    back = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert back["名称"].tolist() == as_stored["名称"].tolist()
    expected = gzspatial.join(as_stored)
    assert back["gz_status"].tolist() == expected["gz_status"].tolist() and "outside" in back["gz_status"].tolist()

"""Tests of gzspatial.join (gzspatial.attribute): exact, every row kept, every format."""

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import gzspatial
from gzspatial import crs
from gzspatial._engine import layout_index
from gzspatial._errors import InputError
from gzspatial.attribute import GZ_COLUMNS

from .conftest import invoke_cli, run_cli

BBOX = (112.95, 22.55, 114.05, 23.95)


def _random_points(n, seed=0):
    rng = np.random.default_rng(seed)
    return rng.uniform(BBOX[0], BBOX[2], n), rng.uniform(BBOX[1], BBOX[3], n)


def _boundary_points(layers, per_layer=400, seed=1):
    """Points on polygon outlines (vertices and edge midpoints) and 1e-9 degrees either side."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for name in ("districts", "cores", "nodes"):
        xy = shapely.get_coordinates(shapely.boundary(np.asarray(layers[name].geometry.values)))
        pick = rng.choice(len(xy) - 1, per_layer, replace=False)
        mid = (xy[pick] + xy[pick + 1]) / 2
        for base in (xy[pick], mid):
            for dx, dy in ((0, 0), (1e-9, 0), (-1e-9, 0), (0, 1e-9), (0, -1e-9)):
                xs.append(base[:, 0] + dx)
                ys.append(base[:, 1] + dy)
    return np.concatenate(xs), np.concatenate(ys)


def _sjoin_sets(lon, lat, layer):
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    hits = gpd.sjoin(points, layer[["id", "geometry"]], how="inner", predicate="intersects")
    sets = [set() for _ in range(len(lon))]
    for i, feature in zip(hits.index, hits["id"], strict=True):
        sets[i].add(feature)
    return sets


@pytest.mark.parametrize("method", ["grid", "exact"])
@pytest.mark.large
def test_matches_geopandas_sjoin_on_random_and_boundary_points(layers, method):
    lon_r, lat_r = _random_points(100_000)
    lon_b, lat_b = _boundary_points(layers)
    lon, lat = np.concatenate([lon_r, lon_b]), np.concatenate([lat_r, lat_b])
    attribution = layout_index().attribute(lon, lat, method=method)
    m = attribution.membership
    ids = {name: np.array(layers[name]["id"]) for name in ("districts", "cores", "nodes")}
    for name, got in (("districts", m.district), ("cores", m.core)):
        expected = _sjoin_sets(lon, lat, layers[name])
        assert all((ids[name][g] in e) if g >= 0 else not e for g, e in zip(got, expected, strict=True)), name
    expected_nodes = _sjoin_sets(lon, lat, layers["nodes"])
    got_nodes = [{ids["nodes"][i] for i in row if i >= 0} for row in m.nodes]
    assert got_nodes == expected_nodes
    assert sum(bool(s) for s in expected_nodes) > 1000  # the test does reach inside nodes


@pytest.mark.large
def test_grid_and_exact_give_identical_distances():
    lon, lat = _random_points(60_000, seed=4)
    index = layout_index()
    grid, exact = index.attribute(lon, lat, method="grid"), index.attribute(lon, lat, method="exact")
    np.testing.assert_array_equal(grid.axis_section, exact.axis_section)
    np.testing.assert_array_equal(grid.nearest_node, exact.nearest_node)
    np.testing.assert_allclose(grid.axis_distance_m, exact.axis_distance_m, atol=1e-6)
    np.testing.assert_allclose(grid.nearest_node_m, exact.nearest_node_m, atol=1e-6)


def test_distances_match_geopandas_in_metric_crs(layers):
    lon, lat = _random_points(2_000, seed=9)
    joined = gzspatial.join(pd.DataFrame({"lon": lon, "lat": lat}), crs="wgs84")
    points = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=4326).to_crs(crs.METRIC_CRS)
    axis = layers["axis"].to_crs(crs.METRIC_CRS).union_all()
    nodes = layers["nodes"].to_crs(crs.METRIC_CRS)
    np.testing.assert_allclose(joined["gz_axis_distance_m"], points.distance(axis).round(1), atol=0.051)
    nearest = np.array([nodes.distance(p).min() for p in points])
    np.testing.assert_allclose(joined["gz_nearest_node_m"], np.round(nearest, 1), atol=0.051)


def test_rows_and_columns_kept_in_order():
    frame = pd.DataFrame(
        {
            "企业名称": ["甲", "乙", "甲", "丙", "丁", "戊", "己", "庚"],
            "经度": ["113.40", "", "113.40", "abc", "NaN", "23.12", "113.3", "116.40"],
            "纬度": ["23.12", "23.1", "23.12", "23.1", "23.1", "113.40", "95", "39.90"],
            "district": ["mine"] * 8,
        }
    )
    out = gzspatial.join(frame, crs="wgs84")
    assert list(out.columns) == [*frame.columns, *GZ_COLUMNS]
    pd.testing.assert_frame_equal(out[frame.columns], frame)
    assert list(out["gz_status"]) == ["ok", "missing", "ok", "invalid", "invalid", "swapped", "invalid", "outside"]
    assert out.loc[0].drop("gz_note").tolist() == out.loc[2].drop("gz_note").tolist()  # duplicates both kept
    assert out.loc[5, "gz_district"] == "天河区" and out.loc[7, "gz_note"] == "outside Guangzhou"
    assert out.loc[6, "gz_note"] == "latitude 95 is outside ±90°"
    assert pd.isna(out.loc[1, "gz_on_axis"]) and np.isnan(out.loc[1, "gz_axis_distance_m"])
    assert out.loc[7, "gz_district"] == "" and out.loc[7, "gz_nearest_node_m"] > 1_000_000


def test_swapped_point_outside_guangzhou():
    # swapped columns giving a point near Guangzhou but outside it (this row once crashed gz_columns)
    out = gzspatial.join(pd.DataFrame({"lon": [22.1, 113.40], "lat": [112.5, 23.12]}), crs="wgs84")
    assert list(out["gz_status"]) == ["outside", "ok"]
    assert out.loc[0, "gz_note"] == "longitude and latitude were swapped; corrected; outside Guangzhou"
    assert out["gz_layers_version"].nunique() == 1


def test_attribute_coordinates_without_a_system_is_an_input_error():
    from gzspatial.attribute import Options, attribute_coordinates

    with pytest.raises(InputError, match="no coordinate system given"):
        attribute_coordinates(np.array([113.4]), np.array([23.12]), Options())


def test_english_names_and_node_lists():
    out = gzspatial.join(pd.DataFrame({"lng": [113.371], "lat": [23.066]}), lang="en", crs="wgs84")
    assert out.loc[0, "gz_district"] == "Haizhu"
    assert out.loc[0, "gz_nodes"].split(";")[0] == "Guangzhou International Bio Island"
    assert out.loc[0, "gz_primary_node"] == "Guangzhou International Bio Island"
    assert out.loc[0, "gz_node_group"] == "east_north" and out.loc[0, "gz_nearest_node_m"] == 0


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_gcj02_and_bd09_inputs_match_wgs84(system):
    lon, lat = _random_points(3_000, seed=12)
    wgs = gzspatial.join(pd.DataFrame({"lon": lon, "lat": lat}), crs="wgs84")
    moved = crs.transform(lon, lat, "wgs84", system)
    other = gzspatial.join(pd.DataFrame({"lon": moved[0], "lat": moved[1]}), crs=system)
    for column in ("gz_district", "gz_core_part", "gz_nodes", "gz_axis_section", "gz_nearest_node", "gz_status"):
        assert list(wgs[column]) == list(other[column]), column
    np.testing.assert_allclose(wgs["gz_axis_distance_m"], other["gz_axis_distance_m"], atol=0.11)


def test_dms_strings():
    out = gzspatial.join(pd.DataFrame({"lon": ["113°24′0″E"], "lat": ["23°7′12″N"]}), crs="wgs84")
    assert out.loc[0, "gz_status"] == "ok" and out.loc[0, "gz_district"] == "天河区"


def test_geodataframe_uses_its_geometry_and_crs():
    frame = gpd.GeoDataFrame({"name": ["a", "b"]}, geometry=[shapely.Point(113.4, 23.12), None], crs=4326)
    out = gzspatial.join(frame)
    assert list(out["gz_status"]) == ["ok", "missing"] and isinstance(out, gpd.GeoDataFrame)
    with pytest.raises(InputError, match="declares its CRS as wgs84 but --crs says gcj02"):
        gzspatial.join(frame, crs="gcj02")
    polygon = gpd.GeoDataFrame(geometry=[shapely.box(113.39, 23.11, 113.41, 23.13)], crs=4326)
    assert gzspatial.join(polygon).loc[0, "gz_district"] == "天河区"


def test_invalid_input_geometries_are_flagged_not_repaired():
    bowtie = shapely.Polygon([(113.3, 23.0), (113.4, 23.1), (113.4, 23.0), (113.3, 23.1)])
    frame = gpd.GeoDataFrame({"name": ["bow", "ok"]}, geometry=[bowtie, shapely.box(113.39, 23.11, 113.41, 23.13)],
                             crs=4326)  # fmt: skip
    out = gzspatial.join(frame)
    assert list(out["gz_status"]) == ["invalid", "ok"]
    assert out.loc[0, "gz_note"].startswith("invalid geometry: Self-intersection") and out.loc[0, "gz_district"] == ""


def test_gz_column_collision():
    frame = pd.DataFrame({"lon": [113.4], "lat": [23.12], "gz_status": ["mine"]})
    with pytest.raises(InputError, match="already has gz_ column"):
        gzspatial.join(frame, crs="wgs84")
    out = gzspatial.join(frame, overwrite_gz=True, crs="wgs84")
    assert list(out.columns) == ["lon", "lat", *GZ_COLUMNS] and out.loc[0, "gz_status"] == "ok"


def test_no_coordinate_columns():
    # (with an address column instead, rows are placed by address: tests/test_address.py)
    with pytest.raises(InputError, match="columns are: name, note"):
        gzspatial.join(pd.DataFrame({"name": ["a"], "note": ["b"]}), crs="wgs84")


def test_empty_frame():
    out = gzspatial.join(pd.DataFrame({"lon": pd.Series([], dtype=str), "lat": pd.Series([], dtype=str)}), crs="wgs84")
    assert len(out) == 0 and list(out.columns) == ["lon", "lat", *GZ_COLUMNS]


# --- files, through the command line ------------------------------------------------------

ROWS = [
    ("甲公司", "113.4000", "23.1200"),
    ("乙公司", "", "23.1"),
    ("丙公司", "abc", "23.1"),
    ("丁公司", "23.12", "113.40"),
    ("戊公司", "116.40", "39.90"),
    ("甲公司", "113.4000", "23.1200"),
]
STATUSES = ["ok", "missing", "invalid", "swapped", "outside", "ok"]


def _frame():
    return pd.DataFrame(ROWS, columns=["企业名称", "经度", "纬度"])


def _geoframe():
    frame = _frame().drop(index=[1, 2]).reset_index(drop=True)
    points = [shapely.Point(float(x), float(y)) for x, y in zip(frame["经度"], frame["纬度"], strict=True)]
    return gpd.GeoDataFrame(frame[["企业名称"]], geometry=points, crs=4326)


@pytest.mark.parametrize(
    ("name", "writer"),
    [
        ("in.csv", lambda f, p: p.write_bytes(f.to_csv(index=False).encode("utf-8"))),
        ("in_bom.csv", lambda f, p: p.write_bytes(f.to_csv(index=False).encode("utf-8-sig"))),
        ("in_gbk.csv", lambda f, p: p.write_bytes(f.to_csv(index=False).encode("gbk"))),
        ("in.xlsx", lambda f, p: f.to_excel(p, index=False)),
    ],
)
@pytest.mark.parametrize("out_name", ["out.csv", "out.xlsx", "out.geojson", "out.gpkg", "out.parquet"])
def test_table_inputs_every_output(tmp_path, name, writer, out_name):
    source = tmp_path / name
    writer(_frame(), source)
    output = tmp_path / out_name
    result = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(output))
    assert result.returncode == 0, result.stderr.decode()
    assert "joined 6 rows: ok 2, outside 1, swapped 1, missing 1, invalid 1" in result.stderr.decode()
    back = (
        gpd.read_file(output)
        if out_name.endswith((".geojson", ".gpkg"))
        else (
            pd.read_parquet(output)
            if out_name.endswith(".parquet")
            else pd.read_excel(output, dtype=str, keep_default_na=False)
            if out_name.endswith(".xlsx")
            else pd.read_csv(output, dtype=str, keep_default_na=False)
        )
    )
    assert len(back) == 6 and list(back["gz_status"]) == STATUSES
    assert list(back["企业名称"]) == [r[0] for r in ROWS]
    if not out_name.endswith((".geojson", ".gpkg")):  # GIS drivers type their columns
        assert list(back["经度"].fillna("")) == [r[1] for r in ROWS]


@pytest.mark.parametrize("name", ["in.geojson", "in.gpkg", "in.parquet", "in.shp"])
def test_geo_inputs(tmp_path, name):
    source = tmp_path / name
    frame = _geoframe()
    if name.endswith(".parquet"):
        frame.to_parquet(source)
    elif name.endswith(".shp"):
        frame.to_file(source, encoding="GBK")
        assert (tmp_path / "in.cpg").read_text().strip().upper() in ("GBK", "CP936")
    else:
        frame.to_file(source)
    output = tmp_path / "out.csv"
    result = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(output))
    assert result.returncode == 0, result.stderr.decode()
    back = pd.read_csv(output, dtype=str, keep_default_na=False)
    assert list(back["企业名称"]) == list(frame["企业名称"])
    assert list(back["gz_status"]) == ["ok", "swapped", "outside", "ok"]


def test_declared_crs_contradicting_option(tmp_path):
    source = tmp_path / "in.geojson"
    _geoframe().to_file(source)
    result = invoke_cli("join", str(source), "-o", str(tmp_path / "o.csv"), "--crs", "gcj02")
    assert result.returncode == 2 and "declares its CRS as wgs84" in result.stderr.decode()


@pytest.mark.process
def test_stdin_to_stdout():
    data = _frame().to_csv(index=False).encode("gbk")
    result = run_cli("join", "--crs", "wgs84", "-", "-o", "-", "--quiet", stdin=data)  # a real process: pipes
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stdout.decode("utf-8").splitlines()
    assert len(lines) == 7 and lines[0].startswith('"企业名称","经度","纬度","gz_district"')
    assert result.stderr == b""


def test_gcj02_csv_matches_wgs84_csv(tmp_path):
    lon, lat = _random_points(500, seed=3)
    g_lon, g_lat = crs.transform(lon, lat, "wgs84", "gcj02")
    pd.DataFrame({"lng": lon, "lat": lat}).to_csv(tmp_path / "w.csv", index=False)
    pd.DataFrame({"lng": g_lon, "lat": g_lat}).to_csv(tmp_path / "g.csv", index=False)
    assert invoke_cli("join", "--crs", "wgs84", str(tmp_path / "w.csv"), "-o", str(tmp_path / "wo.csv")).returncode == 0
    assert invoke_cli("join", str(tmp_path / "g.csv"), "-o", str(tmp_path / "go.csv"), "--crs", "gcj02").returncode == 0
    w = pd.read_csv(tmp_path / "wo.csv", dtype=str, keep_default_na=False)
    g = pd.read_csv(tmp_path / "go.csv", dtype=str, keep_default_na=False)
    for column in ("gz_district", "gz_nodes", "gz_core_part", "gz_status"):
        assert list(w[column]) == list(g[column])


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"name,note\na,b\n", "columns are: name, note"),
        (b"lon,lat,gz_status\n113.4,23.1,x\n", "already has gz_ column"),
    ],
)
def test_bad_files_are_one_line_errors(tmp_path, content, message):
    source = tmp_path / "in.csv"
    source.write_bytes(content)
    result = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(tmp_path / "out.csv"))
    err = result.stderr.decode()
    assert result.returncode == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out.csv").exists()


def test_header_only_file(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("企业名称,经度,纬度\n", encoding="utf-8")
    result = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(tmp_path / "out.csv"))
    assert result.returncode == 0 and "joined 0 rows" in result.stderr.decode()
    header = (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()
    assert len(header) == 1 and header[0].count("gz_") == len(GZ_COLUMNS)


def test_overwrite_gz_and_refuse_input(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("lon,lat,gz_status\n113.4,23.12,x\n", encoding="utf-8")
    assert invoke_cli("join", str(source), "-o", str(source)).returncode == 2
    result = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(tmp_path / "o.csv"), "--overwrite-gz")
    assert result.returncode == 0
    back = pd.read_csv(tmp_path / "o.csv", dtype=str)
    assert list(back.columns) == ["lon", "lat", *GZ_COLUMNS] and back.loc[0, "gz_status"] == "ok"


def test_broken_geojson_is_an_error(tmp_path):
    source = tmp_path / "in.geojson"
    source.write_text('{"type": "FeatureCollection", "features": [', encoding="utf-8")
    result = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(tmp_path / "o.csv"))
    assert result.returncode == 2 and "cannot be read" in result.stderr.decode()


def test_unknown_output_format(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("lon,lat\n113.4,23.12\n", encoding="utf-8")
    result = invoke_cli("join", "--crs", "wgs84", str(source), "-o", str(tmp_path / "o.dbf"))
    assert result.returncode == 2 and "cannot write '.dbf'" in result.stderr.decode()


def test_excel_bom(tmp_path):
    source = tmp_path / "in.csv"
    source.write_text("lon,lat\n113.4,23.12\n", encoding="utf-8")
    assert (
        invoke_cli(
            "join", "--crs", "wgs84", str(source), "-o", str(tmp_path / "o.csv"), "--excel-bom", "--quiet"
        ).returncode
        == 0
    )
    assert (tmp_path / "o.csv").read_bytes().startswith(b"\xef\xbb\xbf")


def test_node_lists_are_the_same_from_the_small_table_and_from_hashing(monkeypatch):
    """_node_lists codes node sets through a table while base ** k is small, by hashing beyond: both
    give every row its ';'-joined names."""
    from gzspatial import attribute
    from gzspatial.attribute import _node_lists

    monkeypatch.setattr(attribute, "COMPILED_MIN_POINTS", 1000)  # the compiled pass for 5000 rows
    rng = np.random.default_rng(3)
    small = np.sort(rng.integers(-1, 28, (5000, 3)), axis=1)[:, ::-1]
    big = small.copy()
    big[::7, 0] = 2999  # 3001 ** 3 entries: hashed
    for matrix, top in ((small, 28), (big, 3000)):
        names = np.array([f"节点{i}" for i in range(top)] + [""], dtype=object)
        got = _node_lists(matrix, names).to_numpy()
        want = [";".join(names[i] for i in row if i >= 0) for row in matrix]
        assert got.tolist() == want

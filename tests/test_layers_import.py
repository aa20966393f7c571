"""Tests of ``gzspatial layers import`` on generated official-style inputs (made from the packaged layers).

Inputs: an EPSG:4547 Shapefile with a GBK .dbf (no .cpg) and Chinese field names, a GeoPackage in a
PROJ-string local CRS with two layers, a DXF without CRS. Then locate/join answer from the imported
set through GZ_LAYERS and the real CLI.
"""

import io
import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gzspatial import crs
from gzspatial._errors import LayerError
from gzspatial.layer_import import _match, import_layer
from gzspatial.layers import Layer, layer_set, packaged_layers_dir, read_layer, read_layers

from .conftest import invoke_cli

LOCAL_CRS = "+proj=tmerc +lat_0=0 +lon_0=113.3 +k=1 +x_0=50000 +y_0=-2500000 +ellps=GRS80 +units=m +no_defs"
GROWN_M = 800  # the first node is imported 800 m wider than packaged


def _packaged(kind):
    return gpd.read_file(packaged_layers_dir() / f"{kind}.geojson")


def _write_shapefile(folder, frame, *, crs_text="EPSG:4547", encoding="GBK", cpg=False):
    path = folder / "nodes.shp"
    frame.to_file(path, encoding=encoding)
    if not cpg:
        path.with_suffix(".cpg").unlink()
    if crs_text != "EPSG:4547":  # declare another CRS for the same numbers (a wrong .prj)
        from pyproj import CRS

        path.with_suffix(".prj").write_text(CRS(crs_text).to_wkt("WKT1_ESRI"), encoding="ascii")
    return path


def _write_dxf(path, layer_names, geometries):
    """A CAD drawing: one DXF layer per feature, coordinates in EPSG:4547 metres, no CRS (as DXF has none)."""
    frame = gpd.GeoDataFrame({"Layer": list(layer_names)}, geometry=list(geometries))
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="'crs' was not provided", category=UserWarning)
        frame.to_file(path, driver="DXF")


def _official_nodes(names=None, grow_first=True):
    """The packaged nodes in EPSG:4547 with 名称/编号 fields, the first one grown by GROWN_M."""
    nodes = _packaged("nodes").to_crs("EPSG:4547")
    geometry = nodes.geometry.values.copy()
    if grow_first:
        geometry[0] = shapely.buffer(geometry[0], GROWN_M)
    return gpd.GeoDataFrame(
        {"名称": names if names is not None else nodes["name_zh"], "编号": [f"N{i:02d}" for i in range(len(nodes))]},
        geometry=geometry,
        crs="EPSG:4547",
    )


@pytest.fixture(scope="module")
def shp_import(tmp_path_factory):
    folder = tmp_path_factory.mktemp("shp")
    source = _write_shapefile(folder, _official_nodes())
    out = folder / "official"
    report = import_layer(source, "nodes", out)
    return source, out, report


def test_shapefile_gbk_without_cpg_is_decoded_and_matched(shp_import):
    source, out, report = shp_import
    assert not source.with_suffix(".cpg").exists()
    assert len(report.matched) == 28 and report.crs == "EPSG:4547"
    assert ("粤港澳大湾区生命健康产业创新区", "gba-life-health") in report.matched
    layer = read_layer("nodes", out / "nodes.geojson")
    props = layer.properties[0]
    assert props["precision"] == "official" and props["import_name"] == "粤港澳大湾区生命健康产业创新区"
    assert props["import_source"] == "nodes.shp" and props["import_crs"] == "EPSG:4547"
    assert props["location_verified"] is True and layer.metadata["import_crs"] == "EPSG:4547"


def test_imported_geometry_is_the_files_reprojected(shp_import):
    _, out, _ = shp_import
    imported = read_layer("nodes", out / "nodes.geojson")
    packaged = read_layer("nodes", packaged_layers_dir() / "nodes.geojson")
    areas_in = shapely.area(crs.to_metric(imported.geometries)) / 1e6
    areas_pk = shapely.area(crs.to_metric(packaged.geometries)) / 1e6
    assert areas_in[1:] == pytest.approx(areas_pk[1:], rel=1e-4)  # untouched nodes: same shape
    assert areas_in[0] > areas_pk[0] * 1.2  # the grown one is bigger
    assert [p["area_km2"] for p in imported.properties] == pytest.approx(list(areas_in), abs=1e-3)


def _point_outside_packaged_first_node():
    """A WGS84 point 400 m outside the packaged first node (inside the imported, grown one)."""
    packaged = crs.to_metric(read_layer("nodes", packaged_layers_dir() / "nodes.geojson").geometries[0])
    ring = shapely.buffer(packaged, 400).exterior
    x, y = ring.coords[0]
    lon, lat = crs.transform(np.array([x]), np.array([y]), crs.METRIC_CRS, crs.WGS84)
    return float(lon[0]), float(lat[0])


def test_cli_import_then_locate_and_join_answer_from_gz_layers(tmp_path, monkeypatch):
    source = _write_shapefile(tmp_path, _official_nodes())
    out = tmp_path / "my-layers"
    result = invoke_cli("layers", "import", str(source), "--as", "nodes", "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    assert "28 feature(s) matched" in result.stderr.decode() and (out / "nodes.geojson").is_file()

    lon, lat = _point_outside_packaged_first_node()
    packaged = json.loads(invoke_cli("locate", f"{lon:.7f}", f"{lat:.7f}", "--json").stdout)
    assert "gba-life-health" not in [n["id"] for n in packaged["nodes"]]
    assert packaged["layers"]["origin"] == "packaged"

    monkeypatch.setenv("GZ_LAYERS", str(out))
    version = layer_set().version
    located = json.loads(invoke_cli("locate", f"{lon:.7f}", f"{lat:.7f}", "--json").stdout)
    assert "gba-life-health" in [n["id"] for n in located["nodes"]]
    assert located["layers"] == {"origin": "GZ_LAYERS", "folder": str(out.resolve()), "version": version}
    assert located["nodes"][0]["precision"] == "official"

    table = tmp_path / "sites.csv"
    table.write_text(f"name,lon,lat\nsite,{lon:.7f},{lat:.7f}\n", encoding="utf-8")
    joined = invoke_cli("join", str(table), "-o", str(tmp_path / "joined.csv"), "--crs", "wgs84")
    assert joined.returncode == 0, joined.stderr.decode()
    assert f"layers {version} (GZ_LAYERS: {out.resolve()})" in joined.stderr.decode()
    row = pd.read_csv(tmp_path / "joined.csv", dtype=str).iloc[0]
    assert row["gz_primary_node"] == "粤港澳大湾区生命健康产业创新区" and row["gz_layers_version"] == version

    listing = invoke_cli("layers")
    assert f"layer set {version}, chosen by GZ_LAYERS" in listing.stdout.decode()
    stats = invoke_cli("stats", str(tmp_path / "joined.csv"), "--by", "node", "--csv")
    counted = pd.read_csv(io.StringIO(stats.stdout.decode()))
    assert counted.loc[counted["unit"] == "gba-life-health", "count"].item() == 1
    assert set(counted["gz_layers_version"]) == {version}


def test_geopackage_in_local_proj_crs_with_two_layers(tmp_path):
    cores = _packaged("cores")
    names = [p or c for p, c in zip(cores["part"], cores["core_name_zh"], strict=True)]
    local = gpd.GeoDataFrame({"名称": names}, geometry=cores.to_crs(LOCAL_CRS).geometry.values, crs=LOCAL_CRS)
    source = tmp_path / "zones.gpkg"
    local.to_file(source, layer="cores_official")
    gpd.GeoDataFrame({"名称": ["road"]}, geometry=[shapely.LineString([(0, 0), (1, 1)])], crs=LOCAL_CRS).to_file(
        source, layer="roads"
    )
    with pytest.raises(LayerError, match=r"2 layers \(cores_official, roads\): choose one with --layer"):
        import_layer(source, "cores", tmp_path / "out")
    report = import_layer(source, "cores", tmp_path / "out", layer="cores_official")
    assert "+proj=tmerc" in report.crs and ("琶洲片区", "ai-zone-pazhou") in report.matched
    imported = read_layer("cores", tmp_path / "out" / "cores.geojson")
    packaged = read_layer("cores", packaged_layers_dir() / "cores.geojson")
    assert [p["id"] for p in imported.properties] == [p["id"] for p in packaged.properties]
    moved = shapely.hausdorff_distance(crs.to_metric(imported.geometries), crs.to_metric(packaged.geometries))
    assert moved.max() < 1.0  # metres: the round trip through the local system is exact
    assert {p["precision"] for p in imported.properties} == {"official"}


def test_dxf_without_crs_asks_then_imports_lines(tmp_path):
    axis = _packaged("axis").to_crs("EPSG:4547")
    source = tmp_path / "axis.dxf"
    _write_dxf(source, axis["id"], axis.geometry.values)
    with pytest.raises(LayerError, match="declares no CRS: give --crs"):
        import_layer(source, "axis", tmp_path / "out", name_field="Layer")
    report = import_layer(source, "axis", tmp_path / "out", name_field="Layer", crs="EPSG:4547")
    multi = {
        i: shapely.get_num_geometries(g)
        for i, g in zip(axis["id"], axis.geometry, strict=True)
        if g.geom_type == "MultiLineString"
    }
    assert multi and report.merged == multi  # the DXF splits a multi-line into entities: united again
    imported = read_layer("axis", tmp_path / "out" / "axis.geojson")
    packaged = read_layer("axis", packaged_layers_dir() / "axis.geojson")
    lengths = [p["length_km"] for p in imported.properties]
    assert lengths == pytest.approx([p["length_km"] for p in packaged.properties], rel=1e-3)


def test_dxf_closed_polylines_are_read_as_polygons(tmp_path):
    cores = _packaged("cores").to_crs("EPSG:4547")
    rings = [shapely.LineString(g.exterior.coords) for g in cores.geometry.explode().values]
    ids = cores.explode()["id"].tolist()
    source = tmp_path / "cores.dxf"
    _write_dxf(source, ids, rings)
    import_layer(source, "cores", tmp_path / "out", name_field="Layer", crs="EPSG:4547")
    imported = read_layer("cores", tmp_path / "out" / "cores.geojson")
    assert set(shapely.get_type_id(imported.geometries)) <= {3, 6}  # Polygon, MultiPolygon


def test_no_crs_via_cli_is_exit_2_with_one_line(tmp_path):
    axis = _packaged("axis").to_crs("EPSG:4547")
    source = tmp_path / "axis.dxf"
    _write_dxf(source, axis["id"], axis.geometry.values)
    result = invoke_cli("layers", "import", str(source), "--as", "axis", "--name-field", "Layer", "-o", str(tmp_path))
    err = result.stderr.decode()
    assert result.returncode == 2 and err.startswith("error: ") and err.count("\n") == 1 and "--crs" in err
    assert not (tmp_path / "axis.geojson").exists()


def test_unmatched_names_are_listed_and_fixed_by_a_map(tmp_path):
    names = _packaged("nodes")["name_zh"].tolist()
    names[3] = "某官方片区"
    source = _write_shapefile(tmp_path, _official_nodes(names))
    with pytest.raises(LayerError, match=r"1 unmatched: '某官方片区'.*--map"):
        import_layer(source, "nodes", tmp_path / "out")
    assert not (tmp_path / "out" / "nodes.geojson").exists()
    node_id = read_layers()["nodes"].properties[3]["id"]
    mapping = tmp_path / "map.csv"
    mapping.write_text(f"user_value,layout_id\n某官方片区,{node_id}\n", encoding="utf-8")
    report = import_layer(source, "nodes", tmp_path / "out", mapping=mapping)
    assert ("某官方片区", node_id) in report.matched and report.notes == []


def test_a_match_far_from_the_packaged_feature_is_noted(tmp_path):
    """Two names swapped by a careless --map: both imported, both noted in the report."""
    nodes = read_layers()["nodes"].properties
    names = _packaged("nodes")["name_zh"].tolist()
    far = next(i for i, p in enumerate(nodes) if p["group"] == "south")  # Nansha, far from node 0 (Yuexiu)
    mapping = tmp_path / "map.csv"
    mapping.write_text(f"{names[0]},{nodes[far]['id']}\n{names[far]},{nodes[0]['id']}\n", encoding="utf-8")
    report = import_layer(_write_shapefile(tmp_path, _official_nodes()), "nodes", tmp_path / "out", mapping=mapping)
    assert len(report.notes) == 2 and all("km from the packaged feature" in note for note in report.notes)


def test_map_can_leave_a_feature_out_and_missing_ones_are_an_error(tmp_path):
    source = _write_shapefile(tmp_path, _official_nodes())
    mapping = tmp_path / "map.csv"
    first_name = _packaged("nodes")["name_zh"][5]
    mapping.write_text(f"{first_name},-\n", encoding="utf-8")
    missing_id = read_layers()["nodes"].properties[5]["id"]
    with pytest.raises(LayerError, match=f"1 layout feature\\(s\\) missing from the file: {missing_id}"):
        import_layer(source, "nodes", tmp_path / "out", mapping=mapping)
    report = import_layer(source, "nodes", tmp_path / "out", mapping=mapping, keep_missing=True)
    assert report.skipped == [first_name] and report.kept_packaged == [missing_id]
    kept = read_layer("nodes", tmp_path / "out" / "nodes.geojson").properties[5]
    assert kept["id"] == missing_id and kept["precision"] != "official"


def test_ambiguous_names_are_an_error():
    base = read_layers()["nodes"]
    twins = [{**base.properties[0], "aliases": ["同名"]}, {**base.properties[1], "aliases": ["同名"]}]
    reference = Layer("nodes", base.path, twins, base.geometries[:2])
    from gzspatial.layer_import import ImportReport

    with pytest.raises(LayerError, match=r"1 ambiguous: '同名' \(gba-life-health or .*\)"):
        _match([("", "同名")], reference, {}, ImportReport("nodes", "x", "EPSG:4547"))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("bowtie", "invalid geometry .*Self-intersection.*not repaired"),
        ("wrong_crs", "not within 10 km of Guangzhou .*is the CRS right"),
        ("two_name_fields", "several candidate fields .*--name-field"),
        ("crs_disagrees", "declares EPSG:4547 but --crs says EPSG:4526"),
        ("bad_crs", "--crs 'EPSG:999999' is not a CRS"),
        ("bad_kind", "cannot import as 'city'"),
    ],
)
def test_bad_official_inputs(tmp_path, change, message):
    frame, kwargs, kind = _official_nodes(), {}, "nodes"
    crs_text = "EPSG:4547"
    if change == "bowtie":
        frame.geometry.values[2] = shapely.Polygon([(0, 0), (10, 10), (10, 0), (0, 10)])
    elif change == "wrong_crs":
        crs_text = "EPSG:32650"  # UTM 50N: the same numbers land ~300 km east
    elif change == "two_name_fields":
        frame["name"] = frame["名称"]
    elif change == "crs_disagrees":
        kwargs["crs"] = "EPSG:4526"
    elif change == "bad_crs":
        kwargs["crs"] = "EPSG:999999"
    elif change == "bad_kind":
        kind = "city"
    source = _write_shapefile(tmp_path, frame, crs_text=crs_text)
    with pytest.raises(LayerError, match=message):
        import_layer(source, kind, tmp_path / "out", **kwargs)
    assert not (tmp_path / "out" / "nodes.geojson").exists()


def test_never_writes_over_the_input_or_the_packaged_folder(tmp_path):
    nodes = _packaged("nodes")
    source = tmp_path / "nodes.geojson"
    nodes.to_file(source, driver="GeoJSON")
    before = source.read_bytes()
    with pytest.raises(LayerError, match="would overwrite the input"):
        import_layer(source, "nodes", tmp_path, name_field="name_zh")
    with pytest.raises(LayerError, match="packaged layers folder"):
        import_layer(source, "nodes", packaged_layers_dir(), name_field="name_zh")
    assert source.read_bytes() == before


@pytest.mark.parametrize(("cpg", "encoding"), [(True, None), (False, "gbk")])
def test_shapefile_encoding_from_cpg_or_option(tmp_path, cpg, encoding):
    source = _write_shapefile(tmp_path, _official_nodes(), cpg=cpg)
    report = import_layer(source, "nodes", tmp_path / "out", encoding=encoding)
    assert len(report.matched) == 28 and report.matched[1] == ("黄花岗科技园", "huanghuagang")

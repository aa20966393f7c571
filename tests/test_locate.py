"""Tests of gzspatial.locate: examples in every core part and several nodes, names, bad input."""

import json

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gzspatial import crs
from gzspatial._errors import CoordinateError
from gzspatial.cli import app
from gzspatial.locator import find, locate

from .conftest import invoke_cli


def _inside_point(geometry):
    return geometry.representative_point()


def test_a_point_in_each_core_part(layers):
    for _, part in layers["cores"].iterrows():
        point = _inside_point(part.geometry)
        result = locate(point.x, point.y)
        assert result.core.id == part["id"] and result.core.core_id == part["core_id"]
        assert (result.core.part or "") == part["part"]
        assert result.district.adcode in part["district_codes"]


@pytest.mark.parametrize(
    "node_id",
    [
        "tianhe-cbd",
        "international-bio-island",
        "baiyun-lake-digital",
        "mingzhu-science-park",
        "zengcheng-economic-dev",
        "huanghuagang",
    ],
)
def test_a_point_in_several_nodes(layers, node_id):
    node = layers["nodes"].set_index("id").loc[node_id]
    point = _inside_point(node.geometry)
    result = locate(point.x, point.y)
    assert node_id in [n.id for n in result.nodes]
    assert result.nearest_node is None and result.status == "ok"


def test_nodes_are_listed_smallest_first(layers):
    # 生物岛 lies inside 中大国际创新生态谷 (the plan: "含生物岛")
    bio = layers["nodes"].set_index("id").geometry["international-bio-island"]
    valley = layers["nodes"].set_index("id").geometry["sysu-innovation-valley"]
    overlap = bio.intersection(valley)
    assert not overlap.is_empty
    point = overlap.representative_point()
    ids = [n.id for n in locate(point.x, point.y).nodes]
    assert ids[:2] == ["international-bio-island", "sysu-innovation-valley"]
    areas = [n.area_km2 for n in locate(point.x, point.y).nodes]
    assert areas == sorted(areas)


def test_in_no_node_gives_nearest_node_and_distance(layers):
    result = locate(113.60, 23.60)  # rural Conghua/Zengcheng
    assert result.nodes == () and result.nearest_node is not None
    nodes = layers["nodes"].to_crs(crs.METRIC_CRS)
    point = gpd.GeoSeries([shapely.Point(113.60, 23.60)], crs=4326).to_crs(crs.METRIC_CRS).iloc[0]
    distances = nodes.distance(point)
    assert result.nearest_node.id == nodes["id"].iloc[int(np.argmin(distances))]
    assert result.nearest_node.distance_m == pytest.approx(distances.min(), abs=0.1)


def test_axis_distance_and_corridor(layers):
    axis = layers["axis"].to_crs(crs.METRIC_CRS)
    point = gpd.GeoSeries([shapely.Point(113.42, 23.12)], crs=4326).to_crs(crs.METRIC_CRS).iloc[0]
    expected = axis.distance(point)
    result = locate(113.42, 23.12)
    assert result.axis.distance_m == pytest.approx(expected.min(), abs=0.1)
    assert result.axis.section_id == axis["id"].iloc[int(np.argmin(expected))]
    assert result.axis.on_axis == (expected.min() <= 2000)
    narrow = locate(113.42, 23.12, corridor_km=expected.min() / 1000 - 0.01)
    assert narrow.axis.on_axis is False


def test_swapped_input_is_corrected():
    result = locate(23.1066, 113.3245)
    assert result.status == "swapped" and (result.lon, result.lat) == (113.3245, 23.1066)
    assert "swapped" in result.note


def test_outside_guangzhou():
    result = locate(114.06, 22.54)  # Shenzhen
    assert result.status == "outside" and not result.in_guangzhou and result.district is None
    assert result.nearest_node.distance_m > 10_000


@pytest.mark.parametrize("system", ["gcj02", "bd09", "cgcs2000"])
def test_other_systems_give_the_same_answer(system):
    lon, lat = 113.40, 23.12
    moved = crs.transform(lon, lat, "wgs84", system)
    a, b = locate(lon, lat).to_dict(), locate(*moved, crs=system).to_dict()
    for key in ("district", "core", "nodes", "nearest_node"):
        assert a[key] == b[key]
    assert a["axis"]["distance_m"] == pytest.approx(b["axis"]["distance_m"], abs=0.01)


@pytest.mark.parametrize(
    ("lon", "lat", "message"),
    [
        ("abc", 23, "not a number"),
        ("", 23, "blank"),
        (113.3, 95, "latitude 95"),
        (float("nan"), 23, "'nan' is not a number"),
    ],
)
def test_bad_input_raises(lon, lat, message):
    with pytest.raises(CoordinateError, match=message):
        locate(lon, lat)


def test_matches_geopandas_on_random_points(layers):
    rng = np.random.default_rng(11)
    lon, lat = rng.uniform(113.15, 113.75, 300), rng.uniform(22.6, 23.5, 300)
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs=4326)
    joined = gpd.sjoin(points, layers["districts"][["adcode", "geometry"]], predicate="intersects", how="left")
    node_hits = gpd.sjoin(points, layers["nodes"][["id", "geometry"]], predicate="intersects", how="inner")
    for i in range(len(lon)):
        result = locate(lon[i], lat[i])
        expected_district = joined.loc[[i], "adcode"].dropna().tolist()
        assert ([result.district.adcode] if result.district else []) == expected_district[:1]
        assert sorted(n.id for n in result.nodes) == sorted(node_hits.loc[node_hits.index == i, "id"])


def test_schema_keys_are_stable():
    data = locate(113.40, 23.12).to_dict()
    assert list(data) == [
        "input",
        "lon",
        "lat",
        "status",
        "note",
        "in_guangzhou",
        "district",
        "core",
        "nodes",
        "axis",
        "nearest_node",
        "layers",  # added in version 1 (new keys are compatible): the layer set that answered
        "schema",
    ]
    assert data["schema"] == 1
    assert list(data["axis"]) == ["section_id", "name_zh", "name_en", "distance_m", "on_axis", "corridor_km"]


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("知识城", "knowledge-city"),
        ("Knowledge City", "knowledge-city"),
        ("生物岛", "international-bio-island"),
        ("琶洲高新", "pazhou-hitech"),
        ("tianhe smart", "tianhe-smart-city"),
        ("天河段", "axis-tianhe"),
        ("南沙区", "nansha"),
    ],
)
def test_find_by_name(query, first):
    assert find(query)[0].id == first


def test_find_ranks_exact_before_partial():
    results = find("大学城")
    assert results[0].score == 100 and results[-1].score <= results[0].score
    assert {r.id for r in results} >= {"university-town", "ai-zone-university-town"}


def test_find_blank_is_an_error():
    with pytest.raises(CoordinateError, match="blank"):
        find("  ")


# --- through the command line -------------------------------------------------------------


def test_cli_locate_json():
    result = invoke_cli("locate", "113.3245", "23.1066", "--crs", "gcj02", "--json")
    assert result.returncode == 0, result.stderr.decode()
    data = json.loads(result.stdout)
    assert data["district"]["name_en"] == "Haizhu" and data["input"]["crs"] == "gcj02"


def test_cli_locate_table(runner):
    result = runner.invoke(app, ["locate", "113.40", "23.12"])
    assert result.exit_code == 0
    assert "天河区 Tianhe (440106)" in result.stdout and "广州国际金融城片区" in result.stdout
    assert "on the axis" in result.stdout


def test_cli_locate_swapped_and_outside(runner):
    swapped = runner.invoke(app, ["locate", "23.12", "113.40"])
    assert swapped.exit_code == 0 and "swapped" in swapped.stdout
    outside = runner.invoke(app, ["locate", "114.06", "22.54"])
    assert outside.exit_code == 0 and "outside Guangzhou" in outside.stdout and "\nNearest " in outside.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["abc", "23"], "not a number"),
        (["113.3", "95"], "latitude 95"),
        (["113.3"], "give LON LAT"),
        (["113.3", "23.1", "--crs", "mars"], "unknown coordinate system"),
    ],
)
def test_cli_locate_errors(args, message):
    result = invoke_cli("locate", *args)
    err = result.stderr.decode()
    assert result.returncode == 2 and message in err and len(err.strip().splitlines()) == 1


def test_cli_locate_name(runner):
    result = runner.invoke(app, ["locate", "--name", "知识城"])
    # the feature's precision class is shown (知识城: a schematic shape sized to its published area)
    assert result.exit_code == 0 and "中新广州知识城" in result.stdout and "schematic" in result.stdout


def test_cli_locate_with_replacement_layers(tmp_path, runner):
    (tmp_path / "nodes.geojson").write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["locate", "113.4", "23.12", "--layers", str(tmp_path)])
    assert result.exit_code == 2 and "nodes.geojson: not readable" in result.stderr


# --- typed results ------------------------------------------------------------------------


def test_location_is_a_frozen_typed_result():
    import dataclasses

    from gzspatial.layers import LayerSet
    from gzspatial.locator import AxisSection, Core, District, InputPoint, NearestNode

    result = locate(113.40, 23.12)
    assert isinstance(result.input, InputPoint) and result.input.crs == "wgs84"
    assert isinstance(result.district, District) and result.district.name_en == "Tianhe"
    assert isinstance(result.core, Core) and result.core.core_id == "ai-zone"
    assert isinstance(result.axis, AxisSection) and isinstance(result.axis.distance_m, float)
    assert isinstance(result.nearest_node, NearestNode) and result.nodes == ()
    assert isinstance(result.layers, LayerSet)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.status = "ok"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.axis.on_axis = False  # type: ignore[misc]
    assert not hasattr(result, "__dict__") and not hasattr(result.district, "__dict__")  # slotted


def test_nodes_are_typed_and_to_dict_gives_plain_json():
    from gzspatial._validate import Status
    from gzspatial.locator import Node
    from gzspatial.schema import NodeGroup

    result = locate(113.368, 23.067)  # in two overlapping nodes
    assert [type(n) for n in result.nodes] == [Node, Node] and isinstance(result.nodes, tuple)
    data = result.to_dict()
    assert [n["id"] for n in data["nodes"]] == [n.id for n in result.nodes]
    assert list(data["nodes"][0]) == ["id", "name_zh", "name_en", "group", "precision", "area_km2"]
    assert data["nearest_node"] is None and isinstance(data["nodes"], list)
    assert json.loads(json.dumps(data)) == data  # nothing but JSON types
    assert type(data["status"]) is str and type(data["nodes"][0]["group"]) is str  # enum members as text
    assert result.status is Status.OK and all(isinstance(n.group, NodeGroup) for n in result.nodes)


def test_find_returns_typed_matches():
    from gzspatial.locator import Match

    results = find("大学城")
    assert results and all(isinstance(r, Match) for r in results)
    assert isinstance(results[0].districts, tuple) and "番禺区" in results[0].districts
    assert list(results[0].to_dict()) == [
        "layer", "id", "name_zh", "name_en", "score", "group", "districts", "area_km2", "precision", "seed_ref",
    ]  # fmt: skip


def test_result_types_are_exported():
    import gzspatial
    from gzspatial import locator

    for name in ("Location", "AddressLocation", "Match", "District", "Core", "Node", "NearestNode", "AxisSection"):
        assert getattr(gzspatial, name) is getattr(locator, name)


def test_address_location_is_typed():
    from gzspatial.address import ParsedAddress
    from gzspatial.locator import locate_address

    found = locate_address("天河区五山路381号")
    assert isinstance(found.parsed, ParsedAddress) and found.parsed.district_code == "440106"
    assert found.geocode is None and found.location is None
    assert found.to_dict()["parsed"]["district"] == found.parsed.district

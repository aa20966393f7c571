"""Tests that keep the 一轴四核多点 layout data honest (cores, nodes, axis): classes, published sizes, sites."""

import csv
import importlib.util
import json
import re
import subprocess
import sys
import tomllib

import numpy as np
import pandas as pd
import pytest
import shapely

from gzspatial import crs
from gzspatial.layers import REQUIRED_PROPERTIES

from .conftest import ROOT

SEED = ROOT.parent / "shared" / "seed" / "000_c53a813f44610f0f.txt"
STATED_AREAS = ROOT.parent / "shared" / "reference" / "stated_areas.csv"
SPEC = ROOT / "data" / "specs" / "layout.toml"
PRECISIONS = {"official", "road_bounded", "schematic", "indicative"}
#: Islands keep their whole outline; the coarse district line of districts.geojson cuts through them.
ISLANDS = {"international-bio-island", "university-town", "ai-zone-university-town", "sysu-innovation-valley"}
GROUP_DISTRICTS = {
    "central": {"440103", "440104", "440106", "440105", "440113"},
    "east_north": {"440112", "440118", "440111", "440114", "440117"},
    "south": {"440115"},
}
PLAN_NODES = {
    "central": [
        "粤港澳大湾区生命健康产业创新区",
        "黄花岗科技园",
        "花果山超高清视频产业特色小镇",
        "中大国际创新生态谷",
        "广州琶洲高新区",
        "海龙广佛高质量发展科创示范区",
        "白鹅潭沿江总部经济带",
        "天河智慧城",
        "广州天河高新区",
        "天河中央商务区",
        "广州大学城",
        "智能网联新能源汽车价值创新园",
        "番禺智慧城市价值创新园",
    ],
    "east_north": [
        "广州民营科技园",
        "白云湖数字科技城",
        "空港经济区",
        "广州国际生物岛",
        "黄埔·云埔片区",
        "广州花都高新区",
        "花都智能电子绿色价值创新园",
        "广东从化经济开发区",
        "广州科教城片区",
        "增城经济技术开发区",
    ],
    "south": [
        "南沙庆盛科技创新产业基地",
        "明珠科学园",
        "粤港深度合作园南沙枢纽片区",
        "南沙资讯科技园",
        "万顷沙精准医学产业合作区",
    ],
}
PART_DISTRICT = {"琶洲片区": "440105", "广州国际金融城片区": "440106", "鱼珠片区": "440112", "大学城片区": "440113"}
SECTION_DISTRICT = {
    "axis-huangpu": "440112",
    "axis-baiyun": "440111",
    "axis-tianhe": "440106",
    "axis-haizhu": "440105",
    "axis-panyu": "440113",
    "axis-nansha": "440115",
}
# The places the plan says the axis links (section 三（一）), as layer ids.
AXIS_LINKS = {
    "knowledge-city": "cores",
    "nansha-science-city": "cores",
    "science-city": "cores",
    "international-bio-island": "nodes",
    "tianhe-smart-city": "nodes",
    "university-town": "nodes",
    "baiyun-lake-digital": "nodes",
    "qingsheng-base": "nodes",
    "mingzhu-science-park": "nodes",
}
TOLERANCE_M = 100


def _metric(geometry):
    return crs.to_metric(geometry)


def _districts(layers):
    return {a: _metric(g) for a, g in zip(layers["districts"]["adcode"], layers["districts"].geometry, strict=True)}


def test_four_cores_in_seven_features(layers):
    cores = layers["cores"]
    assert sorted(cores["core_id"].unique()) == ["ai-zone", "knowledge-city", "nansha-science-city", "science-city"]
    ai = cores[cores["core_id"] == "ai-zone"]
    assert sorted(ai["part"]) == sorted(PART_DISTRICT)


def test_all_28_plan_nodes_in_their_groups(layers):
    nodes = layers["nodes"]
    assert len(nodes) == 28
    for group, names in PLAN_NODES.items():
        assert sorted(nodes.loc[nodes["group"] == group, "name_zh"]) == sorted(names)


@pytest.mark.parametrize("name", ["cores", "nodes", "axis"])
def test_required_properties_and_ids(layers, name):
    frame = layers[name]
    for key in REQUIRED_PROPERTIES[name]:
        assert frame[key].notna().all(), key
    assert frame["id"].is_unique
    assert all(re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", i) for i in frame["id"])
    assert set(frame["precision"]) <= PRECISIONS
    approximate = frame[frame["precision"] != "official"]
    assert approximate["source"].str.contains("approximation, not an official boundary").all()
    assert all(isinstance(a, list) and a for a in frame["aliases"])
    for key in ("stated_area_km2", "stated_area_source", "area_ratio", "location_verified"):
        assert key in frame.columns, key
    assert all(isinstance(v, bool) for v in frame["location_verified"])


@pytest.mark.parametrize("name", ["cores", "nodes", "axis"])
def test_precision_classes_follow_their_rules(layers, name):
    """schematic/road_bounded need a verified location; schematic a published area; else indicative."""
    for _, row in layers[name].iterrows():
        stated = row["stated_area_km2"]
        has_stated = bool(pd.notna(stated))
        assert has_stated == isinstance(row["stated_area_source"], str), row["id"]
        if row["precision"] in ("schematic", "road_bounded"):
            assert row["location_verified"], row["id"]
        if row["precision"] == "schematic":
            assert has_stated, row["id"]
        if not row["location_verified"]:
            assert row["precision"] == "indicative", row["id"]
        if has_stated and name != "axis":
            assert row["area_ratio"] == pytest.approx(row["area_km2"] / stated, abs=0.001), row["id"]
        else:
            assert pd.isna(row["area_ratio"]), row["id"]


def test_cores_carry_part_en(layers):
    cores = layers["cores"]
    for _, row in cores.iterrows():
        assert (row["part_en"] == "") == (row["part"] == ""), row["id"]
        if row["part"]:
            assert row["name_en"] == f"{row['core_name_en']} — {row['part_en']}"


def test_ids_unique_across_layers(layers):
    ids = [i for name in ("districts", "cores", "nodes", "axis") for i in layers[name]["id"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", ["cores", "nodes"])
def test_areas_and_district_codes_match_geometry(layers, name):
    """district_codes: the districts holding > 1% of a feature; for islands, the district of the island itself."""
    districts = _districts(layers)
    for _, row in layers[name].iterrows():
        metric = _metric(row.geometry)
        assert row["area_km2"] == pytest.approx(metric.area / 1e6, abs=0.001)
        holding = {code for code, d in districts.items() if metric.intersection(d).area > 0.01 * metric.area}
        if row["id"] in ISLANDS:
            # the coarse district line cuts the island: its own centre says where it is
            centre = metric.representative_point()
            assert {code for code, d in districts.items() if d.contains(centre)} <= set(row["district_codes"])
            inside = shapely.union_all([districts[c] for c in row["district_codes"]])
            assert metric.intersection(inside).area > 0.6 * metric.area, row["id"]
        else:
            assert set(row["district_codes"]) == holding, row["id"]


def _inside(metric, territory, feature_id) -> bool:
    """Within 100 m of the territory; an island is placed by its centre (the district line cuts it)."""
    if feature_id in ISLANDS:
        return territory.contains(metric.representative_point())
    return metric.buffer(-TOLERANCE_M).within(territory)


def test_every_node_lies_in_its_groups_districts(layers):
    """A node grouped by management (生物岛) may lie in its territorial district."""
    districts = _districts(layers)
    for _, node in layers["nodes"].iterrows():
        allowed = set(GROUP_DISTRICTS[node["group"]])
        if isinstance(node.get("managed_by_codes"), list):
            allowed |= set(node["district_codes"])
        territory = shapely.union_all([districts[c] for c in allowed])
        assert _inside(_metric(node.geometry), territory, node["id"]), node["id"]


def test_bio_island_records_territory_and_management(layers):
    bio = layers["nodes"].set_index("id").loc["international-bio-island"]
    assert bio["district_codes"] == ["440105"] and bio["managed_by_codes"] == ["440112"]
    assert bio["group"] == "east_north"


def test_node_groups_allow_bio_island_only_by_management(layers):
    for _, node in layers["nodes"].iterrows():
        outside_group = set(node["district_codes"]) - GROUP_DISTRICTS[node["group"]]
        if outside_group:
            assert node["id"] == "international-bio-island"
            assert set(node["managed_by_codes"]) <= GROUP_DISTRICTS[node["group"]]


def test_core_parts_lie_in_their_named_district(layers):
    districts = _districts(layers)
    for _, part in layers["cores"][layers["cores"]["part"] != ""].iterrows():
        assert _inside(_metric(part.geometry), districts[PART_DISTRICT[part["part"]]], part["id"]), part["id"]


def test_nansha_science_city_includes_mingzhu_science_park(layers):
    core = _metric(layers["cores"].set_index("id").geometry["nansha-science-city"])
    park = _metric(layers["nodes"].set_index("id").geometry["mingzhu-science-park"])
    assert park.buffer(-TOLERANCE_M).within(core)


def test_axis_sections_lie_in_their_districts(layers):
    districts = _districts(layers)
    axis = layers["axis"]
    assert sorted(axis["id"]) == sorted(SECTION_DISTRICT)
    for _, section in axis.iterrows():
        assert _metric(section.geometry).within(districts[SECTION_DISTRICT[section["id"]]].buffer(TOLERANCE_M))
        assert section["places"]


def test_axis_runs_from_knowledge_city_to_nansha_and_links_the_named_nodes(layers):
    axis = _metric(layers["axis"].union_all())
    for feature_id, layer in AXIS_LINKS.items():
        geometry = _metric(layers[layer].set_index("id").geometry[feature_id])
        assert axis.distance(geometry) <= 1000, feature_id
    ai_zone = _metric(layers["cores"].loc[layers["cores"]["core_id"] == "ai-zone"].union_all())
    assert axis.distance(ai_zone) <= 1000


def test_axis_is_connected(layers):
    merged = shapely.line_merge(shapely.union_all(_metric(np.asarray(layers["axis"].geometry.values))))
    # one trunk plus the 白云 branch, joined: the union is a single connected network
    assert shapely.union_all(shapely.buffer(shapely.get_parts(merged), 1.0)).geom_type == "Polygon"


@pytest.mark.skipif(not SEED.exists(), reason="the plan text (../shared/seed) is not beside this checkout")
@pytest.mark.parametrize("name", ["cores", "nodes", "axis"])
def test_descriptions_are_quoted_from_the_plan(layers, name):
    seed = SEED.read_text(encoding="utf-8")
    for description in layers[name]["description_zh"]:
        assert description and description in seed


# ---------------------------------------------------------------- published sizes (see ../shared/reference)


def _features(layers):
    return {row["id"]: row for name in ("cores", "nodes") for _, row in layers[name].iterrows()}


def test_published_areas_are_met_within_0_8_to_1_25(layers):
    stated = {i: f for i, f in _features(layers).items() if pd.notna(f["stated_area_km2"])}
    assert len(stated) >= 15
    for feature_id, feature in stated.items():
        assert 0.8 <= feature["area_km2"] / feature["stated_area_km2"] <= 1.25, (feature_id, feature["area_ratio"])


def test_pazhou_and_university_town_together_meet_the_published_48_km2(layers):
    """《广州人工智能与数字经济试验区建设总体方案》: 琶洲核心片区（含广州大学城）48 km²."""
    features = _features(layers)
    together = features["ai-zone-pazhou"]["area_km2"] + features["ai-zone-university-town"]["area_km2"]
    assert 0.8 <= together / 48 <= 1.25
    assert "48" in features["ai-zone-pazhou"]["stated_area_source"]


@pytest.mark.skipif(not STATED_AREAS.exists(), reason="../shared/reference is not beside this checkout")
def test_every_reference_area_is_used_or_its_choice_explained(layers):
    features = _features(layers)
    with STATED_AREAS.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert rows
    for row in rows:
        ids = row["feature_id"].split("+")
        assert all(i in features for i in ids), row["feature_id"]
        if len(ids) > 1:
            continue  # a joint figure: tested above (琶洲 + 大学城)
        feature, figure = features[ids[0]], float(row["stated_area_km2"])
        if feature["stated_area_km2"] != pytest.approx(figure):
            # another published figure was chosen: the feature's source names both and why
            assert f"{figure:g}" in feature["source"] and f"{feature['stated_area_km2']:g}" in feature["source"]
        assert row["source_url"].split(" ; ")[0] in feature["stated_area_source"]


@pytest.mark.parametrize(
    ("feature_id", "chosen", "other"), [("science-city", "37.47", "144.65"), ("airport-economic-zone", "116", "439")]
)
def test_ambiguous_definitions_say_which_and_why(layers, feature_id, chosen, other):
    feature = _features(layers)[feature_id]
    assert feature["stated_area_km2"] == float(chosen)
    assert chosen in feature["source"] and other in feature["source"] and "because" in feature["source"]


def test_nansha_science_city_is_its_two_published_parts(layers):
    """明珠湾片区 (with 明珠科学园) + 庆盛片区, not one blob over the land between them."""
    core = _metric(layers["cores"].set_index("id").geometry["nansha-science-city"])
    nodes = layers["nodes"].set_index("id").geometry
    assert core.geom_type == "MultiPolygon" and len(core.geoms) == 2
    qingsheng, mingzhu = _metric(nodes["qingsheng-base"]), _metric(nodes["mingzhu-science-park"])
    parts = sorted(core.geoms, key=lambda g: -g.centroid.y)  # 庆盛 lies north of 明珠湾
    assert parts[0].symmetric_difference(qingsheng).area < 1e-3 * qingsheng.area
    assert mingzhu.buffer(-TOLERANCE_M).within(parts[1])
    assert 0.8 <= parts[0].area / 1e6 / 8 <= 1.25 and 0.8 <= parts[1].area / 1e6 / 91 <= 1.25


@pytest.mark.parametrize(("feature_id", "stated"), [("international-bio-island", 1.83), ("university-town", 17.9)])
def test_islands_keep_their_whole_outline(layers, feature_id, stated):
    """One polygon of the island's published size, even where the coarse district line crosses it."""
    island = _metric(layers["nodes"].set_index("id").geometry[feature_id])
    assert island.geom_type == "Polygon" and 0.8 <= island.area / 1e6 / stated <= 1.25
    districts = _districts(layers)
    crossed = [code for code, d in districts.items() if 0 < island.intersection(d).area < island.area]
    assert crossed  # the district line does cut it, and the feature was not clipped by it


def test_bio_island_is_part_of_the_innovation_valley_as_a_whole(layers):
    nodes = layers["nodes"].set_index("id").geometry
    assert _metric(nodes["international-bio-island"]).buffer(-1.0).within(_metric(nodes["sysu-innovation-valley"]))


def test_university_town_core_part_is_the_node(layers):
    part = _metric(layers["cores"].set_index("id").geometry["ai-zone-university-town"])
    node = _metric(layers["nodes"].set_index("id").geometry["university-town"])
    assert part.symmetric_difference(node).area < 1e-3 * node.area


# ---------------------------------------------------------------- flagship sites fall inside their features
# (name, lon, lat, where the coordinates come from, checks). All coordinates are WGS84 (EPSG:4326).
# "wiki": the place's Wikipedia infobox; "osm": recalled from OpenStreetMap, good to about 0.5 km;
# "osm~1km": position recalled less precisely (e.g. a campus's place on an island), about 1 km.
# Checks: (layer, feature id) = inside; ("district", adcode); ("axis", section id, metres) = within.
SITES = [
    (
        "中山大学南校区",
        113.2981,
        23.0961,
        "wiki",
        [("nodes", "sysu-innovation-valley"), ("district", "440105"), ("axis", "axis-haizhu", 2000)],
    ),
    (
        "广交会展馆 (centre)",
        113.362,
        23.103,
        "osm",
        [("cores", "ai-zone-pazhou"), ("nodes", "pazhou-hitech"), ("axis", "axis-haizhu", 2000)],
    ),
    ("广交会展馆 A区 (west end)", 113.356, 23.104, "osm", [("cores", "ai-zone-pazhou"), ("nodes", "pazhou-hitech")]),
    ("广交会展馆 C区 (east end)", 113.371, 23.103, "osm", [("cores", "ai-zone-pazhou"), ("nodes", "pazhou-hitech")]),
    ("琶洲塔", 113.383, 23.097, "osm", [("cores", "ai-zone-pazhou"), ("nodes", "pazhou-hitech")]),
    ("华南理工大学五山校区", 113.346, 23.155, "osm", [("axis", "axis-tianhe", 2000), ("district", "440106")]),
    ("华南农业大学", 113.357, 23.161, "osm", [("axis", "axis-tianhe", 2000), ("district", "440106")]),
    ("暨南大学石牌校区", 113.347, 23.130, "osm", [("axis", "axis-tianhe", 2000), ("district", "440106")]),
    (
        "花果山 (former 广州电视台, 环市中路)",
        113.270,
        23.147,
        "osm~1km",
        [("nodes", "huaguoshan-uhd"), ("district", "440104")],
    ),
    (
        "广州国际生物岛 (centre)",
        113.368,
        23.067,
        "osm",
        [("nodes", "international-bio-island"), ("nodes", "sysu-innovation-valley"), ("district", "440105")],
    ),
    (
        "广州大学城 (island centre)",
        113.392,
        23.055,
        "osm",
        [("nodes", "university-town"), ("cores", "ai-zone-university-town"), ("district", "440113")],
    ),
    ("中山大学东校区 (外环东路)", 113.405, 23.067, "osm~1km", [("nodes", "university-town")]),
    ("广州中医药大学大学城校区 (外环东路)", 113.412, 23.055, "osm~1km", [("nodes", "university-town")]),
    ("广东工业大学大学城校区 (外环西路)", 113.375, 23.047, "osm~1km", [("nodes", "university-town")]),
    ("国家超级计算广州中心 (中大东校区)", 113.405, 23.067, "osm~1km", [("cores", "ai-zone-university-town")]),
    ("广州国际金融城起步区 (员村–马场)", 113.392, 23.118, "osm", [("cores", "ai-zone-ifc"), ("district", "440106")]),
    ("鱼珠 (地铁鱼珠站)", 113.443, 23.104, "osm", [("cores", "ai-zone-yuzhu"), ("district", "440112")]),
    ("中新广州知识城 (九佛)", 113.495, 23.355, "osm~1km", [("cores", "knowledge-city"), ("district", "440112")]),
    ("科学广场 (广州科学城)", 113.448, 23.166, "osm", [("cores", "science-city"), ("district", "440112")]),
    ("中科院广州生物医药与健康研究院 (开源大道)", 113.458, 23.157, "osm~1km", [("cores", "science-city")]),
    ("白云国际机场", 113.2989, 23.3925, "wiki", [("nodes", "airport-economic-zone")]),
    (
        "香港科技大学（广州）",
        113.480,
        22.895,
        "osm~1km",
        [("nodes", "qingsheng-base"), ("cores", "nansha-science-city"), ("district", "440115")],
    ),
    ("庆盛站", 113.495, 22.885, "osm~1km", [("nodes", "qingsheng-base")]),
    ("明珠湾 (蕉门河中心区)", 113.545, 22.795, "osm~1km", [("cores", "nansha-science-city"), ("district", "440115")]),
    ("白云湖", 113.245, 23.237, "osm", [("nodes", "baiyun-lake-digital"), ("district", "440111")]),
    ("花城广场 (珠江新城)", 113.322, 23.121, "osm", [("nodes", "tianhe-cbd")]),
    ("天河体育中心", 113.320, 23.140, "osm", [("nodes", "tianhe-cbd")]),
    ("中山大学附属第一医院 (中山二路)", 113.289, 23.130, "osm", [("nodes", "gba-life-health"), ("district", "440104")]),
    ("高唐 (天河智慧城)", 113.405, 23.185, "osm", [("nodes", "tianhe-smart-city")]),
    ("海龙 (海北–龙溪)", 113.208, 23.072, "osm~1km", [("nodes", "hailong-guangfo"), ("district", "440103")]),
    ("广州塔", 113.3192, 23.1089, "wiki", [("district", "440105")]),
    ("广州医科大学附属第一医院 (沿江西路)", 113.262, 23.116, "osm", [("district", "440104")]),
]


@pytest.mark.parametrize(("name", "lon", "lat", "origin", "checks"), SITES, ids=[s[0] for s in SITES])
def test_flagship_sites_fall_inside_their_features(layers, name, lon, lat, origin, checks):
    point = _metric(shapely.Point(lon, lat))
    for check in checks:
        if check[0] == "district":
            frame = layers["districts"].set_index("adcode")
            assert _metric(frame.geometry[check[1]]).contains(point), (name, check)
        elif check[0] == "axis":
            section = _metric(layers["axis"].set_index("id").geometry[check[1]])
            assert section.distance(point) <= check[2], (name, check)
        else:
            assert _metric(layers[check[0]].set_index("id").geometry[check[1]]).contains(point), (name, check)


def test_site_list_is_long_enough():
    assert len(SITES) >= 30 and sum(len(s[4]) for s in SITES) >= 50


def test_canton_tower_is_not_in_the_tianhe_cbd(layers):
    """A control: the tower stands across the river from 珠江新城, in 海珠."""
    cbd = _metric(layers["nodes"].set_index("id").geometry["tianhe-cbd"])
    assert not cbd.contains(_metric(shapely.Point(113.3192, 23.1089)))


# ---------------------------------------------------------------- the spec builds the packaged layers


@pytest.mark.process
def test_make_layout_regenerates_the_packaged_layers(tmp_path, layers):
    generated = layers["cores"].attrs["metadata"]["generated"]
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "build_layout.py"), "--out", str(tmp_path), "--generated", generated],
        capture_output=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr.decode()
    for name in ("cores", "nodes", "axis"):
        built = json.loads((tmp_path / f"{name}.geojson").read_text(encoding="utf-8"))
        packaged = json.loads((ROOT / "data" / "geojson" / f"{name}.geojson").read_text(encoding="utf-8"))
        assert built == packaged, name


def test_spec_anchors_carry_their_crs():
    spec = tomllib.loads(SPEC.read_text(encoding="utf-8"))
    anchors = [a for f in (*spec["cores"], *spec["nodes"]) for a in f.get("anchors", [])]
    assert len(anchors) >= 20
    assert all(a["crs"] in ("wgs84", "gcj02", "bd09", "cgcs2000") for a in anchors)


def test_spec_coordinates_are_converted_from_their_crs():
    """A GCJ-02 (Amap) value in the spec lands where its WGS84 equivalent does, to the centimetre."""
    spec = importlib.util.spec_from_file_location("build_layout", ROOT / "scripts" / "build_layout.py")
    build_layout = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_layout)
    lon, lat = crs.transform(113.3245, 23.1066, "gcj02", "wgs84")  # 广州塔 as Amap gives it
    assert abs(lon - 113.3192) < 0.001 and abs(lat - 23.1089) < 0.001  # Wikipedia's WGS84 value
    from_gcj = build_layout.to_metric_xy([[113.3245, 23.1066]], "gcj02")
    from_wgs = build_layout.to_metric_xy([[lon, lat]], "wgs84")
    np.testing.assert_allclose(from_gcj, from_wgs, atol=0.01)

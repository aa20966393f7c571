"""Tests that keep the 一轴四核多点 layout data honest (cores, nodes, axis)."""

import re

import numpy as np
import pytest
import shapely

from gzspatial import crs
from gzspatial.layers import REQUIRED_PROPERTIES

from .conftest import ROOT

SEED = ROOT.parent / "shared" / "seed" / "000_c53a813f44610f0f.txt"
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
    assert set(frame["precision"]) <= {"official", "approximate"}
    approximate = frame[frame["precision"] == "approximate"]
    assert approximate["source"].str.contains("APPROXIMATE").all()
    assert all(isinstance(a, list) and a for a in frame["aliases"])


def test_ids_unique_across_layers(layers):
    ids = [i for name in ("districts", "cores", "nodes", "axis") for i in layers[name]["id"]]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", ["cores", "nodes"])
def test_areas_and_district_codes_match_geometry(layers, name):
    districts = _districts(layers)
    for _, row in layers[name].iterrows():
        metric = _metric(row.geometry)
        assert row["area_km2"] == pytest.approx(metric.area / 1e6, abs=0.001)
        holding = {code for code, d in districts.items() if metric.intersection(d).area > 0.01 * metric.area}
        assert set(row["district_codes"]) == holding, row["id"]


def test_every_node_lies_in_its_groups_districts(layers):
    """Within 100 m; a node grouped by management (生物岛) may lie in its territorial district."""
    districts = _districts(layers)
    for _, node in layers["nodes"].iterrows():
        allowed = set(GROUP_DISTRICTS[node["group"]])
        if isinstance(node.get("managed_by_codes"), list):
            allowed |= set(node["district_codes"])
        territory = shapely.union_all([districts[c] for c in allowed])
        assert _metric(node.geometry).buffer(-TOLERANCE_M).within(territory), node["id"]


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
        assert _metric(part.geometry).buffer(-TOLERANCE_M).within(districts[PART_DISTRICT[part["part"]]])


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

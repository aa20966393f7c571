"""Tests of the platforms layer, the synthetic enterprise sample and the plan indicators."""

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import gzspatial
from gzspatial import crs
from gzspatial._errors import InputError
from gzspatial.indicators import load_indicators, progress, read_actuals
from gzspatial.sample import CATEGORIES, SYNTHETIC_NOTE, sample_enterprises

from .conftest import ROOT, invoke_cli


def test_platforms_layer(layers):
    platforms = layers["platforms"]
    assert len(platforms) >= 50 and platforms["id"].is_unique
    assert set(platforms["level"]) <= {"national", "provincial", "municipal"}
    assert {"laboratory", "major_facility", "research_institute", "joint_laboratory", "university",
            "technology_innovation_center", "industrial_innovation_center"} <= set(platforms["type"])  # fmt: skip
    for name in ("广州实验室", "生物岛实验室", "南方海洋科学与工程广东省实验室（广州）",
                 "人工智能与数字经济广东省实验室（广州）",
                 "岭南现代农业科学与技术广东省实验室", "粤港澳大湾区国家技术创新中心", "国家新型显示技术创新中心",
                 "人类细胞谱系大科学研究设施", "冷泉生态系统研究装置", "动态宽域高超声速风洞",
                 "极端海洋动态过程多尺度自主观测科考设施", "国家超级计算广州中心"):  # fmt: skip
        assert name in set(platforms["name_zh"]), name
    assert set(platforms["precision"]) == {"schematic", "indicative"}
    assert platforms["source"].str.contains("location (approximate", regex=False).all()
    assert ((platforms["precision"] == "schematic") == platforms["location_verified"]).all()
    joined = gzspatial.join(platforms)
    assert (joined["gz_status"] == "ok").all()  # every platform lies in Guangzhou


def test_platforms_each_at_their_own_site(layers):
    """Shared points only where declared (colocated_with names the host that really shares the site)."""
    platforms = layers["platforms"].set_index("id")
    groups = platforms.groupby([platforms.geometry.x, platforms.geometry.y]).groups
    assert len(groups) >= 45
    for ids in groups.values():
        hosts = [i for i in ids if not isinstance(platforms.loc[i, "colocated_with"], str)]
        assert len(hosts) == 1, list(ids)
        for i in ids:
            if i not in hosts:
                assert platforms.loc[i, "colocated_with"] in ids and "shares its point" in platforms.loc[i, "source"]
    unknown = platforms[platforms["source"].str.contains("site not known")]
    assert (unknown["precision"] == "indicative").all() and not unknown["location_verified"].any()
    assert unknown.groupby([unknown.geometry.x, unknown.geometry.y]).ngroups == len(unknown)


@pytest.mark.parametrize(
    ("platform_id", "layer", "feature_id"),
    [
        ("guangzhou-laboratory", "nodes", "international-bio-island"),
        ("national-supercomputing-gz", "nodes", "university-town"),
        ("hkust-gz", "nodes", "qingsheng-base"),
        ("sysu", "nodes", "sysu-innovation-valley"),
        ("new-display-tic", "cores", "science-city"),  # led by TCL 华星, whose Guangzhou R&D is in 科学城, not 增城
        ("cold-seep-facility", "nodes", "mingzhu-science-park"),
    ],
)
def test_platforms_lie_in_the_feature_of_their_site(layers, platform_id, layer, feature_id):
    point = layers["platforms"].set_index("id").geometry[platform_id]
    assert layers[layer].set_index("id").geometry[feature_id].contains(point)


@pytest.mark.process
def test_make_platforms_regenerates_the_packaged_layer(tmp_path, layers):
    generated = layers["platforms"].attrs["metadata"]["generated"]
    script = ROOT / "scripts" / "build_platforms.py"
    args = [sys.executable, str(script), "--out", str(tmp_path), "--generated", generated]
    result = subprocess.run(args, capture_output=True, timeout=300)
    assert result.returncode == 0, result.stderr.decode()
    built = json.loads((tmp_path / "platforms.geojson").read_text(encoding="utf-8"))
    assert built == json.loads((ROOT / "data" / "geojson" / "platforms.geojson").read_text(encoding="utf-8"))


def test_platform_stats_by_node(layers):
    table = gzspatial.stats(gzspatial.join(layers["platforms"]), by="node").set_index("unit")
    assert table.loc["international-bio-island", "count"] >= 3  # 广州实验室, 生物岛实验室, 细胞谱系设施
    assert len(table) == 28


def test_sample_is_deterministic_labelled_and_plausible():
    a, b = sample_enterprises(3000, seed=5), sample_enterprises(3000, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(sample_enterprises(3000, seed=6))
    assert list(a.columns) == ["企业名称", "类别", "行业", "成立年份", "所在区", "经度", "纬度", "坐标系", "数据说明"]
    assert (a["数据说明"] == SYNTHETIC_NOTE).all() and (a["坐标系"] == "gcj02").all()
    assert set(a["类别"]) <= set(CATEGORIES) and a["企业名称"].is_unique
    joined = gzspatial.join(a, crs="gcj02")
    assert (joined["gz_status"] == "ok").all()
    assert (joined["gz_district"] == a["所在区"]).mean() > 0.999  # boundary points may round across
    in_layout = (joined["gz_nodes"] != "") | (joined["gz_core"] != "")
    assert 0.5 < in_layout.mean() < 0.8  # concentrated in cores and nodes, with a background spread


def test_sample_wgs84_matches_gcj02():
    gcj = sample_enterprises(500, seed=2)
    wgs = sample_enterprises(500, seed=2, crs="wgs84")
    lon, lat = crs.transform(wgs["经度"].to_numpy(), wgs["纬度"].to_numpy(), "wgs84", "gcj02")
    np.testing.assert_allclose(lon, gcj["经度"], atol=2e-6)
    np.testing.assert_allclose(lat, gcj["纬度"], atol=2e-6)


def test_sample_cli(tmp_path):
    out = tmp_path / "e.csv"
    result = invoke_cli("sample", "enterprises", "-n", "200", "--seed", "1", "-o", str(out))
    assert result.returncode == 0, result.stderr.decode()
    frame = pd.read_csv(out, dtype=str)
    assert len(frame) == 200 and frame["数据说明"].str.contains("synthetic").all()
    assert "SYNTHETIC" in invoke_cli("sample", "enterprises", "--help").stdout.decode()
    assert invoke_cli("sample", "enterprises", "-n", "-5", "-o", str(out)).returncode == 2


def test_indicators_are_the_plans_twelve():
    table = load_indicators()
    assert len(table) == 12 and table["id"].is_unique
    rd = table.set_index("id").loc["rd_intensity"]
    assert (rd["base_value"], rd["base_year"], rd["target_value"], rd["unit"]) == (2.87, 2019, 3.4, "%")
    assert table.set_index("id").loc["technology_contracts", "unit"] == "亿元"
    assert table["base_value"].isna().sum() == 2  # the plan gives no 2020 value for two of them


def test_progress_from_actuals(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("indicator_id,year,value\nrd_intensity,2021,3.12\nrd_intensity,2022,3.135\n"
                    "new_listed_tech_firms,2022,30\n", encoding="utf-8")  # fmt: skip
    table = progress(read_actuals(path)).set_index("id")
    assert table.loc["rd_intensity", "actual_year"] == 2022
    assert table.loc["rd_intensity", "progress"] == pytest.approx((3.135 - 2.87) / (3.4 - 2.87))
    assert table.loc["new_listed_tech_firms", "progress"] == pytest.approx(0.5)
    assert np.isnan(table.loc["overseas_talent", "progress"])
    result = invoke_cli("indicators", "--actuals", str(path), "--json")
    assert result.returncode == 0
    rows = {r["id"]: r for r in json.loads(result.stdout)}
    assert rows["new_listed_tech_firms"]["progress"] == pytest.approx(0.5)


@pytest.mark.parametrize(("content", "message"), [
    ("indicator_id,year,value\nfoo,2021,1\n", "unknown indicator id(s) foo"),
    ("indicator_id,year,value\nrd_intensity,2021,abc\n", "row 2 has year '2021' and value 'abc'"),
    ("id,value\nrd_intensity,1\n", "missing column(s) indicator_id, year"),
])  # fmt: skip
def test_bad_actuals(tmp_path, content, message):
    path = tmp_path / "a.csv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_actuals(path)
    result = invoke_cli("indicators", "--actuals", str(path))
    assert result.returncode == 2 and len(result.stderr.decode().strip().splitlines()) == 1

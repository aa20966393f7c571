"""Tests of gzspatial.stats (gzspatial.summary) and `gzspatial stats`."""

import json

import pandas as pd
import pytest

import gzspatial
from gzspatial._errors import InputError
from gzspatial.cli import app

from .conftest import run_cli


@pytest.fixture(scope="module")
def joined(layers):
    """Three rows in 广州大学城 (one 孵化器), one in 生物岛 ⊂ 中大国际创新生态谷, one outside, one invalid."""
    town = layers["nodes"].set_index("id").geometry["university-town"].representative_point()
    bio = layers["nodes"].set_index("id").geometry["international-bio-island"].representative_point()
    frame = pd.DataFrame(
        {
            "name": ["a", "b", "c", "d", "e", "f"],
            "category": ["高新技术企业", "孵化器", "高新技术企业", "高新技术企业", "高新技术企业", "孵化器"],
            "lon": [town.x, town.x, town.x, bio.x, 116.4, "x"],
            "lat": [town.y, town.y, town.y, bio.y, 39.9, 23.1],
        }
    )
    return gzspatial.join(frame, crs="wgs84")


def test_by_node_lists_every_node_with_zeros(joined):
    table = gzspatial.stats(joined, by="node").set_index("unit")
    assert len(table) == 28 and table["count"].sum() == 5  # 生物岛 also counts for 中大国际创新生态谷
    assert table.loc["university-town", "count"] == 3
    assert table.loc["international-bio-island", "count"] == 1 and table.loc["sysu-innovation-valley", "count"] == 1
    assert (table.drop(["university-town", "international-bio-island", "sysu-innovation-valley"])["count"] == 0).all()
    assert table.loc["university-town", "share"] == pytest.approx(3 / 4)
    assert table.loc["university-town", "density_per_km2"] == pytest.approx(
        3 / table.loc["university-town", "area_km2"], rel=1e-3
    )


@pytest.mark.parametrize(
    ("by", "units", "unit", "count"),
    [
        ("district", 11, "440113", 3),
        ("core", 4, "ai-zone", 3),
        ("core_part", 7, "ai-zone-university-town", 3),
        ("group", 3, "central", 3),
        ("axis_section", 6, "axis-panyu", 3),
    ],
)
def test_by_other_units(joined, by, units, unit, count):
    table = gzspatial.stats(joined, by=by).set_index("unit")
    assert len(table) == units and table.loc[unit, "count"] == count


def test_category_breakdown(joined):
    table = gzspatial.stats(joined, by="node", category="category").set_index("unit")
    assert table.loc["university-town", "count:高新技术企业"] == 2 and table.loc["university-town", "count:孵化器"] == 1


def test_english_joined_table_counts_the_same(joined):
    english = gzspatial.join(joined[["name", "lon", "lat"]], lang="en", crs="wgs84")
    a = gzspatial.stats(joined, by="core_part")["count"].tolist()
    b = gzspatial.stats(english, by="core_part")["count"].tolist()
    assert a == b and sum(a) == 3


def test_errors(joined):
    with pytest.raises(InputError, match="cannot count by 'street'"):
        gzspatial.stats(joined, by="street")
    with pytest.raises(InputError, match="not a joined table"):
        gzspatial.stats(pd.DataFrame({"a": [1]}))
    with pytest.raises(InputError, match="category column 'sector' not found"):
        gzspatial.stats(joined, category="sector")


def test_cli_stats_formats(tmp_path, joined, runner):
    path = tmp_path / "joined.csv"
    joined.to_csv(path, index=False)
    as_json = run_cli("stats", str(path), "--by", "district", "--json")
    assert as_json.returncode == 0
    rows = {r["unit"]: r for r in json.loads(as_json.stdout)}
    assert rows["440113"]["count"] == 3 and len(rows) == 11
    as_csv = runner.invoke(app, ["stats", str(path), "--by", "group", "--csv"])
    assert as_csv.exit_code == 0 and as_csv.stdout.splitlines()[0].startswith("unit,name_zh,name_en,count")
    table = runner.invoke(app, ["stats", str(path), "--by", "core"])
    assert table.exit_code == 0 and "4 located of 6" in table.stdout and "广州科学城" in table.stdout
    bad = run_cli("stats", str(path), "--by", "street")
    assert bad.returncode == 2 and "cannot count by" in bad.stderr.decode()

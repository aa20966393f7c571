"""Tests of gzspatial.stats (gzspatial.summary) and `gzspatial stats`."""

import json

import numpy as np
import pandas as pd
import pytest

import gzspatial
from gzspatial import summary
from gzspatial._errors import InputError
from gzspatial.cli import app

from .conftest import invoke_cli


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
    as_json = invoke_cli("stats", str(path), "--by", "district", "--json")
    assert as_json.returncode == 0
    rows = {r["unit"]: r for r in json.loads(as_json.stdout)}
    assert rows["440113"]["count"] == 3 and len(rows) == 11 + 3  # units, then outside / not located / total
    assert [rows[u]["count"] for u in ("_outside", "_not_located", "_total")] == [0, 2, 6]
    as_csv = runner.invoke(app, ["stats", str(path), "--by", "group", "--csv"])
    assert as_csv.exit_code == 0 and as_csv.stdout.splitlines()[0].startswith("unit,name_zh,name_en,count")
    table = runner.invoke(app, ["stats", str(path), "--by", "core"])
    assert table.exit_code == 0 and "4 located of 6" in table.stdout and "广州科学城" in table.stdout
    bad = invoke_cli("stats", str(path), "--by", "street")
    assert bad.returncode == 2 and "'street' is not one of 'node', 'core'" in bad.stderr.decode()  # typer's choice


@pytest.mark.parametrize("by", summary.BY_OPTIONS)
def test_totals_add_up_to_the_rows(joined, by):
    """Units + outside any unit + not located = every row (by node: count_primary, as nodes overlap)."""
    table = gzspatial.stats(joined, by=by, category="category", totals=True)
    plain = gzspatial.stats(joined, by=by, category="category")
    assert table["unit"].tolist()[-3:] == [summary.OUTSIDE, summary.NOT_LOCATED, summary.TOTAL]
    assert table.iloc[: len(plain)]["count"].tolist() == plain["count"].tolist()
    rows = table.set_index("unit")
    additive = "count_primary" if by == "node" else "count"
    assert rows[additive].drop(summary.TOTAL).sum() == rows.loc[summary.TOTAL, additive] == len(joined) == 6
    assert rows.loc[summary.NOT_LOCATED, "count"] == 2  # 116.4,39.9 is outside Guangzhou; "x" is invalid
    for column in [c for c in table.columns if c.startswith("count")]:
        assert rows.loc[summary.TOTAL, column] == rows[column].drop(summary.TOTAL).sum()
    overlap = by == "node"  # row d (高新技术企业) lies in two nodes; category counts are per node
    assert rows.loc[summary.TOTAL, "count:高新技术企业"] == 4 + overlap and rows.loc[summary.TOTAL, "count:孵化器"] == 2
    assert np.isnan(rows.loc[summary.TOTAL, "area_km2"]) and np.isnan(rows.loc[summary.NOT_LOCATED, "share"])


@pytest.mark.parametrize(
    ("by", "outside"), [("node", 0), ("core", 1), ("core_part", 1), ("district", 0), ("group", 0), ("axis_section", 0)]
)
def test_outside_row_counts_located_rows_in_no_unit(joined, by, outside):
    """The four located rows: three in 大学城 (AI zone core), one on 生物岛 (in no core); all on the axis."""
    rows = gzspatial.stats(joined, by=by, totals=True).set_index("unit")
    assert rows.loc[summary.OUTSIDE, "count"] == outside
    assert rows.loc[summary.OUTSIDE, "share"] == pytest.approx(outside / 4)


def test_node_totals_count_overlapping_nodes_once_in_count_primary(joined):
    rows = gzspatial.stats(joined, by="node", totals=True).set_index("unit")
    assert rows.loc["international-bio-island", "count_primary"] == 1  # the smaller node holds the row
    assert rows.loc["sysu-innovation-valley", ["count", "count_primary"]].tolist() == [1, 0]
    assert rows.loc[summary.TOTAL, ["count", "count_primary"]].tolist() == [7, 6]


def test_category_seen_only_outside_units_gets_a_column(joined):
    frame = joined.copy()
    frame.loc[4, "category"] = "众创空间"  # the row outside Guangzhou
    rows = gzspatial.stats(frame, by="core", category="category", totals=True).set_index("unit")
    assert rows["count:众创空间"].to_dict() == {
        **dict.fromkeys(rows.index[:4], 0),
        summary.OUTSIDE: 0,
        summary.NOT_LOCATED: 1,
        summary.TOTAL: 1,
    }


def test_display_headers_in_chinese(joined):
    table = gzspatial.stats(joined, by="node", category="category", totals=True)
    assert summary.display(table) is table
    shown = summary.display(table, "zh")
    assert list(shown.columns[:8]) == ["编号", "名称", "英文名称", "数量", "数量(最小点位)", "占比", "面积(km²)",
                                       "密度(个/km²)"]  # fmt: skip
    assert "数量：孵化器" in shown.columns and "count:孵化器" in table.columns  # the table itself is unchanged


def test_cli_stats_several_by_as_json(tmp_path, joined):
    path = tmp_path / "joined.csv"
    joined.to_csv(path, index=False)
    result = invoke_cli("stats", str(path), "--by", "core", "--by", "district", "--json")
    assert result.returncode == 0, result.stderr.decode()
    tables = json.loads(result.stdout)
    assert list(tables) == ["core", "district"] and len(tables["district"]) == 11 + 3
    assert tables["core"][-1] == {**tables["core"][-1], "unit": "_total", "count": 6}
    several_csv = invoke_cli("stats", str(path), "--by", "core", "--by", "node", "--csv")
    assert several_csv.returncode == 2 and "use -o FILE.xlsx" in several_csv.stderr.decode()
    several_to_csv = invoke_cli("stats", str(path), "--by", "core", "--by", "node", "-o", str(tmp_path / "s.csv"))
    assert several_to_csv.returncode == 2 and len(several_to_csv.stderr.decode().strip().splitlines()) == 1
    assert not (tmp_path / "s.csv").exists()


def test_cli_stats_csv_file_with_bom_and_chinese_headers(tmp_path, joined):
    path = tmp_path / "joined.csv"
    joined.to_csv(path, index=False)
    out = tmp_path / "stats.csv"
    result = invoke_cli("stats", str(path), "--by", "core", "-o", str(out), "--excel-bom", "--lang", "zh")
    assert result.returncode == 0, result.stderr.decode()
    data = out.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(out, encoding="utf-8-sig")
    assert list(back.columns[:4]) == ["编号", "名称", "英文名称", "数量"]
    assert back["编号"].tolist()[-1] == "_total" and back["数量"].tolist()[-1] == 6


def test_cli_stats_rejects_bad_lang_and_output_over_input(tmp_path, joined):
    path = tmp_path / "joined.csv"
    joined.to_csv(path, index=False)
    bad = invoke_cli("stats", str(path), "--lang", "fr")
    assert bad.returncode == 2 and "use zh or en" in bad.stderr.decode()
    over = invoke_cli("stats", str(path), "-o", str(path))
    assert over.returncode == 2 and "is the input file" in over.stderr.decode()
    other = invoke_cli("stats", str(path), "-o", str(tmp_path / "s.geojson"))
    assert other.returncode == 2 and "use .xlsx or .csv" in other.stderr.decode()


@pytest.mark.parametrize("lang", [None, "zh", "en"])
def test_terminal_table_at_100_columns_keeps_category_headers(joined, lang):
    """Category columns are never squeezed to 'coun…': they go to further tables when the width is short."""
    from rich.console import Console

    from gzspatial.cli import _print_stats

    frame = joined.copy()
    frame["category"] = ["高新技术企业", "科技型中小企业", "孵化器", "众创空间", "新型研发机构", "高新技术企业"]
    table = gzspatial.stats(frame, by="node", category="category", totals=True)
    console = Console(width=100, record=True, force_terminal=False)
    _print_stats(table, lang, console)
    text = console.export_text()
    assert "…" not in text and max(len(line) for line in text.splitlines()) <= 100
    prefix = "数量：" if lang == "zh" else "count:"
    for value in ("高新技术企业", "科技型中小企业", "孵化器", "众创空间", "新型研发机构"):
        assert f"{prefix}{value}" in text  # the whole header on one line
    assert ("合计" if lang != "en" else "total") in text


def test_terminal_table_shows_category_values_literally(tmp_path, joined):
    """Rich markup and escape sequences in data are printed as text, not interpreted."""
    frame = joined.copy()
    frame["category"] = ["[/bold]", "[red]x", "\x1b]0;pwned\x07", "\x1b[2J", "=1+1", "[link=http://x]y"]
    path = tmp_path / "joined.csv"
    frame.to_csv(path, index=False)
    result = invoke_cli("stats", str(path), "--by", "core", "--category", "category")
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "\x1b" not in out and "\x07" not in out
    for shown in ("count:[/bold]", "count:[red]x", "count:\\x1b]0;pwned\\x07", "count:\\x1b[2J", "count:=1+1"):
        assert shown in out


def test_explode_lists_of_a_categorical_equals_split_explode():
    series = pd.Series(["a;b", "", "c", "a;b", None, "d;e;f"], index=[5, 6, 7, 8, 9, 10])
    expected = series.fillna("").astype(str).str.split(";").explode()
    got = summary._explode_lists(series.astype("category"))
    assert got.tolist() == expected.tolist()
    assert got.index.tolist() == expected.index.tolist()


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("by", ["node", "core_part", "district"])
def test_stats_of_a_file_reads_only_its_columns_and_counts_the_same(joined, tmp_path, suffix, by):
    joined = joined.assign(类别=np.where(np.arange(len(joined)) % 2, "甲", "乙"), 备注="x" * 50)
    path = tmp_path / f"joined{suffix}"
    if suffix == ".csv":
        joined.to_csv(path, index=False)
    else:
        joined.astype(
            dict.fromkeys(("lon", "lat", *(c for c in joined.columns if c.startswith("gz_"))), str)
        ).to_parquet(path, index=False)
    read = summary.read_joined(path, category="类别")
    assert "备注" not in read.columns and "类别" in read.columns
    assert all(isinstance(read[c].dtype, pd.CategoricalDtype) for c in read.columns)
    got = summary.stats(read, by=by, category="类别", totals=True)
    expected = summary.stats(joined, by=by, category="类别", totals=True)
    pd.testing.assert_frame_equal(got, expected)


def test_stats_of_a_file_names_a_missing_category(joined, tmp_path):
    path = tmp_path / "joined.csv"
    joined.to_csv(path, index=False)
    with pytest.raises(InputError, match="类别"):
        summary.read_joined(path, category="类别")

"""Closed vocabularies of the CLI as enums: stats --by (schema.By) and map --basemap (style.Basemap).

Typer validates them: --help lists the choices, a bad value exits 2 naming it and the choices. The
Python API takes the enum or its plain text and raises a one-line GzError naming the choices.
"""

import pytest

from gzspatial import maps, summary
from gzspatial._errors import GzError
from gzspatial.schema import By
from gzspatial.style import Basemap

from .conftest import invoke_cli


def test_by_enum_is_the_stats_vocabulary():
    assert summary.BY_OPTIONS == tuple(By) == ("node", "core", "core_part", "district", "group", "axis_section")
    assert set(By) == set(summary.KIND_NAMES)
    assert summary.By is By  # next to its concern too


def test_basemap_enum_is_the_tile_table():
    assert list(maps.BASEMAPS) == list(Basemap) and maps.Basemap is Basemap
    assert Basemap("amap-satellite") is Basemap.AMAP_SATELLITE


@pytest.mark.parametrize(("command", "option", "choices"), [("stats", "--by", By), ("map", "--basemap", Basemap)])
def test_help_lists_the_choices(command, option, choices):
    result = invoke_cli(command, "--help")
    assert result.returncode == 0
    assert "|".join(choices) in result.stdout.decode()


def test_bad_by_exits_2_naming_the_value_and_choices(tmp_path):
    result = invoke_cli("stats", str(tmp_path / "joined.csv"), "--by", "street")
    err = result.stderr.decode()
    assert result.returncode == 2 and "--by" in err and "'street'" in err
    assert all(f"'{b}'" in err for b in By) and result.stdout == b""
    assert err.count("\n") == 1 and err.startswith("error: ") and "Value error" not in err


def test_bad_basemap_exits_2_naming_the_value_and_choices(tmp_path):
    result = invoke_cli("map", "-o", str(tmp_path / "m.html"), "--basemap", "google")
    err = result.stderr.decode()
    assert result.returncode == 2 and "'google'" in err and all(f"'{b}'" in err for b in Basemap)
    assert err.count("\n") == 1 and "map --help')" in err
    assert not (tmp_path / "m.html").exists()


def test_api_takes_the_enum_or_its_text(tmp_path):
    import pandas as pd

    import gzspatial

    joined = gzspatial.join(pd.DataFrame({"lon": [113.40, 114.06], "lat": [23.12, 22.54]}), crs="wgs84")
    by_enum, by_text = summary.stats(joined, by=By.CORE), summary.stats(joined, by="core")
    pd.testing.assert_frame_equal(by_enum, by_text)
    assert by_enum.attrs["by"] == "core" and type(by_enum.attrs["by"]) is str
    with pytest.raises(GzError, match=r"cannot count by 'street': use one of node, core, core_part") as bad:
        summary.stats(joined, by="street")
    assert "\n" not in str(bad.value)


@pytest.mark.parametrize("basemap", [Basemap.OSM, "osm"])
def test_map_api_takes_the_enum_or_its_text(basemap):
    page = maps.make_map(basemap=basemap).get_root().render()
    # the chosen basemap first, then the others in WGS84; labels are plain text
    assert 'var bases = {"osm": tile_layer_' in page and '"carto": tile_layer_' in page and "Basemap." not in page
    assert "amap" not in page  # GCJ-02 tiles are not offered under WGS84 overlays


def test_map_api_refuses_an_unknown_basemap_in_one_line():
    with pytest.raises(GzError, match=r"unknown basemap 'google': use one of carto, osm, amap, amap-satellite"):
        maps.make_map(basemap="google")

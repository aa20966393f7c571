"""Tests of gzspatial.maps (interactive web maps), incl. a real browser. Print maps: test_figure.py."""

import json
import re

import numpy as np
import pandas as pd
import pytest
import shapely

from gzspatial import crs, maps
from gzspatial._errors import InputError

from .conftest import run_cli

XSS = '<img src=x onerror="window.__xss=1">'


def _points(n=200):
    rng = np.random.default_rng(2)
    names = [XSS, *[f"企业{i}" for i in range(n - 1)]]
    return pd.DataFrame({"名称": names, "lon": rng.uniform(113.2, 113.6, n), "lat": rng.uniform(22.9, 23.3, n)})


def _overlays(m):
    """{overlay id: overlay} of the map's data document."""
    return {o["id"]: o for o in maps.map_data(m)["overlays"]}


def test_layers_and_feature_counts():
    m = maps.make_map(basemap="none")
    overlays = _overlays(m)
    counts = {name: len(o["data"]["features"]) for name, o in overlays.items()}
    assert counts == {"districts": 11, "axis": 6, "cores": 7, "nodes": 28, "platforms": 55}
    names = [o["name"] for o in overlays.values()]
    assert names[:4] == ["行政区", "科技创新轴", "四核", "多点（节点）"]
    page = m.get_root().render()
    assert "L.control.scale" in page and "L.control.fullscreen" in page and "L.Control.MiniMap" not in page
    assert json.dumps("多点（节点）", ensure_ascii=False) in page  # in the JSON data block


def test_every_core_and_node_has_a_label():
    overlays = _overlays(maps.make_map(basemap="none"))
    core_labels = {label["text"] for label in overlays["cores"]["labels"]}
    assert {"琶洲片区", "南沙科学城", "中新广州知识城", "广州科学城"} <= core_labels
    assert len(overlays["nodes"]["labels"]) == 28
    assert overlays["nodes"]["label_min_zoom"] == maps.NODE_LABEL_MIN_ZOOM


def test_english_labels():
    m = maps.make_map(basemap="none", lang="en")
    data = maps.map_data(m)
    assert [o["name"] for o in data["overlays"]][:2] == ["Districts", "Innovation axis"]
    assert any("Tianhe" in f["properties"]["tip"] for f in _overlays(m)["districts"]["data"]["features"])


@pytest.mark.parametrize("basemap", ["amap", "amap-satellite"])
def test_amap_shifts_every_overlay_to_gcj02(layers, basemap):
    wgs = _overlays(maps.make_map(basemap="carto"))
    gcj = _overlays(maps.make_map(basemap=basemap))
    for name in ("districts", "nodes", "axis", "cores"):
        for a, b in zip(wgs[name]["data"]["features"], gcj[name]["data"]["features"], strict=True):
            expected = crs.transform_geometry(shapely.geometry.shape(a["geometry"]), "wgs84", "gcj02")
            assert shapely.equals_exact(shapely.geometry.shape(b["geometry"]), expected, tolerance=2e-6)
    page = maps.make_map(basemap=basemap).get_root().render()
    assert "autonavi.com" in page and json.dumps("高德地图")[1:-1] in page  # attribution, JSON-escaped


@pytest.mark.parametrize(("basemap", "host"), [("carto", "cartocdn.com"), ("osm", "openstreetmap.org")])
def test_wgs84_basemaps_have_attribution_and_alternatives(basemap, host):
    page = maps.make_map(basemap=basemap).get_root().render()
    assert host in page and "OpenStreetMap" in page
    assert "cartocdn.com" in page and "tile.openstreetmap.org" in page  # both offered as base layers
    assert "autonavi.com" not in page  # a GCJ-02 basemap would not line up with WGS84 overlays


def test_tianditu_needs_a_valid_key(monkeypatch):
    monkeypatch.delenv("GZ_TIANDITU_KEY", raising=False)
    with pytest.raises(InputError, match="needs a key"):
        maps.make_map(basemap="tianditu")
    with pytest.raises(InputError, match="is not a key"):
        maps.make_map(basemap="tianditu", tianditu_key="{{ 7*7 }}")
    monkeypatch.setenv("GZ_TIANDITU_KEY", "k123abcd")
    page = maps.make_map(basemap="tianditu").get_root().render()
    assert "tianditu.gov.cn" in page and "tk=k123abcd" in page and json.dumps("天地图")[1:-1] in page


def test_bad_options():
    with pytest.raises(InputError, match="unknown basemap"):
        maps.make_map(basemap="google")
    with pytest.raises(InputError, match="needs points"):
        maps.make_map(choropleth="count")


def test_points_popups_are_json_and_clustered():
    m = maps.make_map(basemap="none", points=_points(), points_crs="wgs84", heatmap=True, choropleth="density")
    page = m.get_root().render()
    assert XSS not in page
    assert "\\u003cimg src=x onerror" in page  # the name travels as JSON text, shown with textContent
    assert "markerClusterGroup" in page and "L.heatLayer" in page and "textContent" in page
    overlays = _overlays(m)
    assert {"points", "heat", "choropleth"} <= set(overlays)
    assert len(overlays["points"]["rows"]) == 200
    assert "核" in overlays["points"]["fields"]  # the core for every core, not only the AI zone's parts
    assert any(item["kind"] == "ramp" for item in maps.map_data(m)["legend"])


def test_layer_text_is_data_not_html(tmp_path):
    nodes = json.loads((maps.layout_index().nodes.layer.path).read_text(encoding="utf-8"))
    nodes["features"][0]["properties"]["name_zh"] = XSS
    (tmp_path / "nodes.geojson").write_text(json.dumps(nodes, ensure_ascii=False), encoding="utf-8")
    m = maps.make_map(basemap="none", layers=tmp_path)
    page = m.get_root().render()
    assert XSS not in page
    assert XSS in _overlays(m)["nodes"]["data"]["features"][0]["properties"]["tip"]


def test_many_points_are_aggregated(monkeypatch):
    monkeypatch.setattr(maps, "MARKER_LIMIT", 100)
    m = maps.make_map(basemap="none", points=_points(300), points_crs="wgs84")
    overlays = _overlays(m)
    assert "points" not in overlays and "heat" in overlays
    assert "300 个点已按约500米格网聚合" in overlays["heat"]["name"]
    weights = np.array(overlays["heat"]["points"])[:, 2]
    assert weights.max() <= 1.0 and weights.min() > 0  # log-scaled, every occupied cell visible


def test_self_contained_by_default(tmp_path):
    path = maps.save_map(maps.make_map(basemap="none", points=_points(), points_crs="wgs84"), tmp_path / "m.html")
    page = path.read_text(encoding="utf-8")
    assert not re.search(r'<script[^>]+src=|<link[^>]+href="(?:https?:)?//', page)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page)
    online = maps.render_map(maps.make_map(basemap="none"), offline=False)
    assert re.search(r'<script[^>]+src="https://', online)  # --cdn links CDNs


def test_cli_map_html_and_png(tmp_path):
    points = tmp_path / "p.csv"
    _points().to_csv(points, index=False)
    html_out = tmp_path / "layout.html"
    result = run_cli("map", "-o", str(html_out), "--points", str(points), "--crs", "wgs84", "--basemap", "none",
                     "--title", "测试 <b>title</b>")  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    page = html_out.read_text(encoding="utf-8")
    assert "测试 \\u003cb\\u003etitle\\u003c/b\\u003e" in page and "<b>title" not in page
    bad = run_cli("map", "-o", str(tmp_path / "x.html"), "--basemap", "google")
    assert bad.returncode == 2 and "unknown basemap" in bad.stderr.decode()
    bad = run_cli("map", "-o", str(tmp_path / "x.gif"))
    assert bad.returncode == 2 and "cannot draw '.gif'" in bad.stderr.decode()


# --- a real browser -----------------------------------------------------------------------------


@pytest.mark.slow
def test_offline_map_in_a_real_browser(tmp_path, browser):
    m = maps.make_map(basemap="none", points=_points(), points_crs="wgs84", heatmap=True)
    path = maps.save_map(m, tmp_path / "m.html")
    browser.get(path.as_uri())
    state = browser.execute_script("""
        var map = Object.keys(window).map(function (k) { return window[k]; })
            .filter(function (v) { return v instanceof L.Map; })[0];
        var features = 0;
        map.eachLayer(function (layer) { if (layer instanceof L.GeoJSON) { features += layer.getLayers().length; } });
        var cluster = null;
        map.eachLayer(function (layer) { if (layer instanceof L.MarkerClusterGroup) { cluster = layer; } });
        var markers = cluster.getLayers();
        var popup = null;  // the popup's DOM as Leaflet builds it, for the row named with the payload
        markers.forEach(function (m) {
            var content = m.getPopup().getContent()(m);
            if (content.textContent.indexOf("onerror") >= 0) { popup = content; }
        });
        document.body.appendChild(popup);
        var resources = performance.getEntriesByType("resource").map(function (r) { return r.name; });
        return {overlays: document.querySelectorAll(".leaflet-control-layers-overlays input").length,
                features: features, markers: markers.length, popup: popup ? popup.textContent : null,
                popupImages: popup ? popup.querySelectorAll("img").length : -1,
                xss: window.__xss === undefined ? null : window.__xss, resources: resources,
                search: window.gzSearch("知识城") !== null};
    """)
    assert state["overlays"] == 7  # districts, axis, cores, nodes, platforms, heat, points
    assert state["features"] == 11 + 6 + 7 + 28 + 55
    assert state["markers"] == 200
    assert XSS in state["popup"] and state["popupImages"] == 0 and state["xss"] is None
    assert state["search"] is True
    assert [r for r in state["resources"] if r.startswith(("http:", "https:"))] == []
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []
    shot = tmp_path / "map.png"
    assert browser.save_screenshot(str(shot)) and shot.stat().st_size > 10_000

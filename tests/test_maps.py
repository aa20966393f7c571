"""Tests of gzspatial.maps (interactive web maps), incl. a real browser. Print maps: test_figure.py."""

import json
import os
import re
import shutil

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


def _geojson_layers(m):
    """{layer name: GeoJSON data} of the map's GeoJson overlays."""
    import folium

    found = {}

    def walk(element):
        for child in element._children.values():
            if isinstance(child, folium.GeoJson):
                found[child.layer_name] = child.data
            walk(child)

    walk(m)
    return found


def test_layers_and_feature_counts():
    m = maps.make_map(basemap="none")
    layers = _geojson_layers(m)
    counts = {name: len(data["features"]) for name, data in layers.items()}
    assert counts == {"districts": 11, "axis": 6, "cores": 7, "nodes": 28, "platforms": 55}
    page = m.get_root().render()
    for group in ("行政区", "科技创新轴", "四核", "多点（节点）"):
        assert f'"{group}"' in page or json.dumps(group) in page
    assert "L.control.scale" in page and "L.control.fullscreen" in page and "L.Control.MiniMap" not in page


def test_english_labels():
    page = maps.make_map(basemap="none", lang="en").get_root().render()
    assert "Districts" in page and "Innovation axis" in page and "Tianhe" in page


@pytest.mark.parametrize("basemap", ["amap", "amap-satellite"])
def test_amap_shifts_every_overlay_to_gcj02(layers, basemap):
    wgs = _geojson_layers(maps.make_map(basemap="carto"))
    gcj = _geojson_layers(maps.make_map(basemap=basemap))
    for name in ("districts", "nodes", "axis", "cores"):
        for a, b in zip(wgs[name]["features"], gcj[name]["features"], strict=True):
            expected = crs.transform_geometry(shapely.geometry.shape(a["geometry"]), "wgs84", "gcj02")
            assert shapely.equals_exact(shapely.geometry.shape(b["geometry"]), expected, tolerance=1e-9)
    page = maps.make_map(basemap=basemap).get_root().render()
    assert "autonavi.com" in page and json.dumps("高德地图")[1:-1] in page  # attribution, JSON-escaped


@pytest.mark.parametrize(("basemap", "host"), [("carto", "cartocdn.com"), ("osm", "openstreetmap.org")])
def test_wgs84_basemaps_have_attribution(basemap, host):
    page = maps.make_map(basemap=basemap).get_root().render()
    assert host in page and "OpenStreetMap" in page


def test_tianditu_needs_a_key(monkeypatch):
    monkeypatch.delenv("GZ_TIANDITU_KEY", raising=False)
    with pytest.raises(InputError, match="needs a key"):
        maps.make_map(basemap="tianditu")
    monkeypatch.setenv("GZ_TIANDITU_KEY", "k123")
    page = maps.make_map(basemap="tianditu").get_root().render()
    assert "tianditu.gov.cn" in page and "tk=k123" in page and json.dumps("天地图")[1:-1] in page


def test_bad_options():
    with pytest.raises(InputError, match="unknown basemap"):
        maps.make_map(basemap="google")
    with pytest.raises(InputError, match="needs points"):
        maps.make_map(choropleth="count")


def test_points_popups_are_escaped_and_clustered():
    page = maps.make_map(basemap="none", points=_points(), heatmap=True, choropleth="density").get_root().render()
    assert XSS not in page
    assert "\\u003cimg src=x onerror" in page  # the name travels as JSON text, shown with textContent
    assert "markerClusterGroup" in page and "L.heatLayer" in page
    assert "textContent" in page


def test_layer_text_is_escaped(tmp_path):
    nodes = json.loads((maps.layout_index().nodes.layer.path).read_text(encoding="utf-8"))
    nodes["features"][0]["properties"]["name_zh"] = XSS
    (tmp_path / "nodes.geojson").write_text(json.dumps(nodes, ensure_ascii=False), encoding="utf-8")
    page = maps.make_map(basemap="none", layers=tmp_path).get_root().render()
    assert XSS not in page
    assert "\\u0026lt;img src=x" in page  # tooltip: HTML-escaped, then JSON-escaped by folium


def test_many_points_are_aggregated(monkeypatch):
    monkeypatch.setattr(maps, "MARKER_LIMIT", 100)
    page = maps.make_map(basemap="none", points=_points(300)).get_root().render()
    assert "markerClusterGroup" not in page and "L.heatLayer" in page
    assert json.dumps("300 个点已按约500米格网聚合")[1:-1] in page


def test_offline_has_no_external_assets(tmp_path):
    path = maps.save_map(maps.make_map(basemap="none", points=_points()), tmp_path / "m.html", offline=True)
    page = path.read_text(encoding="utf-8")
    assert not re.search(r'<script[^>]+src=|<link[^>]+href="(?:https?:)?//', page)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page)
    online = maps.make_map(basemap="none").get_root().render()
    assert re.search(r'<script[^>]+src="https://', online)  # the online page does link CDNs


def test_cli_map_html_and_png(tmp_path):
    points = tmp_path / "p.csv"
    _points().to_csv(points, index=False)
    html_out = tmp_path / "layout.html"
    result = run_cli("map", "-o", str(html_out), "--points", str(points), "--basemap", "none", "--offline",
                     "--title", "测试 <b>title</b>")  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    page = html_out.read_text(encoding="utf-8")
    assert "测试 &lt;b&gt;title&lt;/b&gt;" in page
    bad = run_cli("map", "-o", str(tmp_path / "x.html"), "--basemap", "google")
    assert bad.returncode == 2 and "unknown basemap" in bad.stderr.decode()
    bad = run_cli("map", "-o", str(tmp_path / "x.gif"))
    assert bad.returncode == 2 and "cannot draw '.gif'" in bad.stderr.decode()


# --- a real browser -----------------------------------------------------------------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("GZ_REQUIRE_BROWSER") == "1":
            pytest.fail("GZ_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed (apt-get install "
                        "chromium chromium-driver)")  # fmt: skip
        pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1200,900"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


@pytest.mark.slow
def test_offline_map_in_a_real_browser(tmp_path, browser):
    path = maps.save_map(maps.make_map(basemap="none", points=_points(), heatmap=True), tmp_path / "m.html",
                         offline=True)  # fmt: skip
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

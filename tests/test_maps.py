"""Tests of gzspatial.maps (interactive web maps), incl. a real browser. Print maps: test_figure.py."""

import contextlib
import html
import json
import re

import numpy as np
import pandas as pd
import pytest
import shapely

from gzspatial import crs, maps
from gzspatial._errors import InputError

from .conftest import invoke_cli

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
    # coordinates travel as whole millionths of a degree from a whole-degree origin: the same 6 decimals
    points, frame = overlays["points"], _points()
    assert points["origin"] == [22.0, 113.0] and points["steps_per_degree"] == 10**6
    rows = np.array([row[:2] for row in points["rows"]])
    assert rows.dtype.kind == "i"
    np.testing.assert_allclose(22.0 + rows[:, 0] / 1e6, frame["lat"].round(6), rtol=0, atol=1e-12)
    np.testing.assert_allclose(113.0 + rows[:, 1] / 1e6, frame["lon"].round(6), rtol=0, atol=1e-12)
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


def test_show_in_a_notebook_is_self_contained():
    shown = maps.show(maps.make_map(basemap="none", points=_points(), points_crs="wgs84"), height=400)
    cell = shown._repr_html_()
    assert cell.startswith('<iframe srcdoc="') and 'sandbox="allow-scripts"' in cell and "height: 400px" in cell
    page = html.unescape(re.search(r'srcdoc="([^"]*)"', cell).group(1))  # the attribute holds the whole page
    assert page == shown.page and "L.markerClusterGroup" in page
    assert not re.search(r'<script[^>]+src=|<link[^>]+href="(?:https?:)?//', page)
    assert XSS not in cell and XSS not in page
    with pytest.raises(InputError, match="not a height"):
        maps.show(maps.make_map(basemap="none"), height=-1)


def test_cli_map_html_and_png(tmp_path):
    points = tmp_path / "p.csv"
    _points().to_csv(points, index=False)
    html_out = tmp_path / "layout.html"
    result = invoke_cli("map", "-o", str(html_out), "--points", str(points), "--crs", "wgs84", "--basemap", "none",
                        "--title", "测试 <b>title</b>")  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    page = html_out.read_text(encoding="utf-8")
    assert "测试 \\u003cb\\u003etitle\\u003c/b\\u003e" in page and "<b>title" not in page
    bad = invoke_cli("map", "-o", str(tmp_path / "x.html"), "--basemap", "google")
    assert bad.returncode == 2 and "'google' is not one of 'carto', 'osm'" in bad.stderr.decode()  # typer's choice
    bad = invoke_cli("map", "-o", str(tmp_path / "x.gif"))
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
                search: window.gzSearch("知识城") !== null,
                latlngs: markers.map(function (m) { return [m.getLatLng().lat, m.getLatLng().lng]; })};
    """)
    frame = _points()  # each marker where its point is (the page adds the rows' origin back)
    expected = sorted(zip(frame["lat"].round(6), frame["lon"].round(6), strict=True))
    np.testing.assert_allclose(sorted(map(tuple, state["latlngs"])), expected, rtol=0, atol=1e-9)
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


# --- category and time filters ------------------------------------------------------------------


def _registry(n=400):
    from gzspatial.sample import sample_enterprises

    return sample_enterprises(n, seed=5)  # GCJ-02, with 类别 and 成立年份


def test_category_and_time_filters_in_the_data():
    registry = _registry()
    m = maps.make_map(basemap="none", points=registry, points_crs="gcj02", category="类别", time="成立年份")
    spec = maps.map_data(m)["filters"]
    counts = registry["类别"].value_counts()
    assert dict(zip(spec["category"]["values"], spec["category"]["counts"], strict=True)) == counts.to_dict()
    assert (spec["time"]["min"], spec["time"]["max"], spec["time"]["missing"]) == (
        registry["成立年份"].min(),
        registry["成立年份"].max(),
        0,
    )
    points = _overlays(m)["points"]
    values = spec["category"]["values"]
    assert [values[c] for c in points["category_codes"]] == registry["类别"].tolist()
    assert points["years"] == registry["成立年份"].tolist()
    assert {"类别", "成立年份"} <= set(points["fields"])  # shown in the popup too


def test_time_from_dates_and_unreadable_values():
    frame = pd.DataFrame({"lon": [113.3] * 5, "lat": [23.1] * 5,
                          "since": ["2019-03-15", "2001/7/1", "2010", "someday", None],
                          "kind": ["a", None, "b", "a", ""]})  # fmt: skip
    m = maps.make_map(basemap="none", points=frame, points_crs="wgs84", time="since", category="kind")
    assert _overlays(m)["points"]["years"] == [2019, 2001, 2010, None, None]
    spec = maps.map_data(m)["filters"]
    assert spec["time"] == {"label": "since", "min": 2001, "max": 2019, "missing": 2}
    assert spec["category"] == {"label": "kind", "values": ["", "a", "b"], "counts": [2, 2, 1]}  # "" shown as (空)
    frame.loc[[0, 1, 2], "lon"] = None  # the rows with a year have no coordinates
    with pytest.raises(InputError, match="no point with usable coordinates has a year"):
        maps.make_map(basemap="none", points=frame, points_crs="wgs84", time="since")


def test_filter_options_are_checked(tmp_path):
    frame = pd.DataFrame({"lon": [113.3], "lat": [23.1], "note": ["soon"]})
    with pytest.raises(InputError, match="'类别' is not a column of the points: use one of lon, lat, note"):
        maps.make_map(basemap="none", points=frame, points_crs="wgs84", category="类别")
    with pytest.raises(InputError, match="holds no year or date"):
        maps.make_map(basemap="none", points=frame, points_crs="wgs84", time="note")
    with pytest.raises(InputError, match="give --points"):
        maps.make_map(basemap="none", time="成立年份")
    bad = invoke_cli("map", "-o", str(tmp_path / "x.png"), "--category", "类别")
    assert bad.returncode == 2 and "only for interactive maps" in bad.stderr.decode()


def test_aggregated_heat_keeps_filter_combinations(monkeypatch):
    monkeypatch.setattr(maps, "MARKER_LIMIT", 100)
    registry = _registry()
    m = maps.make_map(basemap="none", points=registry, points_crs="gcj02", category="类别", time="成立年份")
    heat = _overlays(m)["heat"]
    cells = np.array(heat["cells"], dtype=float)
    assert cells[:, 2].sum() == len(registry)  # every point in one cell x category x year combination
    values = maps.map_data(m)["filters"]["category"]["values"]
    per_category = {values[int(k)]: cells[cells[:, 3] == k, 2].sum() for k in np.unique(cells[:, 3])}
    assert per_category == registry["类别"].value_counts().to_dict()


def test_cli_map_with_filters(tmp_path):
    points = tmp_path / "p.csv"
    _registry(100).to_csv(points, index=False)
    out = tmp_path / "m.html"
    result = invoke_cli("map", "-o", str(out), "--points", str(points), "--crs", "gcj02", "--basemap", "none",
                        "--category", "类别", "--time", "成立年份")  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    assert 'class="gz-filters"' in out.read_text(encoding="utf-8")
    bad = invoke_cli("map", "-o", str(tmp_path / "x.html"), "--points", str(points), "--crs", "gcj02", "--time", "nope")
    assert bad.returncode == 2 and "'nope' is not a column" in bad.stderr.decode()


_FILTER_STATE = """
    var points = window.gzLayers.points;
    return {shown: points ? points.getLayers().length : null,
            heat: window.gzLayers.heat ? window.gzLayers.heat._latlngs.length : null,
            boxes: document.querySelectorAll(".gz-filters input[type=checkbox]").length,
            slider: document.querySelector(".gz-filters input[type=range]") !== null,
            panel: document.querySelector(".gz-filters").textContent};
"""


_COUNTS = "return [window.gzLayers.points.getLayers().length, window.gzLayers.heat._latlngs.length];"


def _settled(browser, script, expected, timeout=20):
    """The value of ``script`` once it equals ``expected`` (the slider waits for a pause, and marker
    clusters add large sets in chunks), or the last value seen after ``timeout`` seconds."""
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    seen = []

    def settled(driver):
        seen.append(driver.execute_script(script))
        return seen[-1] == expected

    with contextlib.suppress(TimeoutException):  # the caller's assert shows the last value
        WebDriverWait(browser, timeout, poll_frequency=0.1).until(settled)
    return seen[-1]


def _uncheck(browser, code):
    browser.execute_script(f'document.querySelector(".gz-filters input[data-code=\\"{code}\\"]").click();')


def _slide(browser, year):
    browser.execute_script(f"""var s = document.querySelector(".gz-filters input[type=range]");
        s.value = "{year}"; s.dispatchEvent(new Event("input"));""")


@pytest.mark.slow
def test_demo_map_works_with_the_network_off(tmp_path, browser):
    """The default (self-contained, carto basemap) map as `make demo` draws it, opened with the network
    off: every layer, the filters, the slider and the search work; only basemap tiles fail to load."""
    registry = _registry(2000)
    m = maps.make_map(points=registry, points_crs="gcj02", choropleth="density", heatmap=True,
                      category="类别", time="成立年份")  # fmt: skip
    path = maps.save_map(m, tmp_path / "layout.html")
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd(
        "Network.emulateNetworkConditions",
        {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
    )
    browser.get(path.as_uri())
    state = browser.execute_script(_FILTER_STATE)
    assert set(browser.execute_script("return Object.keys(window.gzLayers);")) == {
        "districts", "axis", "cores", "nodes", "choropleth", "platforms", "heat", "points"
    }  # fmt: skip
    assert (
        browser.execute_script('return document.querySelectorAll(".leaflet-control-layers-overlays input").length') == 8
    )
    assert state["shown"] == state["heat"] == 2000 and state["boxes"] == registry["类别"].nunique()
    assert state["slider"] and "成立年份" in state["panel"] and "2,000 / 2,000" in state["panel"]

    spec = maps.map_data(m)["filters"]
    values = spec["category"]["values"]
    code = values.index("高新技术企业")
    _uncheck(browser, code)
    expected = int((registry["类别"] != "高新技术企业").sum())
    assert _settled(browser, _COUNTS, [expected, expected]) == [expected, expected] and expected < 2000
    year = 2010
    _slide(browser, year)
    expected = int(((registry["类别"] != "高新技术企业") & (registry["成立年份"] <= year)).sum())
    assert _settled(browser, _COUNTS, [expected, expected]) == [expected, expected]
    state = browser.execute_script(_FILTER_STATE)
    assert f"截至 {year}" in state["panel"] and f"{expected:,} / 2,000" in state["panel"]

    assert browser.execute_script('return window.gzSearch("知识城") !== null;')
    assert browser.execute_script('return window.gzSearch("qqzzxx不存在") === null;')
    assert browser.execute_script('return document.querySelector(".gz-nomatch").textContent;') == "无匹配: qqzzxx不存在"
    resources = browser.execute_script(
        'return performance.getEntriesByType("resource").map(function (r) { return r.name; });'
    )
    assets = [r for r in resources if r.startswith(("http:", "https:")) and "basemaps.cartocdn.com" not in r]
    assert assets == []  # nothing but basemap tiles is fetched: no script, style or font from a CDN
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors and all("cartocdn.com" in e["message"] for e in errors), errors  # tiles only


@pytest.mark.slow
def test_aggregated_heat_kernels_follow_the_zoom(tmp_path, browser, monkeypatch):
    """Leaflet.heat sums points per bin of (radius + blur) / 2 px: each zoom's bins hold either many grid
    cells a side or at most one (1-2 draws stripes), and the kernel stays within its canvas (< 200 px)."""
    monkeypatch.setattr(maps, "MARKER_LIMIT", 100)
    path = maps.save_map(maps.make_map(basemap="none", points=_points(300), points_crs="wgs84"), tmp_path / "m.html")
    browser.get(path.as_uri())
    rows = browser.execute_script("""
        var map = Object.keys(window).map(function (k) { return window[k]; })
            .filter(function (v) { return v instanceof L.Map; })[0];
        var heat = window.gzLayers.heat, out = [];
        [9, 10, 11, 12, 13, 14, 15, 16, 18].forEach(function (z) {
            map.setView([23.12, 113.32], z, {animate: false});
            var a = map.project([23.12, 113.32], z), b = map.project([23.12, 113.32 + 0.005], z);
            out.push({zoom: z, spacing: b.x - a.x, radius: heat.options.radius, blur: heat.options.blur});
        });
        return out;
    """)
    for row in rows:
        cells_per_bin = (row["radius"] + row["blur"]) / 2 / row["spacing"]
        assert cells_per_bin >= 5 or cells_per_bin < 1, row
        assert 2 * row["radius"] + row["blur"] < 200, row
    assert [r["zoom"] for r in rows if (r["radius"] + r["blur"]) / 2 / r["spacing"] >= 5] == [9, 10, 11]


@pytest.mark.slow
def test_aggregated_heat_follows_the_filters_in_a_browser(tmp_path, browser, monkeypatch):
    monkeypatch.setattr(maps, "MARKER_LIMIT", 100)
    registry = _registry()
    m = maps.make_map(basemap="none", points=registry, points_crs="gcj02", category="类别", time="成立年份")
    browser.get(maps.save_map(m, tmp_path / "m.html").as_uri())
    cells = np.array(_overlays(m)["heat"]["cells"], dtype=float)
    code = maps.map_data(m)["filters"]["category"]["values"].index("高新技术企业")

    def shown_cells(keep):
        return len({(y, x) for y, x, _, k, t in cells[keep].tolist()})

    heat = "return window.gzLayers.heat._latlngs.length;"
    expected = shown_cells(np.ones(len(cells), dtype=bool))
    assert _settled(browser, heat, expected) == expected
    _uncheck(browser, code)
    expected = shown_cells(cells[:, 3] != code)
    assert _settled(browser, heat, expected) == expected
    _slide(browser, 2000)
    expected = shown_cells((cells[:, 3] != code) & (cells[:, 4] <= 2000))
    assert _settled(browser, heat, expected) == expected
    weights = np.array(browser.execute_script("return window.gzLayers.heat._latlngs;"))[:, 2]
    assert weights.max() <= 1.0 and weights.min() > 0  # log-scaled as in Python

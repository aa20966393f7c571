"""Hostile category and time values (and column names) in the web map's filters: literal, never run.

The category checkboxes, the slider's column label and the popups' category/time lines are built
from the JSON data document with textContent; these tests build the map through the real CLI with
every payload of ``test_template_injection`` as a category value and as a time value, and open it
in Chromium.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest

from ..conftest import invoke_cli
from ..test_maps import _settled
from .test_template_injection import _assert_nothing_ran, _page_data, payloads

CATEGORY = '<img src=x onerror="window.__pwned = 1">类别'
TIME = "{{ 7 * '7' }}年份</script>"


@pytest.fixture
def filtered_map(tmp_path):
    """A map with category and time filters whose values (and column names) are payloads."""
    touch = tmp_path / "pwned.txt"
    texts = payloads(str(touch))
    rows = [
        {
            "名称": f"点{i}",
            CATEGORY: text,
            TIME: text if i % 2 else str(2000 + i),
            "lon": 113.3 + 0.005 * i,
            "lat": 23.12,
        }
        for i, text in enumerate(texts)
    ]
    points = tmp_path / "points.csv"
    pd.DataFrame(rows).to_csv(points, index=False, encoding="utf-8")
    out = tmp_path / "map.html"
    result = invoke_cli("map", "-o", str(out), "--points", str(points), "--crs", "wgs84", "--basemap", "none",
                        "--category", CATEGORY, "--time", TIME, "--heatmap")  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    _assert_nothing_ran(tmp_path, touch, [out])
    return tmp_path, touch, texts, out


def test_filter_values_travel_as_data(filtered_map):
    texts, out = filtered_map[2:]
    page = out.read_text(encoding="utf-8")
    assert "<img src=x" not in page and "</script><script>window.__pwned" not in page and "\u2028" not in page
    data = _page_data(page)
    spec = data["filters"]
    assert spec["category"]["label"] == CATEGORY and spec["time"]["label"] == TIME
    assert sorted(spec["category"]["values"]) == sorted(texts)
    readable = len(range(0, len(texts), 2))
    assert spec["time"]["missing"] == len(texts) - readable  # payloads are not years: shown at the end only
    points = next(o for o in data["overlays"] if o["id"] == "points")
    tables = dict(zip(points["fields"], points["tables"], strict=True))
    assert set(texts[1::2]) <= set(tables[TIME])  # popups show the time cell as typed
    shown = json.dumps(data, ensure_ascii=False)
    for text in texts:
        assert json.dumps(text, ensure_ascii=False)[1:-1] in shown, text


@pytest.mark.slow
def test_filter_panel_in_a_real_browser(filtered_map, browser):
    folder, touch, texts, out = filtered_map
    browser.get(out.as_uri())
    state = browser.execute_script("""
        var panel = document.querySelector(".gz-filters");
        var labels = Array.prototype.map.call(panel.querySelectorAll("label"), function (l) { return l.textContent; });
        var cluster = window.gzLayers.points;
        var popups = cluster.getLayers().map(function (m) {
            var box = m.getPopup().getContent()(m);  // only div and b elements, built with textContent
            return {text: box.textContent, elements: box.querySelectorAll(":not(div):not(b)").length};
        });
        var boxes = panel.querySelectorAll("input[type=checkbox]");
        boxes.forEach(function (b) { b.click(); b.click(); });  // every handler runs, with every value
        var slider = panel.querySelector("input[type=range]");
        slider.value = slider.min; slider.dispatchEvent(new Event("input"));  // refilters after a pause
        return {pwned: window.__pwned === undefined ? null : window.__pwned, labels: labels,
                titles: Array.prototype.map.call(panel.querySelectorAll("b"), function (b) { return b.textContent; }),
                elements: panel.querySelectorAll("img,script,iframe,svg").length,
                injected: document.querySelectorAll("img[src=x]").length,
                popups: popups};
    """)
    shown = "return window.gzLayers.points.getLayers().length;"
    state["shown"] = _settled(browser, shown, 1)
    assert state["pwned"] is None and state["injected"] == 0 and state["elements"] == 0
    assert state["titles"] == [CATEGORY, TIME]
    for text in texts:  # each value is one checkbox label, character for character, with its count
        assert f"{text} (1)" in state["labels"], text
    assert state["shown"] == 1  # only the row of the slider's first year (2000) is left
    assert len(state["popups"]) == len(texts) and all(p["elements"] == 0 for p in state["popups"])
    popups = " ".join(p["text"] for p in state["popups"])
    assert all(text in popups for text in texts[1::2])  # the time cells, literally
    _assert_nothing_ran(folder, touch, [out])
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []

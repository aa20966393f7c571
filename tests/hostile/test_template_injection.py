"""Template injection and markup from data: nothing from points, layers or options is ever evaluated.

Every text field a user controls (a point's name and other cells, every name-like property of every
layer, the map title) carries payloads for Jinja (which folium/branca run twice over element
output), HTML/script, JS string breakers, matplotlib mathtext, rich markup and terminal escapes.
Each map kind is built through the real CLI; the check is that no payload ran (no file appeared,
no evaluated marker in any output) and that the text arrives literally.
"""

from __future__ import annotations

import json
import re
import shutil
from types import SimpleNamespace

import pytest

from gzspatial import maps
from gzspatial.layers import packaged_layers_dir

from ..conftest import invoke_cli

#: Marker texts that only an evaluation can produce (none appears literally in a payload).
EVALUATED = ("gzpwned", "gzaloopgzbloop", "7777777", "qzqzqz")


def payloads(touch: str) -> list[str]:
    """Hostile texts; ``touch`` is a file path that only executed code would create."""
    return [
        "{{ 'gz' ~ 'pwned' }}",
        "{{ 'qz' * 3 }}",
        "{{ 7 * '7' }}",
        f"{{{{ cycler.__init__.__globals__.os.system('touch {touch}') }}}}",
        f"{{{{ self.__init__.__globals__.__builtins__.open('{touch}', 'w') }}}}",
        "{% for x in 'ab' %}gz{{ x }}loop{% endfor %}",
        "Acme {{ Ltd",
        "{# hidden #}visible",
        "{% raw %}",
        "</script><script>window.__pwned = 1</script>",
        "<!-- <script>",
        '<img src=x onerror="window.__pwned = 1">',
        "line\u2028separator\u2029",
        r"$\frac{1}{2}$ and $x^2$",
        "[bold red]rich[/] [/x]",
        "\x1b]0;retitled\x07\x1b[2J",
        "${7*7} #{7*7} %(x)s {0}",
    ]


def _hostile_layers(folder, texts: list[str]) -> None:
    """Packaged layers with every name-like property replaced by a payload (cycled)."""
    k = 0

    def next_text() -> str:
        nonlocal k
        k += 1
        return texts[k % len(texts)]

    for name in ("districts", "cores", "nodes", "axis", "platforms"):
        collection = json.loads((packaged_layers_dir() / f"{name}.geojson").read_text(encoding="utf-8"))
        for feature in collection["features"]:
            props = feature["properties"]
            for key in ("name_zh", "name_en", "core_name_zh", "core_name_en", "part", "part_en", "type", "level"):
                if props.get(key):
                    props[key] = next_text()
            if "aliases" in props:
                props["aliases"] = [next_text()]
            if "places" in props:
                props["places"] = [next_text(), next_text()]
        (folder / f"{name}.geojson").write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    shutil.copy(packaged_layers_dir() / "city.geojson", folder / "city.geojson")


@pytest.fixture
def hostile(tmp_path):
    """folder, touch (a path only executed code creates), texts, points (CSV), layers (folder)."""
    touch = tmp_path / "pwned.txt"
    texts = payloads(str(touch))
    layers = tmp_path / "layers"
    layers.mkdir()
    _hostile_layers(layers, texts)
    points = tmp_path / "points.csv"
    rows = [
        {"名称": text, "类别": texts[-1 - i], "lon": 113.30 + 0.01 * i, "lat": 23.12} for i, text in enumerate(texts)
    ]
    import pandas as pd

    pd.DataFrame(rows).to_csv(points, index=False, encoding="utf-8")
    return SimpleNamespace(folder=tmp_path, touch=touch, texts=texts, points=points, layers=layers)


def _assert_nothing_ran(folder, touch, outputs) -> None:
    assert not touch.exists(), "a payload executed code"
    for path in outputs:
        data = path.read_bytes()
        for marker in EVALUATED:
            assert marker.encode() not in data, f"{path.name}: evaluated template output {marker!r}"


def _page_data(page: str) -> dict:
    """The page's JSON data document, parsed as the browser does (JSON.parse of the block's text)."""
    match = re.search(r'<script type="application/json" id="[^"]+-data">(.*?)</script>', page, re.S)
    assert match, "no data block in the page"
    return json.loads(match.group(1))


def test_interactive_map_shows_payloads_literally(hostile):
    h = hostile
    folder, touch, texts, points, layers = h.folder, h.touch, h.texts, h.points, h.layers
    out = folder / "map.html"
    title = texts[3] + " " + texts[0]
    result = invoke_cli("map", "-o", str(out), "--points", str(points), "--crs", "wgs84", "--layers", str(layers),
                        "--basemap", "none", "--title", title, "--heatmap")  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    _assert_nothing_ran(folder, touch, [out])
    page = out.read_text(encoding="utf-8")
    assert "</script><script>window.__pwned" not in page and "<img src=x" not in page and "\u2028" not in page
    data = _page_data(page)
    assert data["title"] == title
    shown = json.dumps(data, ensure_ascii=False)
    for text in texts:  # every payload arrives as data, character for character
        assert json.dumps(text, ensure_ascii=False)[1:-1] in shown, text
    popup_names = next(o for o in data["overlays"] if o["id"] == "points")["tables"][0]
    assert sorted(popup_names) == sorted(texts)


@pytest.mark.parametrize("text", payloads("/tmp/gz-never-created"))
def test_each_payload_as_point_name_and_title(tmp_path, text):
    import pandas as pd

    frame = pd.DataFrame({"name": [text], "lon": [113.32], "lat": [23.12]})
    m = maps.make_map(basemap="none", points=frame, points_crs="wgs84", title=text)
    page = maps.render_map(m, offline=False)
    data = _page_data(page)
    assert data["title"] == text
    assert next(o for o in data["overlays"] if o["id"] == "points")["tables"][0] == [text]
    for marker in EVALUATED:
        assert marker not in page


@pytest.mark.parametrize("suffix", [".png", ".svg", ".pdf"])
@pytest.mark.render
def test_static_maps_run_no_payload(hostile, suffix):
    h = hostile
    folder, touch, texts, points, layers = h.folder, h.touch, h.texts, h.points, h.layers
    out = folder / f"map{suffix}"
    result = invoke_cli("map", "-o", str(out), "--points", str(points), "--crs", "wgs84", "--layers", str(layers),
                        "--title", texts[4] + " " + texts[13], "--size", "8x6", "--dpi", "60")  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    _assert_nothing_ran(folder, touch, [out])


def test_static_map_text_is_not_mathtext(hostile):
    from matplotlib.text import Text

    from gzspatial.figure import make_figure

    layers = hostile.layers
    title = r"$\frac{1}{2}$ {{ 'gz' ~ 'pwned' }}"
    figure = make_figure(layers=layers, title=title, size=(8, 6))
    drawn = [t for t in figure.findobj(Text) if t.get_text()]
    assert any(t.get_text() == title for t in drawn)
    assert [t.get_text() for t in drawn if "$" in t.get_text() and t.get_parse_math()] == []


def test_terminal_output_neutralises_escapes(hostile):
    folder, points, layers = hostile.folder, hostile.points, hostile.layers
    joined = folder / "joined.csv"
    result = invoke_cli("join", str(points), "-o", str(joined), "--crs", "wgs84", "--layers", str(layers))
    assert result.returncode == 0, result.stderr.decode()
    for args in (
        ("stats", str(joined), "--by", "node", "--category", "类别", "--layers", str(layers)),
        ("locate", "113.3245", "23.1066", "--layers", str(layers)),
        ("locate", "--name", "retitled", "--layers", str(layers)),
        ("layers", "--layers", str(layers)),
    ):
        result = invoke_cli(*args)
        assert result.returncode == 0, (args, result.stderr.decode())
        out = result.stdout + result.stderr
        assert b"\x1b" not in out and b"\x07" not in out, args  # shown as \x1b, \x07
        assert b"MarkupError" not in out
    stats = invoke_cli("stats", str(joined), "--by", "node", "--category", "类别", "--layers", str(layers))
    assert b"[bold red]rich[/]" in stats.stdout  # rich markup shown as typed, not applied


def test_error_messages_are_one_line_without_escapes(tmp_path):
    result = invoke_cli("locate", "\x1b[2J113.3", "23.1\nsecond line")
    assert result.returncode == 2
    err = result.stderr.decode()
    assert err.count("\n") == 1 and "\x1b" not in err and err.startswith("error:")


@pytest.mark.slow
def test_hostile_map_in_a_real_browser(hostile, browser):
    h = hostile
    folder, touch, texts, points, layers = h.folder, h.touch, h.texts, h.points, h.layers
    out = folder / "map.html"
    title = texts[9] + texts[11]
    result = invoke_cli("map", "-o", str(out), "--points", str(points), "--crs", "wgs84", "--layers", str(layers),
                        "--basemap", "none", "--title", title)  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    browser.get(out.as_uri())
    state = browser.execute_script("""
        var nodes = window.gzLayers.nodes.getLayers()[0].getLayers();
        var tips = nodes.map(function (l) { return l.getTooltip()._content(l).textContent; });
        var cluster = window.gzLayers.points;
        var popups = cluster.getLayers().map(function (m) {
            var box = m.getPopup().getContent()(m);
            return {text: box.textContent, elements: box.querySelectorAll("img,script").length};
        });
        return {pwned: window.__pwned === undefined ? null : window.__pwned,
                title: document.querySelector(".gz-title").textContent,
                injected: document.querySelectorAll("img[src=x]").length,
                tips: tips, popups: popups};
    """)
    assert state["pwned"] is None
    assert state["title"] == title and state["injected"] == 0
    assert state["tips"] and all(state["tips"])
    nodes_shown = " ".join(state["tips"])
    assert any(text in nodes_shown for text in texts if "\x1b" not in text)
    assert all(p["elements"] == 0 for p in state["popups"])
    assert any(texts[9] in p["text"] for p in state["popups"])
    _assert_nothing_ran(folder, touch, [out])
    errors = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert errors == []

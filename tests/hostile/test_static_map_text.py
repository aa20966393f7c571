"""Hostile text on print maps: titles, layer names and point data are drawn literally (no mathtext,
TeX or template engine), every build succeeds, and nothing but the output file is written."""

import json
import re

import matplotlib
import pandas as pd
import pytest

from gzspatial._engine import layout_index
from gzspatial.cli import app
from gzspatial.figure import make_figure, save_figure

from ..conftest import run_cli
from ..test_figure import svg_text

PAYLOADS = [
    "$\\frac{a}{b}$ {{7*7}} <b>",
    "$x^2$ and \\alpha",
    "$\\undefinedcommand{x}$",  # mathtext would fail to parse this at draw time
    "a$b",
    "\\textbf{bold} \\\\ {} % #",
    "{{ cycler.__init__.__globals__.os.system('touch pwned.txt') }}",
    "{% if 1 %}x{% endif %} {# gone? #} Acme {{ Ltd",
    "<script>alert(1)</script> &amp;",
]


def _literal(text):
    return re.sub(r"\s+", "", text)


@pytest.fixture
def svg_as_text(monkeypatch):
    """SVG text stays text (not glyph outlines) for this test only."""
    monkeypatch.setitem(matplotlib.rcParams, "svg.fonttype", "none")


@pytest.mark.parametrize("payload", PAYLOADS)
def test_title(tmp_path, svg_as_text, payload):
    path = save_figure(make_figure(size=(8, 6), title=payload), tmp_path / "m.svg", dpi=72)
    assert _literal(payload) in svg_text(path)
    assert sorted(tmp_path.iterdir()) == [path]


@pytest.mark.parametrize("suffix", [".png", ".pdf"])
@pytest.mark.render
def test_title_in_raster_and_pdf(tmp_path, monkeypatch, runner, suffix):
    monkeypatch.chdir(tmp_path)
    for i, payload in enumerate(PAYLOADS[:4]):
        out = tmp_path / f"m{i}{suffix}"
        result = runner.invoke(app, ["map", "-o", str(out), "--size", "6x5", "--dpi", "40", "--title", payload])
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"m{i}{suffix}" for i in range(4)]


def _hostile_layers(folder):
    """A --layers folder whose nodes, cores (core and part names) and districts carry the payloads."""
    index = layout_index()
    nodes = json.loads(index.nodes.layer.path.read_text(encoding="utf-8"))
    for feature, payload in zip(nodes["features"], PAYLOADS, strict=False):
        feature["properties"]["name_zh"] = payload
    cores = json.loads(index.cores.layer.path.read_text(encoding="utf-8"))
    for feature in cores["features"]:
        props = feature["properties"]
        if props["core_id"] == "ai-zone":
            props["core_name_zh"] = PAYLOADS[1]
            props["part"] = f"{PAYLOADS[2]} {props['id']}"
        elif props["core_id"] == "science-city":
            props["core_name_zh"] = props["name_zh"] = PAYLOADS[5]
    districts = json.loads(index.districts.layer.path.read_text(encoding="utf-8"))
    districts["features"][0]["properties"]["name_zh"] = PAYLOADS[0]
    for name, data in (("nodes", nodes), ("cores", cores), ("districts", districts)):
        (folder / f"{name}.geojson").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return nodes, cores


@pytest.mark.render
def test_layer_names_via_layers_folder(tmp_path, monkeypatch, runner, svg_as_text):
    folder = tmp_path / "layers"
    folder.mkdir()
    nodes, cores = _hostile_layers(folder)
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = runner.invoke(app, ["map", "-o", "m.svg", "--page", "A4", "--layers", str(folder), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    text = svg_text(work / "m.svg")
    expected = [f["properties"]["name_zh"] for f in nodes["features"][: len(PAYLOADS)]]
    expected += [f["properties"]["part"] for f in cores["features"] if f["properties"]["part"]]
    expected += [PAYLOADS[1], PAYLOADS[5]]  # the AI zone's and Science City's core names
    assert [name for name in expected if _literal(name) not in text] == []
    assert sorted(p.name for p in work.iterdir()) == ["m.svg"]  # no pwned.txt, no stray file
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # inputs untouched


@pytest.mark.render
def test_point_names_and_categories(tmp_path, monkeypatch, runner):
    """Print maps draw points as a density, never their text: hostile names and categories must
    not break the build, run anything or be rewritten in the input."""
    n = 40
    frame = pd.DataFrame(
        {
            "名称": [PAYLOADS[i % len(PAYLOADS)] for i in range(n)],
            "类别": [PAYLOADS[(i + 3) % len(PAYLOADS)] for i in range(n)],
            "lon": [113.30 + 0.005 * i for i in range(n)],
            "lat": [23.10 + 0.002 * i for i in range(n)],
        }
    )
    points = tmp_path / "points.csv"
    frame.to_csv(points, index=False)
    before = points.read_bytes()
    monkeypatch.chdir(tmp_path)
    for suffix in (".svg", ".png"):
        result = runner.invoke(app, ["map", "-o", f"m{suffix}", "--size", "8x6", "--dpi", "40", "--points",
                                     str(points), "--crs", "wgs84"])  # fmt: skip
        assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.png", "m.svg", "points.csv"]
    assert points.read_bytes() == before


@pytest.mark.process
def test_real_entry_point(tmp_path):
    """The installed command, in its own process, with TeX asked for in ./matplotlibrc (and no
    LaTeX installed): every text is still drawn literally, colour-bar ticks included."""
    (tmp_path / "matplotlibrc").write_text("svg.fonttype: none\ntext.usetex: True\n", encoding="utf-8")
    pd.DataFrame({"名称": PAYLOADS, "lon": 113.3, "lat": 23.1}).to_csv(tmp_path / "p.csv", index=False)
    out = tmp_path / "m.svg"
    args = ["--size", "8x6", "--title", PAYLOADS[0], "--points", "p.csv", "--crs", "wgs84"]
    result = run_cli("map", "-o", str(out), *args, cwd=tmp_path)  # a real process: reads ./matplotlibrc at start
    assert result.returncode == 0, result.stderr.decode()
    assert _literal(PAYLOADS[0]) in svg_text(out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.svg", "matplotlibrc", "p.csv"]

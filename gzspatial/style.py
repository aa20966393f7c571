"""Shared map style: colours, group names and label text of the web map and the print map.

Plain data and string helpers only (no folium, no matplotlib), so a print map does not load the
web-map stack and both maps say the same thing in the same colours.
"""

from __future__ import annotations

from enum import StrEnum

from gzspatial import schema
from gzspatial.i18n import Lang as Lang  # the languages live in gzspatial.i18n; re-exported here


class Basemap(StrEnum):
    """Tile basemaps of the web map (``make_map(basemap=...)``, ``--basemap``); Amap's are drawn in GCJ-02."""

    CARTO = "carto"
    OSM = "osm"
    AMAP = "amap"
    AMAP_SATELLITE = "amap-satellite"
    TIANDITU = "tianditu"  # needs a key
    NONE = "none"


GROUP_COLORS = {"central": "#1f78b4", "east_north": "#33a02c", "south": "#e31a1c"}
GROUP_LABELS = {
    "central": ("中部多点", "Central nodes"),
    "east_north": ("东部北部多点", "East & north nodes"),
    "south": ("南部多点", "South nodes"),
}
CORE_COLOR = "#ff7f00"
#: Text colour of core labels: CORE_COLOR darkened for legibility on light fills.
CORE_TEXT_COLOR = "#a34400"
AXIS_COLOR = "#6a3d9a"
POINT_COLOR = "#444444"
PLATFORM_COLOR = "#ffd92f"
DISTRICT_EDGE_COLOR = "#777777"
DISTRICT_FILL_COLOR = "#f7f7f7"
FALLBACK_COLOR = "#888888"


def t(lang: str, zh: str, en: str) -> str:
    """The Chinese or English text of a UI string."""
    return zh if lang == Lang.ZH else en


def group_label(group: str, lang: str) -> str:
    """Legend name of a node group (the group id itself when unknown)."""
    names = GROUP_LABELS.get(group)
    return group if names is None else names[0 if lang == "zh" else 1]


def group_color(group: str) -> str:
    return GROUP_COLORS.get(group, FALLBACK_COLOR)


def core_part_label(props: dict, lang: str) -> str:
    """Label of one feature of the cores layer: the part's name (AI zone) or the core's name."""
    return schema.core_part_name(props, lang) or schema.core_name(props, lang)


def core_name(props: dict, lang: str) -> str:
    """Name of the core a cores-layer feature belongs to (the whole AI zone for its parts)."""
    return schema.core_name(props, lang)


#: Names of the layout's precision classes (see data/geojson/README.md).
PRECISION_LABELS = {
    "official": ("官方边界", "official boundary"),
    "road_bounded": ("道路围合", "road-bounded"),
    "schematic": ("示意（位置已核实、面积按公布值）", "schematic (verified site, published size)"),
    "indicative": ("指示性（位置或面积未核实）", "indicative (site or size not verified)"),
    "approximate": ("示意", "approximate"),
}


def precision_note(index, lang: str) -> str:
    """One line naming the precision classes of the cores, nodes and axis that answer ("" if none)."""
    found = {
        str(p.get("precision"))
        for name in ("cores", "nodes", "axis")
        if name in index.layers
        for p in index.layers[name].properties
        if p.get("precision")
    }
    names = [PRECISION_LABELS.get(k, (k, k))[0 if lang == "zh" else 1] for k in PRECISION_LABELS if k in found]
    names += sorted(found - set(PRECISION_LABELS))
    if not names:
        return ""
    return t(lang, "核、节点、轴线精度：" + "；".join(names) + "。", "Cores, nodes, axis: " + "; ".join(names) + ".")

"""Shared map style: colours, group names and label text of the web map and the print map.

Plain data and string helpers only (no folium, no matplotlib), so a print map does not load the
web-map stack and both maps say the same thing in the same colours.
"""

from __future__ import annotations

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
    return zh if lang == "zh" else en


def group_label(group: str, lang: str) -> str:
    """Legend name of a node group (the group id itself when unknown)."""
    names = GROUP_LABELS.get(group)
    return group if names is None else names[0 if lang == "zh" else 1]


def group_color(group: str) -> str:
    return GROUP_COLORS.get(group, FALLBACK_COLOR)


def core_part_label(props: dict, lang: str) -> str:
    """Label of one feature of the cores layer: the part's name (AI zone) or the core's name."""
    if lang == "zh":
        return props.get("part") or props["core_name_zh"]
    return props["name_en"].split(" — ")[-1]


def core_name(props: dict, lang: str) -> str:
    """Name of the core a cores-layer feature belongs to (the whole AI zone for its parts)."""
    return props.get(f"core_name_{lang}") or props[f"name_{lang}"]

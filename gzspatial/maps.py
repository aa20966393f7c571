"""Interactive layout maps (folium/Leaflet): layers, points, legend, search, basemaps, offline HTML.

Every overlay is WGS84 unless an Amap basemap is chosen: Amap tiles are drawn in GCJ-02, so then
every overlay (and the map centre) is shifted WGS84 -> GCJ-02 before rendering.

Text from data never passes through a template engine. folium/branca render each element's
output through Jinja a second time (``MacroElement.render`` wraps it in ``Element(template)``),
so anything data-derived inside a folium element would be evaluated as a template. Here folium
builds only a fixed skeleton (map, tiles, controls, asset links); every name, label, tooltip,
popup, legend line and the title travel as one JSON document in a ``<script type=
"application/json">`` block added to the page *after* templating (``_Literal``), and the page's
fixed script builds the layers from it with ``textContent``.
"""

from __future__ import annotations

import html
import json
import logging
import os
import re
from pathlib import Path

import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from folium import plugins
from folium.elements import JSCSSMixin
from folium.template import Template

from gzspatial import crs as _crs
from gzspatial import schema
from gzspatial._engine import layout_index
from gzspatial._errors import InputError
from gzspatial.i18n import _
from gzspatial.settings import AGGREGATE_CELL_DEG, DEFAULT_CORRIDOR_KM, MARKER_LIMIT, NODE_LABEL_MIN_ZOOM
from gzspatial.style import (
    AXIS_COLOR,
    CORE_COLOR,
    GROUP_COLORS,
    PLATFORM_COLOR,
    POINT_COLOR,
    Basemap,
    group_label,
    precision_note,
)
from gzspatial.style import t as _t

BASEMAPS = {
    Basemap.CARTO: {
        "tiles": "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        "attr": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors '
        '&copy; <a href="https://carto.com/attributions">CARTO</a>',
        "subdomains": "abcd",
        "crs": _crs.WGS84,
    },
    Basemap.OSM: {
        "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "subdomains": "abc",
        "crs": _crs.WGS84,
    },
    Basemap.AMAP: {
        "tiles": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "attr": "&copy; 高德地图 AutoNavi (GCJ-02)",
        "subdomains": "1234",
        "crs": _crs.GCJ02,
    },
    Basemap.AMAP_SATELLITE: {
        "tiles": "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}",
        "attr": "&copy; 高德地图 AutoNavi (GCJ-02)",
        "subdomains": "1234",
        "crs": _crs.GCJ02,
    },
    Basemap.TIANDITU: {
        "tiles": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "labels": "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "attr": "&copy; 天地图 Tianditu (国家地理信息公共服务平台)",
        "subdomains": "01234567",
        "crs": _crs.WGS84,
    },
    Basemap.NONE: None,
}
DISTRICT_COLOR = "#555555"

#: Aggregated heat, kernels sized per zoom from the grid's spacing in pixels: below ``fine_from_px``
#: heat bins of ``cells_per_bin`` grid cells a side; from it on, one cell per bin, kernel radius and
#: blur in grid spacings (their sum < 2). Chosen from screenshots at 300k points (see the commit).
#: ``max_px`` caps the spacing used (Leaflet.heat's kernel canvas breaks when 2 radius + blur > 200 px),
#: so from zoom 15 on the 500 m cells show as spots.
HEAT_TUNING = {"fine_from_px": 12, "cells_per_bin": 5, "kernel": (0.6, 1.3), "max_px": 75}

GUANGZHOU_CENTRE = (23.13, 113.35)  # lat, lon (WGS84)
NAME_COLUMNS = ("名称", "企业名称", "单位名称", "平台名称", "name", "Name", "NAME", "company", "企业")
#: Decimal places kept for coordinates in the page (1e-6 degrees is about 0.1 m).
COORDINATE_DECIMALS = 6
_TIANDITU_KEY = re.compile(r"^[A-Za-z0-9]{8,64}$")
log = logging.getLogger(__name__)


class _Shift:
    """Moves overlays into the basemap's system (GCJ-02 for Amap, else unchanged)."""

    def __init__(self, system: str) -> None:
        self.system = system

    def geometry(self, geometry):
        if self.system == _crs.WGS84:
            return geometry
        return _crs.transform_geometry(geometry, _crs.WGS84, self.system)

    def lonlat(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        if self.system == _crs.WGS84:
            return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        return _crs.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), _crs.WGS84, self.system)


# --- the data document ----------------------------------------------------------------------


def _text(value) -> str:
    return "" if value is None else str(value)


def _feature_collection(geometries, properties: list[dict], shift: _Shift) -> dict:
    """GeoJSON of shifted geometries (coordinates rounded to COORDINATE_DECIMALS) with ``properties``."""
    shifted = [shift.geometry(g) for g in geometries]
    rounded = shapely.set_precision(np.asarray(shifted, dtype=object), 10.0**-COORDINATE_DECIMALS, mode="pointwise")
    features = [
        {"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(geometry))}
        for geometry, props in zip(rounded, properties, strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def _label_point(geometry, shift: _Shift) -> list[float]:
    point = shift.geometry(geometry.representative_point())
    return [round(point.y, COORDINATE_DECIMALS), round(point.x, COORDINATE_DECIMALS)]


def _precision_line(props: dict, lang: str) -> str:
    precision = props.get("precision")
    return _t(lang, f"精度：{precision}", f"precision: {precision}") if precision else ""


def _polygon_overlay(layer_id, name, layer, tips, labels, style, shift, *, label_class="", label_min_zoom=0) -> dict:
    """An overlay of polygons/lines: per-feature tooltip lines, style and optional label text."""
    properties = [
        {"tip": [line for line in tip if line], "style": feature_style, "label": label}
        for tip, feature_style, label in zip(tips, style, labels, strict=True)
    ]
    return {
        "id": layer_id,
        "kind": "geojson",
        "name": name,
        "data": _feature_collection(layer.geometries, properties, shift),
        "labels": [
            {"at": _label_point(g, shift), "text": label}
            for g, label in zip(layer.geometries, labels, strict=True)
            if label
        ],
        "label_class": label_class,
        "label_min_zoom": label_min_zoom,
    }


def _layout_overlays(index, shift: _Shift, lang: str, choropleth_colors: dict | None) -> list[dict]:
    name = f"name_{lang}"
    overlays = []
    districts = index.districts.layer
    overlays.append(
        _polygon_overlay(
            "districts",
            _t(lang, "行政区", "Districts"),
            districts,
            [[_text(p.get(name)), _text(p.get("adcode"))] for p in districts.properties],
            [_text(p.get(name)) for p in districts.properties],
            [{"color": DISTRICT_COLOR, "weight": 1.2, "fill": False}] * len(districts),
            shift,
            label_class="gz-district-label",
        )
    )
    if index.axis is not None:
        axis = index.axis
        overlays.append(
            _polygon_overlay(
                "axis",
                _t(lang, "科技创新轴", "Innovation axis"),
                axis,
                [
                    [_text(p.get(name)), "、".join(map(_text, p.get("places") or [])), _precision_line(p, lang)]
                    for p in axis.properties
                ],
                [""] * len(axis),
                [{"color": AXIS_COLOR, "weight": 5, "opacity": 0.8}] * len(axis),
                shift,
            )
        )
    if index.cores is not None:
        cores = index.cores.layer
        core_names = [schema.core_name(p, lang) for p in cores.properties]
        parts = [schema.core_part_name(p, lang) for p in cores.properties]
        overlays.append(
            _polygon_overlay(
                "cores",
                _t(lang, "四核", "Four cores"),
                cores,
                [
                    [c, part, _precision_line(p, lang)]
                    for c, part, p in zip(core_names, parts, cores.properties, strict=True)
                ],
                [part or c for c, part in zip(core_names, parts, strict=True)],
                [{"color": CORE_COLOR, "weight": 2, "fillColor": CORE_COLOR, "fillOpacity": 0.35}] * len(cores),
                shift,
                label_class="gz-core-label",
            )
        )
    if index.nodes is not None:
        nodes = index.nodes.layer

        overlays.append(
            _polygon_overlay(
                "nodes",
                _t(lang, "多点（节点）", "Nodes"),
                nodes,
                [
                    [_text(p.get(name)), group_label(_text(p.get("group")), lang), _precision_line(p, lang)]
                    for p in nodes.properties
                ],
                [_text(p.get(name)) for p in nodes.properties],
                [
                    {"color": c, "weight": 1.5, "fillColor": c, "fillOpacity": 0.25}
                    for c in (GROUP_COLORS.get(p.get("group"), "#888888") for p in nodes.properties)
                ],
                shift,
                label_class="gz-node-label",
                label_min_zoom=NODE_LABEL_MIN_ZOOM,
            )
        )
        if choropleth_colors is not None:
            overlays.append(
                _polygon_overlay(
                    "choropleth",
                    _t(lang, "节点分级设色", "Node choropleth"),
                    nodes,
                    [[_text(p.get(name)), choropleth_colors["tips"][i]] for i, p in enumerate(nodes.properties)],
                    [""] * len(nodes),
                    [
                        {"color": "#333333", "weight": 1, "fillOpacity": 0.75, "fillColor": color}
                        for color in choropleth_colors["colors"]
                    ],
                    shift,
                )
            )
    platforms = index.layers.get("platforms")
    if platforms is not None:
        overlays.append(
            _polygon_overlay(
                "platforms",
                _t(lang, "创新平台", "Platforms"),
                platforms,
                [
                    [_text(p.get(name)), _text(p.get("type")), _text(p.get("level")), _precision_line(p, lang)]
                    for p in platforms.properties
                ],
                [""] * len(platforms),
                [{"radius": 5, "color": "#000000", "weight": 1, "fillColor": PLATFORM_COLOR, "fillOpacity": 1}]
                * len(platforms),
                shift,
            )
        )
    return overlays


def _choropleth_colors(index, joined, kind: str, layers, corridor_km: float, lang: str) -> tuple[dict, dict]:
    """Fill colour and tooltip line per node, and the legend entry, from the points per node."""
    import branca.colormap

    from gzspatial.summary import stats

    table = stats(joined, by="node", layers=layers, corridor_km=corridor_km).set_index("unit")
    column = "count" if kind == "count" else "density_per_km2"
    values = table[column].fillna(0)
    top = float(values.max()) or 1.0
    ramp = ["#ffffcc", "#fd8d3c", "#800026"]
    colormap = branca.colormap.LinearColormap(ramp, vmin=0, vmax=top)  # colours only; nothing is rendered
    ids = [p["id"] for p in index.nodes.layer.properties]
    unit = _t(lang, "个" if kind == "count" else "个/km²", "points" if kind == "count" else "points per km²")
    legend = {
        "kind": "ramp",
        "colors": ramp,
        "text": _t(lang, "节点" + ("企业数" if kind == "count" else "密度"), f"points per node ({kind})"),
        "range": f"0 – {top:,.4g} {unit}",
    }
    return {
        "colors": [colormap(float(values[i])) for i in ids],
        "tips": [f"{column}: {float(values[i]):.4g}" for i in ids],
    }, legend


def _name_column(frame) -> str | None:
    for candidate in NAME_COLUMNS:
        if candidate in frame.columns:
            return candidate
    text = [c for c in frame.columns if not str(c).startswith("gz_") and frame[c].dtype == object]
    return text[0] if text else None


_POPUP_COLUMNS = (
    "gz_district",
    "gz_core",
    "gz_core_part",
    "gz_nodes",
    "gz_nearest_node",
    "gz_axis_distance_m",
    "gz_status",
    "gz_note",
)


def _points_overlay(rows, lon, lat, name_column, lang, extra=(), filters=None) -> dict:
    """Clustered points: rows of [lat, lon, code per field]; each field's distinct texts stored once.

    ``extra``: more columns for the popup (the filter columns); ``filters``: per-row filter codes
    (``_Filters``), stored as ``category_codes`` and ``years`` beside the rows.
    """
    columns = list(dict.fromkeys(c for c in (name_column, *extra, *_POPUP_COLUMNS) if c and c in rows.columns))
    labels = {
        "gz_district": _t(lang, "行政区", "district"),
        "gz_core": _t(lang, "核", "core"),
        "gz_core_part": _t(lang, "片区", "core part"),
        "gz_nodes": _t(lang, "节点", "nodes"),
        "gz_nearest_node": _t(lang, "最近节点", "nearest node"),
        "gz_axis_distance_m": _t(lang, "距轴线（米）", "to axis (m)"),
        "gz_status": _t(lang, "状态", "status"),
        "gz_note": _t(lang, "说明", "note"),
    }
    tables: list[list[str] | None] = []  # per column: its distinct texts (None: numbers sent as they are)
    encoded: list[list] = []
    for column in columns:
        values = rows[column]
        if column == "gz_axis_distance_m":  # whole metres; None where unknown
            tables.append(None)
            metres = values.to_numpy(dtype=float)
            encoded.append([None if np.isnan(v) else round(v) for v in metres.tolist()])
            continue
        codes, uniques = pd.factorize(values.astype(str), use_na_sentinel=False)
        tables.append([str(u) for u in uniques])
        encoded.append(codes.tolist())
    # coordinates as whole millionths of a degree from a whole-degree origin (the page adds it back):
    # 460639 instead of 113.460639 makes 100,000 points ~0.7 MB smaller; the same 6 decimals
    lat, lon = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)  # usable points: no NaN
    origin = [float(np.floor(lat.min())), float(np.floor(lon.min()))] if len(lat) else [0.0, 0.0]
    steps = 10**COORDINATE_DECIMALS
    micro_lat = np.round((lat - origin[0]) * steps).astype(np.int64).tolist()
    micro_lon = np.round((lon - origin[1]) * steps).astype(np.int64).tolist()
    data = [[y, x, *cells] for y, x, *cells in zip(micro_lat, micro_lon, *encoded, strict=True)]
    overlay = {
        "id": "points",
        "kind": "points",
        "name": _t(lang, f"输入点（{len(rows):,}）", f"Input points ({len(rows):,})"),
        "fields": [labels.get(c, str(c)) for c in columns],
        "tables": tables,
        "origin": origin,  # degrees (lat, lon); a row's first two numbers are millionths of a degree from it
        "steps_per_degree": steps,
        "rows": data,
        "color": POINT_COLOR,
    }
    if filters is not None:
        overlay.update(filters.codes())
    return overlay


def _heat_overlay(lon, lat, lang: str, aggregated: bool, filters=None) -> dict:
    """A heat layer; above MARKER_LIMIT points, counts on a ~500 m grid with log-scaled weights.

    Log weights keep dense centres from saturating while single-point cells stay visible, so the
    layer reads as density at every point count instead of as the grid's pattern. With filters and
    aggregation, ``cells`` holds [lat, lon, count, category code, year] per cell and filter value
    combination, and the page sums the shown combinations per cell (same log weights).
    """
    n = len(lon)
    if aggregated and filters is not None:
        cells = _aggregate_filtered(lon, lat, filters)
    elif aggregated:
        cells = _aggregate(lon, lat)
        weights = np.log1p(cells[:, 2])
        top = float(np.quantile(weights, 0.99)) if len(weights) else 1.0
        cells[:, 2] = np.minimum(weights / (top or 1.0), 1.0)
    else:
        cells = np.column_stack([lat, lon, np.ones(n)])
    name = _t(lang, "点密度（热力）", "Point density (heat)")
    if aggregated:
        name += _t(lang, f"：{n:,} 个点已按约500米格网聚合", f": {n:,} points aggregated on a ~500 m grid")
    overlay = {
        "id": "heat",
        "kind": "heat",
        "name": name,
        "aggregated": aggregated,
        # radius in pixels; a wider blur for aggregated cells so neighbouring cells merge
        # pixels (folium's Leaflet.heat ignores max and maxZoom: it scales by the largest bin)
        "options": {"radius": 14 if aggregated else 12, "blur": 18 if aggregated else 15},
    }
    if aggregated:  # the page sizes the kernels per zoom from the grid's spacing
        overlay["cell_deg"] = AGGREGATE_CELL_DEG
        overlay["tuning"] = dict(HEAT_TUNING)
    if aggregated and filters is not None:  # the page computes the weights of the shown combinations
        overlay["points"] = []
        overlay["cells"] = [
            [round(y, COORDINATE_DECIMALS), round(x, COORDINATE_DECIMALS), int(c), int(k), None if t < 0 else int(t)]
            for y, x, c, k, t in cells.tolist()
        ]
    else:
        overlay["points"] = np.round(cells, COORDINATE_DECIMALS).tolist()
    return overlay


def _aggregate(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(lat, lon, count) per occupied grid cell of AGGREGATE_CELL_DEG degrees (cell centres)."""
    ix = np.floor(lon / AGGREGATE_CELL_DEG).astype(np.int64)
    iy = np.floor(lat / AGGREGATE_CELL_DEG).astype(np.int64)
    cells, counts = np.unique(np.column_stack([iy, ix]), axis=0, return_counts=True)
    centres = (cells + 0.5) * AGGREGATE_CELL_DEG
    return np.column_stack([centres[:, 0], centres[:, 1], counts]).astype(float)


def _aggregate_filtered(lon, lat, filters) -> np.ndarray:
    """(lat, lon, count, category code, year or -1) per occupied cell and filter value combination."""
    ix = np.floor(lon / AGGREGATE_CELL_DEG).astype(np.int64)
    iy = np.floor(lat / AGGREGATE_CELL_DEG).astype(np.int64)
    codes = filters.category_codes if filters.category_codes is not None else np.zeros(len(ix), dtype=np.int64)
    years = filters.years if filters.years is not None else np.full(len(ix), np.nan)
    years = np.where(np.isnan(years), -1, years).astype(np.int64)
    keys, counts = np.unique(np.column_stack([iy, ix, codes, years]), axis=0, return_counts=True)
    centres = (keys[:, :2] + 0.5) * AGGREGATE_CELL_DEG
    return np.column_stack([centres[:, 0], centres[:, 1], counts, keys[:, 2], keys[:, 3]]).astype(float)


class _Filters:
    """The category and time filters of the points: column names, per-row codes, panel text."""

    def __init__(self, frame, category: str | None, time: str | None):
        for option, column in (("--category", category), ("--time", time)):
            if column is not None and column not in frame.columns:
                choices = ", ".join(str(c) for c in frame.columns if not str(c).startswith("gz_"))
                raise InputError(
                    _("{option} {column!r} is not a column of the points: use one of {choices}").format(
                        option=option, column=column, choices=choices
                    )
                )
        self.category, self.time = category, time
        self.category_codes: np.ndarray | None = None
        self.values: list[str] | None = None  # the category values (set with category_codes)
        self.years: np.ndarray | None = None
        if category is not None:
            values = frame[category]
            text = values.astype(str).where(values.notna(), "")
            codes, uniques = pd.factorize(text, sort=True)
            self.category_codes, self.values = codes.astype(np.int64), [str(u) for u in uniques]
        if time is not None:
            self.years = _years(frame[time], time)

    def subset(self, mask: np.ndarray) -> _Filters:
        """The same filters for the rows where ``mask`` is true."""
        copy = object.__new__(_Filters)
        copy.__dict__.update(self.__dict__)
        if self.category_codes is not None:
            copy.category_codes = self.category_codes[mask]
        if self.years is not None:
            copy.years = self.years[mask]
        return copy

    def codes(self) -> dict:
        out = {}
        if self.category_codes is not None:
            out["category_codes"] = self.category_codes.tolist()
        if self.years is not None:
            out["years"] = [None if np.isnan(y) else int(y) for y in self.years.tolist()]
        return out

    def spec(self) -> dict:
        """The panel's description: labels, category values with counts, the year range."""
        spec = {}
        if self.category_codes is not None and self.values is not None:
            counts = np.bincount(self.category_codes, minlength=len(self.values)).tolist()
            spec["category"] = {"label": str(self.category), "values": self.values, "counts": counts}
        if self.years is not None:
            known = self.years[~np.isnan(self.years)]
            spec["time"] = {
                "label": str(self.time),
                "min": int(known.min()) if len(known) else None,
                "max": int(known.max()) if len(known) else None,
                "missing": int(np.isnan(self.years).sum()),
            }
        return spec


def _years(values: pd.Series, column: str) -> np.ndarray:
    """The year of each value (whole numbers as years, dates as their year); NaN where unreadable."""
    if pd.api.types.is_datetime64_any_dtype(values):
        years = values.dt.year.to_numpy(dtype=float)
    else:
        text = values.astype(str).str.strip().where(values.notna(), "")
        numbers = pd.to_numeric(text, errors="coerce").to_numpy(dtype=float)
        whole = ~np.isnan(numbers) & (numbers == np.round(numbers)) & (numbers >= 1000) & (numbers <= 9999)
        years = np.where(whole, numbers, np.nan)
        rest = np.isnan(numbers) & (text != "").to_numpy()
        if rest.any():
            dates = pd.to_datetime(text[rest], errors="coerce", format="mixed")
            years[rest] = dates.dt.year.to_numpy(dtype=float)
    if np.isnan(years).all():
        raise InputError(
            _("--time {column!r} holds no year or date (e.g. 2019 or 2019-03-15): choose another column").format(
                column=column
            )
        )
    return years


def _legend_items(lang: str, index, with_points: bool) -> list[dict]:
    items = [
        {"kind": "line", "color": DISTRICT_COLOR, "text": _t(lang, "行政区界", "District boundary")},
        {"kind": "line", "color": AXIS_COLOR, "text": _t(lang, "科技创新轴", "Innovation axis")},
        {"kind": "fill", "color": CORE_COLOR, "text": _t(lang, "四核（一区三城）", "Four cores")},
    ]
    items += [
        {"kind": "fill", "color": color, "text": group_label(group, lang)} for group, color in GROUP_COLORS.items()
    ]
    if "platforms" in index.layers:
        items.append({"kind": "dot", "color": PLATFORM_COLOR, "text": _t(lang, "创新平台", "Platforms")})
    if with_points:
        items.append({"kind": "dot", "color": POINT_COLOR, "text": _t(lang, "输入点", "Input points")})
    note = precision_note(index, lang)
    if note:
        items.append({"kind": "note", "color": "", "text": note})
    return items


def _search_index(index, shift) -> list[dict]:
    entries = []
    for layer_name in ("cores", "nodes", "axis", "districts", "platforms"):
        layer = index.layers.get(layer_name)
        if layer is None:
            continue
        for props, geometry in zip(layer.properties, layer.geometries, strict=True):
            minx, miny, maxx, maxy = shift.geometry(geometry).bounds
            names = [props.get("name_zh"), props.get("name_en"), *(props.get("aliases") or [])]
            entries.append(
                {
                    "label": f"{_text(props.get('name_zh'))} / {_text(props.get('name_en'))}",
                    "names": [str(n) for n in names if n],
                    "bounds": [[round(miny, 5), round(minx, 5)], [round(maxy, 5), round(maxx, 5)]],
                }
            )
    return entries


def safe_json(value) -> str:
    """JSON safe inside an HTML ``<script>`` element: it cannot end the element, open a comment or
    CDATA section, or break a JS string (U+2028/2029). Read back with ``JSON.parse``."""
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):  # fmt: skip
        text = text.replace(char, escape)
    return text


# --- the page: a fixed skeleton and the data document ----------------------------------------


class _Literal(Element):
    """A fragment of the page emitted verbatim: never parsed as a template (unlike ``Element(text)``)."""

    def __init__(self, text: str):
        super().__init__()
        self._text = text

    def render(self, **kwargs) -> str:
        return self._text


class _LayoutLayers(JSCSSMixin, MacroElement):
    """Builds every overlay, the layer control, title, legend and search from the data document.

    The template below is fixed: it holds no text from data or options (those are in ``data``,
    emitted as a JSON block by ``render`` outside any template).
    """

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
          .gz-label { white-space: nowrap; transform: translate(-50%, -50%); font: 12px sans-serif;
                      color: #333; text-shadow: 0 0 3px #fff, 0 0 3px #fff; pointer-events: none; }
          .gz-label-icon { background: none; border: none; }
          .gz-core-label { color: #b35806; font-weight: bold; }
          .gz-node-label { color: #08306b; font-size: 11px; }
          .gz-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 1000;
                      background: rgba(255,255,255,0.9); padding: 6px 14px; border-radius: 4px;
                      font: bold 16px sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
          .gz-legend { position: absolute; bottom: 50px; left: 10px; z-index: 1000; background: #fff;
                       padding: 8px 10px; border-radius: 4px; font: 12px sans-serif;
                       box-shadow: 0 1px 4px rgba(0,0,0,0.3); max-width: 320px; }
          .gz-legend i { display: inline-block; width: 14px; height: 10px; margin-right: 6px; }
          .gz-legend .gz-note { color: #666; margin-top: 4px; }
          .gz-search { position: absolute; top: 60px; left: 50px; z-index: 1000; font: 13px sans-serif; }
          .gz-search input { width: 220px; padding: 4px; font: 13px sans-serif; }
          .gz-search .gz-nomatch { background: #fff3cd; padding: 2px 6px; margin-top: 2px; display: none; }
          .gz-filters { position: absolute; top: 100px; left: 50px; z-index: 1000; background: #fff;
                        padding: 6px 10px; border-radius: 4px; font: 12px sans-serif; display: none;
                        box-shadow: 0 1px 4px rgba(0,0,0,0.3); max-height: 50%; overflow-y: auto; max-width: 260px; }
          .gz-filters b { display: block; margin-top: 4px; }
          .gz-filters label { display: block; white-space: nowrap; }
          .gz-filters input[type=range] { width: 200px; }
          .gz-filters .gz-note { color: #666; }
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="gz-title" id="{{ this.get_name() }}-title"></div>
        <div class="gz-legend" id="{{ this.get_name() }}-legend"></div>
        <div class="gz-search"><input id="{{ this.get_name() }}-search" list="{{ this.get_name() }}-names">
             <datalist id="{{ this.get_name() }}-names"></datalist>
             <div class="gz-nomatch" id="{{ this.get_name() }}-nomatch"></div></div>
        <div class="gz-filters" id="{{ this.get_name() }}-filters"></div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var data = JSON.parse(document.getElementById("{{ this.get_name() }}-data").textContent);
            data.overlays.forEach(function (overlay) {  // points: millionths of a degree from an origin
                if (!overlay.origin) { return; }
                overlay.rows.forEach(function (row) {
                    row[0] = overlay.origin[0] + row[0] / overlay.steps_per_degree;
                    row[1] = overlay.origin[1] + row[1] / overlay.steps_per_degree;
                });
            });
            var map = {{ this._parent.get_name() }};
            var bases = {{ this.bases }};
            function node(tag, text, cls) {
                var element = document.createElement(tag);
                if (text !== undefined && text !== null) { element.textContent = String(text); }
                if (cls) { element.className = cls; }
                return element;
            }
            function escapeHtml(text) {  // Leaflet's layer control sets names as HTML
                return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
                    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
            }
            function lines(list) {
                var box = node("div");
                list.forEach(function (line) { box.appendChild(node("div", line)); });
                return box;
            }
            function labelLayer(overlay) {
                var group = L.layerGroup();
                overlay.labels.forEach(function (label) {
                    var icon = L.divIcon({className: "gz-label-icon", iconSize: null,
                                          html: node("div", label.text, "gz-label " + overlay.label_class)});
                    L.marker(label.at, {icon: icon, interactive: false, keyboard: false}).addTo(group);
                });
                return group;
            }
            function geojsonLayer(overlay) {
                var layer = L.geoJSON(overlay.data, {
                    style: function (f) { return f.properties.style; },
                    pointToLayer: function (f, latlng) { return L.circleMarker(latlng, f.properties.style); },
                    onEachFeature: function (f, l) {
                        if (f.properties.tip.length) {
                            l.bindTooltip(function () { return lines(f.properties.tip); }, {sticky: true});
                        }
                    }
                });
                if (!overlay.labels.length) { return layer; }
                var labels = labelLayer(overlay);
                var group = L.featureGroup([layer]);
                function toggle() {
                    var show = map.getZoom() >= overlay.label_min_zoom && map.hasLayer(group);
                    if (show && !group.hasLayer(labels)) { group.addLayer(labels); }
                    if (!show && group.hasLayer(labels)) { group.removeLayer(labels); }
                }
                map.on("zoomend", toggle);
                group.on("add", function () { setTimeout(toggle, 0); });
                return group;
            }
            function pointsLayer(overlay) {
                var cluster = L.markerClusterGroup({chunkedLoading: true});
                function popup(row) {
                    var box = node("div");
                    for (var k = 0; k < overlay.fields.length; k++) {
                        var value = row[2 + k];
                        if (overlay.tables[k] !== null) { value = overlay.tables[k][value]; }
                        if (value === null || value === undefined || value === "") { continue; }
                        var line = node("div");
                        line.appendChild(node("b", overlay.fields[k] + ": "));
                        line.appendChild(document.createTextNode(String(value)));
                        box.appendChild(line);
                    }
                    return box;
                }
                var markers = overlay.rows.map(function (row) {
                    var marker = L.circleMarker([row[0], row[1]],
                        {radius: 4, color: overlay.color, weight: 1, fillOpacity: 0.8});
                    marker.bindPopup(popup.bind(null, row));
                    return marker;
                });
                cluster.addLayers(markers);
                cluster.gzMarkers = markers;
                return cluster;
            }
            function heatLayer(overlay) {
                var layer = L.heatLayer(overlay.points, overlay.options);
                if (!overlay.cell_deg) { return layer; }
                // Aggregated cells. Leaflet.heat (folium's build) sums the points of each bin of
                // (radius + blur) / 2 pixels and scales by the largest sum: a bin of 1-2 grid cells
                // draws stripes, a kernel narrower than the grid's spacing draws dots. So per zoom:
                // bins of several grid cells a side while the grid is finer than a few pixels, then at
                // most one grid cell per bin with a kernel about two grid spacings wide.
                function tune() {
                    var z = map.getZoom(), c = map.getCenter();
                    var a = map.project(c, z), b = map.project([c.lat + overlay.cell_deg, c.lng + overlay.cell_deg], z);
                    var spacing = Math.min(Math.abs(b.x - a.x), Math.abs(b.y - a.y));
                    var k = overlay.tuning;
                    var wide = Math.max(overlay.options.radius + overlay.options.blur, 2 * k.cells_per_bin * spacing);
                    var step = Math.min(spacing, k.max_px);
                    layer.setOptions(spacing < k.fine_from_px
                        ? {radius: wide * 0.45, blur: wide * 0.55}
                        : {radius: k.kernel[0] * step, blur: k.kernel[1] * step});
                }
                map.on("zoomend", tune);
                tune();
                return layer;
            }
            function filterPanel(spec, points, heat) {
                // shows the points (and heat) of the checked categories up to the slider's year
                var panel = document.getElementById("{{ this.get_name() }}-filters");
                var checked = spec.category ? spec.category.values.map(function () { return true; }) : null;
                var slider = null, current = null;
                var count = node("div", null, "gz-note");
                function keep(code, year) {
                    if (checked && !checked[code]) { return false; }
                    if (slider) {
                        var limit = Number(slider.value);
                        if (year === null || year === undefined) { return limit >= spec.time.max; }
                        if (year > limit) { return false; }
                    }
                    return true;
                }
                function heatPoints() {  // the shown points, or the shown cells' log-scaled counts
                    if (!heat.overlay.cells) {
                        return points.overlay.rows.filter(function (row, i) {
                            return keep(points.overlay.category_codes ? points.overlay.category_codes[i] : 0,
                                        points.overlay.years ? points.overlay.years[i] : 0);
                        }).map(function (row) { return [row[0], row[1], 1]; });
                    }
                    var sums = {};
                    heat.overlay.cells.forEach(function (c) {
                        if (!keep(c[3], c[4])) { return; }
                        var key = c[0] + "," + c[1];
                        if (sums[key]) { sums[key][2] += c[2]; } else { sums[key] = [c[0], c[1], c[2]]; }
                    });
                    var cells = Object.keys(sums).map(function (k) { return sums[k]; });
                    var weights = cells.map(function (c) { return Math.log1p(c[2]); }).sort(function (a, b) {
                        return a - b; });
                    var top = weights.length ? weights[Math.floor(0.99 * (weights.length - 1))] || 1 : 1;
                    return cells.map(function (c) { return [c[0], c[1], Math.min(Math.log1p(c[2]) / top, 1)]; });
                }
                function apply() {
                    var shown = null;
                    if (points) {
                        var markers = points.layer.gzMarkers, codes = points.overlay.category_codes;
                        var years = points.overlay.years;
                        var visible = markers.filter(function (m, i) {
                            return keep(codes ? codes[i] : 0, years ? years[i] : 0);
                        });
                        points.layer.clearLayers();
                        points.layer.addLayers(visible);
                        shown = visible.length;
                        count.textContent = data.ui.shown + ": " + shown.toLocaleString() + " / " +
                            markers.length.toLocaleString();
                    }
                    if (heat) { heat.layer.setLatLngs(heatPoints()); }
                    if (slider) {
                        var end = Number(slider.value) >= spec.time.max && spec.time.missing;
                        current.textContent = data.ui.up_to + " " + slider.value +
                            (end ? " " + data.ui.with_missing : "");
                    }
                }
                if (spec.category) {
                    panel.appendChild(node("b", spec.category.label));
                    spec.category.values.forEach(function (value, k) {
                        var label = node("label"), box = node("input");
                        box.type = "checkbox";
                        box.checked = true;
                        box.setAttribute("data-code", String(k));
                        box.addEventListener("change", function () { checked[k] = box.checked; apply(); });
                        label.appendChild(box);
                        var text = (value === "" ? data.ui.empty : value) + " (" +
                            spec.category.counts[k].toLocaleString() + ")";
                        label.appendChild(document.createTextNode(text));
                        panel.appendChild(label);
                    });
                }
                if (spec.time) {
                    panel.appendChild(node("b", spec.time.label));
                    slider = node("input");
                    slider.type = "range";
                    slider.min = String(spec.time.min);
                    slider.max = String(spec.time.max);
                    slider.step = "1";
                    slider.value = String(spec.time.max);
                    var pending = null;  // while dragging, refilter once the slider rests (100k points: ~0.5 s)
                    slider.addEventListener("input", function () {
                        clearTimeout(pending);
                        pending = setTimeout(apply, 120);
                    });
                    current = node("div");
                    panel.appendChild(slider);
                    panel.appendChild(current);
                    if (spec.time.missing) {
                        panel.appendChild(node("div", data.ui.missing + ": " + spec.time.missing.toLocaleString(),
                                               "gz-note"));
                    }
                }
                panel.appendChild(count);
                panel.style.display = "block";
                apply();
            }
            var control = L.control.layers(bases, {}, {collapsed: false}).addTo(map);
            var layers = {};
            data.overlays.forEach(function (overlay) {
                var layer = overlay.kind === "points" ? pointsLayer(overlay)
                    : overlay.kind === "heat" ? heatLayer(overlay)
                    : geojsonLayer(overlay);
                layer.addTo(map);
                control.addOverlay(layer, escapeHtml(overlay.name));
                layers[overlay.id] = layer;
            });
            if (data.filters.category || data.filters.time) {
                var byId = {};
                data.overlays.forEach(function (o) { byId[o.id] = {overlay: o, layer: layers[o.id]}; });
                filterPanel(data.filters, byId.points || null, byId.heat || null);
            }
            document.getElementById("{{ this.get_name() }}-title").textContent = data.title;
            var legend = document.getElementById("{{ this.get_name() }}-legend");
            data.legend.forEach(function (item) {
                var row = node("div", null, item.kind === "note" ? "gz-note" : "");
                if (item.kind === "ramp") {
                    var bar = node("i");
                    bar.style.width = "60px";
                    bar.style.background = "linear-gradient(to right, " + item.colors.join(", ") + ")";
                    row.appendChild(bar);
                    row.appendChild(document.createTextNode(item.text + " " + item.range));
                } else {
                    if (item.kind !== "note") {
                        var swatch = node("i");
                        swatch.style.background = item.color;
                        if (item.kind === "line") { swatch.style.height = "3px"; }
                        if (item.kind === "fill") { swatch.style.opacity = "0.6"; }
                        if (item.kind === "dot") { swatch.style.borderRadius = "50%"; swatch.style.width = "10px"; }
                        row.appendChild(swatch);
                    }
                    row.appendChild(document.createTextNode(item.text));
                }
                legend.appendChild(row);
            });
            var list = document.getElementById("{{ this.get_name() }}-names");
            var input = document.getElementById("{{ this.get_name() }}-search");
            var noMatch = document.getElementById("{{ this.get_name() }}-nomatch");
            input.placeholder = data.ui.search;
            var byName = {};
            data.search.forEach(function (e) {
                var option = document.createElement("option");
                option.value = e.label;
                list.appendChild(option);
                byName[e.label.toLowerCase()] = e;
                e.names.forEach(function (n) { byName[n.toLowerCase()] = byName[n.toLowerCase()] || e; });
            });
            function find(query) {
                query = query.trim().toLowerCase();
                if (!query) { return null; }
                if (byName[query]) { return byName[query]; }
                for (var i = 0; i < data.search.length; i++) {
                    var e = data.search[i];
                    if (e.label.toLowerCase().indexOf(query) >= 0 ||
                        e.names.some(function (n) { return n.toLowerCase().indexOf(query) >= 0; })) {
                        return e;
                    }
                }
                return null;
            }
            function go() {
                var hit = find(input.value);
                noMatch.textContent = hit || !input.value.trim() ? "" : data.ui.no_match + ": " + input.value.trim();
                noMatch.style.display = noMatch.textContent ? "block" : "none";
                if (hit) { map.fitBounds(hit.bounds, {maxZoom: 14}); }
                return hit;
            }
            input.addEventListener("change", go);
            input.addEventListener("keydown", function (e) { if (e.key === "Enter") { go(); } });
            window.gzSearch = function (query) { input.value = query; return go(); };
            window.gzLayers = layers;
        })();
        {% endmacro %}
    """)

    def __init__(self, data: dict, bases: dict[str, str], *, clusters: bool, heat: bool):
        super().__init__()
        self._name = "LayoutLayers"
        self.data = data
        # base layer label -> JS variable of a folium TileLayer; labels are our own basemap names
        self.bases = "{" + ",".join(f"{json.dumps(label)}: {var}" for label, var in bases.items()) + "}"
        self.default_js = [*(plugins.MarkerCluster.default_js if clusters else []),
                           *(plugins.HeatMap.default_js if heat else [])]  # fmt: skip
        self.default_css = list(plugins.MarkerCluster.default_css) if clusters else []

    def render(self, **kwargs):
        super().render(**kwargs)
        figure = self.get_root()
        assert isinstance(figure, Figure), "the layout layers must be added to a map inside a Figure"
        block = f'<script type="application/json" id="{self.get_name()}-data">{safe_json(self.data)}</script>'
        figure.html.add_child(_Literal(block), name=f"{self.get_name()}-data")


def map_data(m) -> dict:
    """The data document of a map made by ``make_map`` (overlays, legend, search, title)."""
    for child in m._children.values():
        if isinstance(child, _LayoutLayers):
            return child.data
    raise InputError(_("this map was not made by gzspatial.make_map"))


def _tile_url(spec: dict[str, str], key: str | None, which: str = "tiles") -> str:
    """A basemap's tile URL template (``which``: tiles or labels) with the key filled in."""
    return spec[which].replace("{key}", key or "")


def _basemap_key(basemap: Basemap, tianditu_key: str | None) -> str | None:
    key = tianditu_key or os.environ.get("GZ_TIANDITU_KEY")
    if basemap != "tianditu":
        return key if key and _TIANDITU_KEY.match(key) else None
    if not key:
        raise InputError(_("the tianditu basemap needs a key: --tianditu-key KEY or GZ_TIANDITU_KEY"))
    if not _TIANDITU_KEY.match(key):
        raise InputError(
            _("tianditu key {key!r} is not a key (8–64 letters and digits): check --tianditu-key").format(key=key)
        )
    return key


def _add_basemaps(m, basemap: Basemap, key: str | None) -> dict[str, str]:
    """The chosen basemap and the others drawn in the same system (switchable); {label: JS var}."""
    tiled = {name: spec for name, spec in BASEMAPS.items() if spec}  # all but "none"
    system = tiled[basemap]["crs"]
    choices = [basemap] + [
        name
        for name, spec in tiled.items()
        if name != basemap and spec["crs"] == system and (name != "tianditu" or key)
    ]
    bases: dict[str, str] = {}
    for name in map(str, choices):  # plain text in the page
        spec = tiled[Basemap(name)]
        tiles = folium.TileLayer(
            tiles=_tile_url(spec, key), attr=spec["attr"], name=name, subdomains=spec["subdomains"], max_zoom=18,
            control=False, show=name == basemap,
        )  # fmt: skip
        tiles.add_to(m)
        if "labels" in spec:
            labels = folium.TileLayer(
                tiles=_tile_url(spec, key, "labels"), attr=spec["attr"], name=f"{name} labels",
                subdomains=spec["subdomains"], overlay=True, control=False, show=name == basemap,
            )  # fmt: skip
            labels.add_to(m)
        bases[name] = tiles.get_name()
    return bases


def make_map(
    *,
    layers: str | Path | None = None,
    basemap: Basemap | str = Basemap.CARTO,
    lang: str = "zh",
    title: str | None = None,
    points=None,
    points_crs: str | None = None,
    heatmap: bool = False,
    choropleth: str | None = None,
    corridor_km: float = DEFAULT_CORRIDOR_KM,
    tianditu_key: str | None = None,
    category: str | None = None,
    time: str | None = None,
) -> folium.Map:
    """A folium.Map of the layout: districts, axis, cores, nodes (and platforms, points).

    ``points`` is a DataFrame/GeoDataFrame or a file ``join`` reads; its rows are attributed and
    shown clustered with popups (``heatmap`` adds a heat layer; above MARKER_LIMIT points only
    aggregated density is drawn). ``choropleth`` ("count" or "density") colours nodes by the
    points in them. ``basemap``: carto, osm, amap, amap-satellite, tianditu, none; basemaps drawn
    in the same system are offered as alternatives in the layer control. ``category`` (a column of
    the points) adds a checkbox per value; ``time`` (a column of years or dates) a slider showing
    the points up to a year (rows without a readable year only at its end). Both filter the
    markers and the heat layer.
    """
    if basemap not in BASEMAPS:
        raise InputError(
            _("unknown basemap {basemap!r}: use one of {BASEMAPS}").format(
                basemap=basemap, BASEMAPS=", ".join(BASEMAPS)
            )
        )
    basemap = Basemap(basemap)
    if lang not in ("zh", "en"):
        raise InputError(_("language {lang!r} is not supported: use zh or en").format(lang=lang))
    if choropleth not in (None, "count", "density"):
        raise InputError(
            _("choropleth {choropleth!r} is not supported: use count or density").format(choropleth=choropleth)
        )
    if choropleth and points is None:
        raise InputError(_("a node choropleth needs points: give --points FILE"))
    if (category or time) and points is None:
        raise InputError(
            _("{option} filters points: give --points FILE").format(option="--category" if category else "--time")
        )
    key = _basemap_key(basemap, tianditu_key)
    index = layout_index(layers)
    base = BASEMAPS[basemap]  # None: no basemap
    shift = _Shift(base["crs"] if base else _crs.WGS84)
    centre_lon, centre_lat = shift.lonlat(GUANGZHOU_CENTRE[1], GUANGZHOU_CENTRE[0])
    m = folium.Map(
        location=[float(centre_lat), float(centre_lon)],
        zoom_start=9,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
        maxZoom=18,  # marker clustering needs the map to have a maximum zoom, tiles or not
    )
    bases = _add_basemaps(m, basemap, key) if base else {}

    joined: pd.DataFrame | None = None
    w_lon = w_lat = np.empty(0)  # the points' WGS84 degrees, set with joined
    if points is not None:
        joined, w_lon, w_lat = _attribute_points(points, points_crs, layers, corridor_km, lang)
    legend = _legend_items(lang, index, joined is not None)
    colors = None
    if choropleth and index.nodes is not None:
        colors, ramp = _choropleth_colors(index, joined, choropleth, layers, corridor_km, lang)
        legend.append(ramp)
    overlays = _layout_overlays(index, shift, lang, colors)
    filters = shown = None
    if joined is not None:
        if category or time:
            filters = _Filters(joined, category, time)
        usable = ~np.isnan(w_lon) & ~np.isnan(w_lat)
        shown = filters.subset(usable) if filters else None
        if shown is not None and shown.years is not None and usable.any() and np.isnan(shown.years).all():
            raise InputError(
                _("--time {time!r}: no point with usable coordinates has a year or date in it").format(time=time)
            )
        lon, lat = shift.lonlat(w_lon[usable], w_lat[usable])
        many = int(usable.sum()) > MARKER_LIMIT
        log.info("%d of %d points usable: %s", usable.sum(), len(usable), "aggregated heat" if many else "markers")
        if many or heatmap:
            overlays.append(_heat_overlay(lon, lat, lang, aggregated=many, filters=shown))
        if not many:
            extra = [c for c in (category, time) if c]
            overlays.append(_points_overlay(joined.loc[usable], lon, lat, _name_column(joined), lang, extra, shown))

    plugins.Fullscreen().add_to(m)
    if base is not None:
        plugins.MiniMap(
            tile_layer=folium.TileLayer(tiles=_tile_url(base, key), attr=base["attr"], subdomains=base["subdomains"]),
            toggle_display=True,
        ).add_to(m)
    data = {
        "title": title or _t(lang, "广州市科技创新“一轴四核多点”空间布局", "Guangzhou sci-tech innovation layout"),
        "ui": {
            "search": _t(lang, "搜索：名称或别名", "Search a name or alias"),
            "no_match": _t(lang, "无匹配", "No match"),
            "shown": _t(lang, "显示点数", "points shown"),
            "up_to": _t(lang, "截至", "up to"),
            "with_missing": _t(lang, "（含无年份的点）", "(and points without a year)"),
            "missing": _t(
                lang, "无可读年份的点（仅在滑块最右端显示）", "points without a readable year (shown at the end only)"
            ),
            "empty": _t(lang, "（空）", "(empty)"),
        },
        "filters": shown.spec() if shown else {},
        "overlays": overlays,
        "legend": legend,
        "search": _search_index(index, shift),
    }
    kinds = {o["kind"] for o in overlays}
    _LayoutLayers(data, bases, clusters="points" in kinds, heat="heat" in kinds).add_to(m)
    return m


def _attribute_points(
    points, points_crs: str | None, layers, corridor_km: float, lang: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    from gzspatial import attribute, io

    frame = io.read_input(points) if isinstance(points, str | Path) else points
    options = attribute.Options(corridor_km=corridor_km, lang=lang, layers=layers, overwrite_gz=True)
    return attribute.join_frame(frame, crs=points_crs, options=options, address=False)  # points need coordinates


def render_map(m, *, offline: bool = True) -> str:
    """The map's HTML page; ``offline`` inlines every JS/CSS asset (no CDN)."""
    text = m.get_root().render()
    if offline:
        from gzspatial._offline import inline_assets

        text = inline_assets(text)
    return text


class NotebookMap:
    """A map for a notebook cell: an iframe whose ``srcdoc`` is the self-contained page (``show``)."""

    def __init__(self, page: str, height: int) -> None:
        self.page, self.height = page, height

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.page, quote=True)}" sandbox="allow-scripts" '
            f'style="width: 100%; height: {self.height}px; border: none;"></iframe>'
        )


def show(m, *, height: int = 600, offline: bool = True) -> NotebookMap:
    """Display ``m`` in Jupyter with every asset inlined, so it works offline (folium's own display,
    ``m`` at a cell's end, links CDNs and is blank without internet). ``height`` in pixels."""
    if not isinstance(height, int) or not 100 <= height <= 5000:
        raise InputError(_("height {height!r} is not a height in pixels (100-5000)").format(height=height))
    return NotebookMap(render_map(m, offline=offline), height)


def save_map(m, path: str | Path, *, offline: bool = True) -> Path:
    """Write the map's HTML atomically; self-contained unless ``offline=False`` (CDN links)."""
    from gzspatial.io import atomic_output

    text = render_map(m, offline=offline)
    path = Path(path)
    with atomic_output(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path

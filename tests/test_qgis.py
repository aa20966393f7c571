"""`gzspatial export qgis`: the GeoPackage (layers, layer_styles), the QML, the project, and a headless QGIS check."""

import json
import os
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from gzspatial import crs as _crs
from gzspatial import qgis
from gzspatial.qgis import GPKG_NAME, PRECISION_STYLES, PROJECT_NAME, UNKNOWN_PRECISION_STYLE, precision_expression
from gzspatial.style import AXIS_COLOR, CORE_COLOR, GROUP_COLORS, POINT_COLOR
from tests.conftest import ROOT, invoke_cli

HOSTILE = "<b>&\"'{{7*7}}"
LAYOUT_TABLES = ("districts", "axis", "axis_corridor", "cores", "core_parts", "nodes", "platforms")
POINTS_CSV = (
    "名称,类别,经度,纬度\n"
    f'"{HOSTILE.replace(chr(34), chr(34) * 2)}",孵化器,113.3300,23.1040\n'
    "空坐标,众创空间,,\n"
    "知识城某企业,高新技术企业,113.5200,23.3300\n"
    "境外,高新技术企业,116.40,39.90\n"
)


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """One export through the real entry point: a hostile node name, every precision class, points."""
    base = tmp_path_factory.mktemp("qgis")
    layers = base / "layers"
    layers.mkdir()
    nodes = json.loads((ROOT / "data" / "geojson" / "nodes.geojson").read_text(encoding="utf-8"))
    nodes["features"][0]["properties"]["name_zh"] = HOSTILE
    for feature, precision in zip(nodes["features"][1:], PRECISION_STYLES, strict=False):
        feature["properties"]["precision"] = precision  # every class the styles know (the schema allows no other)
    (layers / "nodes.geojson").write_text(json.dumps(nodes, ensure_ascii=False), encoding="utf-8")
    points = base / "企业.csv"
    points.write_text(POINTS_CSV, encoding="utf-8")
    out = base / "out"
    result = invoke_cli("export", "qgis", "-o", str(out), "--points", str(points), "--crs", "gcj02",
                        "--layers", str(layers))  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()
    return out


def _styles(gpkg: Path) -> dict[str, dict]:
    with sqlite3.connect(gpkg) as db:
        db.row_factory = sqlite3.Row
        return {row["f_table_name"]: dict(row) for row in db.execute("SELECT * FROM layer_styles")}


def _qml(export, table: str) -> ET.Element:
    return ET.fromstring(_styles(export / GPKG_NAME)[table]["styleQML"])


def _project(export) -> ET.Element:
    with zipfile.ZipFile(export / PROJECT_NAME) as archive:
        names = archive.namelist()
        assert names == ["gzspatial_layout.qgs"]
        return ET.fromstring(archive.read(names[0]))


def _hex(rgba: str) -> str:
    return "#" + "".join(f"{int(v):02x}" for v in rgba.split(",")[:3])


def _symbol_props(symbol: ET.Element) -> dict[str, str]:
    layer = symbol.find("layer")
    return {o.get("name"): o.get("value") for o in layer.find("Option")}


def test_only_the_two_files_are_written(export):
    assert sorted(p.name for p in export.iterdir()) == [GPKG_NAME, PROJECT_NAME]


def test_geopackage_has_every_layer_in_wgs84(export):
    listed = {str(name) for name, _ in pyogrio.list_layers(export / GPKG_NAME)}
    assert listed == {*LAYOUT_TABLES, "points", "layer_styles"}
    counts = {"districts": 11, "axis": 6, "axis_corridor": 1, "cores": 4, "core_parts": 7, "nodes": 28,
              "platforms": 55, "points": 4}  # fmt: skip
    for table, count in counts.items():
        info = pyogrio.read_info(export / GPKG_NAME, layer=table)
        assert info["features"] == count, table
        assert info["crs"] == "EPSG:4326", table
        assert info["geometry_name"] == "geom"
    cores = pyogrio.read_dataframe(export / GPKG_NAME, layer="cores")
    assert cores["name_zh"].tolist()[0] == "广州人工智能与数字经济试验区"
    assert cores["precision"].isin(["official", "road_bounded", "schematic", "indicative"]).all()
    assert cores.loc[0, "precision"] == "schematic"  # the AI zone: road-bounded 金融城, schematic other parts


def test_corridor_is_buffered_in_metres(export):
    corridor = pyogrio.read_dataframe(export / GPKG_NAME, layer="axis_corridor").geometry.iloc[0]
    axis = pyogrio.read_dataframe(export / GPKG_NAME, layer="axis").geometry.values
    metric_axis = shapely.union_all(_crs.to_metric(np.asarray(axis)))
    boundary = _crs.to_metric(corridor).boundary
    # Every point of the corridor's outline lies 2 km from the axis (buffer in EPSG:4547, not degrees).
    samples = shapely.line_interpolate_point(boundary.geoms[0] if hasattr(boundary, "geoms") else boundary,
                                             np.linspace(0, 1, 200), normalized=True)  # fmt: skip
    distances = shapely.distance(samples, metric_axis)
    # (arcs are polygons of 8 segments per quarter circle: chords come within 2000·cos(π/32) = 1990.4 m,
    # a little less where two sections' buffers meet)
    assert distances.min() > 1985 and distances.max() < 2000.5


def test_points_keep_every_row_in_order_with_their_columns(export):
    points = pyogrio.read_dataframe(export / GPKG_NAME, layer="points")
    assert points["名称"].tolist() == [HOSTILE, "空坐标", "知识城某企业", "境外"]
    assert points["类别"].tolist() == ["孵化器", "众创空间", "高新技术企业", "高新技术企业"]
    assert points["gz_status"].tolist() == ["ok", "missing", "ok", "outside"]
    assert points.geometry.iloc[1] is None
    assert points["gz_core"].iloc[2] == "中新广州知识城"
    # GCJ-02 in, WGS84 stored: the point moved about 550 m west and 300 m north.
    lon, lat = _crs.transform(113.33, 23.104, "gcj02", "wgs84")
    assert points.geometry.iloc[0].x == pytest.approx(lon, abs=1e-9)
    assert points.geometry.iloc[0].y == pytest.approx(lat, abs=1e-9)


def test_layer_styles_are_default_rows_qgis_finds(export):
    styles = _styles(export / GPKG_NAME)
    assert set(styles) == {*LAYOUT_TABLES, "points"}
    for table, row in styles.items():
        assert row["useAsDefault"] == 1
        assert row["f_table_schema"] == ""  # QGIS filters on f_table_schema=''
        assert row["f_geometry_column"] == "geom"
        root = ET.fromstring(row["styleQML"])
        assert root.tag == "qgis"
        assert root.find("renderer-v2") is not None, table
    with sqlite3.connect(export / GPKG_NAME) as db:
        kind = db.execute("SELECT data_type FROM gpkg_contents WHERE table_name='layer_styles'").fetchone()
    assert kind == ("attributes",)


def test_colours_match_the_web_map(export):
    nodes = _qml(export, "nodes").find("renderer-v2")
    assert nodes.get("type") == "categorizedSymbol"
    assert nodes.get("attr") == "group"
    symbols = {s.get("name"): s for s in nodes.find("symbols")}
    colours = {c.get("value"): _hex(_symbol_props(symbols[c.get("symbol")])["color"]) for c in nodes.find("categories")}
    assert colours == GROUP_COLORS
    axis = _symbol_props(_qml(export, "axis").find("renderer-v2/symbols/symbol"))
    assert _hex(axis["line_color"]) == AXIS_COLOR.lower()
    for table in ("cores", "core_parts"):
        props = _symbol_props(_qml(export, table).find("renderer-v2/symbols/symbol"))
        assert _hex(props["outline_color"]) == CORE_COLOR.lower()
    points = _symbol_props(_qml(export, "points").find("renderer-v2/symbols/symbol"))
    assert _hex(points["color"]) == POINT_COLOR.lower()


def test_chinese_labels(export):
    fields = {table: _qml(export, table).find("labeling/settings/text-style") for table in LAYOUT_TABLES}
    assert {t: (e.get("fieldName") if e is not None else None) for t, e in fields.items()} == {
        "districts": "name_zh", "axis": "name_zh", "axis_corridor": None, "cores": "name_zh",
        "core_parts": "part", "nodes": "name_zh", "platforms": "name_zh",
    }  # fmt: skip
    assert all(e.get("allowHtml") == "0" for e in fields.values() if e is not None)
    assert _qml(export, "nodes").get("labelsEnabled") == "1"


def test_precision_drives_the_line_style(export):
    expression = precision_expression()
    assert """WHEN "precision" = 'schematic' THEN 'dot'""" in expression
    assert """WHEN "precision" = 'official' THEN 'solid'""" in expression
    assert """WHEN "precision" = 'road_bounded' THEN 'dash'""" in expression
    assert """WHEN "precision" = 'indicative' THEN 'dash dot'""" in expression
    assert expression.endswith(f"ELSE '{UNKNOWN_PRECISION_STYLE}' END")
    assert UNKNOWN_PRECISION_STYLE not in PRECISION_STYLES.values()
    for table in LAYOUT_TABLES:
        prop = _qml(export, table).find(".//layer/data_defined_properties//Option[@name='outlineStyle']")
        assert prop is not None, table
        assert prop.find("Option[@name='expression']").get("value") == expression


def test_hostile_text_comes_through_as_literal_text(export):
    names = pyogrio.read_dataframe(export / GPKG_NAME, layer="nodes")["name_zh"].tolist()
    assert names[0] == HOSTILE
    raw = _styles(export / GPKG_NAME)["nodes"]["styleQML"]
    assert "49" not in raw and "<i>" not in raw  # the name is data in the GeoPackage, never part of a style


def test_project_layers_tree_and_layout(export):
    project = _project(export)
    assert project.find("projectCrs/spatialrefsys/authid").text == "EPSG:4547"
    groups = [g.get("name") for g in project.findall("layer-tree-group/layer-tree-group")]
    assert groups == ["点", "平台", "多点", "四核", "一轴", "行政区"]
    sources = [m.find("datasource").text for m in project.findall("projectlayers/maplayer")]
    assert sources == [f"./{GPKG_NAME}|layername={t}" for t in (*LAYOUT_TABLES, "points")]
    assert project.find("properties/Paths/Absolute").text == "false"
    layout = project.find("Layouts/Layout")
    page = layout.find("PageCollection/LayoutItem")
    assert page.get("size") == "420,297,mm"  # A3 landscape
    kinds = sorted(item.get("type") for item in layout.findall("LayoutItem"))
    # map, picture (north arrow), 3 labels (title, precision note, source), legend, scale bar
    assert kinds == ["65639", "65640", "65641", "65641", "65641", "65642", "65646"]
    texts = [item.get("labelText") for item in layout.findall("LayoutItem[@type='65641']")]
    assert any(text.startswith("来源") for text in texts)


def test_output_that_is_a_file_is_an_error(tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = invoke_cli("export", "qgis", "-o", str(target))
    assert result.returncode == 2
    assert result.stderr.decode().strip().startswith("error: output")
    assert len(result.stderr.decode().strip().splitlines()) == 1


def test_corridor_must_be_positive(tmp_path):
    result = invoke_cli("export", "qgis", "-o", str(tmp_path / "out"), "--corridor-km", "0")
    assert result.returncode == 2
    assert "corridor" in result.stderr.decode()
    assert not (tmp_path / "out").exists()


# --- headless QGIS (Debian's python3-qgis in the system python) -------------------------------

SYSTEM_PYTHON = "/usr/bin/python3"


def _qgis_available() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    probe = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True, timeout=60,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})  # fmt: skip
    return probe.returncode == 0


@pytest.mark.slow
def test_qgis_loads_the_project_and_prints_the_layout(export, tmp_path):
    if not _qgis_available():
        if os.environ.get("GZ_REQUIRE_QGIS") == "1":
            pytest.fail("GZ_REQUIRE_QGIS=1 but /usr/bin/python3 cannot import qgis: apt-get install python3-qgis")
        pytest.skip("PyQGIS not installed (apt-get install python3-qgis qgis-providers)")
    from PIL import Image

    png = tmp_path / "layout.png"
    expected = {
        "colors": {"nodes": list(GROUP_COLORS.values()), "axis": [AXIS_COLOR.lower()],
                   "core_parts": [CORE_COLOR.lower()], "points": [POINT_COLOR.lower()]},
        "labelled": ["districts", "axis", "cores", "core_parts", "nodes", "platforms"],
        "name": HOSTILE,
    }  # fmt: skip
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "GZ_EXPECTED": json.dumps(expected)}
    env.pop("PYTHONPATH", None)  # the system python must not pick up the venv's packages
    result = subprocess.run(
        [SYSTEM_PYTHON, str(ROOT / "tests" / "qgis_check.py"), str(export / PROJECT_NAME), str(export / GPKG_NAME),
         str(png)], capture_output=True, env=env, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    facts = json.loads(result.stdout.decode().strip().splitlines()[-1])
    assert set(facts["layers"]) == {*LAYOUT_TABLES, "points"}
    assert facts["layers"]["nodes"]["renderer"] == "categorized"
    assert all(layer["gpkg_style_renderer"] != "" for layer in facts["layers"].values())
    assert facts["layers"]["nodes"]["features"] == 28
    assert {k: v for k, v in facts["nodes_line_styles"].items() if k in PRECISION_STYLES} == PRECISION_STYLES
    assert facts["layout"]["page_mm"] == [420.0, 297.0]
    assert {"QgsLayoutItemMap", "QgsLayoutItemLegend", "QgsLayoutItemScaleBar", "QgsLayoutItemPicture",
            "QgsLayoutItemLabel"} <= set(facts["layout"]["items"])  # fmt: skip
    pixels = np.asarray(Image.open(png).convert("L"), dtype=float)
    assert pixels.shape[1] > pixels.shape[0]  # landscape
    assert pixels.std() > 10  # not blank
    assert (pixels < 200).mean() > 0.02  # drawn map, not just a title on white


def test_point_columns_named_like_geopackage_system_columns_are_kept(tmp_path):
    import pandas as pd

    from gzspatial.qgis import export_qgis

    table = pd.DataFrame({"FID": ["a", "b"], "geom": ["x", "y"], "lon": [113.3, 113.4], "lat": [23.1, 23.2]})
    result = export_qgis(tmp_path / "out", points=table, points_crs="wgs84")
    points = pyogrio.read_dataframe(result.gpkg, layer="points")
    assert points[["FID", "geom"]].to_dict("list") == {"FID": ["a", "b"], "geom": ["x", "y"]}
    assert _styles(result.gpkg)["points"]["f_geometry_column"] == "gz_geom"


def test_categorized_style_needs_its_field():
    # a categorized renderer without a field would name no attribute (attr=None) in the .qml
    with pytest.raises(ValueError, match="category_field"):
        qgis.Style("fill", "#000000", categories=(("a", "A", "#ffffff"),))
    assert qgis.Style("fill", "#000000", categories=(("a", "A", "#ffffff"),), category_field="group").categories

"""Tests of the layer schema: types, required properties, allowed values and the core-name accessors."""

import json

import pytest

from gzspatial import schema
from gzspatial._errors import LayerError
from gzspatial.layers import LAYER_NAMES, layer_set, packaged_layers_dir, read_layer, read_layers

from .conftest import invoke_cli


def _packaged_collection(kind):
    return json.loads((packaged_layers_dir() / f"{kind}.geojson").read_text(encoding="utf-8"))


def _write(folder, kind, collection):
    (folder / f"{kind}.geojson").write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return folder


@pytest.mark.parametrize("kind", LAYER_NAMES)
def test_every_packaged_layer_meets_the_schema(kind):
    layer = read_layer(kind, packaged_layers_dir() / f"{kind}.geojson")
    assert all(schema.property_problems(kind, p) == [] for p in layer.properties)
    assert len(layer.sha256) == 64 and layer.version.startswith(layer.metadata["generated"] + "+")


@pytest.mark.parametrize(
    ("prop", "value", "problem"),
    [
        (schema.Prop("name_zh"), 12345, "property 'name_zh' is 12345 (int); expected text"),
        (schema.Prop("area_km2", "number"), "big", "property 'area_km2' is 'big' (str); expected a number"),
        (schema.Prop("area_km2", "number"), True, "expected a number"),  # bool is no number
        (schema.Prop("area_km2", "number"), float("nan"), "expected a number"),
        (schema.Prop("aliases", "list[str]"), "琶洲", "expected a list of text"),
        (schema.Prop("aliases", "list[str]"), ["琶洲", 3], "expected a list of text"),
        (schema.Prop("location_verified", "bool"), "yes", "expected true/false"),
        (schema.Prop("group", allowed=schema.NODE_GROUPS), "north", "expected one of central, east_north, south"),
        (schema.Prop("name_en"), None, "property 'name_en' is null; expected text"),
    ],
)
def test_wrong_values_are_named(prop, value, problem):
    assert problem in prop.problem({prop.name: value})


@pytest.mark.parametrize(
    ("prop", "props"),
    [
        (schema.Prop("area_km2", "number"), {"area_km2": 12}),
        (schema.Prop("area_km2", "number"), {"area_km2": 1.5}),
        (schema.Prop("stated_area_km2", "number", required=False, nullable=True), {"stated_area_km2": None}),
        (schema.Prop("part_en", required=False), {}),
        (schema.Prop("aliases", "list[str]"), {"aliases": []}),
    ],
)
def test_right_values_pass(prop, props):
    assert prop.problem(props) is None


def test_precision_classes_new_and_legacy():
    nodes = _packaged_collection("nodes")["features"][0]["properties"]
    for precision in (*schema.PRECISIONS, "approximate"):
        assert schema.property_problems("nodes", {**nodes, "precision": precision}) == []
    assert schema.precision_class({"precision": "approximate"}) == "indicative"
    assert "expected one of official" in schema.property_problems("nodes", {**nodes, "precision": "exact"})[0]


def test_layout_v2_properties_are_optional_but_typed():
    props = _packaged_collection("cores")["features"][0]["properties"]
    v2 = {**props, "precision": "schematic", "stated_area_km2": 25.0, "stated_area_source": "https://example.org",
          "area_ratio": 1.02, "location_verified": True, "part_en": "Pazhou"}  # fmt: skip
    assert schema.property_problems("cores", v2) == []
    wrong = {**v2, "stated_area_km2": "25", "location_verified": 1, "part_en": None}
    problems = schema.property_problems("cores", wrong)
    assert len(problems) == 3 and all(name in " ".join(problems) for name in ("stated_area_km2", "location_verified"))


def test_core_names_from_part_en_or_legacy_name_en():
    legacy = {"core_name_zh": "试验区", "core_name_en": "Zone", "part": "琶洲片区", "name_en": "Zone — Pazhou"}
    assert schema.core_part_name(legacy, "en") == "Pazhou" and schema.core_part_name(legacy, "zh") == "琶洲片区"
    new = {**legacy, "name_en": "Zone, Pazhou part", "part_en": "Pazhou Part"}
    assert schema.core_part_name(new, "en") == "Pazhou Part"
    whole = {**legacy, "part": "", "name_en": "Zone"}
    assert schema.core_part_name(whole, "en") == "" and schema.core_name(whole, "en") == "Zone"


def test_cores_without_core_name_fail_validation_not_locate(tmp_path):
    """The issue's case: such a layer passed validation, then locate printed None and stats raised KeyError."""
    collection = _packaged_collection("cores")
    for feature in collection["features"]:
        del feature["properties"]["core_name_zh"]
    folder = _write(tmp_path, "cores", collection)
    with pytest.raises(LayerError, match=r"7 problem\(s\): feature 0 \(ai-zone-pazhou\): missing property"):
        read_layers(folder)
    import pandas as pd

    from gzspatial import join

    joined = tmp_path / "joined.csv"
    join(pd.DataFrame({"lon": [113.362], "lat": [23.099]}), crs="wgs84").to_csv(joined, index=False)
    for args in (["locate", "113.36", "23.10"], ["stats", str(joined), "--by", "core"]):
        result = invoke_cli(*args, "--layers", str(folder))
        err = result.stderr.decode()
        assert result.returncode == 2 and err.startswith("error: ") and err.count("\n") == 1, err
        assert "'core_name_zh'" in err and "Traceback" not in err


def test_part_en_replaces_the_split_everywhere(tmp_path, runner):
    """A cores layer whose name_en no longer carries the part: labels come from part_en."""
    import pandas as pd

    from gzspatial import join, locate, stats
    from gzspatial.cli import app

    collection = _packaged_collection("cores")
    for feature in collection["features"]:
        props = feature["properties"]
        props["part_en"] = schema.core_part_name(props, "en") + " Part" if props["part"] else ""
        props["name_en"] = f"{props['core_name_en']} ({props['part_en']})" if props["part"] else props["core_name_en"]
    folder = _write(tmp_path, "cores", collection)
    where = locate(113.362, 23.099, layers=folder)  # in the Pazhou part
    assert where.core.part_en == "Pazhou Part" and where.layers.origin == "--layers"
    joined = join(pd.DataFrame({"lon": [113.362], "lat": [23.099]}), layers=folder, lang="en", crs="wgs84")
    assert joined.loc[0, "gz_core_part"] == "Pazhou Part"
    table = stats(joined, by="core_part", layers=folder).set_index("unit")
    assert table.loc["ai-zone-pazhou", "count"] == 1
    assert table.attrs["layers"]["version"] == layer_set(folder).version == joined.loc[0, "gz_layers_version"]
    result = runner.invoke(app, ["map", "-o", str(tmp_path / "m.html"), "--layers", str(folder), "--lang", "en"])
    assert result.exit_code == 0, result.output
    assert "Pazhou Part" in (tmp_path / "m.html").read_text(encoding="utf-8")


def test_versions_change_with_content_only(tmp_path):
    packaged = layer_set(None)
    assert packaged.origin == "packaged" and packaged.folder == packaged_layers_dir()
    same = tmp_path / "same"
    same.mkdir()
    (same / "nodes.geojson").write_bytes((packaged_layers_dir() / "nodes.geojson").read_bytes())
    assert layer_set(same).version == packaged.version  # identical content, identical version
    collection = _packaged_collection("nodes")
    collection["features"][0]["properties"]["name_en"] += " (edited)"
    edited = _write(tmp_path / "same", "nodes", collection)
    assert layer_set(edited).version != packaged.version


def test_stats_notes_a_table_joined_with_another_layer_set(tmp_path):
    import pandas as pd

    from gzspatial import join

    joined = tmp_path / "joined.csv"
    join(pd.DataFrame({"lon": [113.40], "lat": [23.12]}), crs="wgs84").to_csv(joined, index=False)
    collection = _packaged_collection("nodes")
    collection["features"][0]["properties"]["name_en"] += " (edited)"
    folder = _write(tmp_path, "nodes", collection)
    same = invoke_cli("stats", str(joined), "--by", "node", "--csv")
    assert same.returncode == 0 and same.stderr == b""
    other = invoke_cli("stats", str(joined), "--by", "node", "--csv", "--layers", str(folder))
    note = other.stderr.decode()
    assert other.returncode == 0 and f"joined with layers {layer_set(None).version}" in note
    assert f"counted with {layer_set(folder).version}" in note

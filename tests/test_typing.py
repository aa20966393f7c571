"""The typed public edge: __all__, __version__, py.typed, return types, and the StrEnum vocabularies
matching the strings the data and the outputs use."""

from __future__ import annotations

import ast
import doctest
import importlib
import json
from importlib.metadata import version

import numpy as np
import pytest

import gzspatial
from gzspatial import _validate, crs, figure, geocode, schema, style

from .conftest import ROOT

GEOJSON = ROOT / "data" / "geojson"
#: Modules whose public functions and methods must all declare a return type.
TYPED_MODULES = ("figure", "excel", "qgis", "layer_import", "geocode", "layers", "schema", "locator", "address",
                 "_validate", "crs", "style", "config", "indicators", "sample", "_offline", "_gcj", "_gcj_fast",
                 "__init__")  # fmt: skip


def _property_values(layer: str, name: str) -> set[str]:
    collection = json.loads((GEOJSON / f"{layer}.geojson").read_text(encoding="utf-8"))
    return {f["properties"][name] for f in collection["features"] if f["properties"].get(name) is not None}


def test_all_names_resolve_and_are_sorted():
    assert gzspatial.__all__ == sorted(gzspatial.__all__)
    for name in ("make_figure", "save_figure", "export_qgis", "parse_address", "locate_address", "import_layer"):
        assert name in gzspatial.__all__
    for name in gzspatial.__all__:
        assert getattr(gzspatial, name) is not None, name
    assert gzspatial.make_figure is figure.make_figure
    assert set(gzspatial.__all__) <= set(dir(gzspatial))


def test_version_is_the_installed_metadata():
    assert gzspatial.__version__ == version("gzspatial")
    from gzspatial import __version__

    assert __version__ == version("gzspatial")


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = gzspatial.nope


def test_package_is_marked_typed():
    assert (ROOT / "gzspatial" / "py.typed").is_file()


@pytest.mark.parametrize("module", TYPED_MODULES)
def test_public_functions_declare_return_types(module):
    tree = ast.parse((ROOT / "gzspatial" / f"{module}.py").read_text(encoding="utf-8"))
    missing = []

    def visit(node: ast.AST, owner: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef) and not child.name.startswith("_"):
                visit(child, f"{owner}{child.name}.")
            elif isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                public = not child.name.startswith("_") or child.name in ("__init__", "__post_init__", "__getattr__")
                if public and child.returns is None:
                    missing.append(f"{owner}{child.name} (line {child.lineno})")

    visit(tree, "")
    assert missing == []


@pytest.mark.parametrize("module", ["layers", "locator", "crs", "figure", "layer_import", "address"])
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(f"gzspatial.{module}"))
    assert result.attempted > 0
    assert result.failed == 0


# --- vocabularies ---------------------------------------------------------------------------


def test_precision_enum_matches_the_layer_files():
    used = set().union(*(_property_values(layer, "precision") for layer in ("cores", "nodes", "axis", "platforms")))
    assert used  # the packaged layers do carry precision classes
    assert used <= set(schema.Precision) | set(schema.LEGACY_PRECISIONS)
    assert schema.PRECISIONS == ("official", "road_bounded", "schematic", "indicative")
    assert set(style.PRECISION_LABELS) == set(schema.Precision) | set(schema.LEGACY_PRECISIONS)


def test_node_group_enum_matches_the_nodes_layer_and_the_style():
    assert _property_values("nodes", "group") == set(schema.NodeGroup)
    assert set(style.GROUP_COLORS) == set(style.GROUP_LABELS) == set(schema.NodeGroup)
    assert schema.NODE_GROUPS == ("central", "east_north", "south")


@pytest.mark.parametrize(
    ("layer", "roles"),
    [("cores", {"core", "core_part"}), ("nodes", {"node"}), ("axis", {"axis_section"})],
)
def test_role_enum_matches_the_layer_files(layer, roles):
    used = _property_values(layer, "role")
    assert used <= roles
    assert used <= set(schema.Role)


def test_members_are_the_strings_written_to_data():
    # StrEnum members compare, hash and print as their value, so code comparing with text keeps working
    assert schema.Precision.INDICATIVE == "indicative" and str(schema.Precision.INDICATIVE) == "indicative"
    assert {"central": 1}[schema.NodeGroup.CENTRAL] == 1
    assert all(type(value) is str for value in (*schema.PRECISIONS, *schema.NODE_GROUPS, *_validate.STATUSES))


def test_status_enum_is_the_status_code_table():
    assert _validate.STATUSES == ("ok", "outside", "swapped", "missing", "invalid", "address_only", "geocoded",
                                  "geocoded_coarse")  # fmt: skip
    assert _validate.STATUSES == tuple(_validate.Status)
    checked = _validate.check_points(np.array([113.3, 500.0]), np.array([23.1, 23.1]))
    assert checked.status.tolist() == [_validate.Status.OK, _validate.Status.INVALID]


def test_geocoder_enums_cover_every_provider_and_level():
    assert set(geocode.PROVIDERS) == set(geocode.ProviderName)
    assert {provider.name for provider in geocode.PROVIDERS.values()} == set(geocode.ProviderName)
    for provider in geocode.PROVIDERS.values():
        assert set(provider.level_map.values()) <= set(geocode.Level), provider.name
    assert geocode.LEVELS[0] == "house_number" and geocode.LEVELS[-1] == "unknown"
    assert geocode.SITE_LEVELS == {"house_number", "poi", "street"}


@pytest.mark.parametrize("page", [*figure.Page, "a4", "A3"])
@pytest.mark.parametrize("orientation", [*figure.Orientation, "portrait"])
def test_page_enums_and_strings_give_the_same_size(page, orientation):
    width, height = figure.page_size(str(page), str(orientation))
    assert figure.page_size(page, orientation) == (width, height)
    assert (width > height) == (orientation == "landscape")


def test_named_systems_and_languages():
    assert crs.NAMED_SYSTEMS == ("wgs84", "cgcs2000", "gcj02", "bd09") == tuple(crs.System)
    assert all(crs.normalize_crs(system) == system for system in crs.System)
    assert tuple(style.Lang) == ("zh", "en")
    with pytest.raises(figure.InputError, match="use zh or en"):
        figure.make_figure(lang="fr")

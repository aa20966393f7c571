"""gzspatial: GIS toolkit for Guangzhou's 14th Five-Year sci-tech innovation layout (一轴四核多点).

Storage CRS is WGS84 (EPSG:4326); areas and distances use EPSG:4547 (metres). Heavy modules
load on first use, so ``import gzspatial`` stays cheap for one-shot commands.
"""

from __future__ import annotations

import logging
from importlib import import_module

# The package logger: modules log to logging.getLogger(__name__); an application (the CLI's -v, or
# yours) decides what is shown. Without configuration nothing is printed (not even warnings).
logging.getLogger("gzspatial").addHandler(logging.NullHandler())

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (~10 ms) on a cold start
if TYPE_CHECKING:  # what the lazy names below resolve to, for type checkers and IDEs
    from typing import Any

    __version__: str
    from gzspatial import crs
    from gzspatial.address import parse_address
    from gzspatial.attribute import join
    from gzspatial.crs import transform
    from gzspatial.figure import make_figure, save_figure
    from gzspatial.layer_import import import_layer
    from gzspatial.layers import load_layers
    from gzspatial.locator import (
        AddressLocation,
        AxisSection,
        Core,
        District,
        Location,
        Match,
        NearestNode,
        Node,
        find,
        locate,
        locate_address,
    )
    from gzspatial.maps import make_map
    from gzspatial.qgis import export_qgis
    from gzspatial.summary import stats

__all__ = [
    "AddressLocation",
    "AxisSection",
    "Core",
    "District",
    "Location",
    "Match",
    "NearestNode",
    "Node",
    "__version__",
    "crs",
    "export_qgis",
    "find",
    "import_layer",
    "join",
    "load_layers",
    "locate",
    "locate_address",
    "make_figure",
    "make_map",
    "parse_address",
    "save_figure",
    "stats",
    "transform",
]

_LAZY = {
    "load_layers": ("gzspatial.layers", "load_layers"),
    "transform": ("gzspatial.crs", "transform"),
    "locate": ("gzspatial.locator", "locate"),
    "locate_address": ("gzspatial.locator", "locate_address"),
    "find": ("gzspatial.locator", "find"),
    **{
        name: ("gzspatial.locator", name)
        for name in ("AddressLocation", "AxisSection", "Core", "District", "Location", "Match", "NearestNode", "Node")
    },
    "join": ("gzspatial.attribute", "join"),
    "stats": ("gzspatial.summary", "stats"),
    "make_map": ("gzspatial.maps", "make_map"),
    "make_figure": ("gzspatial.figure", "make_figure"),
    "save_figure": ("gzspatial.figure", "save_figure"),
    "export_qgis": ("gzspatial.qgis", "export_qgis"),
    "parse_address": ("gzspatial.address", "parse_address"),
    "import_layer": ("gzspatial.layer_import", "import_layer"),
}


def _version() -> str:
    """The installed distribution's version (pyproject.toml is the one place it is written).

    Read on first use: importing importlib.metadata costs ~30 ms, more than ``import gzspatial``.
    "0+unknown" only when gzspatial is imported from a source tree that was never installed, where
    there is no metadata to read (a copy of the number here would drift from pyproject.toml).
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("gzspatial")
    except PackageNotFoundError:
        return "0+unknown"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        globals()["__version__"] = found = _version()
        return found
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(import_module(module), attribute)
    if name == "crs":
        return import_module("gzspatial.crs")
    raise AttributeError(f"module 'gzspatial' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

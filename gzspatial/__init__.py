"""gzspatial: GIS toolkit for Guangzhou's 14th Five-Year sci-tech innovation layout (一轴四核多点).

Storage CRS is WGS84 (EPSG:4326); areas and distances use EPSG:4547 (metres). Heavy modules
load on first use, so ``import gzspatial`` stays cheap for one-shot commands.
"""

from importlib import import_module

__version__ = "0.1.0"

__all__ = [
    "Location",
    "__version__",
    "crs",
    "find",
    "join",
    "load_layers",
    "locate",
    "make_map",
    "stats",
    "transform",
]

_LAZY = {
    "load_layers": ("gzspatial.layers", "load_layers"),
    "transform": ("gzspatial.crs", "transform"),
    "locate": ("gzspatial.locator", "locate"),
    "find": ("gzspatial.locator", "find"),
    "Location": ("gzspatial.locator", "Location"),
    "join": ("gzspatial.attribute", "join"),
    "stats": ("gzspatial.summary", "stats"),
    "make_map": ("gzspatial.maps", "make_map"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(import_module(module), attribute)
    if name == "crs":
        return import_module("gzspatial.crs")
    raise AttributeError(f"module 'gzspatial' has no attribute {name!r}")

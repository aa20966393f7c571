"""The packaged layers (districts, city, cores, nodes, axis): finding, validating and loading them.

Layers are RFC 7946 GeoJSON in WGS84 (EPSG:4326). A user may replace any packaged layer with a
file of the same name in their own folder (``layers=DIR``); replacements are validated, and
every problem is reported, never silently repaired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import shapely

from gzspatial._errors import LayerError

#: Layer names in load order; each is ``<name>.geojson``.
LAYER_NAMES = ("districts", "city", "cores", "nodes", "axis", "platforms")
#: Layers every installation must have.
REQUIRED_LAYERS = ("districts", "city")
#: Properties each feature of a layer must carry.
REQUIRED_PROPERTIES = {
    "districts": ("id", "adcode", "name_zh", "name_en", "area_km2"),
    "city": ("id", "adcode", "name_zh", "name_en"),
    "cores": (
        "id",
        "name_zh",
        "name_en",
        "aliases",
        "role",
        "district_codes",
        "seed_ref",
        "description_zh",
        "precision",
        "source",
        "area_km2",
        "core_id",
        "part",
    ),
    "nodes": (
        "id",
        "name_zh",
        "name_en",
        "aliases",
        "role",
        "district_codes",
        "seed_ref",
        "description_zh",
        "precision",
        "source",
        "area_km2",
        "group",
    ),
    "axis": (
        "id",
        "name_zh",
        "name_en",
        "aliases",
        "role",
        "district_codes",
        "seed_ref",
        "description_zh",
        "precision",
        "source",
        "places",
    ),
    "platforms": ("id", "name_zh", "name_en", "type", "level", "seed_ref", "precision", "source"),
}
_GEOMETRY_TYPES = {
    "districts": ("Polygon", "MultiPolygon"),
    "city": ("Polygon", "MultiPolygon"),
    "cores": ("Polygon", "MultiPolygon"),
    "nodes": ("Polygon", "MultiPolygon"),
    "axis": ("LineString", "MultiLineString"),
    "platforms": ("Point",),
}
_WGS84_CRS_NAMES = (
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "urn:ogc:def:crs:OGC::CRS84",
    "EPSG:4326",
    "urn:ogc:def:crs:EPSG::4326",
)


def packaged_layers_dir() -> Path:
    """Folder of the layers shipped with gzspatial (inside a wheel, or ``data/geojson`` in a checkout)."""
    here = Path(__file__).resolve().parent
    installed = here / "_data" / "geojson"
    return installed if installed.is_dir() else here.parent / "data" / "geojson"


@dataclass(frozen=True)
class Layer:
    """One layer: feature properties and shapely geometries (WGS84 degrees), plus file metadata."""

    name: str
    path: Path
    properties: list[dict]
    geometries: np.ndarray
    metadata: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.properties)

    def column(self, key: str) -> list:
        """Values of one property over the features, in feature order."""
        return [p.get(key) for p in self.properties]


def layer_paths(layers: str | Path | None = None) -> dict[str, Path]:
    """Path of each available layer: the user's folder first, then the packaged one."""
    packaged = packaged_layers_dir()
    user = None if layers is None else Path(layers)
    if user is not None and not user.is_dir():
        raise LayerError(f"layers folder {str(user)!r} does not exist: give a folder holding <layer>.geojson files")
    paths = {}
    for name in LAYER_NAMES:
        for folder in (user, packaged):
            if folder is not None and (folder / f"{name}.geojson").is_file():
                paths[name] = folder / f"{name}.geojson"
                break
    missing = [name for name in REQUIRED_LAYERS if name not in paths]
    if missing:
        raise LayerError(f"required layers missing: {', '.join(missing)} (looked in {user or packaged})")
    return paths


def read_layer(name: str, path: Path) -> Layer:
    """Read and validate one layer file; raise LayerError listing every problem found."""
    try:
        collection = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LayerError(f"{path}: not readable as UTF-8 GeoJSON ({exc})") from None
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise LayerError(f"{path}: expected a GeoJSON FeatureCollection")
    problems = _crs_problems(collection)
    properties, geometries = [], []
    for index, feature in enumerate(collection.get("features") or []):
        label = f"feature {index}"
        props = (feature or {}).get("properties") or {}
        if props.get("id"):
            label += f" ({props['id']})"
        problems += [f"{label}: missing property {key!r}" for key in REQUIRED_PROPERTIES[name] if key not in props]
        geometry, geometry_problem = _parse_geometry(feature, _GEOMETRY_TYPES[name])
        if geometry_problem:
            problems.append(f"{label}: {geometry_problem}")
        properties.append(props)
        geometries.append(geometry)
    if not properties:
        problems.append("no features")
    ids = [p.get("id") for p in properties]
    duplicates = sorted({str(i) for i in ids if ids.count(i) > 1})
    if duplicates:
        problems.append(f"duplicate ids: {', '.join(duplicates)}")
    if problems:
        raise LayerError(f"{path}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))
    return Layer(name, Path(path), properties, np.array(geometries, dtype=object), collection.get("metadata") or {})


def _crs_problems(collection: dict) -> list[str]:
    declared = ((collection.get("crs") or {}).get("properties") or {}).get("name")
    if declared and declared not in _WGS84_CRS_NAMES:
        return [f"declares CRS {declared!r}; layers must be WGS84 lon/lat (RFC 7946): reproject with gzspatial convert"]
    return []


def _parse_geometry(feature: dict, allowed: tuple[str, ...]) -> tuple[shapely.Geometry | None, str | None]:
    raw = (feature or {}).get("geometry")
    if not raw:
        return None, "no geometry"
    if raw.get("type") not in allowed:
        return None, f"geometry type {raw.get('type')!r}, expected {' or '.join(allowed)}"
    try:
        geometry = shapely.from_geojson(json.dumps(raw))
    except shapely.errors.GEOSException as exc:
        return None, f"unreadable geometry ({exc})"
    if geometry.is_empty:
        return None, "empty geometry"
    if not geometry.is_valid:
        return geometry, f"invalid geometry: {shapely.is_valid_reason(geometry)} (fix it at the source; not repaired)"
    minx, miny, maxx, maxy = geometry.bounds
    if not (-180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90):
        return geometry, f"coordinates {geometry.bounds} are not lon/lat degrees: layers must be WGS84 (RFC 7946)"
    return geometry, None


@lru_cache(maxsize=8)
def _read_layers_cached(paths: tuple[tuple[str, Path, float], ...]) -> dict[str, Layer]:
    return {name: read_layer(name, path) for name, path, _ in paths}


def read_layers(layers: str | Path | None = None) -> dict[str, Layer]:
    """Every available layer as :class:`Layer` (light: no geopandas), cached per file version."""
    paths = layer_paths(layers)
    key = tuple((name, path, path.stat().st_mtime) for name, path in paths.items())
    return _read_layers_cached(key)


def load_layers(layers: str | Path | None = None) -> dict:
    """The layers as GeoDataFrames (EPSG:4326) keyed by name: districts, city, cores, nodes, axis…"""
    import geopandas

    frames = {}
    for name, layer in read_layers(layers).items():
        frame = geopandas.GeoDataFrame(layer.properties, geometry=list(layer.geometries), crs="EPSG:4326")
        frame.attrs["metadata"] = layer.metadata
        frame.attrs["path"] = str(layer.path)
        frames[name] = frame
    return frames


def replaced_layers(layers: str | Path) -> list[str]:
    """Names of the layers a user's folder replaces (those with a ``<name>.geojson`` file in it)."""
    return [name for name in LAYER_NAMES if (Path(layers) / f"{name}.geojson").is_file()]

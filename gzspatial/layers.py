"""The layers (districts, city, cores, nodes, axis, platforms): finding, validating, versioning and loading them.

Layers are RFC 7946 GeoJSON in WGS84 (EPSG:4326). A user may replace any packaged layer with a
file of the same name in their own folder, chosen by ``layers=DIR`` (``--layers``), else the
``GZ_LAYERS`` environment variable, else ``gzspatial config set layers DIR``; replacements are
validated against :mod:`gzspatial.schema`, and every problem is reported, never silently repaired.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import shapely

from gzspatial._errors import LayerError
from gzspatial.i18n import _
from gzspatial.schema import GEOMETRY_TYPES, property_problems, required_properties

if TYPE_CHECKING:
    import geopandas

#: Layer names in load order; each is ``<name>.geojson``.
LAYER_NAMES = ("districts", "city", "cores", "nodes", "axis", "platforms")
#: Environment variable naming the default layers folder (below ``--layers``, above the config file).
LAYERS_ENV = "GZ_LAYERS"
#: Layers every installation must have.
REQUIRED_LAYERS = ("districts", "city")
#: Properties each feature of a layer must carry (the full typed schema is gzspatial.schema.SCHEMA).
REQUIRED_PROPERTIES = {name: required_properties(name) for name in LAYER_NAMES}
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
    sha256: str = ""  # of the file's bytes

    def __len__(self) -> int:
        return len(self.properties)

    def column(self, key: str) -> list:
        """Values of one property over the features, in feature order."""
        return [p.get(key) for p in self.properties]

    @property
    def version(self) -> str:
        """``<generated date>+<first 8 hex of sha256>``: which content of this layer answered."""
        return f"{self.metadata.get('generated') or 'undated'}+{self.sha256[:8]}"


@dataclass(frozen=True)
class LayerSet:
    """Which layer set answers: where it was chosen (``--layers``, ``GZ_LAYERS``, ``config``,
    ``packaged``), its folder, and its version (newest generated date + hash of every file used)."""

    origin: str
    folder: Path
    version: str

    def describe(self) -> str:
        """One line for stderr and reports, e.g. ``layers 2026-11-27+1a2b3c4d (packaged: /…/geojson)``."""
        return _("layers {version} ({origin}: {folder})").format(**self.to_dict())

    def to_dict(self) -> dict:
        return {"origin": self.origin, "folder": str(self.folder), "version": self.version}


def resolve_layers(layers: str | Path | None = None) -> tuple[Path | None, str]:
    """The user layers folder and where it came from: ``--layers`` > ``GZ_LAYERS`` > config > packaged.

    Returns (None, "packaged") when no folder is set anywhere.
    """
    if layers is not None:
        return Path(layers), "--layers"
    if os.environ.get(LAYERS_ENV):
        return Path(os.environ[LAYERS_ENV]), LAYERS_ENV
    from gzspatial.config import read_config

    configured = read_config().get("layers")
    if configured:
        return Path(configured), "config"
    return None, "packaged"


def layer_paths(layers: str | Path | None = None) -> dict[str, Path]:
    """Path of each available layer: the user's folder (see :func:`resolve_layers`) first, then the packaged one."""
    packaged = packaged_layers_dir()
    user, origin = resolve_layers(layers)
    if user is not None and not user.is_dir():
        raise LayerError(
            _(
                "layers folder {user!r} (from {origin}) does not exist: give a folder holding <layer>.geojson files"
            ).format(user=str(user), origin=origin)
        )
    paths = {}
    for name in LAYER_NAMES:
        for folder in (user, packaged):
            if folder is not None and (folder / f"{name}.geojson").is_file():
                paths[name] = folder / f"{name}.geojson"
                break
    missing = [name for name in REQUIRED_LAYERS if name not in paths]
    if missing:
        raise LayerError(
            _("required layers missing: {missing} (looked in {user})").format(
                missing=", ".join(missing), user=user or packaged
            )
        )
    return paths


def read_layer(name: str, path: Path) -> Layer:
    """Read and validate one layer file against :data:`gzspatial.schema.SCHEMA`; raise LayerError
    listing every problem found (missing or mistyped properties, bad geometry, duplicate ids)."""
    try:
        data = Path(path).read_bytes()
        collection = json.loads(data.decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise LayerError(_("{path}: not readable as UTF-8 GeoJSON ({exc})").format(path=path, exc=exc)) from None
    if not isinstance(collection, dict) or collection.get("type") != "FeatureCollection":
        raise LayerError(_("{path}: expected a GeoJSON FeatureCollection").format(path=path))
    features = collection.get("features")
    if not isinstance(features, list):
        raise LayerError(
            _("{path}: 'features' is {name}, expected a list of GeoJSON Features").format(
                path=path, name=type(features).__name__
            )
        )
    problems = _crs_problems(collection)
    properties: list[dict] = []
    geometries: list[shapely.Geometry | None] = []
    for index, feature in enumerate(features):
        if not isinstance(feature, dict):
            problems.append(f"feature {index}: is {type(feature).__name__}, expected a GeoJSON Feature")
            properties.append({})
            geometries.append(None)
            continue
        label = f"feature {index}"
        props = feature.get("properties") or {}
        if isinstance(props, dict) and props.get("id"):
            label += f" ({props['id']})"
        problems += [f"{label}: {problem}" for problem in property_problems(name, props)]
        geometry, geometry_problem = _parse_geometry(feature, GEOMETRY_TYPES[name])
        if geometry_problem:
            problems.append(f"{label}: {geometry_problem}")
        properties.append(props if isinstance(props, dict) else {})
        geometries.append(geometry)
    if not properties:
        problems.append("no features")
    counts = Counter(str(p.get("id")) for p in properties if p.get("id") is not None)
    duplicates = sorted(i for i, n in counts.items() if n > 1)
    if duplicates:
        problems.append(f"duplicate ids: {', '.join(duplicates)}")
    if problems:
        raise LayerError(
            _("{path}: {n} problem(s): {problems}").format(path=path, n=len(problems), problems="; ".join(problems))
        )
    metadata = collection.get("metadata")
    if not isinstance(metadata, dict):
        metadata = {}
    sha = hashlib.sha256(data).hexdigest()
    return Layer(name, Path(path), properties, np.array(geometries, dtype=object), metadata, sha)


def _crs_problems(collection: dict) -> list[str]:
    declared = ((collection.get("crs") or {}).get("properties") or {}).get("name")
    if declared and declared not in _WGS84_CRS_NAMES:
        return [f"declares CRS {declared!r}; layers must be WGS84 lon/lat (RFC 7946): reproject with gzspatial convert"]
    return []


def _parse_geometry(feature: dict, allowed: tuple[str, ...]) -> tuple[shapely.Geometry | None, str | None]:
    raw = feature.get("geometry")
    if not raw:
        return None, "no geometry"
    if not isinstance(raw, dict):
        return None, f"geometry is {type(raw).__name__}, expected a GeoJSON geometry object"
    if raw.get("type") not in allowed:
        return None, f"geometry type {raw.get('type')!r}, expected {' or '.join(allowed)}"
    try:
        geometry = shapely.from_geojson(json.dumps(raw))
    except (shapely.errors.GEOSException, ValueError, TypeError) as exc:
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
def _read_layers_cached(paths: tuple[tuple[str, Path, int, int], ...]) -> dict[str, Layer]:
    return {name: read_layer(name, path) for name, path, *_ in paths}


def read_layers(layers: str | Path | None = None) -> dict[str, Layer]:
    """Every available layer as :class:`Layer` (light: no geopandas), cached per file version."""
    paths = layer_paths(layers)
    key = tuple((name, path, path.stat().st_mtime_ns, path.stat().st_size) for name, path in paths.items())
    return _read_layers_cached(key)


def layer_set(layers: str | Path | None = None) -> LayerSet:
    """Which layer set answers (origin, folder, version) for ``layers`` (see :func:`resolve_layers`).

    The version is the newest ``metadata.generated`` date of the layers used, ``+``, the first 8 hex
    of a SHA-256 over every used file's name and content hash: equal versions, equal answers.
    """
    user, origin = resolve_layers(layers)
    version = layers_version(read_layers(layers))
    return LayerSet(origin, user.resolve() if user is not None else packaged_layers_dir(), version)


def layers_version(used: dict[str, Layer]) -> str:
    """Version of a set of layers: newest generated date + 8 hex of a hash over names and contents."""
    digest = hashlib.sha256("".join(f"{name}:{layer.sha256};" for name, layer in sorted(used.items())).encode())
    dates = sorted(str(layer.metadata.get("generated") or "") for layer in used.values())
    return f"{dates[-1] or 'undated'}+{digest.hexdigest()[:8]}"


def load_layers(layers: str | Path | None = None) -> dict[str, geopandas.GeoDataFrame]:
    """The layers as GeoDataFrames (EPSG:4326) keyed by name: districts, city, cores, nodes, axis…

    Parameters
    ----------
    layers : str or Path, optional
        A folder of ``<name>.geojson`` files replacing packaged layers of the same name; default
        ``GZ_LAYERS``, then the config file, then the packaged layers.

    Returns
    -------
    dict of str to GeoDataFrame
        One frame per layer, feature properties as columns, WGS84 (EPSG:4326) geometries;
        ``attrs`` holds the file's ``metadata``, its ``path`` and the ``layer_set`` that answered.

    Raises
    ------
    LayerError
        A layer file is unreadable or breaks the schema (every problem named).

    Examples
    --------
    >>> import gzspatial
    >>> layers = gzspatial.load_layers()
    >>> sorted(layers)
    ['axis', 'city', 'cores', 'districts', 'nodes', 'platforms']
    >>> len(layers["nodes"]), str(layers["nodes"].crs)
    (28, 'EPSG:4326')
    """
    import geopandas

    frames = {}
    answering = layer_set(layers).to_dict()
    for name, layer in read_layers(layers).items():
        frame = geopandas.GeoDataFrame(layer.properties, geometry=list(layer.geometries), crs="EPSG:4326")
        frame.attrs["metadata"] = layer.metadata
        frame.attrs["path"] = str(layer.path)
        frame.attrs["layer_set"] = answering
        frames[name] = frame
    return frames


def replaced_layers(layers: str | Path) -> list[str]:
    """Names of the layers a user's folder replaces (those with a ``<name>.geojson`` file in it)."""
    return [name for name in LAYER_NAMES if (Path(layers) / f"{name}.geojson").is_file()]

"""Reading and writing the packaged GeoJSON layers (RFC 7946: WGS84, counter-clockwise shells)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import shapely

from gzspatial.io import atomic_output

#: Decimal places kept in written coordinates: 1e-7 degrees is about 1 cm.
COORDINATE_DECIMALS = 7


def feature(properties: dict, geometry: shapely.Geometry) -> dict:
    """One GeoJSON Feature; polygons are oriented by the right-hand rule (RFC 7946 §3.1.6)."""
    geometry = shapely.orient_polygons(geometry, exterior_cw=False)
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": json.loads(shapely.to_geojson(geometry)),
    }


def write_feature_collection(
    path: Path, features: Iterable[tuple[dict, shapely.Geometry]], *, name: str, metadata: dict
) -> None:
    """Write a FeatureCollection atomically; ``metadata`` is a foreign member (RFC 7946 §6.1)."""
    collection = {
        "type": "FeatureCollection",
        "name": name,
        "metadata": metadata,
        "features": [feature(p, shapely.set_precision(g, 10**-COORDINATE_DECIMALS)) for p, g in features],
    }
    with atomic_output(Path(path), "w", encoding="utf-8") as handle:
        json.dump(collection, handle, ensure_ascii=False, indent=1)
        handle.write("\n")

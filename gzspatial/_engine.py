"""The attribution engine: which district, core part, nodes and axis section hold each point.

Works on WGS84 coordinate arrays (degrees). Containment is ``intersects`` (a point on a boundary
is inside), as geopandas.sjoin(predicate="intersects"). Distances are metres in EPSG:4547.
Used by ``locate`` (one point) and ``join`` (millions); both get the same answers.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import shapely

from gzspatial import crs
from gzspatial.layers import Layer, read_layers

#: Default half-width of the axis corridor, km.
DEFAULT_CORRIDOR_KM = 2.0


@dataclass(frozen=True)
class PolygonLayer:
    """A polygon layer ready for queries: WGS84 geometries, their STRtree, metric areas."""

    layer: Layer
    tree: shapely.STRtree
    area_km2: np.ndarray

    @classmethod
    def build(cls, layer: Layer) -> PolygonLayer:
        geometries = layer.geometries
        shapely.prepare(geometries)
        area = shapely.area(crs.to_metric(geometries)) / 1e6
        return cls(layer, shapely.STRtree(geometries), area)

    def containing_pairs(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point index, feature index) of every point–feature pair that intersects, point-major."""
        pairs = self.tree.query(points, predicate="intersects")
        order = np.lexsort((self.area_km2[pairs[1]], pairs[0]))  # per point: smallest feature first
        return pairs[0][order], pairs[1][order]

    def first_containing(self, points: np.ndarray) -> np.ndarray:
        """Index of the smallest feature holding each point, -1 where none does."""
        point_idx, feature_idx = self.containing_pairs(points)
        result = np.full(len(points), -1, dtype=np.int64)
        first = np.ones(len(point_idx), dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        result[point_idx[first]] = feature_idx[first]
        return result


class LayoutIndex:
    """All layers of one layer folder, indexed for point queries."""

    def __init__(self, layers: str | Path | None = None):
        self.layers = read_layers(layers)
        self.districts = PolygonLayer.build(self.layers["districts"])
        self.city = PolygonLayer.build(self.layers["city"])
        self.cores = PolygonLayer.build(self.layers["cores"]) if "cores" in self.layers else None
        self.nodes = PolygonLayer.build(self.layers["nodes"]) if "nodes" in self.layers else None
        self.axis = self.layers.get("axis")

    @cached_property
    def axis_metric(self) -> np.ndarray:
        return crs.to_metric(self.axis.geometries)

    @cached_property
    def nodes_metric(self) -> np.ndarray:
        return crs.to_metric(self.nodes.layer.geometries)

    @cached_property
    def nodes_metric_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.nodes_metric)

    def axis_distance(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest axis section (index) and distance to it (m), from metric coordinates."""
        points = shapely.points(x, y)
        distances = shapely.distance(points[:, None], self.axis_metric[None, :])
        nearest = np.argmin(np.where(np.isnan(distances), np.inf, distances), axis=1)
        distance = distances[np.arange(len(points)), nearest]
        return np.where(np.isnan(distance), -1, nearest), distance

    def nearest_node(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Nearest node (index) and distance to it (m, 0 inside), from metric coordinates."""
        points = shapely.points(x, y)
        valid = ~np.isnan(x) & ~np.isnan(y)
        index = np.full(len(points), -1, dtype=np.int64)
        distance = np.full(len(points), np.nan)
        if valid.any():
            pairs, dist = self.nodes_metric_tree.query_nearest(points[valid], return_distance=True, all_matches=False)
            index[np.flatnonzero(valid)[pairs[0]]] = pairs[1]
            distance[np.flatnonzero(valid)[pairs[0]]] = dist
        return index, distance


@lru_cache(maxsize=4)
def _cached_index(key: tuple) -> LayoutIndex:
    return LayoutIndex(key[0])


def layout_index(layers: str | Path | None = None) -> LayoutIndex:
    """The LayoutIndex of a layer folder (None: packaged), cached per folder and file versions."""
    paths = tuple(
        sorted((name, str(layer.path), layer.path.stat().st_mtime) for name, layer in read_layers(layers).items())
    )
    return _cached_index((layers, paths))

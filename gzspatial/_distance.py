"""Nearest feature and distance (metres, EPSG:4547) for millions of points, compiled with numba.

shapely's STRtree.query_nearest answers the same question one point at a time through GEOS; for
tens of millions of points a fused loop over the features' segments, with bounding-box pruning,
is many times faster. Distances are to the features' outlines (points inside a polygon are
handled by the caller, which knows containment already). Small inputs use shapely instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np
import shapely


@dataclass(frozen=True)
class Segments:
    """The outline segments of a list of metric geometries, grouped per feature (CSR offsets)."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    offsets: np.ndarray
    bounds: np.ndarray  # (n_features, 4) minx, miny, maxx, maxy

    @classmethod
    def of(cls, geometries: np.ndarray) -> Segments:
        outlines = [g if g.geom_type.endswith("LineString") else g.boundary for g in geometries]
        parts_per_feature = [shapely.get_parts(o) for o in outlines]
        x0, y0, x1, y1, counts = [], [], [], [], []
        for parts in parts_per_feature:
            n = 0
            for part in parts:
                xy = shapely.get_coordinates(part)
                x0.append(xy[:-1, 0])
                y0.append(xy[:-1, 1])
                x1.append(xy[1:, 0])
                y1.append(xy[1:, 1])
                n += len(xy) - 1
            counts.append(n)
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        bounds = shapely.bounds(np.asarray(geometries))
        return cls(*(np.concatenate(a) for a in (x0, y0, x1, y1)), offsets, bounds)


@numba.njit(cache=True, inline="always")
def _segment_d2(x, y, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0.0 else ((x - ax) * dx + (y - ay) * dy) / length2
    t = min(1.0, max(0.0, t))
    ex, ey = ax + t * dx - x, ay + t * dy - y
    return ex * ex + ey * ey


@numba.njit(cache=True, inline="always")
def _box_d2(x, y, minx, miny, maxx, maxy):
    dx = max(minx - x, 0.0, x - maxx)
    dy = max(miny - y, 0.0, y - maxy)
    return dx * dx + dy * dy


@numba.njit(cache=True, inline="always")
def _feature_d2(x, y, f, x0, y0, x1, y1, offsets):
    best = np.inf
    for s in range(offsets[f], offsets[f + 1]):
        d2 = _segment_d2(x, y, x0[s], y0[s], x1[s], y1[s])
        if d2 < best:
            best = d2
    return best


@numba.njit(parallel=True, cache=True)
def _nearest(px, py, skip, x0, y0, x1, y1, offsets, bounds, out_index, out_distance):
    n_features = offsets.shape[0] - 1
    for i in numba.prange(px.shape[0]):
        x, y = px[i], py[i]
        if skip[i] or np.isnan(x) or np.isnan(y):
            out_index[i] = -1
            out_distance[i] = np.nan
            continue
        # Start with the feature whose box is nearest, then visit only boxes nearer than the best.
        first, first_d2 = 0, np.inf
        for f in range(n_features):
            d2 = _box_d2(x, y, bounds[f, 0], bounds[f, 1], bounds[f, 2], bounds[f, 3])
            if d2 < first_d2:
                first, first_d2 = f, d2
        best = _feature_d2(x, y, first, x0, y0, x1, y1, offsets)
        best_f = first
        for f in range(n_features):
            if f == first or _box_d2(x, y, bounds[f, 0], bounds[f, 1], bounds[f, 2], bounds[f, 3]) > best:
                continue
            d2 = _feature_d2(x, y, f, x0, y0, x1, y1, offsets)
            if d2 < best or (d2 == best and f < best_f):  # ties (shared outlines): lowest index
                best, best_f = d2, f
        out_index[i] = best_f
        out_distance[i] = np.sqrt(best)


def nearest(segments: Segments, x: np.ndarray, y: np.ndarray, skip: np.ndarray | None = None):
    """Index of the nearest feature's outline and the distance to it, per metric point.

    ``skip`` marks points not to compute (index -1, distance NaN), as do NaN coordinates.
    """
    skip = np.zeros(x.shape, dtype=bool) if skip is None else skip
    index = np.empty(x.shape, dtype=np.int64)
    distance = np.empty(x.shape, dtype=np.float64)
    _nearest(
        np.ascontiguousarray(x, dtype=np.float64),
        np.ascontiguousarray(y, dtype=np.float64),
        skip,
        segments.x0,
        segments.y0,
        segments.x1,
        segments.y1,
        segments.offsets,
        np.ascontiguousarray(segments.bounds),
        index,
        distance,
    )
    return index, distance

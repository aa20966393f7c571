"""Nearest feature and distance (metres, EPSG:4547) for millions of points, compiled with numba.

shapely's STRtree.query_nearest answers the same question one point at a time through GEOS; for
tens of millions of points a compiled loop is many times faster. The outlines are cut into
chunks of a few consecutive segments, each with a bounding box, and a grid of cells over the
city lists, per cell, the only chunks that can hold the nearest segment of a point in that cell
(sorted by their distance to the cell, so the search stops early; a chunk whose box is farther
than the best distance so far is skipped). The answer is exact: the
nearest segment is always among a cell's candidates and every distance is computed the same
way as by the brute-force kernel, which still serves points off the grid. Distances are to the
features' outlines (points inside a polygon are handled by the caller, which knows containment
already). Small inputs use shapely instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numba
import numpy as np
import shapely

from gzspatial._parallel import for_slices
from gzspatial.settings import DISTANCE_CELL_M as CELL_M

#: Segments per chunk of a dense outline (one bounding-box test stands for this many segment tests).
CHUNK_SEGMENTS = 8

#: Distances are written rounded to 0.1 m: the rounding turns at multiples of 0.05 m (1 / 20).
ROUNDING_STEPS_PER_M = 20.0

#: Bounds are loosened by this much (metres) so that rounding never prunes a nearest segment.
SLACK_M = 1e-3


@dataclass(frozen=True)
class Segments:
    """The outline segments of a list of metric geometries, grouped per feature (CSR offsets)."""

    x0: np.ndarray
    y0: np.ndarray
    x1: np.ndarray
    y1: np.ndarray
    offsets: np.ndarray
    bounds: np.ndarray  # (n_features, 4) minx, miny, maxx, maxy

    @cached_property
    def steps(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x1 - x0, y1 - y0, 1 / squared length or 0): the kernels multiply instead of divide."""
        dx, dy = self.x1 - self.x0, self.y1 - self.y0
        length2 = dx * dx + dy * dy
        inverse = np.divide(1.0, length2, out=np.zeros_like(length2), where=length2 != 0)
        return dx, dy, inverse

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
        return cls(np.concatenate(x0), np.concatenate(y0), np.concatenate(x1), np.concatenate(y1), offsets, bounds)


@dataclass(frozen=True)
class CellIndex:
    """Per grid cell, the only chunks of segments that can hold the nearest segment to a point in
    it (CSR, nearest first).

    A chunk is up to CHUNK_SEGMENTS consecutive segments of one feature, with a bounding box
    (widened by SLACK_M). Each cell entry is 8 bytes, (chunk, squared lower bound of the distance
    from the cell rounded down to float32), so that a point reads one cache line of its cell.
    """

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    cell_offsets: np.ndarray  # (nx * ny + 1,) int64
    entries: np.ndarray  # (n, 2) int32: chunk, float32 bits of the lower bound
    feature: np.ndarray  # feature of each segment, int64
    chunk_start: np.ndarray  # chunk k is segments [chunk_start[k], chunk_start[k + 1])
    chunk_box: np.ndarray  # (n_chunks, 4) minx, miny, maxx, maxy, widened by SLACK_M

    @property
    def lower(self) -> np.ndarray:
        return self.entries.view(np.float32)

    @classmethod
    def build(cls, segments: Segments, bounds, cell: float = CELL_M) -> CellIndex:
        """Index ``segments`` for points in ``bounds`` (minx, miny, maxx, maxy; metres)."""
        feature = np.repeat(np.arange(len(segments.offsets) - 1), np.diff(segments.offsets))
        # Short segments (dense outlines) are grouped; long ones (an axis) are better alone.
        length = np.hypot(segments.x1 - segments.x0, segments.y1 - segments.y0)
        size = CHUNK_SEGMENTS if len(length) and np.median(length) < cell / 4 else 1
        ends = zip(segments.offsets[:-1], segments.offsets[1:], strict=True)
        starts = [np.arange(a, b, size, dtype=np.int64) for a, b in ends]  # chunks never span features
        chunk_start = np.concatenate([np.zeros(0, dtype=np.int64), *starts, segments.offsets[-1:]])
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        nx, ny = max(1, int(np.ceil((maxx - minx) / cell))), max(1, int(np.ceil((maxy - miny) / cell)))
        box = _chunk_boxes(chunk_start, segments.x0, segments.y0, segments.x1, segments.y1)
        args = (minx, miny, cell, nx, ny, chunk_start, box, segments.x0, segments.y0, segments.x1, segments.y1)
        counts = np.zeros(nx * ny + 1, dtype=np.int64)
        _candidates(*args, counts[1:], np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0))
        offsets = np.cumsum(counts)
        chunk, lower = np.empty(offsets[-1], dtype=np.int32), np.empty(offsets[-1])
        _candidates(*args, counts[1:], offsets, chunk, lower)
        entries = np.empty((len(chunk), 2), dtype=np.int32)
        entries[:, 0] = chunk
        low32 = lower.astype(np.float32)
        low32 = np.where(low32 > lower, np.nextafter(low32, np.float32(0)), low32)  # never above the bound
        entries[:, 1] = low32.view(np.int32)
        widened = box + np.array([-SLACK_M, -SLACK_M, SLACK_M, SLACK_M])
        return cls(minx, miny, cell, nx, ny, offsets, entries, feature, chunk_start, widened)


@numba.njit(cache=True, nogil=True)
def _chunk_boxes(chunk_start, x0, y0, x1, y1):
    box = np.empty((chunk_start.shape[0] - 1, 4))
    for k in range(chunk_start.shape[0] - 1):
        box[k, 0], box[k, 1], box[k, 2], box[k, 3] = np.inf, np.inf, -np.inf, -np.inf
        for s in range(chunk_start[k], chunk_start[k + 1]):
            box[k, 0] = min(box[k, 0], x0[s], x1[s])
            box[k, 1] = min(box[k, 1], y0[s], y1[s])
            box[k, 2] = max(box[k, 2], x0[s], x1[s])
            box[k, 3] = max(box[k, 3], y0[s], y1[s])
    return box


@numba.njit(cache=True, inline="always")
def _cross(ax, ay, bx, by, px, py):
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax)


@numba.njit(cache=True)
def _box_segment_d2(minx, miny, maxx, maxy, ax, ay, bx, by):
    """Squared distance from a box to a segment (0 when they may touch: a lower bound)."""
    if max(ax, bx) >= minx and min(ax, bx) <= maxx and max(ay, by) >= miny and min(ay, by) <= maxy:
        s1 = _cross(ax, ay, bx, by, minx, miny)
        s2 = _cross(ax, ay, bx, by, maxx, miny)
        s3 = _cross(ax, ay, bx, by, maxx, maxy)
        s4 = _cross(ax, ay, bx, by, minx, maxy)
        if not ((s1 > 0 and s2 > 0 and s3 > 0 and s4 > 0) or (s1 < 0 and s2 < 0 and s3 < 0 and s4 < 0)):
            return 0.0
    d2 = min(_box_d2(ax, ay, minx, miny, maxx, maxy), _box_d2(bx, by, minx, miny, maxx, maxy))
    d2 = min(d2, _segment_d2(minx, miny, ax, ay, bx, by), _segment_d2(maxx, miny, ax, ay, bx, by))
    return min(d2, _segment_d2(maxx, maxy, ax, ay, bx, by), _segment_d2(minx, maxy, ax, ay, bx, by))


@numba.njit(cache=True, nogil=True)
def _candidates(gx, gy, cell, nx, ny, chunk_start, box, x0, y0, x1, y1, counts, offsets, chunk, bound):
    """Per cell, the chunks that may hold the segment nearest to a point in the cell.

    Upper bound: the farthest cell corner from a segment (distance to a segment is convex, so
    its maximum over the cell is at a corner), minimised over segments. A chunk is a candidate
    if one of its segments is not farther from the cell than that. With ``offsets`` empty only
    ``counts`` is filled; otherwise the entries are written, sorted by lower bound.
    """
    n_chunks = chunk_start.shape[0] - 1
    box_lower = np.empty(n_chunks)
    lower = np.empty(n_chunks)
    found = np.empty(n_chunks, dtype=np.int64)
    for iy in range(ny):
        for ix in range(nx):
            minx, miny = gx + ix * cell, gy + iy * cell
            maxx, maxy = minx + cell, miny + cell
            # a cheap upper bound from one vertex per chunk, and lower bounds per chunk box
            upper = np.inf
            for k in range(n_chunks):
                s = chunk_start[k]
                dx = max(abs(x0[s] - minx), abs(x0[s] - maxx))
                dy = max(abs(y0[s] - miny), abs(y0[s] - maxy))
                upper = min(upper, dx * dx + dy * dy)
                dx = max(box[k, 0] - maxx, 0.0, minx - box[k, 2])
                dy = max(box[k, 1] - maxy, 0.0, miny - box[k, 3])
                box_lower[k] = dx * dx + dy * dy
            # the exact upper bound over the segments of the chunks that can matter
            for k in range(n_chunks):
                if box_lower[k] > upper:
                    continue
                for s in range(chunk_start[k], chunk_start[k + 1]):
                    far = max(
                        _segment_d2(minx, miny, x0[s], y0[s], x1[s], y1[s]),
                        _segment_d2(maxx, miny, x0[s], y0[s], x1[s], y1[s]),
                        _segment_d2(maxx, maxy, x0[s], y0[s], x1[s], y1[s]),
                        _segment_d2(minx, maxy, x0[s], y0[s], x1[s], y1[s]),
                    )
                    upper = min(upper, far)
            upper = (np.sqrt(upper) + SLACK_M) ** 2
            c = iy * nx + ix
            n = 0
            for k in range(n_chunks):
                if box_lower[k] > upper:
                    continue
                d2 = np.inf
                for s in range(chunk_start[k], chunk_start[k + 1]):
                    d2 = min(d2, _box_segment_d2(minx, miny, maxx, maxy, x0[s], y0[s], x1[s], y1[s]))
                lower[n] = max(np.sqrt(d2) - SLACK_M, 0.0) ** 2
                if lower[n] <= upper:
                    found[n] = k
                    n += 1
            counts[c] = n
            if offsets.shape[0] != 0:
                order = np.argsort(lower[:n], kind="mergesort")
                for j in range(n):
                    chunk[offsets[c] + j] = found[order[j]]
                    bound[offsets[c] + j] = lower[order[j]]


@numba.njit(cache=True, inline="always")
def _segment_d2(x, y, ax, ay, bx, by):
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0.0 else ((x - ax) * dx + (y - ay) * dy) / length2
    t = min(1.0, max(0.0, t))
    ex, ey = ax + t * dx - x, ay + t * dy - y
    return ex * ex + ey * ey


@numba.njit(cache=True, inline="always")
def _step_d2(x, y, ax, ay, dx, dy, inverse):
    """As _segment_d2 from the segment's start, step and 1 / squared length (no division)."""
    t = min(1.0, max(0.0, ((x - ax) * dx + (y - ay) * dy) * inverse))
    ex, ey = ax + t * dx - x, ay + t * dy - y
    return ex * ex + ey * ey


@numba.njit(cache=True, inline="always")
def _box_d2(x, y, minx, miny, maxx, maxy):
    dx = max(minx - x, 0.0, x - maxx)
    dy = max(miny - y, 0.0, y - maxy)
    return dx * dx + dy * dy


@numba.njit(cache=True, inline="always")
def _feature_d2(x, y, f, x0, y0, dx, dy, inv, offsets):
    best = np.inf
    for s in range(offsets[f], offsets[f + 1]):
        d2 = _step_d2(x, y, x0[s], y0[s], dx[s], dy[s], inv[s])
        if d2 < best:
            best = d2
    return best


@numba.njit(cache=True, nogil=True)
def _brute_force(x, y, x0, y0, dx, dy, inv, offsets, bounds, tol):
    """(feature, squared distance) of the nearest outline, visiting every feature box, and the
    squared distance of the nearest other feature if it is within ``tol`` metres of it (else more)."""
    n_features = offsets.shape[0] - 1
    # Start with the feature whose box is nearest, then visit only boxes nearer than the best.
    first, first_d2 = 0, np.inf
    for f in range(n_features):
        d2 = _box_d2(x, y, bounds[f, 0], bounds[f, 1], bounds[f, 2], bounds[f, 3])
        if d2 < first_d2:
            first, first_d2 = f, d2
    best = _feature_d2(x, y, first, x0, y0, dx, dy, inv, offsets)
    best_f, second = first, np.inf
    limit = (np.sqrt(best) + tol) ** 2
    for f in range(n_features):
        if f == first or _box_d2(x, y, bounds[f, 0], bounds[f, 1], bounds[f, 2], bounds[f, 3]) > limit:
            continue
        d2 = _feature_d2(x, y, f, x0, y0, dx, dy, inv, offsets)
        if d2 < best or (d2 == best and f < best_f):  # ties (shared outlines): lowest index
            best, best_f, second = d2, f, best
            limit = (np.sqrt(best) + tol) ** 2
        elif d2 < second:
            second = d2
    return best_f, best, second


@numba.njit(cache=True, inline="always")
def _store(i, best_f, best, second, tol, out_index, out_distance, out_close):
    out_index[i] = best_f
    d = np.sqrt(best)
    out_distance[i] = d
    steps = d * ROUNDING_STEPS_PER_M
    near_step = abs(steps - np.round(steps)) < tol * ROUNDING_STEPS_PER_M
    out_close[i] = np.sqrt(second) - d < tol or near_step


@numba.njit(cache=True, nogil=True)
def _nearest(px, py, skip, x0, y0, dx, dy, inv, offsets, bounds, tol, out_index, out_distance, out_close):
    for i in range(px.shape[0]):
        x, y = px[i], py[i]
        if skip[i] or np.isnan(x) or np.isnan(y):
            out_index[i], out_distance[i], out_close[i] = -1, np.nan, False
            continue
        best_f, best, second = _brute_force(x, y, x0, y0, dx, dy, inv, offsets, bounds, tol)
        _store(i, best_f, best, second, tol, out_index, out_distance, out_close)


@numba.njit(cache=True, nogil=True)
def _nearest_cells(
    px, py, skip, x0, y0, dx, dy, inv, offsets, bounds, gx, gy, cell, nx, ny, cell_offsets, entries, lower, feature,
    chunk_start, chunk_box, tol, out_index, out_distance, out_close,
):  # fmt: skip
    # a multiplication, not a division: a point it puts one cell over lies within 1e-9 m of that
    # cell, whose candidates hold for SLACK_M around it
    inv_cell = 1.0 / cell
    for i in range(px.shape[0]):
        x, y = px[i], py[i]
        if skip[i] or np.isnan(x) or np.isnan(y):
            out_index[i], out_distance[i], out_close[i] = -1, np.nan, False
            continue
        fx, fy = np.floor((x - gx) * inv_cell), np.floor((y - gy) * inv_cell)
        if not (0 <= fx < nx and 0 <= fy < ny):
            best_f, best, second = _brute_force(x, y, x0, y0, dx, dy, inv, offsets, bounds, tol)
            _store(i, best_f, best, second, tol, out_index, out_distance, out_close)
            continue
        c = int(fy) * nx + int(fx)
        best, best_f, second, limit = np.inf, offsets.shape[0], np.inf, np.inf
        for j in range(cell_offsets[c], cell_offsets[c + 1]):
            if lower[j, 1] > limit:
                break  # sorted: no later chunk can be nearer (or within tol of the nearest)
            k = entries[j, 0]
            if _box_d2(x, y, chunk_box[k, 0], chunk_box[k, 1], chunk_box[k, 2], chunk_box[k, 3]) > limit:
                continue
            # a chunk is one feature's: its nearest segment first, then one comparison
            d2 = np.inf
            for s in range(chunk_start[k], chunk_start[k + 1]):
                d2 = min(d2, _step_d2(x, y, x0[s], y0[s], dx[s], dy[s], inv[s]))
            f = feature[chunk_start[k]]
            if d2 < best or (d2 == best and f < best_f):  # ties (shared outlines): lowest index
                if f != best_f:
                    second = best
                best, best_f = d2, f
                limit = (np.sqrt(best) + tol) ** 2
            elif f != best_f and d2 < second:
                second = d2
        _store(i, best_f, best, second, tol, out_index, out_distance, out_close)


def nearest(
    segments: Segments, x: np.ndarray, y: np.ndarray, skip: np.ndarray | None = None, cells: CellIndex | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest feature's outline and the distance to it, per metric point.

    ``skip`` marks points not to compute (index -1, distance NaN), as do NaN coordinates.
    ``cells`` (a CellIndex of ``segments``) makes the search local; the answers are the same.
    """
    index, distance, _ = nearest_with_ties(segments, x, y, skip, cells, tol=0.0)
    return index, distance


def nearest_with_ties(
    segments: Segments,
    x: np.ndarray,
    y: np.ndarray,
    skip: np.ndarray | None = None,
    cells: CellIndex | None = None,
    *,
    tol: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """As :func:`nearest`, plus per point whether another feature is within ``tol`` metres of the
    nearest one (True for exact ties too) or the distance within ``tol`` of a multiple of 0.05 m
    (where its 0.1 m rounding turns): the answers a position error below tol/2 could change."""
    x = np.ascontiguousarray(x, dtype=np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    skip = np.zeros(x.shape, dtype=bool) if skip is None else np.ascontiguousarray(skip, dtype=bool)
    index = np.empty(x.shape, dtype=np.int64)
    distance = np.empty(x.shape, dtype=np.float64)
    close = np.empty(x.shape, dtype=bool)
    s = segments
    bounds = np.ascontiguousarray(s.bounds)
    dx, dy, inv = s.steps

    def run(a, b):
        if cells is None:
            _nearest(x[a:b], y[a:b], skip[a:b], s.x0, s.y0, dx, dy, inv, s.offsets, bounds, tol,
                     index[a:b], distance[a:b], close[a:b])  # fmt: skip
            return
        _nearest_cells(
            x[a:b], y[a:b], skip[a:b], s.x0, s.y0, dx, dy, inv, s.offsets, bounds,
            cells.x0, cells.y0, cells.cell, cells.nx, cells.ny, cells.cell_offsets, cells.entries, cells.lower,
            cells.feature, cells.chunk_start, cells.chunk_box, tol, index[a:b], distance[a:b], close[a:b],
        )  # fmt: skip

    for_slices(run, len(x))
    return index, distance, close

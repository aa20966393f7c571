"""The attribution engine: which district, core part, nodes and axis section hold each point.

Works on WGS84 coordinate arrays (degrees). Containment is ``intersects`` (a point on a boundary
is inside), as geopandas.sjoin(predicate="intersects"). Distances are metres in EPSG:4547.
Used by ``locate`` (one point) and ``join`` (millions); both get the same answers. For millions,
metres come from a lattice of PROJ's (``_lattice``, < MAX_ERROR_M from PROJ) and the few answers
such an error could change are computed again from PROJ's own metres.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np
import shapely

from gzspatial import crs
from gzspatial.layers import Layer, layer_set, read_layers
from gzspatial.settings import DISTANCE_CELL_M, FAST_MIN_POINTS, LATTICE_STEP_DEG

log = logging.getLogger(__name__)

#: The metre lattice covers the city's bounds widened by this much (degrees); PROJ beyond.
LATTICE_PAD_DEG = 0.25
#: Largest interpolation error of the metre lattice accepted when it is built, m (else PROJ only).
MAX_ERROR_M = 1e-8
#: Answers are computed again from PROJ's metres where an error this small (m) could change them:
#: 10x MAX_ERROR_M (a position error e changes a distance by at most e, a difference by 2e).
TIE_TOL_M = 10 * MAX_ERROR_M


@dataclass(frozen=True)
class PolygonLayer:
    """A polygon layer ready for queries: WGS84 geometries (prepared), their bounds, metric areas."""

    layer: Layer
    bounds: np.ndarray  # (n, 4) minx, miny, maxx, maxy, degrees
    area_km2: np.ndarray

    @classmethod
    def build(cls, layer: Layer) -> PolygonLayer:
        geometries = layer.geometries
        shapely.prepare(geometries)
        # GEOS builds a prepared polygon's point locator on first use, which is not thread-safe
        # (libgeos/geos#825): build it now, so that callers in threads only ever read it.
        shapely.intersects(geometries, shapely.point_on_surface(geometries))
        area = shapely.area(crs.to_metric(geometries)) / 1e6
        return cls(layer, shapely.bounds(geometries), area)

    def containing_pairs(self, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(point index, feature index) of every point–feature pair that intersects, point-major."""
        return self.containing_pairs_xy(shapely.get_x(points), shapely.get_y(points))

    def containing_pairs_xy(
        self, x: np.ndarray, y: np.ndarray, by_x: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """As containing_pairs, for points given as WGS84 degree arrays (NaN: no point).

        Each feature tests only the points in its bounds (found in ``by_x``, the points' order by x,
        computed here if not given) with GEOS ``intersects_xy`` on the prepared polygon: no point
        geometry is built (that cost more than the tests themselves).
        """
        by_x = np.argsort(x, kind="stable") if by_x is None else by_x
        sorted_x = x[by_x]
        points, features = [], []
        for feature, (minx, miny, maxx, maxy) in enumerate(self.bounds.tolist()):
            start, stop = np.searchsorted(sorted_x, minx, "left"), np.searchsorted(sorted_x, maxx, "right")
            candidates = by_x[start:stop]
            candidates = candidates[(y[candidates] >= miny) & (y[candidates] <= maxy)]
            if len(candidates):
                hit = shapely.intersects_xy(self.layer.geometries[feature], x[candidates], y[candidates])
                points.append(candidates[hit])
                features.append(np.full(int(hit.sum()), feature, dtype=np.int64))
        if not points:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        point_idx, feature_idx = np.concatenate(points).astype(np.int64), np.concatenate(features)
        order = np.lexsort((self.area_km2[feature_idx], point_idx))  # per point: smallest feature first
        return point_idx[order], feature_idx[order]

    def first_containing(self, points: np.ndarray) -> np.ndarray:
        """Index of the smallest feature holding each point, -1 where none does."""
        return self.first_containing_xy(shapely.get_x(points), shapely.get_y(points))

    def first_containing_xy(self, x: np.ndarray, y: np.ndarray, by_x: np.ndarray | None = None) -> np.ndarray:
        """As first_containing, for WGS84 degree arrays (``by_x`` as in containing_pairs_xy)."""
        point_idx, feature_idx = self.containing_pairs_xy(x, y, by_x)
        result = np.full(len(x), -1, dtype=np.int64)
        first = np.ones(len(point_idx), dtype=bool)
        first[1:] = point_idx[1:] != point_idx[:-1]
        result[point_idx[first]] = feature_idx[first]
        return result


#: The distance grid covers the city's bounds widened by this much (metres); points beyond it
#: are searched without the grid (same answers, slower).
CELL_PAD_M = 20_000.0

# The arrays of the metric structures in the on-disk cache: field -> (dimensions, dtype).
_F8, _I8, _I4 = np.dtype(np.float64), np.dtype(np.int64), np.dtype(np.int32)
_Spec = dict[str, tuple[int, np.dtype | None]]
_SEGMENT_ARRAYS: _Spec = {"x0": (1, _F8), "y0": (1, _F8), "x1": (1, _F8), "y1": (1, _F8), "offsets": (1, _I8),
                   "bounds": (2, _F8)}  # fmt: skip
_CELL_ARRAYS: _Spec = {"x0": (0, _F8), "y0": (0, _F8), "cell": (0, _F8), "nx": (0, _I8), "ny": (0, _I8),
                "cell_offsets": (1, _I8), "entries": (2, _I4), "feature": (1, _I8), "chunk_start": (1, _I8),
                "chunk_box": (2, _F8)}  # fmt: skip
_CLASS_ARRAYS: _Spec = {"ny": (0, _I8), "nx": (0, _I8), "block": (0, _I8), "coarse": (2, _I4), "blocks": (2, None)}
_LATTICE_ARRAYS: _Spec = {"lon0": (0, _F8), "lat0": (0, _F8), "step": (0, _F8), "x": (2, _F8), "y": (2, _F8),
                   "xc": (0, _F8), "yc": (0, _F8), "max_error": (0, _F8)}  # fmt: skip


@dataclass
class Membership:
    """Containment per point: feature indices (-1 none) and node sets (rows, -1 padded)."""

    district: np.ndarray
    core: np.ndarray
    in_city: np.ndarray
    nodes: np.ndarray  # (n, k) node indices, smallest node first

    @classmethod
    def empty(cls, n: int) -> Membership:
        none = np.full(n, -1, dtype=np.int64)
        return cls(none, none.copy(), np.zeros(n, dtype=bool), np.full((n, 1), -1, dtype=np.int64))


@dataclass
class Attribution:
    """Everything the layout says about each point (indices into the layers; metres)."""

    membership: Membership
    axis_section: np.ndarray
    axis_distance_m: np.ndarray
    nearest_node: np.ndarray
    nearest_node_m: np.ndarray


def _node_matrix(point_idx: np.ndarray, node_idx: np.ndarray, n: int) -> np.ndarray:
    """(n, k) matrix of each point's nodes in the given (point-major, smallest-first) order."""
    if len(point_idx) == 0:
        return np.full((n, 1), -1, dtype=np.int64)
    group_start = np.ones(len(point_idx), dtype=bool)
    group_start[1:] = point_idx[1:] != point_idx[:-1]
    starts = np.flatnonzero(group_start)
    rank = np.arange(len(point_idx)) - np.repeat(starts, np.diff(np.append(starts, len(point_idx))))
    matrix = np.full((n, int(rank.max()) + 1), -1, dtype=np.int64)
    matrix[point_idx, rank] = node_idx
    return matrix


def _pad(matrix: np.ndarray, width: int) -> np.ndarray:
    if matrix.shape[1] >= width:
        return matrix
    return np.hstack([matrix, np.full((matrix.shape[0], width - matrix.shape[1]), -1, dtype=matrix.dtype)])


class LayoutIndex:
    """All layers of one layer folder, indexed for point queries (WGS84 in, metres out)."""

    def __init__(self, layers: str | Path | dict[str, Layer] | None = None):
        """``layers``: a layer folder (None: the packaged one) or Layer objects by name."""
        self.layers = layers if isinstance(layers, dict) else read_layers(layers)
        self.districts = PolygonLayer.build(self.layers["districts"])
        self.city = PolygonLayer.build(self.layers["city"])
        self.cores = PolygonLayer.build(self.layers["cores"]) if "cores" in self.layers else None
        self.nodes = PolygonLayer.build(self.layers["nodes"]) if "nodes" in self.layers else None
        self.axis = self.layers.get("axis")
        #: The grid, distance indexes and compiled kernels have answered a call: built, they are the
        #: faster way for any number of points (40,000 points: 0.01 s against GEOS's 0.32 s).
        self._fast_built = False

    # --- containment ---------------------------------------------------------------------

    def membership_exact(self, points: np.ndarray) -> Membership:
        """Containment of shapely points by GEOS ``intersects`` (boundary counts as inside)."""
        return self.membership_exact_xy(shapely.get_x(points), shapely.get_y(points))

    def membership_exact_xy(self, x: np.ndarray, y: np.ndarray) -> Membership:
        """As membership_exact, for WGS84 degree arrays (NaN: no point)."""
        n = len(x)
        by_x = np.argsort(x, kind="stable")
        result = Membership.empty(n)
        result.district = self.districts.first_containing_xy(x, y, by_x)
        result.in_city = self.city.first_containing_xy(x, y, by_x) >= 0
        if self.cores is not None:
            result.core = self.cores.first_containing_xy(x, y, by_x)
        if self.nodes is not None:
            result.nodes = _node_matrix(*self.nodes.containing_pairs_xy(x, y, by_x), n)
        return result

    @cached_property
    def grid(self):
        from gzspatial._grid import build_grid

        layers = [self.districts, self.city, self.cores, self.nodes]
        polygons = np.concatenate([layer.layer.geometries for layer in layers if layer is not None])
        return build_grid(polygons)

    @cached_property
    def _region_classes(self):
        """The grid's cells as small class numbers (a _grid.BlockedClasses), the answer of each class
        and the grid's origin (x0, y0), degrees; read from the on-disk cache when it holds this layer
        set's grid (``_index_cache``: keyed by the geometries and the code), else built and cached.

        Class 0 is "near a boundary" (answered exactly), the others each stand for one distinct
        answer of the regions; the table's rows are (district, core, in_city, nodes...), row 0
        "nothing" (also the answer off the grid). Small numbers keep the grid cache-friendly.
        """
        from gzspatial import _index_cache
        from gzspatial._grid import BLOCK, CELL_DEG, MARGIN_CELLS, BlockedClasses

        layers = [layer for layer in (self.districts, self.city, self.cores, self.nodes) if layer is not None]
        name = _index_cache.key([layer.layer.geometries for layer in layers], (CELL_DEG, MARGIN_CELLS, BLOCK))
        expected: _Spec = {f"classes.{field}": spec for field, spec in _CLASS_ARRAYS.items()}
        expected |= {"table": (2, _I8), "origin": (1, _F8)}
        cached = _index_cache.load(name, expected)
        if cached is not None:
            x0, y0 = cached["origin"].tolist()
            return _index_cache.unpack(BlockedClasses, "classes", cached), cached["table"], x0, y0
        regions = self.membership_exact(self.grid.representatives)
        # as many node columns as a point can have, so that answers near boundaries fit unwidened
        nodes = _pad(regions.nodes, self._node_depth)
        table = np.column_stack([regions.district, regions.core, regions.in_city, nodes])
        nothing = np.append([-1, -1, 0], np.full(nodes.shape[1], -1))
        table[0] = nothing  # label 0: near a boundary
        is_near = np.zeros((len(table), 1), dtype=np.int64)
        is_near[0] = -1  # sorts first: class 0
        distinct, class_of = np.unique(np.hstack([is_near, table]), axis=0, return_inverse=True)
        dtype = np.uint8 if len(distinct) <= 255 else np.int16 if len(distinct) <= 32767 else np.int32
        classes = BlockedClasses.of(class_of.ravel()[self.grid.labels].astype(dtype))
        table = np.ascontiguousarray(distinct[:, 1:], dtype=np.int64)
        origin = np.array([self.grid.x0, self.grid.y0], dtype=np.float64)
        _index_cache.save(name, _index_cache.pack("classes", classes) | {"table": table, "origin": origin})
        return classes, table, self.grid.x0, self.grid.y0

    @cached_property
    def _node_depth(self) -> int:
        """Most nodes any one point lies in (boundaries included): overlaps of 2, 3, ... nodes."""
        if self.nodes is None:
            return 1
        geometries = self.nodes.layer.geometries
        overlaps: list[tuple[tuple[int, ...], shapely.Geometry]] = [((i,), g) for i, g in enumerate(geometries)]
        depth = 1
        while overlaps:
            found = [
                ((*members, j), shapely.intersection(shape, geometries[j]))
                for members, shape in overlaps
                for j in range(members[-1] + 1, len(geometries))
                if shapely.intersects(shape, geometries[j])
            ]
            depth, overlaps = (depth + 1, found) if found else (depth, [])
        return depth

    def membership_grid(self, lon: np.ndarray, lat: np.ndarray) -> Membership:
        """Same answers as membership_exact, looked up in the grid; exact tests near boundaries."""
        from gzspatial._grid import CELL_DEG, lookup_classes
        from gzspatial._parallel import for_slices

        lon = np.ascontiguousarray(lon, dtype=np.float64)
        lat = np.ascontiguousarray(lat, dtype=np.float64)
        classes, table, x0, y0 = self._region_classes
        n = len(lon)
        cls = np.empty(n, dtype=np.int32)
        result = Membership(
            np.empty(n, dtype=np.int64),
            np.empty(n, dtype=np.int64),
            np.empty(n, dtype=bool),
            np.empty((n, table.shape[1] - 3), dtype=np.int64),
        )

        def run(a, b):
            lookup_classes(
                lon[a:b], lat[a:b], x0, y0, CELL_DEG, classes.ny, classes.nx, classes.block,
                classes.coarse, classes.blocks, table, cls[a:b],
                result.district[a:b], result.core[a:b], result.in_city[a:b], result.nodes[a:b],
            )  # fmt: skip

        for_slices(run, n)
        near = np.flatnonzero(cls == 0)
        if len(near):
            exact = self.membership_exact_xy(lon[near], lat[near])
            width = max(result.nodes.shape[1], exact.nodes.shape[1])
            result.nodes = _pad(result.nodes, width)
            result.district[near], result.core[near], result.in_city[near] = exact.district, exact.core, exact.in_city
            result.nodes[near] = _pad(exact.nodes, width)
        return result

    # --- distances -----------------------------------------------------------------------

    @cached_property
    def axis_metric(self) -> np.ndarray:
        assert self.axis is not None, "no axis layer"  # callers check self.axis first
        return crs.to_metric(self.axis.geometries)

    @cached_property
    def nodes_metric(self) -> np.ndarray:
        assert self.nodes is not None, "no nodes layer"  # callers check self.nodes first
        return crs.to_metric(self.nodes.layer.geometries)

    @cached_property
    def nodes_metric_tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.nodes_metric)

    @cached_property
    def _distance_bounds(self) -> tuple[float, float, float, float]:
        minx, miny, maxx, maxy = shapely.total_bounds(crs.to_metric(self.city.layer.geometries))
        return (minx - CELL_PAD_M, miny - CELL_PAD_M, maxx + CELL_PAD_M, maxy + CELL_PAD_M)

    @cached_property
    def _axis_index(self):
        """The axis's outline segments and their candidate grid over the city (metres)."""
        return self._metric_structures["axis"]

    @cached_property
    def _nodes_index(self):
        """The nodes' outline segments and their candidate grid over the city (metres)."""
        return self._metric_structures["nodes"]

    @cached_property
    def _metric_structures(self) -> dict:
        """What the compiled distance kernels and the metre lattice read: {"axis": (Segments,
        CellIndex) or None, "nodes": the same, "lattice": Lattice}. Read from the on-disk cache
        (``_index_cache``) when it holds them for these layers, this code and this PROJ; else built
        (~0.4 s a process: PROJ, and compiled code loaded only to build them) and cached."""
        import pyproj

        from gzspatial import _index_cache
        from gzspatial._distance import CHUNK_SEGMENTS, SLACK_M, CellIndex, Segments
        from gzspatial._lattice import Lattice

        outlines = {"axis": self.axis.geometries if self.axis is not None else None,
                    "nodes": self.nodes.layer.geometries if self.nodes is not None else None}  # fmt: skip
        settings = ("metric structures", tuple(g is not None for g in outlines.values()), DISTANCE_CELL_M,
                    CHUNK_SEGMENTS, SLACK_M, CELL_PAD_M, LATTICE_STEP_DEG, LATTICE_PAD_DEG, crs.METRIC_CRS,
                    pyproj.__version__, pyproj.proj_version_str)  # fmt: skip
        layers = [self.city.layer.geometries, *(g for g in outlines.values() if g is not None)]
        name = _index_cache.key(layers, settings)
        expected: _Spec = {f"lattice.{field}": spec for field, spec in _LATTICE_ARRAYS.items()}
        for part, geometries in outlines.items():
            if geometries is not None:
                expected |= {f"{part}.segments.{field}": spec for field, spec in _SEGMENT_ARRAYS.items()}
                expected |= {f"{part}.cells.{field}": spec for field, spec in _CELL_ARRAYS.items()}
        cached = _index_cache.load(name, expected)
        if cached is not None:
            structures: dict = {"lattice": _index_cache.unpack(Lattice, "lattice", cached)}
            for part, geometries in outlines.items():
                structures[part] = None if geometries is None else (
                    _index_cache.unpack(Segments, f"{part}.segments", cached),
                    _index_cache.unpack(CellIndex, f"{part}.cells", cached),
                )  # fmt: skip
            return structures
        minx, miny, maxx, maxy = shapely.total_bounds(self.city.layer.geometries)
        pad = LATTICE_PAD_DEG
        lattice = Lattice.build((minx - pad, miny - pad, maxx + pad, maxy + pad), to_metric_points)
        structures, arrays = {"lattice": lattice}, _index_cache.pack("lattice", lattice)
        for part, metric in (("axis", "axis_metric"), ("nodes", "nodes_metric")):
            if outlines[part] is None:
                structures[part] = None
                continue
            segments = Segments.of(getattr(self, metric))
            cells = CellIndex.build(segments, self._distance_bounds)
            structures[part] = (segments, cells)
            arrays |= _index_cache.pack(f"{part}.segments", segments) | _index_cache.pack(f"{part}.cells", cells)
        _index_cache.save(name, arrays)
        return structures

    def axis_distance(self, x: np.ndarray, y: np.ndarray, *, fast: bool | None = None):
        """Nearest axis section (index, -1 for NaN) and distance to it (m), from metric coordinates.

        ``fast`` picks the numba kernel (default: from FAST_MIN_POINTS points on); same answers.
        """
        if len(x) >= FAST_MIN_POINTS if fast is None else fast:
            from gzspatial._distance import nearest

            segments, cells = self._axis_index
            return nearest(segments, x, y, cells=cells)
        index = np.full(len(x), -1, dtype=np.int64)
        distance = np.full(len(x), np.nan)
        rows = np.flatnonzero(~np.isnan(x) & ~np.isnan(y))
        distances = shapely.distance(np.asarray(shapely.points(x[rows], y[rows]))[:, None], self.axis_metric[None, :])
        if len(rows):
            index[rows] = np.argmin(distances, axis=1)
            distance[rows] = distances[np.arange(len(rows)), index[rows]]
        return index, distance

    def nearest_node(self, x: np.ndarray, y: np.ndarray, skip: np.ndarray | None = None, *, fast: bool | None = None):
        """Nearest node (index) and distance to its outline (m), from metric coordinates.

        ``skip`` marks points not to compute (index -1, distance NaN), e.g. those inside a node.
        """
        valid = ~np.isnan(x) & ~np.isnan(y)
        if skip is not None:
            valid &= ~skip
        if len(x) >= FAST_MIN_POINTS if fast is None else fast:
            from gzspatial._distance import nearest

            segments, cells = self._nodes_index
            return nearest(segments, x, y, ~valid, cells=cells)
        index = np.full(len(x), -1, dtype=np.int64)
        distance = np.full(len(x), np.nan)
        if valid.any():
            rows = np.flatnonzero(valid)
            pairs, dist = self.nodes_metric_tree.query_nearest(
                shapely.points(x[rows], y[rows]), return_distance=True, all_matches=True
            )
            first = np.ones(len(pairs[0]), dtype=bool)  # ties (shared outlines): lowest node index
            order = np.lexsort((pairs[1], pairs[0]))
            pairs, dist = pairs[:, order], dist[order]
            first[1:] = pairs[0][1:] != pairs[0][:-1]
            index[rows[pairs[0][first]]] = pairs[1][first]
            distance[rows[pairs[0][first]]] = dist[first]
        return index, distance

    # --- metres ------------------------------------------------------------------------------

    @cached_property
    def _lattice(self):
        """Interpolated projection to metres over the city and LATTICE_PAD_DEG around it (None if
        its measured error is above MAX_ERROR_M: then PROJ answers every point)."""
        lattice = self._metric_structures["lattice"]
        return lattice if lattice.max_error <= MAX_ERROR_M else None

    def _metric_points(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, approximate): METRIC_CRS metres, interpolated (``approximate``) where the lattice
        covers the point, from PROJ elsewhere."""
        if self._lattice is None:
            return (*to_metric_points(lon, lat), np.zeros(len(lon), dtype=bool))
        x, y, approximate = self._lattice.interpolate(lon, lat)
        off = np.flatnonzero(~approximate)
        off = off[~np.isnan(lon[off]) & ~np.isnan(lat[off])]
        if len(off):
            x[off], y[off] = to_metric_points(lon[off], lat[off])
        return x, y, approximate

    def _distances(self, x, y, skip, tol: float):
        """Nearest axis section and node by the compiled kernels: (axis index, m, close), (node
        index, m, close); ``close`` as in _distance.nearest_with_ties."""
        from gzspatial._distance import nearest_with_ties

        n = len(x)

        def none():
            return np.full(n, -1, dtype=np.int64), np.full(n, np.nan), np.zeros(n, dtype=bool)

        def run(index, skip_rows):
            segments, cells = index
            return nearest_with_ties(segments, x, y, skip_rows, cells, tol=tol)

        axis = run(self._axis_index, None) if self.axis is not None else none()
        nodes = run(self._nodes_index, skip) if self.nodes is not None else none()
        return axis, nodes

    def _fast_distances(self, lon, lat, skip):
        """(axis index, m), (node index, m) of WGS84 points, the same answers as from PROJ's metres.

        Metres come from the lattice (error < MAX_ERROR_M); the rows whose answer such an error
        could change (``close``: another feature within TIE_TOL_M, or a distance within TIE_TOL_M
        of a multiple of 0.05 m, where the 0.1 m rounding turns) are computed again from PROJ's metres.
        """
        x, y, approximate = self._metric_points(lon, lat)
        (a_idx, a_m, a_close), (n_idx, n_m, n_close) = self._distances(x, y, skip, TIE_TOL_M)
        refine = approximate & (a_close | n_close)
        rows = np.flatnonzero(refine)
        if len(rows):
            ex, ey = to_metric_points(lon[rows], lat[rows])
            (ra_idx, ra_m, _), (rn_idx, rn_m, _) = self._distances(ex, ey, skip[rows], 0.0)
            a_idx[rows], a_m[rows], n_idx[rows], n_m[rows] = ra_idx, ra_m, rn_idx, rn_m
        return (a_idx, a_m), (n_idx, n_m)

    # --- everything at once ----------------------------------------------------------------

    def attribute(self, lon: np.ndarray, lat: np.ndarray, *, method: str = "auto") -> Attribution:
        """District, core, nodes, axis and nearest node for WGS84 points (NaN: no answer).

        ``method`` is "exact" (GEOS on every point), "grid" (grid index and numba kernels) or
        "auto" (grid from FAST_MIN_POINTS points on, or for any number once the grid has answered
        a call: a stream's short last batch). Both give the same answers.
        """
        lon = np.asarray(lon, dtype=np.float64)
        lat = np.asarray(lat, dtype=np.float64)
        n = len(lon)
        use_grid = method == "grid" or (method == "auto" and (n >= FAST_MIN_POINTS or self._fast_built))
        if use_grid:
            membership = self.membership_grid(lon, lat)
            inside = membership.nodes[:, 0] >= 0
            (axis_idx, axis_m), (node_idx, node_m) = self._fast_distances(lon, lat, inside)
            self._fast_built = True
        else:
            valid = ~np.isnan(lon) & ~np.isnan(lat)
            membership = Membership.empty(n)
            rows = np.flatnonzero(valid)
            exact = self.membership_exact_xy(lon[rows], lat[rows])
            membership.district[rows], membership.core[rows] = exact.district, exact.core
            membership.in_city[rows] = exact.in_city
            membership.nodes = _pad(membership.nodes, exact.nodes.shape[1])
            membership.nodes[rows] = exact.nodes
            inside = membership.nodes[:, 0] >= 0
            x, y = _no_position_as_nan(lon, lat, *crs.transform(lon, lat, crs.WGS84, crs.METRIC_CRS))
            axis_idx, axis_m = np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
            if self.axis is not None:
                axis_idx, axis_m = self.axis_distance(x, y, fast=False)
            node_idx, node_m = np.full(n, -1, dtype=np.int64), np.full(n, np.nan)
            if self.nodes is not None:
                node_idx, node_m = self.nearest_node(x, y, inside, fast=False)
        held = np.flatnonzero(inside)  # points in a node: that node, 0 m
        node_idx[held], node_m[held] = membership.nodes[held, 0], 0.0
        return Attribution(membership, axis_idx, axis_m, node_idx, node_m)


_local = threading.local()


def to_metric_points(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 degrees to METRIC_CRS metres, as ``crs.transform`` does (same PROJ operation, same
    numbers), in slices on the thread pool: PROJ releases the GIL; one Transformer per thread."""
    from gzspatial._parallel import for_slices

    lon = np.ascontiguousarray(lon, dtype=np.float64)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    x, y = np.empty_like(lon), np.empty_like(lat)

    def run(a, b):
        transformer = getattr(_local, "to_metric", None)
        if transformer is None:
            import pyproj

            wgs84, metric = crs._pyproj_crs(crs.WGS84), crs._pyproj_crs(crs.METRIC_CRS)
            transformer = _local.to_metric = pyproj.Transformer.from_crs(wgs84, metric, always_xy=True)
        x[a:b], y[a:b] = transformer.transform(lon[a:b], lat[a:b])

    for_slices(run, len(lon))
    return _no_position_as_nan(lon, lat, x, y)


def _no_position_as_nan(lon, lat, x, y) -> tuple[np.ndarray, np.ndarray]:
    """NaN metres where a coordinate is NaN (no position) or PROJ gives no finite answer (a point
    far outside the Gauss-Krüger zone, e.g. 15°E: inf), so no distance is computed from them."""
    missing = np.isnan(lon) | np.isnan(lat) | ~np.isfinite(x) | ~np.isfinite(y)
    x[missing], y[missing] = np.nan, np.nan
    return x, y


@lru_cache(maxsize=4)
def _cached_index(key: tuple) -> LayoutIndex:
    log.info("building the layout index of %s", layer_set(key[0]).describe())
    return LayoutIndex(key[0])


def layout_index(layers: str | Path | None = None) -> LayoutIndex:
    """The LayoutIndex of a layer folder (None: packaged), cached per folder and file versions."""
    paths = tuple(
        sorted((name, str(layer.path), layer.path.stat().st_mtime) for name, layer in read_layers(layers).items())
    )
    return _cached_index((layers, paths))

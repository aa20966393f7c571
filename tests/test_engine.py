"""Tests of the engine's fast paths on tiny synthetic layers: grid containment and the per-cell
distance index give exactly the answers of GEOS (shapely) and of the brute-force kernel."""

from pathlib import Path

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gzspatial import _distance, _parallel
from gzspatial._engine import LayoutIndex
from gzspatial.layers import Layer

# A small synthetic city near Guangzhou (WGS84 degrees): two districts sharing an edge, one core
# part, three nodes (one multi-part, one inside another, one with a hole, many vertices) and a
# two-section axis.
CITY = shapely.box(113.20, 23.00, 113.40, 23.20)
DISTRICTS = [shapely.box(113.20, 23.00, 113.30, 23.20), shapely.box(113.30, 23.00, 113.40, 23.20)]
CORE = shapely.Polygon([(113.25, 23.05), (113.33, 23.06), (113.31, 23.14), (113.24, 23.12)])
NODES = [
    shapely.MultiPolygon([shapely.box(113.26, 23.08, 113.28, 23.10), shapely.box(113.35, 23.15, 113.37, 23.17)]),
    shapely.box(113.265, 23.085, 113.275, 23.095),  # inside the first node's first part
    shapely.Point(113.32, 23.03).buffer(0.01, quad_segs=64).difference(shapely.Point(113.32, 23.03).buffer(0.004)),
]
AXIS = [shapely.LineString([(113.21, 23.01), (113.29, 23.11)]), shapely.LineString([(113.29, 23.11), (113.39, 23.19)])]


def _layer(name: str, geometries, **props) -> Layer:
    properties = [{"id": f"{name}{i}", **props} for i in range(len(geometries))]
    return Layer(name, Path(f"synthetic/{name}.geojson"), properties, np.asarray(geometries, dtype=object))


@pytest.fixture(scope="module")
def index():
    layers = {
        "districts": _layer("districts", DISTRICTS),
        "city": _layer("city", [CITY]),
        "cores": _layer("cores", [CORE]),
        "nodes": _layer("nodes", NODES),
        "axis": _layer("axis", AXIS),
    }
    return LayoutIndex(layers)


def _outline_points(geometries, n, seed):
    """Points on the outlines (vertices and random points along edges) and 1e-9° either side."""
    rng = np.random.default_rng(seed)
    xy = shapely.get_coordinates(shapely.boundary(np.asarray(geometries, dtype=object)))
    pick = rng.choice(len(xy) - 1, n)
    along = xy[pick] + rng.uniform(0, 1, (n, 1)) * (xy[pick + 1] - xy[pick])
    base = np.concatenate([xy[pick], along])
    offsets = [(0, 0), (1e-9, 0), (-1e-9, 0), (0, 1e-9), (0, -1e-9)]
    return np.concatenate([base + o for o in offsets]).T


def _points(index, n=40_000, seed=0):
    rng = np.random.default_rng(seed)
    lon = rng.uniform(113.15, 113.45, n)
    lat = rng.uniform(22.95, 23.25, n)
    polygons = [*DISTRICTS, CORE, *NODES, CITY]
    b_lon, b_lat = _outline_points(polygons, 2_000, seed)
    lon, lat = np.concatenate([lon, b_lon, [np.nan, 113.3]]), np.concatenate([lat, b_lat, [23.1, np.nan]])
    return lon, lat


def test_grid_containment_equals_geos(index):
    lon, lat = _points(index)
    grid = index.membership_grid(lon, lat)
    valid = ~np.isnan(lon) & ~np.isnan(lat)
    exact = index.membership_exact(shapely.points(lon[valid], lat[valid]))
    np.testing.assert_array_equal(grid.district[valid], exact.district)
    np.testing.assert_array_equal(grid.core[valid], exact.core)
    np.testing.assert_array_equal(grid.in_city[valid], exact.in_city)
    width = max(grid.nodes.shape[1], exact.nodes.shape[1])
    pad = lambda m: np.hstack([m, np.full((len(m), width - m.shape[1]), -1)])
    np.testing.assert_array_equal(pad(grid.nodes)[valid], pad(exact.nodes))
    assert (grid.district[~valid] == -1).all() and not grid.in_city[~valid].any()
    assert ((exact.nodes[:, 0] == 1) & (exact.nodes[:, 1] == 0)).sum() > 10  # nested: both, smallest first


def test_grid_and_exact_attribution_identical(index):
    lon, lat = _points(index, seed=3)
    grid = index.attribute(lon, lat, method="grid")
    exact = index.attribute(lon, lat, method="exact")
    for name in ("axis_section", "nearest_node"):
        np.testing.assert_array_equal(getattr(grid, name), getattr(exact, name))
    # Random points only: on a node's outline (in degrees) a point can be a few mm inside the
    # projected polygon, where the exact path's STRtree says 0 m and the kernels give the
    # outline distance (both paths have always done so).
    random = slice(0, 40_000)
    for name in ("axis_distance_m", "nearest_node_m"):
        np.testing.assert_allclose(getattr(grid, name)[random], getattr(exact, name)[random], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(grid.axis_distance_m, exact.axis_distance_m, rtol=1e-9, atol=1e-6)


def _metric_segments(index, name):
    return index._axis_index if name == "axis" else index._nodes_index


@pytest.mark.parametrize("name", ["axis", "nodes"])
def test_cell_index_equals_brute_force_bit_for_bit(index, name):
    segments, cells = _metric_segments(index, name)
    rng = np.random.default_rng(5)
    minx, miny, maxx, maxy = cells.x0, cells.y0, cells.x0 + cells.nx * cells.cell, cells.y0 + cells.ny * cells.cell
    # the whole grid, beyond it (brute force there), cell edges and the outlines' vertices
    x = np.concatenate([rng.uniform(minx - 5e3, maxx + 5e3, 50_000), minx + cells.cell * rng.integers(0, 40, 2000)])
    y = np.concatenate([rng.uniform(miny - 5e3, maxy + 5e3, 50_000), miny + cells.cell * rng.integers(0, 40, 2000)])
    x, y = np.concatenate([x, segments.x0]), np.concatenate([y, segments.y0])
    # a float either side of each cell edge: the kernel finds cells by multiplying by 1 / cell
    edge_x, edge_y = x[50_000:52_000], y[50_000:52_000]
    for toward in (-np.inf, np.inf):
        x = np.concatenate([x, np.nextafter(edge_x, toward)])
        y = np.concatenate([y, np.nextafter(edge_y, toward)])
    brute = _distance.nearest(segments, x, y)
    fast = _distance.nearest(segments, x, y, cells=cells)
    np.testing.assert_array_equal(fast[0], brute[0])
    np.testing.assert_array_equal(fast[1], brute[1])


def test_distances_match_shapely(index):
    segments, cells = _metric_segments(index, "nodes")
    rng = np.random.default_rng(8)
    x = rng.uniform(cells.x0, cells.x0 + cells.nx * cells.cell, 3000)
    y = rng.uniform(cells.y0, cells.y0 + cells.ny * cells.cell, 3000)
    got_index, got = _distance.nearest(segments, x, y, cells=cells)
    outlines = shapely.boundary(index.nodes_metric)
    distances = shapely.distance(shapely.points(x, y)[:, None], outlines[None, :])
    np.testing.assert_allclose(got, distances.min(axis=1), rtol=1e-9, atol=1e-9)
    np.testing.assert_array_equal(got_index, np.argmin(distances, axis=1))


@st.composite
def _polygon_sets(draw):
    """A few random star-shaped polygons (some touching, some sharing vertices) in metres."""
    n = draw(st.integers(1, 4))
    polygons = []
    for _ in range(n):
        cx, cy = draw(st.floats(0, 3000)), draw(st.floats(0, 3000))
        k = draw(st.integers(3, 40))
        radii = draw(st.lists(st.floats(10, 800), min_size=k, max_size=k))
        angles = np.sort(np.linspace(0, 2 * np.pi, k, endpoint=False))
        ring = np.column_stack([cx + np.cos(angles) * radii, cy + np.sin(angles) * radii])
        polygons.append(shapely.Polygon(ring))
    if draw(st.booleans()):  # a copy of the first: shared outline, ties broken by lowest index
        polygons.append(shapely.Polygon(polygons[0].exterior.coords))
    return polygons


@settings(max_examples=40, deadline=None)
@given(_polygon_sets(), st.floats(50, 2000), st.integers(0, 2**31))
def test_cell_index_property(polygons, cell, seed):
    geometries = np.asarray(polygons, dtype=object)
    segments = _distance.Segments.of(geometries)
    minx, miny, maxx, maxy = shapely.total_bounds(geometries)
    cells = _distance.CellIndex.build(segments, (minx - 500, miny - 500, maxx + 500, maxy + 500), cell)
    rng = np.random.default_rng(seed)
    x = np.concatenate([rng.uniform(minx - 1000, maxx + 1000, 3000), segments.x0, (segments.x0 + segments.x1) / 2])
    y = np.concatenate([rng.uniform(miny - 1000, maxy + 1000, 3000), segments.y0, (segments.y0 + segments.y1) / 2])
    brute = _distance.nearest(segments, x, y)
    fast = _distance.nearest(segments, x, y, cells=cells)
    np.testing.assert_array_equal(fast[0], brute[0])
    np.testing.assert_array_equal(fast[1], brute[1])


def test_slices_on_threads_give_the_same_answers(index, monkeypatch):
    lon, lat = _points(index, n=150_000, seed=11)
    many = index.attribute(lon, lat, method="grid")
    monkeypatch.setattr(_parallel, "WORKERS", 1)
    one = index.attribute(lon, lat, method="grid")
    np.testing.assert_array_equal(many.nearest_node_m, one.nearest_node_m)
    np.testing.assert_array_equal(many.membership.nodes, one.membership.nodes)


def test_for_slices_covers_every_row_once():
    seen = np.zeros(200_003, dtype=np.int64)

    def run(a, b):
        seen[a:b] += 1

    _parallel.for_slices(run, len(seen))
    assert (seen == 1).all()
    _parallel.for_slices(run, 0)


@pytest.mark.process
def test_bench_peers_tiny_runs():
    """The peer benchmark keeps working (tiny inputs; peers not installed are listed as such)."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_peers.py"
    done = subprocess.run([sys.executable, str(script), "--tiny"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = ("geopandas", "DuckDB spatial", "SedonaDB", "membership_grid", "LayoutIndex.attribute", "gzspatial.join")
    for row in rows:
        assert any(line.startswith("| ") and row in line for line in done.stdout.splitlines()), row
    assert "speed-up 2 threads vs 1" in done.stdout and "denser synthetic layers" in done.stdout


def test_concurrent_callers_get_their_own_answers(index):
    """Callers in threads (a Dask worker's thread pool) share the kernels and the slice pool."""
    from concurrent.futures import ThreadPoolExecutor

    from gzspatial import crs

    inputs = [_points(index, n=70_000, seed=seed) for seed in range(4)]
    alone = [index.attribute(lon, lat, method="grid") for lon, lat in inputs]
    gcj_alone = [crs.transform(lon, lat, "wgs84", "gcj02") for lon, lat in inputs]
    with ThreadPoolExecutor(4) as pool:
        together = list(pool.map(lambda p: index.attribute(*p, method="grid"), inputs))
        gcj_together = list(pool.map(lambda p: crs.transform(*p, "wgs84", "gcj02"), inputs))
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a.nearest_node_m, b.nearest_node_m)
        np.testing.assert_array_equal(a.axis_section, b.axis_section)
        np.testing.assert_array_equal(a.membership.district, b.membership.district)
    for a, b in zip(gcj_alone, gcj_together, strict=True):
        np.testing.assert_array_equal(a, b)


def test_node_columns_fit_the_deepest_overlap(index):
    """The grid's node matrix is as wide as the most nodes a point can lie in (here a node inside
    another: 2), so answers near boundaries never widen it."""
    assert index._node_depth == 2
    lon, lat = _points(index)
    nodes = index.membership_grid(lon, lat).nodes
    assert nodes.shape[1] == 2 and ((nodes >= 0).sum(axis=1) == 2).any()


def test_blocked_classes_give_every_cell_its_class():
    from gzspatial._grid import BlockedClasses

    rng = np.random.default_rng(12)
    regions = rng.integers(0, 5, (4, 3))
    classes = np.repeat(np.repeat(regions, 20, axis=0), 20, axis=1)[:54, :35].astype(np.uint8)  # not whole blocks
    classes[rng.integers(0, 54, 5), rng.integers(0, 35, 5)] = 0  # scattered "near a boundary" cells
    blocked = BlockedClasses.of(classes)
    iy, ix = np.indices(classes.shape)
    k = blocked.coarse[iy // blocked.block, ix // blocked.block]
    mixed = k < 0
    looked_up = k.copy()
    looked_up[mixed] = blocked.blocks[-1 - k[mixed], (iy[mixed] % blocked.block) * blocked.block + ix[mixed] % 8]
    np.testing.assert_array_equal(looked_up, classes)
    assert mixed.any() and (~mixed).any()


def _synthetic_layers(nodes=NODES):
    return {
        "districts": _layer("districts", DISTRICTS),
        "city": _layer("city", [CITY]),
        "cores": _layer("cores", [CORE]),
        "nodes": _layer("nodes", nodes),
        "axis": _layer("axis", AXIS),
    }


def _memberships_equal(a, b):
    assert np.array_equal(a.district, b.district) and np.array_equal(a.core, b.core)
    assert np.array_equal(a.in_city, b.in_city) and np.array_equal(a.nodes, b.nodes)


def test_the_grid_cache_gives_the_built_grid_answers(tmp_path, monkeypatch):
    """A new index reads the grid from the on-disk cache (no grid built) with the same answers; other
    layers get another entry; a corrupt entry is ignored and rebuilt; 'off' writes nothing."""
    monkeypatch.setenv("GZ_INDEX_CACHE", str(tmp_path / "cache"))
    lon, lat = _points(None, n=20_000, seed=3)
    built = LayoutIndex(_synthetic_layers())
    expected = built.membership_grid(lon, lat)
    _memberships_equal(expected, built.membership_exact(np.asarray(shapely.points(lon, lat))))
    (entry,) = (tmp_path / "cache").glob("*.npz")

    cached = LayoutIndex(_synthetic_layers())
    _memberships_equal(cached.membership_grid(lon, lat), expected)
    assert "grid" not in cached.__dict__  # answered from the cache: the raster was never built

    other = LayoutIndex(_synthetic_layers(NODES[:2]))  # one node fewer: another key, its own answers
    _memberships_equal(other.membership_grid(lon, lat), other.membership_exact(np.asarray(shapely.points(lon, lat))))
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2

    entry.write_bytes(b"PK\x03\x04 not a numpy archive")
    rebuilt = LayoutIndex(_synthetic_layers())
    _memberships_equal(rebuilt.membership_grid(lon, lat), expected)
    assert "grid" in rebuilt.__dict__ and entry.read_bytes().startswith(b"PK") and entry.stat().st_size > 100

    monkeypatch.setenv("GZ_INDEX_CACHE", "off")
    entry.unlink()
    _memberships_equal(LayoutIndex(_synthetic_layers()).membership_grid(lon, lat), expected)
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1  # nothing read or written


def test_a_built_grid_answers_short_calls_too(index, monkeypatch):
    """Once the grid and kernels have answered a call, "auto" takes them for any number of points
    (a stream's short last batch: 0.01 s for 40,000 points, not GEOS's 0.3 s), with the same
    answers; before that, a short call stays on GEOS (no compiled code loaded for it)."""
    fresh = LayoutIndex(index.layers)
    lon, lat = _points(index, n=300, seed=5)

    def geos_nearest(*args, **kwargs):
        raise AssertionError("the GEOS path answered a short call of a built grid")

    called = []
    monkeypatch.setattr(
        fresh, "nearest_node", lambda *a, **k: called.append(1) or LayoutIndex.nearest_node(fresh, *a, **k)
    )
    fresh.attribute(lon, lat)
    assert called, "a short first call goes through GEOS"
    fresh.attribute(*_points(index, n=60_000, seed=6))  # a long call builds the grid
    monkeypatch.setattr(fresh, "nearest_node", geos_nearest)
    for n in (0, 1, 7, len(lon)):
        short = fresh.attribute(lon[:n], lat[:n])
        grid = index.attribute(lon[:n], lat[:n], method="grid")
        for name in ("axis_section", "axis_distance_m", "nearest_node", "nearest_node_m"):
            np.testing.assert_array_equal(getattr(short, name), getattr(grid, name))
        np.testing.assert_array_equal(short.membership.nodes, grid.membership.nodes)
        np.testing.assert_array_equal(short.membership.district, grid.membership.district)


def test_the_metric_cache_gives_the_built_structures_and_answers(tmp_path, monkeypatch):
    """A new index reads the distance indexes and the metre lattice from the on-disk cache (no
    candidate search, no lattice of PROJ points, no projected outlines): the same arrays, bit for
    bit, and the same answers; with the cache off they are built again."""
    from gzspatial import _index_cache
    from gzspatial._lattice import Lattice

    monkeypatch.setenv("GZ_INDEX_CACHE", str(tmp_path / "cache"))
    lon, lat = _points(None, n=60_000, seed=4)
    built = LayoutIndex(_synthetic_layers())
    expected = built.attribute(lon, lat, method="grid")

    def packed(index):
        structures = index._metric_structures
        arrays = _index_cache.pack("lattice", structures["lattice"])
        for part in ("axis", "nodes"):
            arrays |= _index_cache.pack(f"{part}.s", structures[part][0]) | _index_cache.pack(
                f"{part}.c", structures[part][1]
            )
        return arrays

    def never(*args, **kwargs):
        raise AssertionError("built, not read from the cache")

    with monkeypatch.context() as patched:
        patched.setattr(_distance.CellIndex, "build", never)
        patched.setattr(Lattice, "build", never)
        cached = LayoutIndex(_synthetic_layers())
        got = cached.attribute(lon, lat, method="grid")
    assert "axis_metric" not in cached.__dict__ and "nodes_metric" not in cached.__dict__
    want, have = packed(built), packed(cached)
    assert want.keys() == have.keys()
    for name in want:
        np.testing.assert_array_equal(have[name], want[name], err_msg=name)
        assert have[name].dtype == want[name].dtype, name
    for name in ("axis_section", "axis_distance_m", "nearest_node", "nearest_node_m"):
        np.testing.assert_array_equal(getattr(got, name), getattr(expected, name))

    monkeypatch.setenv("GZ_INDEX_CACHE", "off")
    rebuilt = LayoutIndex(_synthetic_layers())
    np.testing.assert_array_equal(rebuilt.attribute(lon, lat, method="grid").nearest_node_m, expected.nearest_node_m)
    assert "nodes_metric" in rebuilt.__dict__  # built: the outlines were projected

"""Property: the containment grid (gzspatial._grid via LayoutIndex.membership_grid) gives the exact answer,
checked against shapely on tiny synthetic layers drawn by Hypothesis: squares and triangles, with holes,
nested, sharing edges, with points on their outlines and 1e-9 degrees either side."""

from pathlib import Path

import numpy as np
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gzspatial._engine import LayoutIndex
from gzspatial.layers import Layer

X0, Y0 = 113.30, 23.10  # near Guangzhou; shapes within about 0.04 degrees (80 grid cells) of here
UNIT = 0.0005  # coordinates are multiples of a grid cell or of a third of one: on and off cell edges


@st.composite
def _shape(draw):
    """A square or a triangle, perhaps with a square hole, in WGS84 degrees."""
    x, y = X0 + draw(st.integers(0, 60)) * UNIT / 3 * 2, Y0 + draw(st.integers(0, 60)) * UNIT / 3 * 2
    size = draw(st.integers(3, 40)) * UNIT
    if draw(st.booleans()):
        outline = [(x, y), (x + size, y), (x + size, y + size), (x, y + size)]
    else:
        outline = [(x, y), (x + size, y + draw(st.integers(0, 20)) * UNIT / 3), (x + size / 3, y + size)]
    holes = []
    if draw(st.booleans()):
        hole = size / 4
        cx, cy = np.mean(outline, axis=0)
        holes.append([(cx - hole / 2, cy - hole / 2), (cx + hole / 2, cy - hole / 2), (cx, cy + hole / 2)])
    polygon = shapely.Polygon(outline, holes)
    return polygon if polygon.is_valid else shapely.Polygon(outline)


@st.composite
def _layers(draw):
    districts = draw(st.lists(_shape(), min_size=1, max_size=3))
    if draw(st.booleans()):  # a neighbour sharing the first district's east edge
        minx, miny, maxx, maxy = districts[0].bounds
        districts.append(shapely.box(maxx, miny, maxx + (maxx - minx) / 2, maxy))
    nodes = draw(st.lists(_shape(), min_size=0, max_size=4))
    if nodes and draw(st.booleans()):  # a node inside another one
        nodes.append(shapely.box(*nodes[0].centroid.buffer(UNIT).bounds))
    cores = draw(st.lists(_shape(), min_size=0, max_size=2))
    layers = {"districts": districts, "city": [shapely.union_all(districts)], "cores": cores, "nodes": nodes}
    return {name: _layer(name, geometries) for name, geometries in layers.items() if geometries}


def _layer(name, geometries):
    properties = [{"id": f"{name}{i}"} for i in range(len(geometries))]
    return Layer(name, Path(f"synthetic/{name}.geojson"), properties, np.asarray(geometries, dtype=object))


def _points(layers, seed):
    """Random points over the layers' bounds, and the outlines' vertices, edge midpoints and 1e-9 beside."""
    geometries = np.concatenate([layer.geometries for layer in layers.values()])
    minx, miny, maxx, maxy = shapely.total_bounds(geometries)
    rng = np.random.default_rng(seed)
    random = np.column_stack(
        [rng.uniform(minx - 0.002, maxx + 0.002, 3000), rng.uniform(miny - 0.002, maxy + 0.002, 3000)]
    )
    rings = shapely.get_parts(shapely.boundary(geometries))
    xy = np.concatenate([shapely.get_coordinates(ring) for ring in rings])
    ends = np.concatenate([shapely.get_coordinates(ring)[1:] for ring in rings])
    starts = np.concatenate([shapely.get_coordinates(ring)[:-1] for ring in rings])
    outline = np.concatenate([xy, (starts + ends) / 2])
    near = [outline + offset for offset in ((1e-9, 0), (-1e-9, 0), (0, 1e-9), (0, -1e-9))]
    lon, lat = np.concatenate([random, outline, *near]).T
    return lon, lat


def _truth(layer, points):
    """Per point: the set of features that intersect it (shapely, brute force) and their areas."""
    hits = shapely.intersects(points[:, None], layer.geometries[None, :])
    return hits, shapely.area(layer.geometries)


def _check_smallest(got, layer, points):
    """got[i] is a feature holding point i with the smallest area of those that do; -1 where none does."""
    if layer is None:
        assert (got == -1).all()
        return
    hits, area = _truth(layer, points)
    assert ((got == -1) == ~hits.any(axis=1)).all()
    rows = np.flatnonzero(got >= 0)
    assert hits[rows, got[rows]].all()
    smallest = np.where(hits, area[None, :], np.inf).min(axis=1)
    # areas in degrees² rank like the engine's km² for features this small and this close together
    np.testing.assert_allclose(area[got[rows]], smallest[rows], rtol=1e-6)


@settings(max_examples=30)
@given(_layers(), st.integers(0, 2**32 - 1))
def test_grid_answer_equals_the_exact_answer(layers, seed):
    index = LayoutIndex(layers)
    lon, lat = _points(layers, seed)
    points = shapely.points(lon, lat)
    grid = index.membership_grid(lon, lat)
    exact = index.membership_exact(points)
    # the same answer as the engine's exact path, tie-breaking included
    np.testing.assert_array_equal(grid.district, exact.district)
    np.testing.assert_array_equal(grid.core, exact.core)
    np.testing.assert_array_equal(grid.in_city, exact.in_city)
    width = max(grid.nodes.shape[1], exact.nodes.shape[1])
    pad = lambda m: np.hstack([m, np.full((len(m), width - m.shape[1]), -1)])
    np.testing.assert_array_equal(pad(grid.nodes), pad(exact.nodes))
    # and the answer of shapely itself
    _check_smallest(grid.district, index.districts.layer, points)
    _check_smallest(grid.core, index.cores.layer if index.cores else None, points)
    np.testing.assert_array_equal(grid.in_city, shapely.intersects(points, layers["city"].geometries[0]))
    if index.nodes is None:
        assert (grid.nodes == -1).all()
    else:
        hits, _ = _truth(index.nodes.layer, points)
        got = [{int(i) for i in row if i >= 0} for row in grid.nodes]
        assert got == [set(np.flatnonzero(row).tolist()) for row in hits]

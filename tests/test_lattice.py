"""Tests of the interpolated fast paths: the metre lattice (and the answers refined where its
error could matter), the GCJ-02 inverse's first guess, and parse_degrees' one-cast path."""

import numpy as np
import pyproj
import pytest

from gzspatial import _gcj, _gcj_fast, _parallel, crs
from gzspatial._engine import MAX_ERROR_M, LayoutIndex, layout_index, to_metric_points
from gzspatial._lattice import Lattice
from gzspatial._validate import parse_degrees

GZ = (112.95, 22.55, 114.05, 23.95)


def _random(n, seed):
    rng = np.random.default_rng(seed)
    return rng.uniform(GZ[0], GZ[2], n), rng.uniform(GZ[1], GZ[3], n)


def test_metre_lattice_matches_proj():
    lattice = layout_index()._lattice
    assert lattice is not None and lattice.max_error <= MAX_ERROR_M
    lon, lat = _random(200_000, seed=1)
    # lattice points, cell centres (the worst places for interpolation) and random points
    k = np.concatenate([np.arange(5, 100), np.arange(5, 100) + 0.5])
    lon = np.concatenate([lon, lattice.lon0 + lattice.step * k])
    lat = np.concatenate([lat, lattice.lat0 + lattice.step * k])
    x, y, ok = lattice.interpolate(lon, lat)
    assert ok.all()
    want_x, want_y = to_metric_points(lon, lat)
    assert np.hypot(x - want_x, y - want_y).max() < MAX_ERROR_M


def test_lattice_off_its_bounds_and_nan_are_not_ok():
    lattice = Lattice.build((113.0, 23.0, 113.1, 23.1), to_metric_points)
    x, y, ok = lattice.interpolate(np.array([113.05, 112.0, np.nan, 113.05]), np.array([23.05, 23.05, 23.05, np.nan]))
    assert ok.tolist() == [True, False, False, False]
    assert np.isnan(x[1:]).all() and np.isnan(y[1:]).all()


def test_lattice_slices_on_threads_equal_one_thread(monkeypatch):
    lattice = layout_index()._lattice
    lon, lat = _random(300_000, seed=2)
    many = lattice.interpolate(lon, lat)
    monkeypatch.setattr(_parallel, "WORKERS", 1)
    one = lattice.interpolate(lon, lat)
    for a, b in zip(many, one, strict=True):
        np.testing.assert_array_equal(a, b)


def _rounding_step_points(index: LayoutIndex, n: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 points whose distance to the nearest node outline is ~1e-10 m past a 0.05 m step
    (where the written 0.1 m rounding turns): moved along the line from their nearest outline point."""
    import shapely

    lon, lat = _random(n, seed=3)
    x, y = to_metric_points(lon, lat)
    points = shapely.points(x, y)
    nearest = index.nearest_node(x, y, fast=True)[0]
    outline = shapely.boundary(index.nodes_metric)[nearest]
    q = shapely.get_coordinates(shapely.shortest_line(outline, points))[0::2]  # the line starts on the outline
    d = np.hypot(x - q[:, 0], y - q[:, 1])
    target = (np.floor(d * 20) + 1) / 20 + 1e-10
    px, py = q[:, 0] + (x - q[:, 0]) / d * target, q[:, 1] + (y - q[:, 1]) / d * target
    to_wgs84 = pyproj.Transformer.from_crs(crs.METRIC_CRS, "EPSG:4326", always_xy=True)
    return to_wgs84.transform(px, py)


def test_lattice_answers_equal_proj_answers(monkeypatch):
    index = layout_index()
    lon_r, lat_r = _random(200_000, seed=4)
    lon_t, lat_t = _rounding_step_points(index)
    lon, lat = np.concatenate([lon_r, lon_t]), np.concatenate([lat_r, lat_t])
    fast = index.attribute(lon, lat, method="grid")
    proj = LayoutIndex(index.layers)
    monkeypatch.setattr(LayoutIndex, "_lattice", None)  # PROJ for every point
    exact = proj.attribute(lon, lat, method="grid")
    np.testing.assert_array_equal(fast.axis_section, exact.axis_section)
    np.testing.assert_array_equal(fast.nearest_node, exact.nearest_node)
    for name in ("axis_distance_m", "nearest_node_m"):
        got, want = getattr(fast, name), getattr(exact, name)
        np.testing.assert_allclose(got, want, rtol=0, atol=2 * MAX_ERROR_M)
        np.testing.assert_array_equal(np.round(got, 1), np.round(want, 1))  # as written to gz_ columns


def test_gcj_inverse_guess_reaches_the_same_fixed_point():
    lon, lat = _random(200_000, seed=5)
    lon, lat = np.append(lon, [116.4, np.nan, 113.3]), np.append(lat, [39.9, 23.1, np.nan])  # Beijing: no guess
    g_lon, g_lat = _gcj_fast.apply(_gcj_fast.WGS_TO_GCJ, lon, lat)
    guessed = _gcj_fast.apply(_gcj_fast.GCJ_TO_WGS, g_lon, g_lat)
    plain = _gcj_fast.apply(_gcj_fast.GCJ_TO_WGS, g_lon, g_lat, guess=False)
    for got, want, start in zip(guessed, plain, (lon, lat), strict=True):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-11)
        np.testing.assert_allclose(got, start, rtol=0, atol=1e-9)  # round trip
    reference = _gcj.gcj_to_wgs(g_lon[:1000], g_lat[:1000])  # the numpy path
    np.testing.assert_allclose(guessed[0][:1000], reference[0], rtol=0, atol=1e-11)


@pytest.mark.parametrize("odd", ["113°19′30″E", " 113.3", "１１３.３", "", "nan", "inf", "1_13.3", "113.3E"])
def test_parse_degrees_cast_path_equals_cell_by_cell(odd):
    rng = np.random.default_rng(6)
    plain = np.round(rng.uniform(113, 114, 5000), 6).astype(str).astype(object)
    plain[:6] = ["113", "+113.5", ".5", "5.", "1.13e2", "1E+2"]
    fast, fast_problems = parse_degrees(plain, "lon")  # every cell a plain decimal: one cast
    assert fast_problems == {}
    mixed, problems = parse_degrees(np.append(plain, odd), "lon")  # one odd cell: cell by cell
    np.testing.assert_array_equal(fast, mixed[:-1])
    assert fast[:6].tolist() == [113.0, 113.5, 0.5, 5.0, 113.0, 100.0]
    assert set(problems) <= {5000}


def test_dictionary_columns_equal_string_columns():
    """Coded.to_dictionary (Arrow dictionary arrays, no per-row strings) holds the same texts as
    Coded.to_arrow, for every text gz_ column of a real join."""
    import pyarrow as pa

    from gzspatial.attribute import Coded, Options, attribute_coordinates

    lon, lat = _random(60_000, seed=7)
    lon[:3], lat[:3] = np.nan, 0.0  # missing rows: empty texts and notes
    columns, _, _ = attribute_coordinates(lon, lat, Options(crs="wgs84").checked())
    coded = {name: value for name, value in columns.items() if isinstance(value, Coded)}
    assert len(coded) >= 10
    for name, value in coded.items():
        dictionary = value.to_dictionary()
        assert pa.types.is_dictionary(dictionary.type), name
        assert dictionary.cast(pa.string()).equals(value.to_arrow()), name
        texts = dictionary.dictionary.to_pylist()
        assert len(texts) == len(set(texts)), name  # each text once: the Parquet writer keeps dictionaries


def test_parse_degrees_float_path_equals_arrow_path():
    import pyarrow as pa

    values = np.array([113.3, np.nan, np.inf, -np.inf, 23.1, -0.0])
    got, problems = parse_degrees(values)
    want, want_problems = parse_degrees(pa.array(values))  # the Arrow route
    np.testing.assert_array_equal(got, want)
    assert problems == want_problems == {1: "not a number: NaN", 2: "not a finite number", 3: "not a finite number"}
    clean = np.array([113.3, 23.1])
    parsed, none = parse_degrees(clean)
    assert none == {} and parsed.tolist() == [113.3, 23.1] and parsed is not clean  # a copy: callers may write

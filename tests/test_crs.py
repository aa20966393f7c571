"""Tests of gzspatial.crs: published vectors, exact inverses, arrays, geometries, errors."""

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from gzspatial import _gcj, crs
from gzspatial._errors import CoordinateError

# Published vectors of the reference implementation (wandergis/coordtransform and
# coordTransform_py READMEs); inputs are (128.543, 37.065) and (116.404, 39.915).
PUBLISHED = [
    ("wgs84", "gcj02", (128.543, 37.065), (128.54820547949757, 37.065651049489816)),
    ("gcj02", "bd09", (128.543, 37.065), (128.54944656269413, 37.07113427883019)),
    ("wgs84", "bd09", (128.543, 37.065), (128.55468192918485, 37.07168344938498)),
    ("wgs84", "gcj02", (116.404, 39.915), (116.41024449916938, 39.91640428150164)),
    ("gcj02", "bd09", (116.404, 39.915), (116.41036949371029, 39.92133699351021)),
    ("wgs84", "bd09", (116.404, 39.915), (116.41662724378733, 39.922699552216216)),
]
# The same references' one-step inverses, which are off by metres: ours must differ from them
# (by more than a centimetre, less than 10 m) while being an exact inverse.
ONE_STEP_INVERSES = [
    ("gcj02", "wgs84", (116.404, 39.915), (116.39775550083061, 39.91359571849836)),
    ("bd09", "gcj02", (116.404, 39.915), (116.39762729119315, 39.90865673957631)),
]
GZ_LON = st.floats(112.9, 114.1)
GZ_LAT = st.floats(22.5, 23.95)
CHINA_LON = st.floats(73.0, 135.0)
CHINA_LAT = st.floats(18.0, 53.5)
ALL_SYSTEMS = ["wgs84", "cgcs2000", "gcj02", "bd09", "EPSG:4547", "EPSG:3857"]


@pytest.mark.parametrize(("src", "dst", "point", "expected"), PUBLISHED)
def test_published_vectors(src, dst, point, expected):
    assert crs.transform(*point, src, dst) == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize(("src", "dst", "point", "one_step"), ONE_STEP_INVERSES)
def test_inverse_is_exact_not_one_step(src, dst, point, one_step):
    back = crs.transform(*point, src, dst)
    forward = crs.transform(*back, dst, src)
    assert forward == pytest.approx(point, abs=1e-10)
    gap = np.hypot(back[0] - one_step[0], back[1] - one_step[1]) * 111_000
    assert 0.01 < gap < 10


@settings(max_examples=300, deadline=None)
@given(GZ_LON, GZ_LAT, st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_guangzhou_within_1cm(lon, lat, system):
    there = crs.transform(lon, lat, "wgs84", system)
    back = crs.transform(*there, system, "wgs84")
    assert back == pytest.approx((lon, lat), abs=1e-7)
    assert abs(back[0] - lon) < 1e-9 and abs(back[1] - lat) < 1e-9


@settings(max_examples=300, deadline=None)
@given(CHINA_LON, CHINA_LAT, st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_china(lon, lat, system):
    back = crs.transform(*crs.transform(lon, lat, "wgs84", system), system, "wgs84")
    assert back == pytest.approx((lon, lat), abs=1e-7)


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_inverse_exact_on_a_dense_grid_of_guangzhou(system):
    lon, lat = np.meshgrid(np.linspace(112.9, 114.1, 300), np.linspace(22.5, 23.95, 300))
    back_lon, back_lat = crs.transform(*crs.transform(lon, lat, "wgs84", system), system, "wgs84")
    assert back_lon.shape == lon.shape
    assert np.abs(back_lon - lon).max() < 1e-7 and np.abs(back_lat - lat).max() < 1e-7


def test_offset_in_guangzhou_is_hundreds_of_metres():
    lon, lat = crs.transform(113.32, 23.12, "wgs84", "gcj02")
    east_m = (lon - 113.32) * 111_320 * np.cos(np.radians(23.12))
    north_m = (lat - 23.12) * 110_574
    assert 450 < east_m < 650 and -400 < north_m < -200


def test_identity_outside_china():
    assert crs.transform(2.35, 48.85, "wgs84", "gcj02") == (2.35, 48.85)
    assert crs.transform(2.35, 48.85, "gcj02", "wgs84") == (2.35, 48.85)


def test_compiled_path_matches_numpy_path():
    rng = np.random.default_rng(7)
    n = crs.COMPILED_MIN_POINTS + 10
    lon, lat = rng.uniform(73, 135, n), rng.uniform(1, 55, n)
    for name in ("wgs_to_gcj", "gcj_to_wgs", "gcj_to_bd", "bd_to_gcj"):
        fast = crs._run_kernel(name, lon, lat)
        plain = getattr(_gcj, name)(lon, lat)
        np.testing.assert_allclose(fast[0], plain[0], rtol=0, atol=1e-11)
        np.testing.assert_allclose(fast[1], plain[1], rtol=0, atol=1e-11)


def test_shared_formula_matches_textbook_formula():
    """The triple-angle rewrite in _gcj equals the published formula to 1e-12 degrees."""
    from benchmarks.bench_crs import textbook_wgs_to_gcj

    rng = np.random.default_rng(3)
    lon, lat = rng.uniform(73, 135, 10_000), rng.uniform(1, 55, 10_000)
    ours = _gcj.wgs_to_gcj(lon, lat)
    textbook = textbook_wgs_to_gcj(lon, lat)
    assert np.abs(ours[0] - textbook[0]).max() < 1e-12 and np.abs(ours[1] - textbook[1]).max() < 1e-12


@pytest.mark.parametrize("src", ALL_SYSTEMS)
@pytest.mark.parametrize("dst", ALL_SYSTEMS)
def test_every_pair_round_trips(src, dst):
    lon, lat = np.array([113.26, 113.55, 113.9]), np.array([23.13, 22.8, 23.6])
    start = crs.transform(lon, lat, "wgs84", src)
    back = crs.transform(*crs.transform(*start, src, dst), dst, "wgs84")
    np.testing.assert_allclose(back[0], lon, atol=1e-8)
    np.testing.assert_allclose(back[1], lat, atol=1e-8)


def test_scalars_give_floats_and_arrays_keep_shape():
    out = crs.transform(113.3, 23.1, "wgs84", "gcj02")
    assert all(isinstance(v, float) for v in out)
    arr = crs.transform(np.full((2, 3), 113.3), np.full((2, 3), 23.1), "wgs84", "gcj02")
    assert arr[0].shape == (2, 3) and arr[0][1, 2] == pytest.approx(out[0], abs=1e-12)


def test_nan_stays_nan():
    lon, lat = crs.transform(np.array([np.nan, 113.3, 113.3]), np.array([23.1, np.nan, 23.1]), "gcj02", "wgs84")
    assert np.isnan(lon[:2]).all() and np.isnan(lat[:2]).all()
    assert np.isfinite(lon[2]) and np.isfinite(lat[2])


@pytest.mark.parametrize(("lon", "lat", "word"), [(113.3, 91.0, "latitude 91"), (181.0, 23.0, "longitude 181")])
def test_out_of_range_is_a_clear_error(lon, lat, word):
    with pytest.raises(CoordinateError, match=word):
        crs.transform(lon, lat, "wgs84", "gcj02")


def test_non_numeric_is_a_clear_error():
    with pytest.raises(CoordinateError, match="must be numbers"):
        crs.transform("east", 23.0, "wgs84", "gcj02")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("WGS84", "wgs84"),
        ("EPSG:4326", "wgs84"),
        (4490, "cgcs2000"),
        ("amap", "gcj02"),
        ("Baidu", "bd09"),
        ("epsg:4547", "EPSG:4547"),
        ("EPSG:32649", "EPSG:32649"),
        # Chinese labels of exports' 坐标系 columns: a map service's name is its system
        ("高德", "gcj02"),
        ("高德地图坐标系", "gcj02"),
        ("腾讯坐标", "gcj02"),
        ("火星坐标系", "gcj02"),
        ("国测局坐标", "gcj02"),
        ("百度", "bd09"),
        ("百度坐标系", "bd09"),
        ("百度经纬度坐标", "bd09"),
        ("GPS", "wgs84"),
        ("WGS84坐标系", "wgs84"),
        ("2000国家大地坐标系", "cgcs2000"),
        ("CGCS2000坐标系", "cgcs2000"),
    ],
)
def test_normalize_crs(given, expected):
    assert crs.normalize_crs(given) == expected


# 百度墨卡托 is Baidu's metres (no EPSG code), not BD-09 degrees; a bare suffix names nothing
@pytest.mark.parametrize("bad", ["EPSG:99999999", "mars", "", "百度墨卡托", "坐标系", "地图坐标", "gps坐标x"])
def test_unknown_crs(bad):
    with pytest.raises(CoordinateError, match="coordinate system"):
        crs.normalize_crs(bad)


def test_geometry_conversion_keeps_holes_and_parts():
    shell = [(113.2, 23.0), (113.4, 23.0), (113.4, 23.2), (113.2, 23.2)]
    hole = [(113.25, 23.05), (113.3, 23.05), (113.3, 23.1), (113.25, 23.1)]
    polygon = shapely.Polygon(shell, [hole])
    multi = shapely.MultiPolygon([polygon, shapely.box(113.5, 23.3, 113.6, 23.4)])
    line = shapely.LineString([(113.2, 23.0), (113.5, 23.3)])
    converted = crs.transform_geometry(np.array([polygon, multi, line]), "wgs84", "gcj02")
    assert [g.geom_type for g in converted] == ["Polygon", "MultiPolygon", "LineString"]
    assert len(converted[0].interiors) == 1 and len(converted[1].geoms) == 2
    expected = crs.transform(113.25, 23.05, "wgs84", "gcj02")
    assert converted[0].interiors[0].coords[0] == pytest.approx(expected, abs=1e-12)
    back = crs.transform_geometry(converted, "gcj02", "wgs84")
    assert all(shapely.equals_exact(b, g, tolerance=1e-9) for b, g in zip(back, [polygon, multi, line], strict=True))


def test_frame_conversion_sets_crs():
    frame = gpd.GeoDataFrame({"name": ["a"]}, geometry=[shapely.Point(113.3, 23.1)], crs="EPSG:4326")
    gcj = crs.transform_frame(frame, "wgs84", "gcj02")
    assert gcj.crs is None and gcj.attrs["gz_crs"] == "gcj02" and list(gcj["name"]) == ["a"]
    assert frame.geometry[0].x == 113.3  # input untouched
    metric = crs.transform_frame(frame, "wgs84", crs.METRIC_CRS)
    assert metric.crs.to_epsg() == 4547
    reference = frame.to_crs(4547).geometry[0]
    assert metric.geometry[0].distance(reference) < 1e-6

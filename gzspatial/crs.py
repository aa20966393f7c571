"""Coordinate systems of Chinese data and conversion between them, for points and geometries.

Named systems: ``wgs84`` (EPSG:4326, the storage CRS), ``cgcs2000`` (EPSG:4490), ``gcj02``
(Amap, Tencent) and ``bd09`` (Baidu), plus any ``EPSG:<n>`` pyproj knows. GCJ-02 and BD-09 are
chained through WGS84; their inverses are exact (iterated), not the one-step approximation.
Areas (km²) and distances (m) in gzspatial are computed in :data:`METRIC_CRS`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, overload

import numpy as np

from gzspatial import _gcj
from gzspatial._errors import CoordinateError
from gzspatial.i18n import _
from gzspatial.settings import COMPILED_MIN_POINTS

if TYPE_CHECKING:
    import geopandas
    import pandas as pd
    import pyproj
    import shapely
    from geopandas.array import GeometryArray

    #: Geometries as ``transform_geometry`` accepts them: an array, a GeoSeries' values or a list.
    GeometryArrayLike = np.ndarray | GeometryArray | Sequence[shapely.Geometry | None]


class System(StrEnum):
    """The coordinate systems known by name (any other is ``EPSG:<n>``)."""

    WGS84 = "wgs84"  # EPSG:4326, the storage CRS
    CGCS2000 = "cgcs2000"  # EPSG:4490
    GCJ02 = "gcj02"  # Amap, Tencent
    BD09 = "bd09"  # Baidu


# Plain-text names, as written to outputs and accepted by every ``crs`` argument.
WGS84 = System.WGS84.value
CGCS2000 = System.CGCS2000.value
GCJ02 = System.GCJ02.value
BD09 = System.BD09.value
#: CGCS2000 / 3-degree Gauss-Kruger CM 114E: metres, covers Guangzhou.
METRIC_CRS = "EPSG:4547"
NAMED_SYSTEMS = (WGS84, CGCS2000, GCJ02, BD09)
_EPSG_OF = {WGS84: "EPSG:4326", CGCS2000: "EPSG:4490"}
_ALIASES = {
    "wgs84": WGS84,
    "wgs-84": WGS84,
    "epsg:4326": WGS84,
    "4326": WGS84,
    "cgcs2000": CGCS2000,
    "epsg:4490": CGCS2000,
    "4490": CGCS2000,
    "gcj02": GCJ02,
    "gcj-02": GCJ02,
    "gcj": GCJ02,
    "amap": GCJ02,
    "gaode": GCJ02,
    "tencent": GCJ02,
    "bd09": BD09,
    "bd-09": BD09,
    "bd09ll": BD09,
    "baidu": BD09,
    # Chinese names, as exports label a 坐标系 column (and as column names say, io._SYSTEM_TOKENS):
    # a map service's name is its system (高德/腾讯: GCJ-02, also 火星坐标 or 国测局坐标; 百度: BD-09);
    # a GPS's fixes are WGS84. Matched with 坐标系/坐标/地图 after them or not (高德地图坐标系).
    "高德": GCJ02,
    "腾讯": GCJ02,
    "火星": GCJ02,
    "国测局": GCJ02,
    "百度": BD09,
    "百度经纬度": BD09,
    "gps": WGS84,
    "2000国家大地": CGCS2000,
    "国家2000": CGCS2000,
}
_CHINESE_SUFFIXES = re.compile(r"(地图)?(坐标系|坐标)?$")


def normalize_crs(crs: object) -> str:
    """Canonical name of a coordinate system: one of NAMED_SYSTEMS or ``EPSG:<n>``.

    Accepts names and aliases (``amap``, ``baidu``…), ``EPSG:n`` strings, integers and
    ``pyproj.CRS`` objects. Raises CoordinateError for anything pyproj does not know.
    """
    key = str(crs).strip().lower().replace("_", "") if not hasattr(crs, "to_epsg") else None
    if key in _ALIASES:
        return _ALIASES[key]
    named = _CHINESE_SUFFIXES.sub("", key) if key and not key.isascii() else None
    if named in _ALIASES:
        return _ALIASES[named]
    import pyproj

    try:
        parsed = pyproj.CRS.from_user_input(crs if key is None else str(crs).strip())
    except (pyproj.exceptions.CRSError, TypeError):
        raise CoordinateError(
            _("unknown coordinate system {crs!r}: use one of {NAMED_SYSTEMS} or EPSG:<code>").format(
                crs=crs, NAMED_SYSTEMS=", ".join(NAMED_SYSTEMS)
            )
        ) from None
    epsg = parsed.to_epsg()
    if epsg is None:
        raise CoordinateError(_("coordinate system {crs!r} has no EPSG code: give it as EPSG:<code>").format(crs=crs))
    return _ALIASES.get(f"epsg:{epsg}", f"EPSG:{epsg}")


def is_geographic(crs: str) -> bool:
    """True when coordinates in ``crs`` (canonical name) are lon/lat degrees."""
    return crs in NAMED_SYSTEMS or _pyproj_crs(crs).is_geographic


@lru_cache(maxsize=64)
def _pyproj_crs(crs: str) -> pyproj.CRS:
    import pyproj

    return pyproj.CRS.from_user_input(_EPSG_OF.get(crs, crs))


@lru_cache(maxsize=64)
def _transformer(src: str, dst: str) -> pyproj.Transformer:
    import pyproj

    return pyproj.Transformer.from_crs(_pyproj_crs(src), _pyproj_crs(dst), always_xy=True)


@lru_cache(maxsize=32)
def plausible_bounds(crs: str) -> tuple[float, float, float, float]:
    """(xmin, ymin, xmax, ymax) of a projected CRS's area of use in its own units, widened by 20%.

    Coordinates far outside these are not in this CRS (typically degrees given with a metric
    CRS: 113.3, 23.1 read as EPSG:4547 metres would sit in the sea off Africa).
    """
    area = _pyproj_crs(crs).area_of_use
    if area is None:
        return (-np.inf, -np.inf, np.inf, np.inf)
    west, south, east, north = area.bounds
    lon, lat = np.meshgrid(np.linspace(west, east, 9), np.linspace(south, north, 9))
    x, y = _transformer(WGS84, crs).transform(lon.ravel(), lat.ravel())
    x, y = np.asarray(x)[np.isfinite(x)], np.asarray(y)[np.isfinite(y)]
    dx, dy = (x.max() - x.min()) * 0.2, (y.max() - y.min()) * 0.2
    return (float(x.min() - dx), float(y.min() - dy), float(x.max() + dx), float(y.max() + dy))


def check_plausible(x: float, y: float, crs: str) -> None:
    """Raise CoordinateError when a point in a projected ``crs`` lies far outside its area of use
    (degrees typed with a metric CRS, say). Geographic systems pass (their ranges are checked apart)."""
    if is_geographic(crs):
        return
    xmin, ymin, xmax, ymax = plausible_bounds(crs)
    degrees = abs(x) <= 180 and abs(y) <= 90  # metres that small sit at the CRS's origin, not in Guangzhou
    if degrees or not (xmin <= x <= xmax and ymin <= y <= ymax):
        hint = _(" (they look like degrees: give --crs wgs84, gcj02 or bd09)") if degrees else ""
        raise CoordinateError(
            _("{x:g}, {y:g} is far outside the area of {crs}{hint}").format(x=x, y=y, crs=crs, hint=hint)
        )


def _check_range(lon: np.ndarray, lat: np.ndarray, crs: str) -> None:
    """Raise CoordinateError naming the first longitude/latitude out of range (NaN passes)."""
    for values, name, limit in ((lat, "latitude", 90.0), (lon, "longitude", 180.0)):
        bad = np.abs(values) > limit
        if bad.any():
            value = float(values[bad][0])
            raise CoordinateError(
                _(
                    "{name} {value:g} ({crs}) is outside ±{limit:g}°: give longitude first, then latitude, in degrees"
                ).format(name=name, value=value, crs=crs, limit=limit)
            )


def _to_wgs84(lon: np.ndarray, lat: np.ndarray, src: str) -> tuple[np.ndarray, np.ndarray]:
    if src == WGS84:
        return lon, lat
    if src == GCJ02:
        return _run_kernel("gcj_to_wgs", lon, lat)
    if src == BD09:
        return _run_kernel("gcj_to_wgs", *_run_kernel("bd_to_gcj", lon, lat))
    return _as_arrays(_transformer(src, WGS84).transform(lon, lat))


def _from_wgs84(lon: np.ndarray, lat: np.ndarray, dst: str) -> tuple[np.ndarray, np.ndarray]:
    if dst == WGS84:
        return lon, lat
    if dst == GCJ02:
        return _run_kernel("wgs_to_gcj", lon, lat)
    if dst == BD09:
        return _run_kernel("gcj_to_bd", *_run_kernel("wgs_to_gcj", lon, lat))
    return _as_arrays(_transformer(WGS84, dst).transform(lon, lat))


def _as_arrays(pair) -> tuple[np.ndarray, np.ndarray]:
    """pyproj gives floats for 0-d input; the GCJ-02/BD-09 kernels that may follow need arrays."""
    return np.asarray(pair[0], dtype=float), np.asarray(pair[1], dtype=float)


def _run_kernel(name: str, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One GCJ-02/BD-09 step: numpy for small inputs, compiled numba kernels for large ones."""
    if lon.size >= COMPILED_MIN_POINTS:
        from gzspatial import _gcj_fast

        op = {
            "wgs_to_gcj": _gcj_fast.WGS_TO_GCJ,
            "gcj_to_wgs": _gcj_fast.GCJ_TO_WGS,
            "gcj_to_bd": _gcj_fast.GCJ_TO_BD,
            "bd_to_gcj": _gcj_fast.BD_TO_GCJ,
        }[name]
        out_lon, out_lat = _gcj_fast.apply(op, lon.ravel(), lat.ravel())
        return out_lon.reshape(lon.shape), out_lat.reshape(lat.shape)
    return getattr(_gcj, name)(lon, lat)


@overload
def transform(lon: float, lat: float, src: object, dst: object) -> tuple[float, float]: ...
@overload
def transform(lon: np.ndarray, lat: np.ndarray, src: object, dst: object) -> tuple[np.ndarray, np.ndarray]: ...


def transform(
    lon: float | np.ndarray, lat: float | np.ndarray, src: object, dst: object
) -> tuple[float, float] | tuple[np.ndarray, np.ndarray]:
    """Convert coordinates from ``src`` to ``dst``; scalars give floats, arrays give arrays.

    Parameters
    ----------
    lon, lat : float or ndarray
        Degrees in geographic systems (easting/northing in metres in projected EPSG systems).
        NaN stays NaN; a point with one NaN coordinate gives NaN for both.
    src, dst : str or pyproj.CRS
        wgs84, cgcs2000, gcj02, bd09, or anything pyproj reads (``"EPSG:4547"``).

    Returns
    -------
    tuple of (float, float) or (ndarray, ndarray)
        ``(lon, lat)`` (or x, y) in ``dst``, floats for scalar input.

    Raises
    ------
    CoordinateError
        An unknown system, non-numeric input, or a longitude beyond ±180° / latitude beyond
        ±90° in a geographic system.

    Examples
    --------
    >>> from gzspatial import crs
    >>> lon, lat = crs.transform(113.3245, 23.1066, "gcj02", "wgs84")
    >>> round(lon, 6), round(lat, 6)
    (113.31909, 23.109211)
    """
    src, dst = normalize_crs(src), normalize_crs(dst)
    scalar = np.ndim(lon) == 0 and np.ndim(lat) == 0
    try:
        lon_arr, lat_arr = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
    except (TypeError, ValueError):
        raise CoordinateError(
            _("coordinates must be numbers, got lon={lon!r}, lat={lat!r}").format(lon=lon, lat=lat)
        ) from None
    if is_geographic(src):
        _check_range(lon_arr, lat_arr, src)
    if src == dst:
        out_lon, out_lat = lon_arr.copy(), lat_arr.copy()
    elif {src, dst} == {WGS84, CGCS2000}:
        # The two datums agree to centimetres and EPSG's transformation between them is the
        # null one: say so explicitly rather than depend on the installed PROJ grids.
        out_lon, out_lat = lon_arr.copy(), lat_arr.copy()
    else:
        out_lon, out_lat = _from_wgs84(*_to_wgs84(lon_arr, lat_arr, src), dst)
    # A point with one NaN coordinate has no position: both outputs are NaN.
    missing = np.isnan(lon_arr) | np.isnan(lat_arr)
    if missing.any():
        out_lon = np.where(missing, np.nan, out_lon)
        out_lat = np.where(missing, np.nan, out_lat)
    if scalar:
        return float(out_lon), float(out_lat)
    return np.asarray(out_lon, dtype=float), np.asarray(out_lat, dtype=float)


@overload
def transform_geometry(geometry: shapely.Geometry, src: object, dst: object) -> shapely.Geometry: ...
@overload
def transform_geometry(geometry: GeometryArrayLike, src: object, dst: object) -> np.ndarray: ...


def transform_geometry(
    geometry: shapely.Geometry | GeometryArrayLike, src: object, dst: object
) -> shapely.Geometry | np.ndarray:
    """Convert shapely geometries (any type, holes and multi-parts kept) from ``src`` to ``dst``.

    Parameters
    ----------
    geometry : shapely.Geometry or array-like of them
        One geometry, or a NumPy array, GeoSeries ``values`` or list of geometries (None kept).
    src, dst : str or pyproj.CRS
        As in :func:`transform`.

    Returns
    -------
    shapely.Geometry or ndarray
        The converted geometry, or an object array of them in the input's order.

    Examples
    --------
    >>> import shapely
    >>> from gzspatial import crs
    >>> crs.transform_geometry(shapely.Point(113.3245, 23.1066), "gcj02", "wgs84").wkt
    'POINT (113.31908969027269 23.109210959650884)'
    """
    import shapely

    def convert(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return transform(x, y, src, dst)

    # types-shapely types only the interleaved=True callback (one (N, 2) array in, one out).
    if isinstance(geometry, shapely.Geometry):
        return shapely.transform(geometry, convert, interleaved=False)  # type: ignore[arg-type]
    return shapely.transform(np.asarray(geometry, dtype=object), convert, interleaved=False)  # type: ignore[arg-type]


@overload
def transform_frame(frame: geopandas.GeoDataFrame, src: object, dst: object) -> geopandas.GeoDataFrame: ...
@overload
def transform_frame(frame: geopandas.GeoSeries, src: object, dst: object) -> geopandas.GeoSeries: ...


def transform_frame(
    frame: geopandas.GeoDataFrame | geopandas.GeoSeries, src: object, dst: object
) -> geopandas.GeoDataFrame | geopandas.GeoSeries:
    """Copy of a GeoDataFrame/GeoSeries with its geometries converted from ``src`` to ``dst``.

    Parameters
    ----------
    frame : GeoDataFrame or GeoSeries
        Its rows, index and other columns are kept as they are; the input is not changed.
    src, dst : str or pyproj.CRS
        As in :func:`transform`.

    Returns
    -------
    GeoDataFrame or GeoSeries
        Same type as ``frame``. Its ``crs`` is set for pyproj systems; for GCJ-02/BD-09, which
        pyproj does not know, it is None and ``attrs["gz_crs"]`` names the system.

    Examples
    --------
    >>> import gzspatial
    >>> from gzspatial import crs
    >>> districts = gzspatial.load_layers()["districts"]
    >>> amap = crs.transform_frame(districts, "wgs84", "gcj02")
    >>> amap.crs is None, amap.attrs["gz_crs"]
    (True, 'gcj02')
    """
    import geopandas

    src, dst = normalize_crs(src), normalize_crs(dst)
    crs = None if dst in (GCJ02, BD09) else _pyproj_crs(dst)
    geometry = geopandas.GeoSeries(
        transform_geometry(np.asarray(frame.geometry.values), src, dst),
        index=frame.index,
        crs=crs,
        name=frame.geometry.name,
    )
    out = geometry if isinstance(frame, geopandas.GeoSeries) else frame.set_geometry(geometry)
    out.geometry.values.crs = crs  # set_geometry keeps the old CRS when the new one is None
    out.attrs["gz_crs"] = dst
    return out


@overload
def to_metric(geometry: shapely.Geometry, src: object = WGS84) -> shapely.Geometry: ...
@overload
def to_metric(geometry: GeometryArrayLike, src: object = WGS84) -> np.ndarray: ...


def to_metric(geometry: shapely.Geometry | GeometryArrayLike, src: object = WGS84) -> shapely.Geometry | np.ndarray:
    """Geometries in :data:`METRIC_CRS` (metres), for areas and distances."""
    return transform_geometry(geometry, src, METRIC_CRS)


def convert_frame(frame: pd.DataFrame, *, lon: str, lat: str, src: object, dst: object) -> pd.DataFrame:
    """Copy of a table with ``<dst>_lon``/``<dst>_lat`` columns added, plus ``gz_status``/``gz_note``.

    Every row is kept in order; rows whose coordinates are blank, not numbers or out of range get
    NaN and a status saying why; swapped lon/lat are corrected and flagged.
    """
    from gzspatial._validate import check_points, parse_degrees

    src, dst = normalize_crs(src), normalize_crs(dst)
    added = [f"{dst.lower().replace(':', '')}_lon", f"{dst.lower().replace(':', '')}_lat", "gz_status", "gz_note"]
    clashes = [c for c in added if c in frame.columns]
    if clashes:
        raise CoordinateError(
            _("input already has column(s) {clashes}: rename them before converting").format(clashes=", ".join(clashes))
        )
    axes = ("lon", "lat") if is_geographic(src) else (None, None)
    lon_values, lon_problems = parse_degrees(frame[lon].to_numpy(), axes[0])
    lat_values, lat_problems = parse_degrees(frame[lat].to_numpy(), axes[1])
    checked = check_points(
        lon_values, lat_values, geographic=is_geographic(src), lon_problems=lon_problems, lat_problems=lat_problems
    )
    out_lon, out_lat = transform(checked.lon, checked.lat, src, dst)
    out = frame.copy()
    out[added[0]], out[added[1]] = out_lon, out_lat
    out["gz_status"], out["gz_note"] = checked.status, checked.note
    return out

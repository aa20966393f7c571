"""The GCJ-02 and BD-09 formulas, written once for numpy arrays and for numba scalars.

pyproj (PROJ) does not implement GCJ-02 or BD-09: they are not datums but published
obfuscation formulas, so they are written here by hand. Every function takes and returns
degrees (lon, lat) and uses only ``np.*`` ufuncs and arithmetic, so the same source runs on
numpy arrays (the plain path) and is compiled per element by numba (``_gcj_fast``).
"""

import numpy as np

#: One coordinate (the numba path, per element) or an array of them (the numpy path), degrees.
Degrees = float | np.ndarray

# Krasovsky 1940 ellipsoid, as in the published GCJ-02 algorithm.
KRASOVSKY_A = 6378245.0
KRASOVSKY_EE = 0.00669342162296594323
# BD-09 constants (Baidu's published offset of GCJ-02).
BD_X_PI = np.pi * 3000.0 / 180.0
BD_DLON = 0.0065
BD_DLAT = 0.006
# The box inside which GCJ-02 differs from WGS84 (the published ``out_of_china`` test).
CHINA_LON_MIN, CHINA_LON_MAX = 72.004, 137.8347
CHINA_LAT_MIN, CHINA_LAT_MAX = 0.8293, 55.8271
# Inverses are solved by fixed-point iteration; the Jacobian of each forward map differs from
# the identity by < 0.03 (BD-09's rotation term; GCJ-02's is ~0.003), so every step gains at
# least 1.5 digits. Stop once the step is below STEP_TOL degrees: the remaining error is then
# < 3e-12 degrees (well under a millimetre).
STEP_TOL = 1e-10
MAX_ITER = 30


def in_china(lon: Degrees, lat: Degrees) -> bool | np.ndarray:
    """True where GCJ-02 applies (inside the published box); False for NaN."""
    return (lon >= CHINA_LON_MIN) & (lon <= CHINA_LON_MAX) & (lat >= CHINA_LAT_MIN) & (lat <= CHINA_LAT_MAX)


def gcj_offset(lon: Degrees, lat: Degrees) -> tuple[Degrees, Degrees]:
    """GCJ-02 minus WGS84 at a WGS84 point, in degrees (no out-of-China test).

    The published formula, with sin(6πx), sin(πx) and sin(πy) taken from sin(2πx), sin(πx/3)
    and sin(πy/3) by the triple-angle identity, and cos(lat) from sin(lat).
    """
    x = lon - 105.0
    y = lat - 35.0
    s2x = np.sin(2.0 * np.pi * x)
    s3x = np.sin(np.pi * x / 3.0)
    s3y = np.sin(np.pi * y / 3.0)
    # sin(3a) = s(3 - 4s²) with s = sin(a), written inline so numba can compile it.
    common = (20.0 * s2x * (3.0 - 4.0 * s2x * s2x) + 20.0 * s2x) * 2.0 / 3.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + common
        + (20.0 * s3y * (3.0 - 4.0 * s3y * s3y) + 40.0 * s3y) * 2.0 / 3.0
        + (160.0 * np.sin(np.pi * y / 12.0) + 320.0 * np.sin(np.pi * y / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + common
        + (20.0 * s3x * (3.0 - 4.0 * s3x * s3x) + 40.0 * s3x) * 2.0 / 3.0
        + (150.0 * np.sin(np.pi * x / 12.0) + 300.0 * np.sin(np.pi * x / 30.0)) * 2.0 / 3.0
    )
    sin_lat = np.sin(lat / 180.0 * np.pi)
    magic = 1.0 - KRASOVSKY_EE * sin_lat * sin_lat
    sqrt_magic = np.sqrt(magic)
    cos_lat = np.sqrt(1.0 - sin_lat * sin_lat)
    dlat = (dlat * 180.0) / ((KRASOVSKY_A * (1.0 - KRASOVSKY_EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (KRASOVSKY_A / sqrt_magic * cos_lat * np.pi)
    return dlon, dlat


def gcj_to_bd(lon: Degrees, lat: Degrees) -> tuple[Degrees, Degrees]:
    """BD-09 coordinates of a GCJ-02 point, in degrees (Baidu's published formula)."""
    z = np.sqrt(lon * lon + lat * lat) + 0.00002 * np.sin(lat * BD_X_PI)
    theta = np.arctan2(lat, lon) + 0.000003 * np.cos(lon * BD_X_PI)
    return z * np.cos(theta) + BD_DLON, z * np.sin(theta) + BD_DLAT


# --- plain numpy path (small inputs, and the reference the compiled path is tested against) ---


def wgs_to_gcj(lon: Degrees, lat: Degrees) -> tuple[Degrees, Degrees]:
    """WGS84 -> GCJ-02 on numpy arrays (identity outside China, NaN stays NaN)."""
    dlon, dlat = gcj_offset(lon, lat)
    inside = in_china(lon, lat)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def _solve(forward, target_lon, target_lat, start_lon, start_lat):
    """Solve forward(w) = target by fixed-point iteration from start, on arrays."""
    w_lon, w_lat = start_lon.copy(), start_lat.copy()
    for _ in range(MAX_ITER):
        f_lon, f_lat = forward(w_lon, w_lat)
        e_lon, e_lat = f_lon - target_lon, f_lat - target_lat
        w_lon -= e_lon
        w_lat -= e_lat
        step = np.fmax(np.abs(e_lon), np.abs(e_lat))
        if not np.any(step >= STEP_TOL):  # NaN steps (NaN input) do not hold the loop
            break
    return w_lon, w_lat


def gcj_to_wgs(lon: Degrees, lat: Degrees) -> tuple[Degrees, Degrees]:
    """GCJ-02 -> WGS84 on numpy arrays: the exact inverse of :func:`wgs_to_gcj`."""
    return _solve(wgs_to_gcj, lon, lat, lon, lat)


def bd_to_gcj(lon: Degrees, lat: Degrees) -> tuple[Degrees, Degrees]:
    """BD-09 -> GCJ-02 on numpy arrays: the exact inverse of :func:`gcj_to_bd`."""
    return _solve(gcj_to_bd, lon, lat, lon - BD_DLON, lat - BD_DLAT)

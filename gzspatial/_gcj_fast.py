"""Compiled (numba) GCJ-02 / BD-09 kernels for large arrays.

The formulas are the ones in ``_gcj`` compiled per element: one fused, multi-threaded loop
instead of numpy's dozens of temporary arrays. numpy alone cannot fuse the loop, and the
inverse needs a per-point stopping test, hence numba. Imported only for large inputs, so a
one-point ``gzspatial locate`` never pays numba's import cost. The loop releases the GIL and
runs in slices on the shared thread pool (``_parallel``), so callers in threads scale too.
"""

import numba
import numpy as np

from gzspatial import _gcj
from gzspatial._parallel import for_slices

_offset = numba.njit(cache=True)(_gcj.gcj_offset)
_bd_encode = numba.njit(cache=True)(_gcj.gcj_to_bd)
_in_china = numba.njit(cache=True)(_gcj.in_china)

WGS_TO_GCJ, GCJ_TO_WGS, GCJ_TO_BD, BD_TO_GCJ = range(4)


@numba.njit(cache=True)
def _wgs_to_gcj(lon, lat):
    if not _in_china(lon, lat):
        return lon, lat
    dlon, dlat = _offset(lon, lat)
    return lon + dlon, lat + dlat


@numba.njit(cache=True)
def _solve(op, lon, lat, start_dlon, start_dlat, step_tol, max_iter):
    """Invert the forward map of ``op`` at (lon, lat) by fixed-point iteration."""
    w_lon, w_lat = lon - start_dlon, lat - start_dlat
    for _ in range(max_iter):
        if op == GCJ_TO_WGS:
            f_lon, f_lat = _wgs_to_gcj(w_lon, w_lat)
        else:
            f_lon, f_lat = _bd_encode(w_lon, w_lat)
        e_lon, e_lat = f_lon - lon, f_lat - lat
        w_lon -= e_lon
        w_lat -= e_lat
        if not (abs(e_lon) >= step_tol or abs(e_lat) >= step_tol):
            break
    return w_lon, w_lat


# Constants of _gcj are passed as arguments: numba's cache would not notice them change.
@numba.njit(cache=True, nogil=True)
def _apply(op, lon, lat, out_lon, out_lat, start_dlon, start_dlat, step_tol, max_iter):
    for i in range(lon.shape[0]):
        if op == WGS_TO_GCJ:
            out_lon[i], out_lat[i] = _wgs_to_gcj(lon[i], lat[i])
        elif op == GCJ_TO_BD:
            out_lon[i], out_lat[i] = _bd_encode(lon[i], lat[i])
        else:
            out_lon[i], out_lat[i] = _solve(op, lon[i], lat[i], start_dlon, start_dlat, step_tol, max_iter)


def apply(op: int, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Run kernel ``op`` over 1-D float64 arrays; returns new arrays."""
    out_lon = np.empty_like(lon)
    out_lat = np.empty_like(lat)
    start = (_gcj.BD_DLON, _gcj.BD_DLAT) if op == BD_TO_GCJ else (0.0, 0.0)
    lon = np.ascontiguousarray(lon, dtype=np.float64)
    lat = np.ascontiguousarray(lat, dtype=np.float64)

    def run(a, b):
        _apply(op, lon[a:b], lat[a:b], out_lon[a:b], out_lat[a:b], *start, _gcj.STEP_TOL, _gcj.MAX_ITER)

    for_slices(run, len(lon))
    return out_lon, out_lat

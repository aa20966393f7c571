"""Compiled (numba) GCJ-02 / BD-09 kernels for large arrays.

The formulas are the ones in ``_gcj`` compiled per element: one fused, multi-threaded loop
instead of numpy's dozens of temporary arrays. numpy alone cannot fuse the loop, and the
inverse needs a per-point stopping test, hence numba. Imported only for large inputs, so a
one-point ``gzspatial locate`` never pays numba's import cost. The loop releases the GIL and
runs in slices on the shared thread pool (``_parallel``), so callers in threads scale too.
"""

from functools import lru_cache

import numba
import numpy as np

from gzspatial import _gcj
from gzspatial._lattice import Lattice
from gzspatial._parallel import for_slices

#: GCJ-02 degrees where the inverse starts from an interpolated guess (Guangzhou's bounds widened
#: by ~0.1°), and its lattice step: the guess is within ~1e-10° of the inverse, so that mostly
#: one step (instead of 5) meets the same stopping test. Built once per process, in ~0.05 s.
GUESS_BOUNDS = (112.85, 22.45, 114.15, 24.05)
GUESS_STEP_DEG = 0.004

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
def _apply(op, lon, lat, out_lon, out_lat, start_dlon, start_dlat, step_tol, max_iter, guess_lon, guess_lat, guessed):
    """``guessed`` (empty, or per point): start the inverse from (guess_lon, guess_lat) there."""
    for i in range(lon.shape[0]):
        if op == WGS_TO_GCJ:
            out_lon[i], out_lat[i] = _wgs_to_gcj(lon[i], lat[i])
        elif op == GCJ_TO_BD:
            out_lon[i], out_lat[i] = _bd_encode(lon[i], lat[i])
        elif guessed.shape[0] != 0 and guessed[i]:
            dlon, dlat = lon[i] - guess_lon[i], lat[i] - guess_lat[i]
            out_lon[i], out_lat[i] = _solve(op, lon[i], lat[i], dlon, dlat, step_tol, max_iter)
        else:
            out_lon[i], out_lat[i] = _solve(op, lon[i], lat[i], start_dlon, start_dlat, step_tol, max_iter)


@lru_cache(maxsize=1)
def _inverse_guess() -> Lattice:
    """WGS84 of GCJ-02 points over GUESS_BOUNDS, interpolated from the exact inverse (~1e-10°;
    only a first guess: not measured)."""
    exact = lambda lon, lat: apply(GCJ_TO_WGS, lon, lat, guess=False)
    return Lattice.build(GUESS_BOUNDS, exact, GUESS_STEP_DEG, check=False)


def apply(op: int, lon: np.ndarray, lat: np.ndarray, *, guess: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Run kernel ``op`` over 1-D float64 arrays; returns new arrays (``guess``: GCJ_TO_WGS starts
    from the interpolated guess where there is one)."""
    out_lon = np.empty_like(lon)
    out_lat = np.empty_like(lat)
    start = (_gcj.BD_DLON, _gcj.BD_DLAT) if op == BD_TO_GCJ else (0.0, 0.0)
    lon = np.ascontiguousarray(lon, dtype=np.float64)
    lat = np.ascontiguousarray(lat, dtype=np.float64)
    guess_lon = guess_lat = np.empty(0)
    guessed = np.empty(0, dtype=bool)
    if op == GCJ_TO_WGS and guess:  # the fixed point is the same, only reached in fewer steps
        guess_lon, guess_lat, guessed = _inverse_guess().interpolate(lon, lat)

    def run(a, b):
        g = slice(a, b) if len(guessed) else slice(0, 0)
        _apply(op, lon[a:b], lat[a:b], out_lon[a:b], out_lat[a:b], *start, _gcj.STEP_TOL, _gcj.MAX_ITER,
               guess_lon[g], guess_lat[g], guessed[g])  # fmt: skip

    for_slices(run, len(lon))
    return out_lon, out_lat

"""A smooth map of degrees to two numbers for millions of points, by cubic interpolation in a
lattice of points where it was computed exactly: WGS84 to METRIC_CRS metres (``_engine``), and
a first guess of the GCJ-02 inverse (``_gcj_fast``).

PROJ's transverse Mercator costs ~100 ns a point (a pipeline of steps, a dozen transcendental
functions); the projection is so smooth over a city that bicubic (Lagrange) interpolation between
lattice points ``LATTICE_STEP_DEG`` apart reproduces it to ~1e-9 m, about PROJ's own rounding,
for ~10 ns. The lattice is computed by PROJ itself and the interpolation error is measured when
it is built (``max_error``, against the exact map at the worst places: cell centres, and random points);
callers refine the few answers that an error this small could change (``_engine``).
Points off the lattice get ``ok = False`` (the caller projects them with PROJ).
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from gzspatial._parallel import for_slices
from gzspatial.settings import LATTICE_STEP_DEG


@dataclass(frozen=True)
class Lattice:
    """The map's values at lattice points (lon0 + i * step, lat0 + j * step), minus (xc, yc)."""

    lon0: float
    lat0: float
    step: float
    x: np.ndarray  # (ny, nx) first value minus xc
    y: np.ndarray  # (ny, nx) second value minus yc
    xc: float
    yc: float
    max_error: float  # largest distance from the exact map found when built (its units)

    @classmethod
    def build(cls, bounds, project, step: float = LATTICE_STEP_DEG, *, check: bool = True, seed: int = 0) -> Lattice:
        """Lattice over ``bounds`` (minlon, minlat, maxlon, maxlat; degrees) of ``project`` (lon, lat
        arrays -> x, y arrays: the exact map, e.g. PROJ); ``check=False``: error not measured (NaN)."""
        minx, miny, maxx, maxy = (float(v) for v in bounds)
        # one lattice point of margin before the bounds and two after: every point inside has 4 x 4
        lon0, lat0 = minx - step, miny - step
        nx = int(np.ceil((maxx - lon0) / step)) + 3
        ny = int(np.ceil((maxy - lat0) / step)) + 3
        grid_lon, grid_lat = np.meshgrid(lon0 + np.arange(nx) * step, lat0 + np.arange(ny) * step)
        x, y = project(grid_lon.ravel(), grid_lat.ravel())
        xc, yc = float(np.mean(x)), float(np.mean(y))  # smaller numbers: smaller rounding
        x = np.ascontiguousarray((x - xc).reshape(ny, nx))
        y = np.ascontiguousarray((y - yc).reshape(ny, nx))
        lattice = cls(lon0, lat0, step, x, y, xc, yc, np.nan)
        if not check:
            return lattice
        # the error is largest midway between lattice points: check every cell centre, and random points
        rng = np.random.default_rng(seed)
        c_lon, c_lat = np.meshgrid(minx + (np.arange(int((maxx - minx) / step)) + 0.5) * step,
                                   miny + (np.arange(int((maxy - miny) / step)) + 0.5) * step)  # fmt: skip
        check_lon = np.concatenate([c_lon.ravel(), rng.uniform(minx, maxx, 20_000)])
        check_lat = np.concatenate([c_lat.ravel(), rng.uniform(miny, maxy, 20_000)])
        got_x, got_y, ok = lattice.interpolate(check_lon, check_lat)
        want_x, want_y = project(check_lon[ok], check_lat[ok])
        error = float(np.max(np.hypot(got_x[ok] - want_x, got_y[ok] - want_y), initial=0.0))
        return cls(lon0, lat0, step, x, y, xc, yc, error)

    def interpolate(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(x, y, ok): the map's values where ``ok``; NaN where the point is off the lattice or NaN."""
        lon = np.ascontiguousarray(lon, dtype=np.float64)
        lat = np.ascontiguousarray(lat, dtype=np.float64)
        x, y, ok = np.empty_like(lon), np.empty_like(lat), np.empty(lon.shape, dtype=bool)

        def run(a, b):
            _interpolate(lon[a:b], lat[a:b], self.lon0, self.lat0, 1.0 / self.step, self.x, self.y,
                         self.xc, self.yc, x[a:b], y[a:b], ok[a:b])  # fmt: skip

        for_slices(run, len(lon))
        return x, y, ok


@numba.njit(cache=True, inline="always")
def _weights(t):
    """Cubic Lagrange weights of the lattice points at -1, 0, 1, 2 for a point at t in [0, 1)."""
    a, b, c, d = t + 1.0, t, t - 1.0, t - 2.0
    return -b * c * d / 6.0, a * c * d / 2.0, -a * b * d / 2.0, a * b * c / 6.0


@numba.njit(cache=True, nogil=True)
def _interpolate(lon, lat, lon0, lat0, inv_step, gx, gy, xc, yc, out_x, out_y, out_ok):
    ny, nx = gx.shape
    for i in range(lon.shape[0]):
        u, v = (lon[i] - lon0) * inv_step, (lat[i] - lat0) * inv_step
        fu, fv = np.floor(u), np.floor(v)
        if not (1.0 <= fu < nx - 2 and 1.0 <= fv < ny - 2):  # False for NaN
            out_x[i], out_y[i], out_ok[i] = np.nan, np.nan, False
            continue
        iu, iv = int(fu), int(fv)
        wu0, wu1, wu2, wu3 = _weights(u - fu)
        wv0, wv1, wv2, wv3 = _weights(v - fv)
        sx, sy = 0.0, 0.0
        for k in range(4):
            wv = wv0 if k == 0 else wv1 if k == 1 else wv2 if k == 2 else wv3
            r = iv - 1 + k
            rx = wu0 * gx[r, iu - 1] + wu1 * gx[r, iu] + wu2 * gx[r, iu + 1] + wu3 * gx[r, iu + 2]
            ry = wu0 * gy[r, iu - 1] + wu1 * gy[r, iu] + wu2 * gy[r, iu + 1] + wu3 * gy[r, iu + 2]
            sx += wv * rx
            sy += wv * ry
        out_x[i], out_y[i], out_ok[i] = sx + xc, sy + yc, True

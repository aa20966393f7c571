"""Benchmark gzspatial.crs against a plain numpy implementation of the same formulas.

Goals (issue 2): forward WGS84 -> GCJ-02 at least 2x faster than plain numpy on 2M points;
exact inverse GCJ-02 -> WGS84 at least 1M points/s on one core. Ratios are measured in one run.

    .venv/bin/python benchmarks/bench_crs.py [--points 2000000]
"""

import argparse
import time

import numpy as np

A = 6378245.0
EE = 0.00669342162296594323


def textbook_wgs_to_gcj(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The published GCJ-02 formula written plainly with numpy (the baseline)."""
    x, y = lon - 105.0, lat - 35.0
    dlat = (
        -100.0
        + 2.0 * x
        + 3.0 * y
        + 0.2 * y * y
        + 0.1 * x * y
        + 0.2 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
        + (160.0 * np.sin(y / 12.0 * np.pi) + 320 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    )
    dlon = (
        300.0
        + x
        + 2.0 * y
        + 0.1 * x * x
        + 0.1 * x * y
        + 0.1 * np.sqrt(np.abs(x))
        + (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
        + (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
        + (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    )
    radlat = lat / 180.0 * np.pi
    magic = 1 - EE * np.sin(radlat) ** 2
    sqrt_magic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((A * (1 - EE)) / (magic * sqrt_magic) * np.pi)
    dlon = (dlon * 180.0) / (A / sqrt_magic * np.cos(radlat) * np.pi)
    inside = (lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271)
    return np.where(inside, lon + dlon, lon), np.where(inside, lat + dlat, lat)


def _best_of(repeats: int, func, *args) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    import numba

    from gzspatial import crs

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=2_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    lon = rng.uniform(112.9, 114.1, args.points)
    lat = rng.uniform(22.5, 23.95, args.points)
    crs.transform(lon[: crs.COMPILED_MIN_POINTS], lat[: crs.COMPILED_MIN_POINTS], "wgs84", "gcj02")  # compile
    crs.transform(lon[: crs.COMPILED_MIN_POINTS], lat[: crs.COMPILED_MIN_POINTS], "gcj02", "wgs84")

    plain = _best_of(args.repeats, textbook_wgs_to_gcj, lon, lat)
    ours = _best_of(args.repeats, crs.transform, lon, lat, "wgs84", "gcj02")
    print(
        f"forward WGS84->GCJ-02, {args.points:,} points, {numba.get_num_threads()} threads: "
        f"plain numpy {plain:.3f} s, gzspatial {ours:.3f} s, speed-up {plain / ours:.2f}x (goal >= 2x)"
    )

    gcj_lon, gcj_lat = crs.transform(lon, lat, "wgs84", "gcj02")
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    inverse = _best_of(args.repeats, crs.transform, gcj_lon, gcj_lat, "gcj02", "wgs84")
    numba.set_num_threads(threads)
    back_lon, back_lat = crs.transform(gcj_lon, gcj_lat, "gcj02", "wgs84")
    error = max(np.abs(back_lon - lon).max(), np.abs(back_lat - lat).max())
    print(
        f"exact inverse GCJ-02->WGS84 on one core: {args.points / inverse / 1e6:.2f} M points/s "
        f"(goal >= 1), round-trip max error {error:.1e} deg"
    )
    plain_inverse = _best_of(1, crs._gcj.gcj_to_wgs, gcj_lon, gcj_lat)
    print(
        f"exact inverse, plain numpy path: {args.points / plain_inverse / 1e6:.2f} M points/s; "
        f"compiled/plain ratio {plain_inverse / inverse:.2f}x"
    )


if __name__ == "__main__":
    main()

"""Build time and size of an interactive map with many points: gzspatial vs the naive folium way.

Goal (issue 5): 100,000 points -> HTML built in at most 5 s and at most 8 MB. The naive approach
(one folium.Marker with a popup per point inside a MarkerCluster) runs in the same process for
comparison; it takes about a minute at 100k.

    .venv/bin/python benchmarks/bench_map.py [--points 100000] [--naive-points 100000]
"""

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd

WORK = Path(__file__).resolve().parent / "_work"


def sample(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"名称": [f"企业{i}" for i in range(n)], "lon": rng.uniform(113.0, 113.9, n),
                         "lat": rng.uniform(22.7, 23.5, n)})  # fmt: skip


def ours(frame: pd.DataFrame, path: Path) -> float:
    from gzspatial.maps import make_map, save_map

    start = time.perf_counter()
    save_map(make_map(points=frame, points_crs="wgs84"), path)
    return time.perf_counter() - start


def naive(frame: pd.DataFrame, path: Path) -> float:
    import folium
    from folium.plugins import MarkerCluster

    start = time.perf_counter()
    m = folium.Map(location=[23.13, 113.35], zoom_start=9)
    cluster = MarkerCluster().add_to(m)
    for name, lon, lat in zip(frame["名称"], frame["lon"], frame["lat"], strict=True):
        folium.Marker([lat, lon], popup=folium.Popup(str(name))).add_to(cluster)
    m.save(str(path))
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--naive-points", type=int, default=100_000, help="0 skips the naive run")
    args = parser.parse_args()
    WORK.mkdir(exist_ok=True)
    ours(sample(1000), WORK / "warm.html")  # imports, layer indexes
    frame = sample(args.points)
    t = ours(frame, WORK / "ours.html")
    size = (WORK / "ours.html").stat().st_size / 1e6
    print(f"gzspatial map, {args.points:,} points: build {t:.2f} s (goal <= 5), {size:.2f} MB (goal <= 8)")
    if args.naive_points:
        frame = sample(args.naive_points)
        t_naive = naive(frame, WORK / "naive.html")
        size_naive = (WORK / "naive.html").stat().st_size / 1e6
        print(
            f"naive folium (Marker per point + MarkerCluster), {args.naive_points:,} points: build {t_naive:.2f} s, "
            f"{size_naive:.2f} MB; gzspatial is {t_naive / t:.1f}x faster and {size_naive / size:.1f}x smaller"
        )


if __name__ == "__main__":
    main()

"""gzspatial against other engines on the same random points and layers, with ratios (one process).

Rows: geopandas (points_from_xy + 3 x sjoin intersects against districts, cores and nodes: the
baseline), DuckDB spatial and SedonaDB (the same three containment joins, counted), gzspatial's
grid containment (``LayoutIndex.membership_grid``), its full attribution (``LayoutIndex.attribute``:
containment, axis and nearest-node distances) and ``gzspatial.join`` (every gz_ column). Peers
come from the optional ``bench`` extra (``pip install -e '.[bench]'``); a peer that is not
installed is listed as such. Indexes are built before timing (one warm-up call each).

Also: thread scaling of ``gzspatial.join`` over chunks (as ``ddf.map_partitions(gzspatial.join)``
does with a threaded scheduler), and the engine on a denser synthetic layer set (every outline
segmentized, every node given a second part).

    .venv/bin/python benchmarks/bench_peers.py [--points 1000000] [--scale-rows 8000000] [--repeat 3] [--tiny]
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np

GZ_BBOX = (112.95, 22.55, 114.05, 23.95)  # lon/lat degrees, WGS84
CONTAINMENT_LAYERS = ("districts", "cores", "nodes")


def random_points(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.uniform(GZ_BBOX[0], GZ_BBOX[2], n), rng.uniform(GZ_BBOX[1], GZ_BBOX[3], n)


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def repeated(measure, repeat: int):
    """Median seconds of ``repeat`` runs of ``measure()`` (the machine may be shared: one run can
    be slowed by others), or its message when a peer is not installed."""
    results = [measure() for _ in range(repeat)]
    return results[0] if isinstance(results[0], str) else float(np.median(results))


# --- peers ---------------------------------------------------------------------------------------


def geopandas_sjoin(lon, lat, frames) -> float:
    import geopandas as gpd

    def run():
        points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
        for name in CONTAINMENT_LAYERS:
            gpd.sjoin(points, frames[name][["id", "geometry"]], how="left", predicate="intersects")

    return timed(run)


def duckdb_spatial(lon, lat, frames) -> float | str:
    """Three containment joins counted in DuckDB, its spatial extension loaded from the PyPI wheel
    (duckdb-extension-spatial: no download at run time)."""
    try:
        import duckdb
        import duckdb_extension_spatial
    except ImportError:
        return "not installed"
    import pathlib

    import pandas as pd
    import shapely

    folder = pathlib.Path(duckdb_extension_spatial.__path__[0])
    extension = next(folder.rglob(f"v{duckdb.__version__}/spatial.duckdb_extension"), None)
    if extension is None:
        return f"no spatial extension for duckdb {duckdb.__version__}"
    con = duckdb.connect()
    con.execute(f"LOAD '{extension}'")
    for name in CONTAINMENT_LAYERS:
        wkb = pd.DataFrame({"id": frames[name]["id"], "wkb": shapely.to_wkb(frames[name].geometry.values)})
        con.register(f"{name}_wkb", wkb)
        con.execute(f"CREATE TABLE {name} AS SELECT id, ST_GeomFromWKB(wkb) AS geom FROM {name}_wkb")
    con.register("coords", pd.DataFrame({"lon": lon, "lat": lat}))

    def run():
        con.execute("CREATE OR REPLACE TEMP TABLE pts AS SELECT ST_Point(lon, lat) AS geom FROM coords")
        for name in CONTAINMENT_LAYERS:
            con.execute(f"SELECT count(*) FROM pts JOIN {name} l ON ST_Intersects(l.geom, pts.geom)").fetchall()

    return timed(run)


def sedonadb(lon, lat, frames) -> float | str:
    """Three containment joins counted in SedonaDB (count only: its Arrow output needs geoarrow)."""
    try:
        import sedonadb
    except ImportError:
        return "not installed"
    import pandas as pd

    sd = sedonadb.connect()
    for name in CONTAINMENT_LAYERS:
        sd.create_data_frame(frames[name][["id", "geometry"]]).to_view(name)
    sd.create_data_frame(pd.DataFrame({"lon": lon, "lat": lat})).to_view("coords")
    queries = [
        sd.sql(
            f"SELECT l.id FROM coords c JOIN {name} l "
            "ON ST_Intersects(l.geometry, ST_SetSRID(ST_Point(c.lon, c.lat), 4326))"
        )
        for name in CONTAINMENT_LAYERS
    ]
    return timed(lambda: [query.count() for query in queries])


# --- gzspatial -----------------------------------------------------------------------------------


def gz_membership(index, lon, lat) -> float:
    return timed(lambda: index.membership_grid(lon, lat))


def gz_attribute(index, lon, lat) -> float:
    return timed(lambda: index.attribute(lon, lat, method="grid"))


def gz_join(lon, lat) -> float:
    import pandas as pd

    import gzspatial

    frame = pd.DataFrame({"lon": lon, "lat": lat})
    return timed(lambda: gzspatial.join(frame, crs="wgs84"))


def thread_scaling(rows: int, chunk: int) -> dict[str, tuple[float, float]]:
    """gzspatial.join over chunks of a frame on 1 and 2 threads (the kernels' own slicing off, so
    only the callers' threads run in parallel), and on 1 thread with the kernels' slicing on."""
    import pandas as pd

    import gzspatial
    from gzspatial import _parallel

    lon, lat = random_points(rows, seed=7)
    chunks = [pd.DataFrame({"lon": lon[i : i + chunk], "lat": lat[i : i + chunk]}) for i in range(0, rows, chunk)]
    del lon, lat

    def run(threads: int) -> tuple[float, float]:
        """(wall, process CPU) seconds: CPU above wall shows threads running at the same time."""
        cpu = os.times()
        with ThreadPoolExecutor(threads) as pool:
            wall = timed(lambda: [len(out) for out in pool.map(lambda f: gzspatial.join(f, crs="wgs84"), chunks)])
        end = os.times()
        return wall, (end.user - cpu.user) + (end.system - cpu.system)

    workers = _parallel.WORKERS
    try:
        _parallel.WORKERS = 1
        one, two = run(1), run(2)
    finally:
        _parallel.WORKERS = workers
    return {"1 thread": one, "2 threads": two, "1 thread, kernels sliced on the pool": run(1)}


def stage_cpu(index, lon, lat) -> dict[str, float]:
    """CPU seconds of each stage of the attribution on one thread (best of 3; independent of the
    machine's load, unlike wall time)."""
    import numba
    import pandas as pd

    import gzspatial
    from gzspatial._engine import to_metric_points

    def cpu(fn) -> float:
        best = np.inf
        for _ in range(3):
            start = time.process_time()
            fn()
            best = min(best, time.process_time() - start)
        return best

    threads = numba.get_num_threads()
    numba.set_num_threads(1)  # the kernels' slicing follows it
    try:
        x, y = to_metric_points(lon, lat)
        inside = index.membership_grid(lon, lat).nodes[:, 0] >= 0
        frame = pd.DataFrame({"lon": lon, "lat": lat})
        return {
            "containment": cpu(lambda: index.membership_grid(lon, lat)),
            "projection to metres (PROJ)": cpu(lambda: to_metric_points(lon, lat)),
            "metres from the lattice (as attribute does)": cpu(lambda: index._metric_points(lon, lat)),
            "axis distance": cpu(lambda: index.axis_distance(x, y, fast=True)),
            "nearest node": cpu(lambda: index.nearest_node(x, y, inside, fast=True)),
            "LayoutIndex.attribute": cpu(lambda: index.attribute(lon, lat, method="grid")),
            "gzspatial.join": cpu(lambda: gzspatial.join(frame, crs="wgs84")),
        }
    finally:
        numba.set_num_threads(threads)


def dense_layers(factor: int = 8):
    """The packaged layers with every outline segmentized (about ``factor`` x the vertices) and
    every node given a small second part: a stand-in for richer, multi-part layout geometry."""
    import shapely

    from gzspatial.layers import Layer, read_layers

    layers = {}
    for name, layer in read_layers().items():
        geometries = layer.geometries
        if name in ("districts", "city", "cores", "nodes"):
            count = max(1, len(shapely.get_coordinates(geometries)))
            length = shapely.length(shapely.boundary(geometries)).sum()
            geometries = shapely.segmentize(geometries, length / (count * factor))
        if name == "nodes":
            centres = shapely.centroid(geometries)
            extra = shapely.buffer(shapely.points(shapely.get_x(centres) + 0.03, shapely.get_y(centres)), 0.004)
            geometries = shapely.union(geometries, extra)
        layers[name] = Layer(name, layer.path, layer.properties, np.asarray(geometries, dtype=object), layer.metadata)
    return layers


def _row(label: str, seconds, baseline: float, note: str = "") -> str:
    if isinstance(seconds, str):
        return f"| {label} | {seconds} | | {note} |"
    return f"| {label} | {seconds:.3f} s | {baseline / seconds:.1f}x | {note} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--scale-rows", type=int, default=8_000_000, help="rows for the thread scaling run; 0: skip")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing (the median is shown)")
    parser.add_argument("--tiny", action="store_true", help="a few thousand points: checks the script runs")
    args = parser.parse_args()
    n, scale_rows, chunk, factor, k = args.points, args.scale_rows, 500_000, 8, args.repeat
    if args.tiny:
        n, scale_rows, chunk, factor, k = 5_000, min(scale_rows, 20_000), 5_000, 2, 1

    import gzspatial
    from gzspatial._engine import LayoutIndex, layout_index

    frames = gzspatial.load_layers()
    index = layout_index()
    warm = random_points(60_000 if not args.tiny else 5_000, seed=99)  # build indexes, load kernels
    gz_join(*warm), gz_attribute(index, *warm)
    lon, lat = random_points(n)
    base = repeated(lambda: geopandas_sjoin(lon, lat, frames), k)
    sedona = repeated(lambda: sedonadb(lon, lat, frames), k)
    rows = [
        _row("geopandas `points_from_xy` + 3 x `sjoin`", base, base, "containment only; baseline"),
        _row("DuckDB spatial", repeated(lambda: duckdb_spatial(lon, lat, frames), k), base, "containment only, count"),
        _row("SedonaDB", sedona, base, "containment only, count"),
        _row("gzspatial grid containment (`LayoutIndex.membership_grid`)",
             repeated(lambda: gz_membership(index, lon, lat), k), base),
        _row("gzspatial full attribution (`LayoutIndex.attribute`)", repeated(lambda: gz_attribute(index, lon, lat), k),
             base),
    ]  # fmt: skip
    join = repeated(lambda: gz_join(lon, lat), k)
    rows.append(_row("`gzspatial.join` (all gz_ columns)", join, base))
    cpus = os.cpu_count()
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{n:,} random points in Guangzhou's bounding box; {platform.machine()}, {cpus} CPUs, load {load}")
    print(f"ratio = baseline time / time, both measured in this run (median of {k} runs each)")
    print("\n| engine | time | vs geopandas | note |\n|---|---|---|---|")
    print("\n".join(rows))
    print(f"\ngzspatial.join vs geopandas: {base / join:.1f}x (goal >= 60x)", end="")
    if isinstance(sedona, float):
        print(f"; vs SedonaDB containment count: {sedona / join:.2f}x (goal > 1)")
    else:
        print(f"; SedonaDB {sedona}")

    stages = stage_cpu(index, lon, lat)
    print(f"\nCPU seconds on one thread for the {n:,} points: " + "; ".join(f"{k} {v:.3f}" for k, v in stages.items()))

    if scale_rows:
        scaling = thread_scaling(scale_rows, chunk)
        print(f"\ngzspatial.join on {scale_rows:,} points in chunks of {chunk:,} (ThreadPoolExecutor):")
        for label, (wall, cpu) in scaling.items():
            print(f"  {label}: {wall:.2f} s wall, {cpu:.2f} s CPU")
        print(f"  speed-up 2 threads vs 1: {scaling['1 thread'][0] / scaling['2 threads'][0]:.2f}x")
        load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
        print(f"  machine load (1, 5, 15 min): {load} on {os.cpu_count()} CPUs")

    layers = dense_layers(factor)
    start = time.perf_counter()
    dense = LayoutIndex(layers)
    gz_attribute(dense, *warm)  # builds the grid and the distance index
    build = time.perf_counter() - start
    vertices = {k: len(__import__("shapely").get_coordinates(v.geometries)) for k, v in layers.items()}
    dense_frames = {
        name: frames[name].set_geometry(list(layers[name].geometries), crs="EPSG:4326") for name in CONTAINMENT_LAYERS
    }
    dense_base = geopandas_sjoin(lon, lat, dense_frames)
    print(f"\ndenser synthetic layers ({', '.join(f'{k} {v:,}' for k, v in vertices.items())} vertices; index built")
    print(f"in {build:.1f} s): geopandas 3 x sjoin {dense_base:.3f} s", end="")
    for label, seconds in (
        ("grid containment", gz_membership(dense, lon, lat)),
        ("full attribution", gz_attribute(dense, lon, lat)),
    ):
        print(f"; {label} {seconds:.3f} s ({dense_base / seconds:.1f}x)", end="")
    print()


if __name__ == "__main__":
    main()

"""Benchmark the batch pipeline through the real CLI: rows/s and peak memory per output, and stats.

Prints, for ROWS rows generated in the run (GCJ-02 CSV, as commercial exports are): join CSV->CSV rows/s
(goal >= 1M rows/s), CSV->Parquet rows/s (goal >= 3M rows/s), join->GPKG time and peak memory (goal
<= 15 s, <= 1.5 GB at 2M rows), stats on the joined CSV (goal <= 5 s, <= 1 GB at 2M rows), and peak
memory of CSV->CSV at two sizes (goal: within 10% of each other); then GeoParquet and GeoPackage inputs of the
same points joined to CSV (streamed by batches: peak memory bounded). Each run is one process, measured
from outside (wall time, ru_maxrss); files are written under /tmp and deleted after.

    .venv/bin/python benchmarks/bench_pipeline.py [--rows 2000000] [--memory-rows 10000000 50000000]
    .venv/bin/python benchmarks/bench_pipeline.py --tiny     # a few thousand rows: keeps the script working
"""

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.bench_join import _MEASURE, write_csv


def measure(*args: str) -> tuple[float, float]:
    """(wall seconds, peak memory GB) of ``python -m gzspatial ARGS`` in its own process."""
    return measure_python("-m", "gzspatial", *args)


def measure_python(*args: str) -> tuple[float, float]:
    """(wall seconds, peak memory GB) of ``python ARGS`` in its own process."""
    command = [sys.executable, *args]
    result = subprocess.run([sys.executable, "-c", _MEASURE, *command], check=True, capture_output=True, text=True)
    wall, peak_kib = result.stdout.split()[-2:]
    return float(wall), float(peak_kib) / 1024**2  # KiB -> GiB (Linux)


def join(source: Path, output: Path) -> tuple[float, float]:
    return measure("join", str(source), "-o", str(output), "--crs", "gcj02", "--quiet")


# The floor of CSV -> Parquet on this machine: pyarrow alone reads the CSV as the pipeline does (8 MB
# blocks, every cell text) and writes a Parquet file of the joined shape (the input's columns, 13
# dictionary-coded text columns of a dozen names, one on most rows, 2 float columns, a flag, WKB points) with the
# pipeline's writer settings, in its own process: no attribution at all. Parquet writing is one
# thread per file, so this bounds any join to Parquet here.
_FLOOR = """
import sys, time
start = time.perf_counter()
import numpy as np, pyarrow as pa, pyarrow.compute as pc, pyarrow.csv as pacsv, pyarrow.parquet as pq
source, output = sys.argv[1:3]
with open(source, encoding="utf-8") as handle:
    names = handle.readline().strip().split(",")
reader = pacsv.open_csv(source, read_options=pacsv.ReadOptions(block_size=8 << 20),
                        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names}))
rng = np.random.default_rng(0)
text = [f"gz_text{i}" for i in range(13)]
names_table = pa.array([f"名称{i}" for i in range(12)])
# the made-up columns are made once (a batch takes its first rows): the floor times reading and writing
most = 1 << 21
# a dozen names, one of them on most rows (as most points lie in no node, core or corridor)
codes = [np.where(rng.random(most) < 0.8, 0, rng.integers(1, 12, most)).astype(np.int32) for _ in text]
made = [np.round(rng.uniform(0, 50000, most), 1) for _ in range(2)] + [rng.uniform(size=most) < 0.1]
writer = None
loop = time.perf_counter()
for batch in reader:
    n = batch.num_rows
    lon, lat = (pc.cast(batch.column(i), pa.float64()).to_numpy() for i in (1, 2))
    record = np.zeros(n, dtype=[("o", "u1"), ("k", "<u4"), ("x", "<f8"), ("y", "<f8")])
    record["o"], record["k"], record["x"], record["y"] = 1, 1, lon, lat
    offsets = pa.py_buffer(np.arange(0, 21 * (n + 1), 21, dtype=np.int32).tobytes())
    wkb = pa.Array.from_buffers(pa.binary(), n, [None, offsets, pa.py_buffer(record.tobytes())])
    gz = [pa.DictionaryArray.from_arrays(pa.array(c[:n]), names_table) for c in codes]
    table = pa.RecordBatch.from_arrays([*batch.columns, *gz, *(pa.array(m[:n]) for m in made), wkb],
                                       names=[*names, *text, "m1", "m2", "flag", "geometry"])
    if writer is None:
        writer = pq.ParquetWriter(output, table.schema, compression="zstd", use_dictionary=text,
                                  write_statistics=[*names, "m1", "m2", "flag"])
    writer.write_batch(table)
writer.close()
print(time.perf_counter() - loop, time.perf_counter() - start)
"""


def floor(source: Path, output: Path) -> tuple[float, float]:
    """Seconds pyarrow alone takes to read the CSV and write the joined shape as Parquet (_FLOOR):
    (reading and writing only, the whole process from its start)."""
    result = subprocess.run([sys.executable, "-c", _FLOOR, str(source), str(output)], check=True, capture_output=True,
                            text=True)  # fmt: skip
    output.unlink()
    loop, whole = result.stdout.split()[-2:]
    return float(loop), float(whole)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2_000_000)
    parser.add_argument("--memory-rows", type=int, nargs=2, default=[10_000_000, 50_000_000])
    parser.add_argument("--tiny", action="store_true", help="a few thousand rows (for tests)")
    parser.add_argument("--work", type=Path, default=None, help="folder for the files (default: a new one in /tmp)")
    args = parser.parse_args()
    rows, memory_rows = (3_000, (3_000, 9_000)) if args.tiny else (args.rows, tuple(args.memory_rows))
    work = Path(tempfile.mkdtemp(prefix="gz-bench-", dir=args.work))
    try:
        source = work / "points.csv"
        write_csv(source, rows)
        mb = source.stat().st_size / 1e6
        print(f"{rows:,} rows ({mb:,.0f} MB CSV, GCJ-02) on {_machine()}")
        wall, peak = join(source, work / "joined.csv")
        print(f"join CSV->CSV     {wall:7.2f} s  {rows / wall:>12,.0f} rows/s (goal >= 1,000,000)  peak {peak:.2f} GB")
        wall, peak = join(source, work / "joined.parquet")
        print(f"join CSV->Parquet {wall:7.2f} s  {rows / wall:>12,.0f} rows/s (goal >= 3,000,000)  peak {peak:.2f} GB")
        loop, whole = floor(source, work / "floor.parquet")
        print(f"  floor: pyarrow alone, CSV -> Parquet of the joined shape, no attribution: {loop:.2f} s reading "
              f"and writing = {rows / loop:,.0f} rows/s ({whole:.2f} s with its start)")  # fmt: skip
        wall, peak = join(source, work / "joined.gpkg")
        print(f"join CSV->GPKG    {wall:7.2f} s  {rows / wall:>12,.0f} rows/s (goal <= 15 s at 2M)  peak {peak:.2f} GB "
              "(goal <= 1.5 GB)")  # fmt: skip
        wall, peak = measure("stats", str(work / "joined.csv"), "--by", "node", "--csv")
        print(f"stats (joined CSV) {wall:6.2f} s  (goal <= 5 s at 2M)  peak {peak:.2f} GB (goal <= 1 GB)")
        for suffix in (".parquet", ".gpkg"):  # geometry inputs stream too: peak memory bounded
            points = write_points(source, work / f"points{suffix}")
            wall, peak = join(points, work / "joined_geo.csv")
            kind = "GeoParquet" if suffix == ".parquet" else "GPKG"
            print(f"join {kind + '->CSV':15s}{wall:6.2f} s  {rows / wall:>12,.0f} rows/s  peak {peak:.2f} GB")
            points.unlink()
        for path in work.glob("joined*"):
            path.unlink()
        source.unlink()
        peaks = []
        for n in memory_rows:
            big = work / f"points_{n}.csv"
            write_csv(big, n)
            wall, peak = join(big, work / "joined_big.csv")
            (work / "joined_big.csv").unlink()
            peaks.append(peak)
            print(f"join CSV->CSV {n:>12,} rows: {wall:7.1f} s, {n / wall:>10,.0f} rows/s, peak {peak:.2f} GB")
            if n == memory_rows[0]:  # Parquet at a size where the start (imports, index) weighs less
                wall, peak = join(big, work / "joined_big.parquet")
                (work / "joined_big.parquet").unlink()
                print(f"join CSV->Parquet {n:>8,} rows: {wall:7.1f} s, {n / wall:>10,.0f} rows/s (goal >= 3,000,000), "
                      f"peak {peak:.2f} GB")  # fmt: skip
                loop, whole = floor(big, work / "floor.parquet")
                print(f"  floor (pyarrow alone, no attribution): {loop:.1f} s reading and writing = "
                      f"{n / loop:,.0f} rows/s ({whole:.1f} s with its start)")  # fmt: skip
            big.unlink()
        print(f"peak memory {memory_rows[1]:,} vs {memory_rows[0]:,} rows: {peaks[1] / peaks[0]:.2f}x (goal <= 1.10x)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def write_points(source: Path, path: Path) -> Path:
    """The CSV's rows as WKB points (GeoParquet or GeoPackage), CRS left undeclared (the join gets --crs gcj02)."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    from gzspatial.pipeline import _point_wkb

    table = pacsv.read_csv(source)
    lon, lat = (pc.cast(table.column(i), pa.float64()).to_numpy() for i in (1, 2))
    table = table.select([0]).append_column("geometry", _point_wkb(lon, lat))
    if path.suffix == ".parquet":
        column = {"encoding": "WKB", "geometry_types": ["Point"], "crs": None}
        geo = {"version": "1.0.0", "primary_column": "geometry", "columns": {"geometry": column}}
        pq.write_table(table.replace_schema_metadata({"geo": json.dumps(geo)}), path)
    else:
        from pyogrio.raw import write_arrow

        field = table.schema.field("geometry").with_metadata({"ARROW:extension:name": "geoarrow.wkb"})
        table = table.cast(table.schema.set(1, field))
        with warnings.catch_warnings():  # "crs was not provided": undeclared on purpose
            warnings.simplefilter("ignore", UserWarning)
            write_arrow(table, path, driver="GPKG", geometry_name="geometry", geometry_type="Point", crs=None)
    return path


def _machine() -> str:
    import os
    import platform

    return f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"


if __name__ == "__main__":
    main()

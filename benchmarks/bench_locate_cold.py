"""Cold start of `gzspatial locate` (a new process) against `python -c "import geopandas"`.

Goal (issue 3): a cold locate costs about what importing geopandas costs, or less. Runs both
alternately, N times each, in this one run, and prints the medians and their ratio.

    .venv/bin/python benchmarks/bench_locate_cold.py [--runs 7]
"""

import argparse
import statistics
import subprocess
import sys
import time


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    locate = [sys.executable, "-m", "gzspatial", "locate", "113.3245", "23.1066", "--crs", "gcj02"]
    geopandas = [sys.executable, "-c", "import geopandas"]
    _wall(locate)  # warm the OS file cache and numba-free imports once
    _wall(geopandas)
    locate_times, geopandas_times = [], []
    for _ in range(args.runs):
        locate_times.append(_wall(locate))
        geopandas_times.append(_wall(geopandas))
    a, b = statistics.median(locate_times), statistics.median(geopandas_times)
    print(f"cold `gzspatial locate`: {a:.3f} s; `import geopandas`: {b:.3f} s; ratio {a / b:.2f} (goal <= ~1)")


if __name__ == "__main__":
    main()

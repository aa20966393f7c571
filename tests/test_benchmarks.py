"""The pipeline benchmark keeps working (a tiny run through the real CLI; times are not asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_bench_pipeline_tiny_runs_and_prints_every_figure(tmp_path):
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "bench_pipeline.py"), "--tiny", "--work", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    for label in ("CSV->CSV", "CSV->Parquet", "CSV->GPKG", "stats", "peak memory"):
        assert label in result.stdout
    assert not list(tmp_path.iterdir())  # the generated files are deleted

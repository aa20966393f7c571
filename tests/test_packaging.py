"""The packaged layers reach an installed wheel: build it, install it, run it elsewhere."""

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from .conftest import ROOT


@pytest.mark.slow
def test_wheel_ships_layers(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    wheel = next(dist.glob("gzspatial-*.whl"))
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    # Dependencies come from this environment (no network needed); gzspatial itself only from the wheel.
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(subprocess.check_output([str(python), "-c", purelib], text=True).strip())
    (site / "_deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    result = subprocess.run(
        [str(env_dir / "bin" / "gzspatial"), "layers"],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "districts    11 features" in result.stdout
    assert str(site / "gzspatial" / "_data" / "geojson" / "districts.geojson") in result.stdout
    assert "platforms    55 features" in result.stdout
    indicators = subprocess.run([str(env_dir / "bin" / "gzspatial"), "indicators", "--json"], cwd=elsewhere,
                                capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert indicators.returncode == 0 and indicators.stdout.count('"id"') == 12
    located = subprocess.run([str(env_dir / "bin" / "gzspatial"), "locate", "--address", "增城市新塘镇", "--json"],
                             cwd=elsewhere, capture_output=True, text=True, env=env, timeout=300)  # fmt: skip
    assert located.returncode == 0 and '"subdistrict": "新塘镇"' in located.stdout  # townships.csv is packaged

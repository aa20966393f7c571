"""Shared fixtures: the packaged layers, the CLI runner and a helper to run the real entry point."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _isolated_settings(tmp_path_factory):
    """No user setting reaches the tests: GZ_LAYERS unset, the config file in a fresh folder."""
    saved = {key: os.environ.get(key) for key in ("GZ_LAYERS", "XDG_CONFIG_HOME")}
    os.environ.pop("GZ_LAYERS", None)
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    yield
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="session")
def layers():
    from gzspatial import load_layers

    return load_layers()


@pytest.fixture
def runner():
    return CliRunner()


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m gzspatial`` (the installed entry point's module) in a new process."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("GZ_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "gzspatial", *args], input=stdin, capture_output=True, cwd=cwd, env=env, timeout=300
    )

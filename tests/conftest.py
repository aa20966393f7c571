"""Shared fixtures: the packaged layers, the CLI runner and a helper to run the real entry point."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


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

"""Shared fixtures: the packaged layers, the CLI runner and a helper to run the real entry point."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def _isolated_settings(tmp_path_factory):
    """No user setting reaches the tests: GZ_LAYERS unset, the config file in a fresh folder, and the
    interface in English whatever the machine's locale (GZ_LANG=en; tests of zh pass --lang zh)."""
    saved = {key: os.environ.get(key) for key in ("GZ_LAYERS", "XDG_CONFIG_HOME", "GZ_LANG")}
    os.environ.pop("GZ_LAYERS", None)
    os.environ["GZ_LANG"] = "en"
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


def invoke_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in this process (typer's CliRunner): the same app and exit codes as ``run_cli``
    without a new interpreter per call. Use run_cli where the real process is the point."""
    from gzspatial.cli import app

    result = CliRunner().invoke(app, list(args), input=stdin)
    return subprocess.CompletedProcess(list(args), result.exit_code, result.stdout_bytes, result.stderr_bytes)


def run_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m gzspatial`` (the installed entry point's module) in a new process."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    env.pop("GZ_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "gzspatial", *args], input=stdin, capture_output=True, cwd=cwd, env=env, timeout=300
    )


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


@pytest.fixture
def browser():
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("GZ_REQUIRE_BROWSER") == "1":
            pytest.fail("GZ_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed (apt-get install "
                        "chromium chromium-driver)")  # fmt: skip
        pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--window-size=1200,900"):  # fmt: skip
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()

"""Shared fixtures: the packaged layers, the CLI runner and a helper to run the real entry point."""

import contextlib
import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer.testing
from hypothesis import settings
from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]

# Hypothesis: the same examples on every run and machine (derandomize), no example database written
# into the checkout, no per-example deadline (2 shared cores); tests choose their own max_examples.
settings.register_profile("gzspatial", derandomize=True, database=None, deadline=None, print_blob=True)
settings.load_profile("gzspatial")

# typer's CliRunner.invoke rebuilds the click command from the app's signatures on every call (about half
# of a small CLI test's time): build it once per app and set of registered commands (a few tests register a
# hidden command for the duration of the test, so the key includes them).
_build_command = typer.testing._get_command


@functools.cache
def _built_command(app: typer.Typer, commands: tuple[int, ...]):
    return _build_command(app)


typer.testing._get_command = lambda app: _built_command(app, tuple(map(id, app.registered_commands)))


@pytest.fixture(autouse=True, scope="session")
def _isolated_settings(tmp_path_factory):
    """No user setting reaches the tests: GZ_LAYERS unset, the config file and caches in fresh folders, and
    the interface in English whatever the machine's locale (GZ_LANG=en; tests of zh pass --lang zh)."""
    saved = {key: os.environ.get(key) for key in ("GZ_LAYERS", "XDG_CONFIG_HOME", "XDG_CACHE_HOME", "GZ_LANG",
                                                  "GZ_INDEX_CACHE")}  # fmt: skip
    os.environ.pop("GZ_LAYERS", None)
    os.environ.pop("GZ_INDEX_CACHE", None)
    os.environ["GZ_LANG"] = "en"
    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config"))
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))  # the index grid cache too
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


class _Runner(CliRunner):
    """typer's CliRunner, except that an exception escaping the CLI fails the test (not a quiet exit 1)."""

    def invoke(self, *args, catch_exceptions: bool = False, **kwargs):
        return super().invoke(*args, catch_exceptions=catch_exceptions, **kwargs)


@pytest.fixture
def runner():
    return _Runner()


def invoke_cli(*args: str, stdin: bytes | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the CLI in this process (typer's CliRunner): the same app, exit codes and separate stdout/stderr
    bytes as ``run_cli`` without a new interpreter per call. Use run_cli where the real process is the point
    (signals, pipes, the installed entry point, exit codes end to end)."""
    from gzspatial.cli import app

    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        # GZ_DEBUG unset as in run_cli; catch_exceptions=False: an exception that escapes the CLI's own
        # handling fails the test instead of passing for a quiet exit 1 (SystemExit is still turned into a code)
        result = CliRunner().invoke(app, list(args), input=stdin, env={"GZ_DEBUG": None}, catch_exceptions=False)
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

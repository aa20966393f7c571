"""Tests of the settings file and the choice of layer set: --layers > GZ_LAYERS > config > packaged."""

import json
import shutil

import pytest

from gzspatial.config import config_path, read_config, set_value
from gzspatial.layers import layer_set, packaged_layers_dir

from .conftest import invoke_cli


@pytest.fixture
def config_home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("GZ_LAYERS", raising=False)
    return tmp_path / "config"


def _layer_folder(path):
    """A layer folder whose nodes file differs from the packaged one (so its version differs)."""
    path.mkdir()
    collection = json.loads((packaged_layers_dir() / "nodes.geojson").read_text(encoding="utf-8"))
    collection["metadata"]["generated"] = "2030-01-01"
    (path / "nodes.geojson").write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return path


def test_config_file_lives_under_xdg_config_home(config_home):
    assert config_path() == config_home / "gzspatial" / "config.json"
    assert read_config() == {}


def test_precedence_layers_option_env_config_packaged(config_home, tmp_path, monkeypatch):
    by_option, by_env, by_config = (_layer_folder(tmp_path / name) for name in ("option", "env", "config"))
    assert layer_set().origin == "packaged"
    set_value("layers", str(by_config))
    assert (layer_set().origin, layer_set().folder) == ("config", by_config)
    monkeypatch.setenv("GZ_LAYERS", str(by_env))
    assert (layer_set().origin, layer_set().folder) == ("GZ_LAYERS", by_env)
    assert (layer_set(by_option).origin, layer_set(by_option).folder) == ("--layers", by_option)
    assert layer_set().version.startswith("2030-01-01+")  # the env folder's nodes file is dated 2030
    monkeypatch.delenv("GZ_LAYERS")
    set_value("layers", None)
    assert layer_set().origin == "packaged" and not layer_set().version.startswith("2030")


def test_cli_config_set_show_and_answers(config_home, tmp_path):
    folder = _layer_folder(tmp_path / "mine")
    result = invoke_cli("config", "set", "layers", str(folder))
    assert result.returncode == 0, result.stderr.decode()
    assert json.loads(config_path().read_text(encoding="utf-8")) == {"layers": str(folder.resolve())}
    shown = json.loads(invoke_cli("config", "show", "--json").stdout)
    assert shown["settings"] == {"layers": str(folder.resolve())} and shown["layer_set"]["origin"] == "config"
    located = json.loads(invoke_cli("locate", "113.40", "23.12", "--json").stdout)
    assert located["layers"]["origin"] == "config" and located["layers"]["folder"] == str(folder.resolve())
    assert located["layers"]["version"].startswith("2030-01-01+")
    assert "chosen by config" in invoke_cli("layers").stdout.decode()
    assert invoke_cli("config", "set", "layers", "").returncode == 0
    assert read_config() == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["config", "set", "layers", "/nonexistent/folder"], "does not exist"),
        (["config", "set", "colour", "red"], "unknown setting 'colour'"),
    ],
)
def test_bad_settings_are_exit_2(config_home, args, message):
    result = invoke_cli(*args)
    err = result.stderr.decode()
    assert result.returncode == 2 and message in err and err.count("\n") == 1
    assert not config_path().exists()


def test_broken_config_file_or_vanished_folder_is_named(config_home, tmp_path):
    config_path().parent.mkdir(parents=True)
    config_path().write_text("{not json", encoding="utf-8")
    result = invoke_cli("locate", "113.40", "23.12")
    err = result.stderr.decode()
    assert result.returncode == 2 and "settings file" in err and "not valid JSON" in err
    folder = _layer_folder(tmp_path / "gone")
    config_path().unlink()
    set_value("layers", str(folder))
    shutil.rmtree(folder)
    result = invoke_cli("locate", "113.40", "23.12")
    assert result.returncode == 2 and "(from config) does not exist" in result.stderr.decode()

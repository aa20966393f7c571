"""The user's settings file (``gzspatial config``): today one key, ``layers``, the default layers folder.

Stored as JSON in ``$XDG_CONFIG_HOME/gzspatial/config.json`` (default ``~/.config``; on Windows
``%APPDATA%``). ``--layers`` and ``GZ_LAYERS`` take precedence over it.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from gzspatial._errors import InputError
from gzspatial.i18n import _

#: Settings the file may hold, with what each means.
KEYS = {"layers": "default layers folder (below --layers and GZ_LAYERS)"}


def config_path() -> Path:
    """Where the settings file lives (it need not exist)."""
    if os.environ.get("XDG_CONFIG_HOME"):
        base = Path(os.environ["XDG_CONFIG_HOME"])
    elif sys.platform == "win32" and os.environ.get("APPDATA"):
        base = Path(os.environ["APPDATA"])
    else:
        base = Path.home() / ".config"
    return base / "gzspatial" / "config.json"


def read_config() -> dict:
    """The settings as a dict ({} when there is no file); a broken file is an error naming it."""
    path = config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(
            _("settings file {path} is not readable ({exc}): fix or delete it").format(path=path, exc=exc)
        ) from None
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(
            _("settings file {path} is not valid JSON ({exc}): fix or delete it").format(path=path, exc=exc)
        ) from None
    if not isinstance(settings, dict):
        raise InputError(_("settings file {path} does not hold a JSON object: fix or delete it").format(path=path))
    return settings


def set_value(key: str, value: str | None) -> Path:
    """Set (or with ``None`` remove) one setting; returns the file written (atomically).

    ``layers`` must name an existing folder; it is stored as an absolute path.
    """
    from gzspatial.io import atomic_output

    if key not in KEYS:
        raise InputError(_("unknown setting {key!r}: use one of {KEYS}").format(key=key, KEYS=", ".join(KEYS)))
    settings = read_config()
    if value is None:
        settings.pop(key, None)
    else:
        folder = Path(value).expanduser()
        if not folder.is_dir():
            raise InputError(
                _("layers folder {value!r} does not exist: give a folder holding <layer>.geojson files").format(
                    value=value
                )
            )
        settings[key] = str(folder.resolve())
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, "w", encoding="utf-8") as handle:
        json.dump(settings, handle, ensure_ascii=False, indent=1)
        handle.write("\n")
    return path

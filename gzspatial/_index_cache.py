"""An on-disk cache of the engine's index arrays, so a new process does not rebuild them.

Building the containment grid of a layer set (raster of boundary cells, connected regions, one
exact test per region) takes about 0.45 s a process (scipy's labelling alone is 0.2 s to import),
the distance indexes and the metre lattice another 0.4 s (PROJ, and compiled code loaded only to
build them); each result is a few MB of arrays at most. Each is kept in
``<user cache dir>/gzspatial/index/<key>.npz``, where the key hashes everything its arrays depend
on: the layers' geometries (WKB, in order), the settings (PROJ's version too, for metres) and the
source of the modules that build and read them. Any other layer set, setting or code gets another
key, so a stale entry is never read; an unreadable or malformed entry is ignored and rebuilt. Writes
are atomic (``io.atomic_output``); a cache folder that cannot be written only costs the rebuild.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

#: Set to a folder to keep the cache there, or to "off" to build the index arrays in every process.
CACHE_ENV = "GZ_INDEX_CACHE"


def cache_folder() -> Path | None:
    """``$GZ_INDEX_CACHE``, else ``index`` in the user cache dir; None when the cache is off."""
    chosen = os.environ.get(CACHE_ENV, "")
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    import platformdirs

    return Path(platformdirs.user_cache_dir("gzspatial")) / "index"


#: The modules whose code decides the cached arrays: the containment grid's, the distance indexes'
#: and the metre lattice's (crs: the metric CRS and PROJ's use). A change to any gives new keys.
SOURCES = ("_grid.py", "_engine.py", "_index_cache.py", "_distance.py", "_lattice.py", "crs.py")


def key(geometries: list[np.ndarray], settings: tuple) -> str:
    """A hex digest of the layers' geometries (WKB, layer by layer, in order), ``settings`` and the
    source of the modules whose code decides the arrays (SOURCES)."""
    import shapely

    digest = hashlib.sha256(repr(settings).encode())
    here = Path(__file__).parent
    for module in SOURCES:
        digest.update((here / module).read_bytes())
    for layer in geometries:
        digest.update(b"|layer|")
        for wkb in shapely.to_wkb(layer, hex=False, output_dimension=2, byte_order=1):
            digest.update(len(wkb).to_bytes(8, "little"))
            digest.update(wkb)
    return digest.hexdigest()[:32]


def load(name: str, expected: dict[str, tuple[int, np.dtype | None]]) -> dict[str, np.ndarray] | None:
    """The arrays stored under ``name``, if present and each of the ``expected`` number of
    dimensions (and dtype, unless None); else None (absent, unreadable or malformed: rebuild)."""
    folder = cache_folder()
    if folder is None:
        return None
    path = folder / f"{name}.npz"
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as stored:
            arrays = {field: stored[field] for field in expected}
    except FileNotFoundError:
        return None
    except Exception as exc:  # a truncated or foreign file: never trusted, rebuilt and replaced
        log.debug("index cache %s unreadable (%s): rebuilding", path, exc)
        return None
    for field, (ndim, dtype) in expected.items():
        if arrays[field].ndim != ndim or (dtype is not None and arrays[field].dtype != dtype):
            log.debug("index cache %s: %s has an unexpected shape or type: rebuilding", path, field)
            return None
    log.debug("index arrays read from the cache %s", path)
    return arrays


def save(name: str, arrays: dict[str, np.ndarray]) -> None:
    """Store ``arrays`` under ``name`` (atomically); a folder that cannot be written is skipped."""
    from gzspatial._errors import GzError
    from gzspatial.io import atomic_output

    folder = cache_folder()
    if folder is None:
        return
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_output(folder / f"{name}.npz", "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy stubs: a ** dict might set allow_pickle
    except (OSError, GzError) as exc:
        log.debug("index cache not written to %s (%s): rebuilt next time", folder, exc)
        return
    log.debug("index arrays cached in %s", folder / f"{name}.npz")


def pack(prefix: str, record) -> dict[str, np.ndarray]:
    """The fields of a dataclass of arrays and numbers as arrays named ``prefix.field`` (numbers 0-d)."""
    import dataclasses

    return {f"{prefix}.{field.name}": np.asarray(getattr(record, field.name)) for field in dataclasses.fields(record)}


def unpack(kind, prefix: str, arrays: dict[str, np.ndarray]):
    """A ``kind`` (dataclass) from the arrays :func:`pack` made (0-d arrays back to Python numbers)."""
    import dataclasses

    values = {field.name: arrays[f"{prefix}.{field.name}"] for field in dataclasses.fields(kind)}
    return kind(**{name: value.item() if value.ndim == 0 else value for name, value in values.items()})

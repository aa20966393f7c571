"""The join on Dask: every partition answered by the same step as :func:`gzspatial.join`.

The plan (coordinate columns, CRS, address column) is decided once on the client from the column
names, so a bad input fails before any task runs; each worker process builds the layout index once
(``gzspatial._engine.layout_index`` caches it per process) and reuses it for every partition.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from gzspatial._errors import InputError
from gzspatial.attribute import Options, join_frame, join_planned
from gzspatial.i18n import _
from gzspatial.pipeline import Plan, make_plan
from gzspatial.settings import DEFAULT_CORRIDOR_KM

if TYPE_CHECKING:
    import dask.dataframe as dd
    import pandas as pd

log = logging.getLogger(__name__)


def _partition(frame: pd.DataFrame, plan: Plan) -> pd.DataFrame:
    """One partition (a pandas DataFrame) joined: its columns, then the gz_ columns."""
    return join_planned(frame, plan)[0]


def join(
    ddf,
    *,
    lon: str | None = None,
    lat: str | None = None,
    crs: str | None = None,
    layers: str | Path | None = None,
    corridor_km: float = DEFAULT_CORRIDOR_KM,
    lang: str = "zh",
    overwrite_gz: bool = False,
    address: str | None = None,
) -> dd.DataFrame:
    """A dask DataFrame with the gz_ columns of :func:`gzspatial.join` appended (lazy; row order kept).

    ``crs`` as in :func:`gzspatial.join` (wgs84, cgcs2000, gcj02, bd09, EPSG:n), required unless the
    column names or a 坐标系 column say. A dask-geopandas GeoDataFrame is answered from its geometry
    (its own CRS). Text gz_ columns are pandas categoricals (unknown categories).
    Online geocoding is not offered here (one rate-limited session cannot be shared by workers).
    """
    import dask.dataframe as dd

    options = Options(crs, corridor_km, lang, layers, overwrite_gz)
    if getattr(ddf._meta, "_geometry_column_name", None) is not None and lon is None and lat is None:
        # a dask-geopandas GeoDataFrame: each partition answered from its geometry, as gzspatial.join does
        meta = join_frame(ddf._meta, options=options, address=address)[0]  # the CRS checked here, once
        return ddf.map_partitions(_geo_partition, options, address, meta=dd.utils.clear_known_categories(meta))
    plan = make_plan(ddf.columns, lon=lon, lat=lat, options=options, address=address, source="the dask DataFrame")
    meta = _partition(ddf._meta, plan)
    meta = dd.utils.clear_known_categories(meta)
    return ddf.map_partitions(_partition, plan, meta=meta, align_dataframes=False)


def _geo_partition(frame, options: Options, address):
    """One GeoDataFrame partition joined by its geometry (its own CRS)."""
    return join_frame(frame, options=options, address=address)[0]


def read_dataset(source: str, *, encoding: str | None = None, delimiter: str | None = None) -> dd.DataFrame:
    """A folder or glob of Parquet or CSV files as a dask DataFrame (CSV cells read as text, kept as read;
    encoding and delimiter decided once, from the first file)."""
    import glob

    import dask.dataframe as dd

    from gzspatial.io import decide_delimiter, detect_file_encoding

    path = Path(source)
    files = sorted(p for p in path.iterdir() if p.is_file()) if path.is_dir() else sorted(map(Path, glob.glob(source)))
    files = [p for p in files if not p.name.startswith((".", "_"))]
    kinds = {p.suffix.lower() for p in files}
    if not files:
        raise InputError(
            _("{source} matches no files: give a folder or a glob of .parquet or .csv files").format(source=source)
        )
    if len(kinds) > 1 or not kinds <= {".parquet", ".csv", ".tsv", ".txt"}:
        raise InputError(
            _("{source} holds {kinds} files: a dataset is all .parquet or all .csv").format(
                source=source, kinds=", ".join(sorted(kinds))
            )
        )
    names = [str(p) for p in files]
    if kinds == {".parquet"}:
        return dd.read_parquet(names, dtype_backend="pyarrow")  # types as written: nulls stay null
    encoding = encoding or detect_file_encoding(files[0])
    with open(files[0], "rb") as handle:
        header = handle.readline().decode(encoding, errors="replace").lstrip("\ufeff")
    delimiter = decide_delimiter(delimiter, header, str(files[0]))
    return dd.read_csv(
        names, sep=delimiter, encoding=encoding, dtype=str, keep_default_na=False, na_filter=False, blocksize="64MB"
    )


def is_dataset(source: str) -> bool:
    """True for a folder or a glob pattern (the partitioned route), not for one file or stdin.

    A folder named like a single file (``in.csv``, ``a.geojson``) is not a dataset (reading it is an
    error naming it a folder); ``x.parquet/`` folders, as Spark and Dask write them, are.
    """
    from gzspatial.io import GEO_SUFFIXES

    if source == "-":
        return False
    path = Path(source)
    if path.is_dir():
        return path.suffix.lower() not in {*GEO_SUFFIXES, ".csv", ".tsv", ".txt", ".xlsx", ".xls"} - {".parquet"}
    if path.exists() or path.is_symlink():  # a file named with [ or * is that file
        return False
    return any(c in source for c in "*?[")


def join_dataset(
    source: str,
    output: str | Path,
    *,
    overwrite_output: bool = False,
    workers: int | None = None,
    scheduler: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    progress: bool = False,
    **join_options,
) -> int:
    """Join a Parquet or CSV dataset (folder or glob) into a partitioned Parquet dataset ``output``;
    returns the rows written.

    Written into a temporary folder beside ``output``, then renamed: readers never see half a
    dataset. An existing non-empty ``output`` is refused unless ``overwrite_output`` (then replaced
    only once the new one is complete). ``workers``: start a local cluster of that many processes;
    ``scheduler``: use a running one (``tcp://host:port``); neither: Dask's threads in this process.
    """
    import os
    import shutil

    from gzspatial.io import _writing

    output = Path(output)
    if output.exists() and not output.is_dir():
        raise InputError(
            _("{output} is a file: a dataset is written to a folder; give a folder name").format(output=output)
        )
    if output.is_dir() and any(output.iterdir()) and not overwrite_output:
        raise InputError(
            _("{output} is a folder that is not empty: give a new folder, or pass --overwrite-output").format(
                output=output
            )
        )
    if workers is not None and scheduler is not None:
        raise InputError(_("--workers starts a local cluster, --scheduler uses a running one: give one of them"))
    output.parent.mkdir(parents=True, exist_ok=True)
    ddf = read_dataset(source, encoding=encoding, delimiter=delimiter)
    where = scheduler or (f"a local cluster of {workers} processes" if workers else "threads in this process")
    log.info("%s -> %s: %d partitions on %s", source, output, ddf.npartitions, where)
    joined = join(ddf, **join_options)
    with _client(workers, scheduler) as client, _writing(output, folder=True) as tmp:
        work = joined.to_parquet(str(tmp), write_index=False, compute=False)
        with _task_bar(progress) as bar, _quiet_dask_deprecations():
            compute(work, client, bar)
        rows = sum(pq_rows(p) for p in Path(tmp).glob("*.parquet"))
        old = output.with_name(f".{output.name}.gzold-{os.getpid()}")
        if output.exists():
            os.replace(output, old)
        os.replace(tmp, output)
        with contextlib.suppress(OSError):
            shutil.rmtree(old)
    return rows


@contextlib.contextmanager
def _quiet_dask_deprecations() -> Iterator[None]:
    """Hide the deprecation warnings pandas raises about dask's own code (its Parquet reader calls
    ``reset_index(inplace=True)``, deprecated by pandas 3.1): nothing a user can act on, and an
    error where warnings are errors. For the threads of this process that run tasks; a cluster's
    workers keep their own filters."""
    import warnings

    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="The inplace keyword", module=r"dask\.")
        yield


def _task_bar(enabled: bool):
    """A rich progress bar of finished tasks on stderr (transient), or a null context giving None."""
    if not enabled:
        return contextlib.nullcontext(None)
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (BarColumn(), MofNCompleteColumn(), TextColumn("tasks"), TimeElapsedColumn())
    return Progress(*columns, console=Console(stderr=True), transient=True)


def compute(work, client=None, bar=None) -> None:
    """Compute ``work`` (a dask collection) on ``client`` or on threads here; with ``bar`` (a
    ``rich.progress.Progress``) its first task counts finished tasks. Never writes to stdout
    (distributed's and dask's own text bars do)."""
    if bar is None:
        work.compute()  # on the client when there is one: it is the default scheduler while open
        return
    task = bar.add_task("join", total=None)
    if client is None:
        from dask.callbacks import Callback

        def finished(key, result, dsk, state, worker_id) -> None:  # called by the local scheduler per task
            done = len(state["finished"])
            bar.update(task, completed=done, total=done + sum(len(state[k]) for k in ("ready", "waiting", "running")))

        with Callback(posttask=finished):
            work.compute()
        return
    from distributed.diagnostics.progressbar import TextProgressBar

    class Tasks(TextProgressBar):
        """distributed's console progress (it follows the scheduler), drawn on ``bar`` instead of stdout."""

        def _draw_bar(self, remaining, all, **kwargs) -> None:
            bar.update(task, total=all, completed=all - remaining)

        def _draw_stop(self, **kwargs) -> None:
            pass

    future = client.compute(work)
    Tasks([future])  # returns when the tasks are done (or failed)
    future.result()


def pq_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def _client(workers: int | None, scheduler: str | None):
    """A distributed client for the run (a LocalCluster of ``workers`` processes, or ``scheduler``)."""
    if workers is None and scheduler is None:
        return contextlib.nullcontext(None)
    from distributed import Client, LocalCluster

    if scheduler is not None:
        return Client(scheduler)

    @contextlib.contextmanager
    def local():
        with (
            LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0") as cluster,
            Client(cluster) as client,
        ):
            yield client

    return local()

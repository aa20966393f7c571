"""Run GIL-free work over parts of a large array on a small shared thread pool.

Two grains, never nested: :func:`for_slices` runs one numba kernel (compiled serial with
``nogil=True``) over cache-sized slices; :func:`map_pieces` runs a whole step (a join of a few
hundred thousand rows: kernels, numpy and PROJ, which mostly release the GIL too) over one
large piece per worker, so the glue between the kernels runs in parallel as well. Inside a
piece the kernels run unsliced on the piece's thread. Unlike numba's ``parallel=True`` this is
safe when the caller itself runs in threads (Dask, a ThreadPoolExecutor): numba's default
threading layer must not be entered from two threads at once.
"""

from __future__ import annotations

import itertools
import logging
import os
import sys
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

#: Threads used for one large call (the CPUs this process may use).
WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
#: Rows per slice: large enough to amortise a task, small enough to keep slices in cache.
SLICE_ROWS = 1 << 16
#: Fewest rows per piece of map_pieces: below this a piece's fixed costs outweigh a second thread.
PIECE_MIN_ROWS = 1 << 17

T = TypeVar("T")
_local = threading.local()  # .in_piece: this thread runs a piece (its kernels stay on it)

_pool: ThreadPoolExecutor | None = None
log = logging.getLogger(__name__)


def _executor() -> ThreadPoolExecutor:
    global _pool  # one lazily created pool per process
    if _pool is None:
        log.debug("a pool of %d threads runs the compiled kernels on slices of %d rows", WORKERS, SLICE_ROWS)
        _pool = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="gzspatial")
    return _pool


def for_slices(run, n: int) -> None:
    """Call ``run(start, stop)`` for consecutive slices covering ``range(n)``.

    Slices run on the pool when there are several and more than one worker (``WORKERS``, capped
    by ``numba.set_num_threads`` of the calling thread); ``run`` must only write its own rows
    (kernels releasing the GIL make this parallel).
    """
    bounds = [(start, min(n, start + SLICE_ROWS)) for start in range(0, n, SLICE_ROWS)]
    if _serial() or len(bounds) <= 1:
        for start, stop in bounds:
            run(start, stop)
        return
    for future in [_executor().submit(run, start, stop) for start, stop in bounds]:
        future.result()


def _serial() -> bool:
    """True when work must stay on the calling thread: one worker (``numba.set_num_threads(1)``
    included), or the thread is a pool thread running a piece (waiting on the pool from it could
    deadlock)."""
    # numba is imported by the kernels, not here (small joins never load it): before any kernel
    # ran, numba.set_num_threads cannot have been called either
    numba = sys.modules.get("numba")
    threads = WORKERS if numba is None else numba.get_num_threads()
    return min(WORKERS, threads) <= 1 or getattr(_local, "in_piece", False)


def pieces(n: int) -> list[tuple[int, int]]:
    """(start, stop) bounds of the pieces :func:`map_pieces` should split ``range(n)`` into: one per
    worker, each at least PIECE_MIN_ROWS rows (a single piece when the work must stay serial)."""
    count = 1 if _serial() else max(1, min(WORKERS, n // PIECE_MIN_ROWS))
    edges = [n * k // count for k in range(count + 1)]
    return list(itertools.pairwise(edges))


def map_pieces(run: Callable[[int, int], T], bounds: list[tuple[int, int]]) -> list[T]:
    """``[run(start, stop) for start, stop in bounds]``, the pieces on the pool at the same time.

    Within ``run`` the kernels run unsliced (for_slices stays serial in a piece). Every piece is
    waited for; then the first piece's exception, in order, is raised.
    """
    if len(bounds) <= 1:
        return [run(start, stop) for start, stop in bounds]

    def piece(start: int, stop: int) -> T:
        _local.in_piece = True
        try:
            return run(start, stop)
        finally:
            _local.in_piece = False

    futures = [_executor().submit(piece, start, stop) for start, stop in bounds]
    errors = [future.exception() for future in futures]  # waits for all
    for error in errors:
        if error is not None:
            raise error
    return [future.result() for future in futures]

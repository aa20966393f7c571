"""Run a GIL-free kernel over slices of a large array on a small shared thread pool.

The numba kernels are compiled serial with ``nogil=True``; this module splits the rows into
cache-sized slices and runs them on ``WORKERS`` threads. Unlike numba's ``parallel=True`` this
is safe when the caller itself runs in threads (Dask, a ThreadPoolExecutor): numba's default
threading layer must not be entered from two threads at once.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor

import numba

#: Threads used for one large call (the CPUs this process may use).
WORKERS = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
#: Rows per slice: large enough to amortise a task, small enough to keep slices in cache.
SLICE_ROWS = 1 << 16

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
    if min(WORKERS, numba.get_num_threads()) <= 1 or len(bounds) <= 1:
        for start, stop in bounds:
            run(start, stop)
        return
    for future in [_executor().submit(run, start, stop) for start, stop in bounds]:
        future.result()

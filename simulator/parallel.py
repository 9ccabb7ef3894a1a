"""Loops over agents on every core: compiled kernels run on ranges of rows in a few threads.

A kernel is a numba function compiled with ``nogil=True`` whose first two arguments are the range
of rows it fills. Each thread gets one contiguous range and each row is computed by one thread,
so results do not depend on the number of threads. Python threads wait without spinning: on a
busy machine the twin slows down no more than the cores it loses, and two models may step at
once in two threads of one process.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

import numpy as np

GRAIN = 1 << 15
"""Fewest agents worth a thread of their own."""

_settings = threading.local()
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def cpu_count() -> int:
    """The CPUs this process may run on, wherever it runs.

    ``os.process_cpu_count`` (Python 3.13+), else the affinity mask where the system has one
    (Linux), else all the machine's CPUs (macOS, Windows before 3.13).
    """
    if hasattr(os, "process_cpu_count"):
        return os.process_cpu_count() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def threads() -> int:
    """Threads a loop may use here: the CPUs this process may run on, unless limited."""
    return getattr(_settings, "limit", None) or cpu_count()


@contextlib.contextmanager
def limited_threads(count: int) -> Iterator[None]:
    """Run this thread's loops on at most ``count`` threads (e.g. 1 in a sweep worker)."""
    before = getattr(_settings, "limit", None)
    _settings.limit = max(int(count), 1)
    try:
        yield
    finally:
        _settings.limit = before


def for_rows(kernel: Callable, rows: int, *args, grain: int = GRAIN) -> None:
    """Call ``kernel(start, stop, *args)`` on contiguous ranges covering ``range(rows)``.

    Args:
        kernel: a numba function compiled with ``nogil=True``.
        rows: number of rows.
        *args: the kernel's other arguments.
        grain: fewest rows worth a thread of their own.
    """
    parts = max(min(threads(), -(-rows // grain)), 1)
    bounds = np.linspace(0, rows, parts + 1).astype(np.int64)
    futures = [_executor().submit(kernel, bounds[k], bounds[k + 1], *args)
               for k in range(1, parts)]
    kernel(bounds[0], bounds[1], *args)
    for future in futures:
        future.result()


def in_background(function: Callable, *args, **kwargs) -> Future:
    """Start ``function(*args, **kwargs)`` on another thread while this one goes on.

    Meant for work that releases the GIL (numpy's random fills, compiled kernels); limited to
    one thread, the call runs here and now.
    """
    if threads() > 1:
        return _executor().submit(function, *args, **kwargs)
    done: Future = Future()
    done.set_result(function(*args, **kwargs))
    return done


def alongside(function: Callable, *args, **kwargs) -> Future:
    """Start ``function(*args, **kwargs)`` on a thread of its own while this one goes on.

    Unlike :func:`in_background`, the call does not take a thread of the row-loop pool, so long
    work (building the network while the rest of the model is built) neither waits for the
    pool nor holds up the loops this thread runs meanwhile. Limited to one thread, the call runs
    here and now.
    """
    done: Future = Future()
    if threads() == 1:
        done.set_result(function(*args, **kwargs))
        return done

    def run() -> None:
        try:
            done.set_result(function(*args, **kwargs))
        except BaseException as error:  # handed to whoever waits for the result
            done.set_exception(error)

    threading.Thread(target=run, name="socialtwin-alongside", daemon=True).start()
    return done


def _executor() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=max(cpu_count() - 1, 1),
                                       thread_name_prefix="socialtwin-rows")
        return _pool

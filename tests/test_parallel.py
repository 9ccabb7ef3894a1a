import threading

import numba
import numpy as np
import pytest

from simulator import parallel
from simulator.parallel import (
    GRAIN,
    alongside,
    cpu_count,
    for_rows,
    in_background,
    limited_threads,
    threads,
)


@numba.njit(nogil=True)
def mark(start, stop, out, calls):
    calls[start] += 1
    for i in range(start, stop):
        out[i] += 1


def test_every_row_is_done_once_in_contiguous_ranges():
    for rows in (0, 1, GRAIN - 1, 3 * GRAIN + 5):
        out = np.zeros(rows, dtype=np.int64)
        calls = np.zeros(rows + 1, dtype=np.int64)
        for_rows(mark, rows, out, calls)
        assert (out == 1).all()
        assert calls.sum() == min(threads(), max(-(-rows // GRAIN), 1))


def test_threads_can_be_limited_and_the_limit_is_restored():
    everywhere = threads()
    with limited_threads(1):
        assert threads() == 1
        out = np.zeros(4 * GRAIN, dtype=np.int64)
        calls = np.zeros(len(out) + 1, dtype=np.int64)
        for_rows(mark, len(out), out, calls)
        assert calls.sum() == 1 and (out == 1).all()
    assert threads() == everywhere


def test_a_coarse_grain_spreads_few_rows():
    out = np.zeros(2, dtype=np.int64)
    calls = np.zeros(3, dtype=np.int64)
    with limited_threads(2):
        for_rows(mark, 2, out, calls, grain=1)
    assert (out == 1).all() and calls.tolist() == [1, 1, 0]


def test_background_work_runs_elsewhere_and_inline_when_limited_to_one_thread():
    names = []

    def record(value, scale=1):
        names.append(threading.current_thread().name)
        return value * scale

    assert in_background(record, 3, scale=2).result() == 6
    with limited_threads(1):
        assert in_background(record, 4).result() == 4
    assert names[1] == threading.current_thread().name
    if threads() > 1:
        assert names[0] != threading.current_thread().name


def test_work_alongside_can_run_row_loops_while_this_thread_runs_its_own():
    """The pool has one worker on two cores: work that took it and ran row loops would wait."""
    def loops(rows):
        out = np.zeros(rows, dtype=np.int64)
        for_rows(mark, rows, out, np.zeros(rows + 1, dtype=np.int64), grain=1)
        return int(out.sum()), threading.current_thread().name

    with limited_threads(2):
        started = alongside(loops, 1000)
        assert loops(500)[0] == 500
        total, name = started.result(timeout=60)
    assert total == 1000 and name != threading.current_thread().name
    with limited_threads(1):
        assert alongside(loops, 10).result()[1] == threading.current_thread().name


def test_an_error_alongside_reaches_whoever_waits_for_the_result():
    def fail():
        raise ValueError("no ties")

    with limited_threads(2), pytest.raises(ValueError, match="no ties"):
        alongside(fail).result(timeout=60)


def test_cpus_are_counted_where_the_system_offers_no_affinity_mask(monkeypatch):
    monkeypatch.delattr(parallel.os, "process_cpu_count", raising=False)
    if hasattr(parallel.os, "sched_getaffinity"):
        monkeypatch.setattr(parallel.os, "sched_getaffinity", lambda pid: {0, 1, 2})
        assert cpu_count() == 3
    # macOS, and Windows before Python 3.13: no affinity mask, all the machine's CPUs.
    monkeypatch.delattr(parallel.os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: 5)
    assert cpu_count() == 5 and threads() == 5
    monkeypatch.setattr(parallel.os, "cpu_count", lambda: None)
    assert cpu_count() == 1


def test_cpus_are_counted_by_the_process_count_where_python_offers_it(monkeypatch):
    monkeypatch.setattr(parallel.os, "process_cpu_count", lambda: 7, raising=False)
    monkeypatch.delattr(parallel.os, "sched_getaffinity", raising=False)
    assert cpu_count() == 7

"""Executors: one small interface to run sweep tasks on local processes, Dask or Ray.

An executor maps a picklable module-level function over items and returns the results in
order; ``close()`` (or leaving a ``with`` block) releases what it started, never a cluster it
merely connected to. Workers are long-lived processes, so a task can keep heavy state (a loaded
language model) in a module-level cache for the tasks that follow on the same worker.
"""

from __future__ import annotations

import abc
import logging
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any, TypeVar

from tqdm import tqdm

from simulator.errors import SocialTwinError

EXECUTORS = ("local", "dask", "ray")

T = TypeVar("T")
R = TypeVar("R")


class ExecutorError(SocialTwinError, RuntimeError):
    """An executor cannot start or reach its cluster."""


class Executor(abc.ABC):
    """Runs a function over items on some workers.

    Attributes:
        name: ``local``, ``dask`` or ``ray``.
        workers: number of worker processes (for a cluster reached by address: its CPUs).
        address: the scheduler or cluster address, ``None`` for one started here.
    """

    name = "executor"

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        if workers < 1:
            raise ExecutorError(f"executor {self.name}: workers {workers} is out of range "
                                "(allowed: at least 1)")
        self.workers = workers
        self.address = address

    @abc.abstractmethod
    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: bool = False,
            desc: str = "tasks") -> list[R]:
        """``[fn(item) for item in items]``, computed on the workers.

        Args:
            fn: a module-level function (it is pickled by reference).
            items: picklable arguments, one task each.
            progress: show a progress bar of finished tasks.
            desc: the progress bar's label.

        Returns:
            The results in the order of ``items``.
        """

    def close(self) -> None:  # noqa: B027 - executors that start nothing have nothing to stop
        """Stop the workers this executor started."""

    def describe(self) -> dict:
        """What a manifest records about the executor."""
        return {"executor": self.name, "workers": self.workers, "address": self.address}

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class LocalExecutor(Executor):
    """Worker processes on this machine (``concurrent.futures``); one worker runs in-process.

    Workers are spawned (not forked), so they start clean of the parent's threads and locks.

    Args:
        workers: number of processes; 1 runs every task in this process, in order.
    """

    name = "local"

    def __init__(self, workers: int = 1) -> None:
        super().__init__(workers)
        self._pool: ProcessPoolExecutor | None = None
        if workers > 1:
            self._pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(
                "spawn"))

    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: bool = False,
            desc: str = "tasks") -> list[R]:
        """Run the tasks (see :meth:`Executor.map`)."""
        with tqdm(total=len(items), desc=desc, unit="run", disable=not progress) as bar:
            if self._pool is None:
                results = []
                for item in items:
                    results.append(fn(item))
                    bar.update()
                return results
            futures = [self._pool.submit(fn, item) for item in items]
            for _ in as_completed(futures):
                bar.update()
            return [future.result() for future in futures]

    def close(self) -> None:
        """Shut the process pool down."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    """Dask distributed: a ``LocalCluster`` of single-threaded worker processes, or a scheduler.

    Args:
        workers: worker processes of the local cluster (ignored with ``address``).
        address: address of a running scheduler (``tcp://host:8786``); its workers must be able
            to import socialtwin and read the scenario's files and the response cache.
    """

    name = "dask"

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        super().__init__(workers, address)
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ExecutorError("executor dask: dask[distributed] is not installed (allowed: "
                                "pip install 'socialtwin[distributed]')") from None
        self._cluster = None
        try:
            if address is None:
                self._cluster = LocalCluster(n_workers=workers, threads_per_worker=1,
                                             processes=True, dashboard_address=None,
                                             silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
            else:
                self._client = Client(address, timeout="20s")
                self.workers = sum(self._client.nthreads().values()) or 1
        except (OSError, TimeoutError) as error:
            self.close()
            raise ExecutorError(f"executor dask: cannot reach the scheduler at {address} "
                                f"({error})") from None

    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: bool = False,
            desc: str = "tasks") -> list[R]:
        """Run the tasks (see :meth:`Executor.map`)."""
        from dask.distributed import as_completed as dask_completed

        futures = self._client.map(fn, list(items), pure=False)
        with tqdm(total=len(items), desc=desc, unit="run", disable=not progress) as bar:
            for _ in dask_completed(futures):
                bar.update()
        return self._client.gather(futures)

    def close(self) -> None:
        """Disconnect, and stop the local cluster if this executor started it."""
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None


class RayExecutor(Executor):
    """Ray: a local Ray started with ``num_cpus=workers``, or a running cluster's address.

    Args:
        workers: CPUs of the local Ray (one task per CPU; ignored with ``address``).
        address: a running cluster (``ray://host:10001`` or ``auto``); its workers must be able to
            import socialtwin and read the scenario's files and the response cache.
    """

    name = "ray"

    def __init__(self, workers: int = 1, address: str | None = None) -> None:
        super().__init__(workers, address)
        try:
            import ray
        except ImportError:
            raise ExecutorError("executor ray: ray is not installed (allowed: pip install "
                                "'socialtwin[distributed]')") from None
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        self._ray = ray
        self._started = False
        if not ray.is_initialized():
            options: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                       "logging_level": logging.ERROR}
            try:
                if address is None:
                    ray.init(num_cpus=workers, **options)
                else:
                    ray.init(address=address, **options)
            except (ConnectionError, RuntimeError, ValueError) as error:
                raise ExecutorError(f"executor ray: cannot start or reach Ray "
                                    f"({address or 'local'}: {error})") from None
            self._started = True
        if address is not None:
            self.workers = int(ray.cluster_resources().get("CPU", 1))

    def map(self, fn: Callable[[T], R], items: Sequence[T], progress: bool = False,
            desc: str = "tasks") -> list[R]:
        """Run the tasks (see :meth:`Executor.map`)."""
        remote = self._ray.remote(num_cpus=1)(fn)
        refs = [remote.remote(item) for item in items]
        pending = list(refs)
        with tqdm(total=len(items), desc=desc, unit="run", disable=not progress) as bar:
            while pending:
                done, pending = self._ray.wait(pending, num_returns=1)
                bar.update(len(done))
        return self._ray.get(refs)

    def close(self) -> None:
        """Shut Ray down if this executor started it."""
        if self._started:
            self._ray.shutdown()
            self._started = False


def make_executor(name: str, workers: int = 1, address: str | None = None) -> Executor:
    """The executor called ``name`` (``local``, ``dask`` or ``ray``).

    Raises:
        ExecutorError: an unknown name, ``address`` with ``local``, or a cluster that cannot
            be started or reached.
    """
    if name == "local":
        if address is not None:
            raise ExecutorError("executor local: takes no address (allowed: dask or ray with "
                                "--address)")
        return LocalExecutor(workers)
    if name == "dask":
        return DaskExecutor(workers, address)
    if name == "ray":
        return RayExecutor(workers, address)
    raise ExecutorError(f"unknown executor {name!r} (allowed: {', '.join(EXECUTORS)})")

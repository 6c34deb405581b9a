"""The client side of a Dask run: start or join a cluster, feed it chunks, hand results back in order.

A bounded number of chunks is in flight (two per worker), so the client's memory does not grow
with the cohort and a slow store never piles results up. A worker that dies mid-task has its task
rerun elsewhere by the Dask scheduler (its ``allowed-failures`` setting); a task that raises is
retried twice, then the run stops with that error (finished chunks stay stored for ``--resume``).

Example:
    >>> with executor_for(None) as executor:   # no --cluster: the in-process default
    ...     executor is None
    True
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from itertools import islice

from ..errors import ClusterError, InputError, MissingDependencyError
from ..store.schema import dose_kinds, patient_kinds
from ..store.trajectories import TRAJECTORY_KINDS
from ..trials.statistics import SUMMARISED_COLUMNS
from ..trials.trial import ChunkResult, needs_dose_log
from .tasks import from_parquet, numpy_columns, run_chunk

#: Chunks in flight per worker: one running, one queued so a worker never waits for the client.
IN_FLIGHT_PER_WORKER = 2


def _distributed():
    try:
        import distributed
    except ImportError as exc:
        raise MissingDependencyError(
            "--cluster needs Dask distributed, a dependency of celltrial missing here: pip install 'dask[distributed]'"
        ) from exc
    return distributed


@contextlib.contextmanager
def executor_for(cluster: str | None, workers: int | None = None, notify=None):
    """The executor for a ``--cluster`` value: None (in process), ``local`` or a scheduler address."""
    if cluster is None:
        if workers is not None:
            raise InputError("--workers needs --cluster (e.g. --cluster local --workers 2)")
        yield None
        return
    with DaskExecutor(cluster, workers=workers, notify=notify) as executor:
        yield executor


class DaskExecutor:
    """Runs a trial's chunks as Dask tasks; use as a context manager (it owns a local cluster).

    Args:
        address: "local" (start a LocalCluster of ``workers`` single-threaded processes, default
            one per core) or a scheduler address such as ``tcp://host:8786``.
        workers: local workers (only with "local").
        notify: called with one line when the cluster is up.
    """

    def __init__(self, address: str, workers: int | None = None, notify=None):
        address = str(address).strip()
        if address != "local" and "://" not in address:
            raise InputError("--cluster must be 'local' or a scheduler address such as tcp://host:8786, "
                             f"got {address!r}")
        if workers is not None and address != "local":
            raise InputError("--workers applies to --cluster local; a remote cluster has the workers it was given")
        if workers is not None and workers < 1:
            raise InputError(f"--workers must be at least 1, got {workers}")
        self.address, self.workers, self.notify = address, workers, notify
        self.client = self._cluster = None

    def __enter__(self) -> DaskExecutor:
        distributed = _distributed()
        if self.address == "local":
            n = self.workers or os.cpu_count() or 1
            self._cluster = distributed.LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                                     dashboard_address=":0", silence_logs=logging.ERROR)
            self.client = distributed.Client(self._cluster)
        else:
            try:
                self.client = distributed.Client(self.address, timeout="30s")
            except (OSError, ValueError, TimeoutError) as exc:
                raise InputError(f"--cluster {self.address}: cannot reach the Dask scheduler "
                                 f"({type(exc).__name__}: {exc})") from exc
        if self.notify is not None:
            self.notify(f"Dask cluster {self.describe()}")
        return self

    def __exit__(self, *exc) -> None:
        for part in (self.client, self._cluster):
            if part is not None:
                with contextlib.suppress(Exception):  # closing must not hide the run's own error
                    part.close()
        self.client = self._cluster = None

    def n_workers(self) -> int:
        return max(1, len(self.client.scheduler_info().get("workers", {})))

    def describe(self) -> str:
        return f"{self.address} with {self.n_workers()} worker(s) at {self.client.scheduler.address}"

    def map(self, fn, calls: list, on_result=None, label: str = "celltrial-task") -> list:
        """``[fn(*args) for args in calls]`` as Dask tasks (results in order), e.g. the design points of a
        calibration wave or the cases of ``validate``; ``fn`` must be importable on the workers.
        ``on_result(i, value)`` hears each result as soon as it arrives (a checkpoint writes it)."""
        distributed = _distributed()
        tag = uuid.uuid4().hex[:12]
        futures = [self.client.submit(on_one_thread, fn, *args, key=f"{label}-{tag}-{i:05d}", retries=2, pure=False)
                   for i, args in enumerate(calls)]
        index = {f.key: i for i, f in enumerate(futures)}
        results = [None] * len(calls)
        try:
            with cluster_errors():
                for future in distributed.as_completed(futures):
                    i = index[future.key]
                    results[i] = future.result()
                    if on_result is not None:
                        on_result(i, results[i])
        finally:
            for future in futures:
                future.release()
        return results

    def __call__(self, plan, items: list, keep_patients: bool):
        """Yield :class:`ChunkResult` for ``items`` (chunk index, arm index, rows) as they complete.

        Task keys carry a fresh id of this call, the arm, the chunk and its rows, so two runs on one
        shared scheduler never share a task; the window of chunks in flight follows the number of
        workers (an adaptive cluster may start with none and grow).
        """
        distributed = _distributed()
        scenario = self.client.scatter(plan.scenario, broadcast=True, hash=False)
        policies = self.client.scatter(plan.policies or None, broadcast=True, hash=False)
        tag = uuid.uuid4().hex[:12]

        def submit(item):
            index, arm_index, rows = item
            lo, hi = int(rows[0]), int(rows[-1]) + 1
            return self.client.submit(run_chunk, scenario, policies, index, arm_index, lo, hi, retries=2, pure=False,
                                      key=f"celltrial-chunk-{tag}-arm{arm_index}-{index:05d}-rows{lo}-{hi}")

        pending = iter(items)
        running = distributed.as_completed()
        in_flight = 0
        with cluster_errors():
            while True:
                for item in islice(pending, max(0, IN_FLIGHT_PER_WORKER * self.n_workers() - in_flight)):
                    running.add(submit(item))
                    in_flight += 1
                if not in_flight:
                    return
                future = next(running)
                in_flight -= 1
                payload = future.result()
                future.release()
                yield decoded(plan, payload, keep_patients)


@contextlib.contextmanager
def cluster_errors():
    """Dask's failures (a task whose workers kept dying, a lost scheduler) as :class:`ClusterError`."""
    distributed = _distributed()
    try:
        yield
    except (distributed.client.FutureCancelledError, OSError, TimeoutError) as exc:
        raise ClusterError(f"the Dask cluster failed: {type(exc).__name__}: {exc}") from exc
    except Exception as exc:
        if type(exc).__name__ in ("KilledWorker", "CommClosedError"):
            raise ClusterError(f"the Dask cluster failed: {type(exc).__name__}: {exc} (a task's workers died "
                               "repeatedly: out of memory, or killed)") from exc
        raise


def on_one_thread(fn, *args):
    """``fn(*args)`` with numba's solver threads set to one: a worker is one core's share of the machine."""
    import numba

    numba.set_num_threads(1)
    return fn(*args)


def decoded(plan, payload: dict, keep_patients: bool) -> ChunkResult:
    """A worker's Parquet payload as the :class:`ChunkResult` the trial loop expects.

    The patients' and doses' Parquet bytes go to the store as they are (no decode and re-encode);
    only the columns the summary reads are decoded here.
    """
    wanted = None if keep_patients else SUMMARISED_COLUMNS
    columns = numpy_columns(from_parquet(payload["patients"], wanted), patient_kinds(), wanted)
    arm_index = payload["arm_index"]
    keep_doses = needs_dose_log(plan, arm_index, keep_patients)
    dose_log = numpy_columns(from_parquet(payload["doses"]), dose_kinds()) if keep_doses else None
    thin = payload["trajectories"]
    thin = None if thin is None else numpy_columns(from_parquet(thin), TRAJECTORY_KINDS)
    return ChunkResult(payload["index"], arm_index, payload["n"], payload["patients"], thin, payload["doses"],
                       columns, dose_log, payload.get("assays"), payload.get("assay_counts", {}))

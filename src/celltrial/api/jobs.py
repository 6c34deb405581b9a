"""Background jobs of the REST API: trial runs and forecasts run in a worker thread, never in a request.

One worker at a time (the solver already uses every core); a job is queued, running, finished
(with its result) or failed (with the one-line error and whether it was the user's input).

Example:
    >>> jobs = Jobs()
    >>> job = jobs.submit("echo", lambda: {"ok": True})
    >>> jobs.wait(job.id, 5.0).status, jobs.get(job.id).result
    ('finished', {'ok': True})
    >>> jobs.shutdown()
"""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ..errors import CelltrialError, InputError

#: Jobs remembered (oldest finished ones are forgotten first): the service must not grow without bound.
MAX_JOBS = 200


@dataclass
class Job:
    """A background job: id, kind ("run", "forecast"), status, result (JSON-ready) or error."""

    id: str
    kind: str
    status: str = "queued"
    result: dict | None = None
    error: str | None = None
    bad_input: bool = False
    done: threading.Event = field(default_factory=threading.Event, repr=False)

    def public(self) -> dict:
        return {"id": self.id, "kind": self.kind, "status": self.status, "result": self.result, "error": self.error,
                "bad_input": self.bad_input}


class Jobs:
    """The job registry and its single worker thread."""

    def __init__(self):
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="celltrial-api-job")
        self._jobs: dict = {}
        self._lock = threading.Lock()

    def submit(self, kind: str, work) -> Job:
        """Queue ``work()`` (returns a JSON-ready dict); the job is returned at once."""
        job = Job(uuid.uuid4().hex[:12], kind)
        with self._lock:
            self._forget_old()
            self._jobs[job.id] = job
        self._pool.submit(self._run, job, work)
        return job

    def _run(self, job: Job, work) -> None:
        job.status = "running"
        try:
            job.result, job.status = work(), "finished"
        except CelltrialError as exc:
            job.status, job.error, job.bad_input = "failed", str(exc), isinstance(exc, ValueError)
        except Exception as exc:  # noqa: BLE001 - a bug must fail the job, not kill the worker
            job.status, job.error = "failed", f"internal error: {type(exc).__name__}: {exc}"
        finally:
            job.done.set()

    def _forget_old(self) -> None:
        finished = [k for k, j in self._jobs.items() if j.done.is_set()]
        for k in finished[: max(0, len(self._jobs) - MAX_JOBS + 1)]:
            del self._jobs[k]

    def get(self, job_id: str) -> Job:
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None:
            raise InputError(f"job_id: no job {job_id!r} (finished jobs are kept for the last {MAX_JOBS})")
        return job

    def wait(self, job_id: str, timeout: float) -> Job:
        """The job after it ended or ``timeout`` seconds passed (tests and scripts)."""
        job = self.get(job_id)
        job.done.wait(timeout)
        return job

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

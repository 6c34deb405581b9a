"""Result of a batched simulation: saved trajectories, summaries and per-patient status.

Example:
    >>> import numpy as np
    >>> r = Result(np.array([0.0]), ("x",), np.zeros((2, 1, 1)), {}, np.zeros(2, np.int8),
    ...            np.zeros(2, np.int64), np.zeros(2, np.int64), {})
    >>> r.status_counts()
    {'OK': 2}
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError, Status, did_you_mean


@dataclass
class Result:
    """Outputs for ``n`` patients.

    Attributes:
        t: (n_times,) save times in days.
        names: names of the saved quantities (states and observables).
        values: (n, n_times, n_quantities) saved values; NaN where a patient failed first.
        summaries: column name -> (n,) array of in-kernel summaries.
        status: (n,) :class:`~celltrial.errors.Status` codes.
        n_steps, n_rejected: (n,) accepted and rejected step counts.
        info: solver settings and timings.
    """

    t: np.ndarray
    names: tuple
    values: np.ndarray
    summaries: dict
    status: np.ndarray
    n_steps: np.ndarray
    n_rejected: np.ndarray
    info: dict = field(default_factory=dict)

    @property
    def n_patients(self) -> int:
        return self.status.shape[0]

    def __getitem__(self, name: str) -> np.ndarray:
        """(n, n_times) trajectory of one saved quantity."""
        if name not in self.names:
            raise InputError(f"{name!r} was not saved{did_you_mean(name, self.names)}; saved: {list(self.names)}")
        return self.values[:, :, self.names.index(name)]

    def ok(self) -> np.ndarray:
        """Boolean mask of patients integrated to the end."""
        return self.status == Status.OK

    def status_counts(self) -> dict:
        codes, counts = np.unique(self.status, return_counts=True)
        return {Status(int(c)).name: int(k) for c, k in zip(codes, counts, strict=True)}

    def problems(self) -> list:
        """One line per failed patient: index, status and what to do."""
        return [
            f"patient {i}: {Status(int(s)).name} - {Status(int(s)).message}"
            for i, s in enumerate(self.status)
            if s != Status.OK
        ]

    def patient(self, i: int) -> dict:
        """Trajectory of patient i as columns {"time": ..., name: ...}."""
        cols = {"time": self.t.copy()}
        for j, name in enumerate(self.names):
            cols[name] = self.values[i, :, j].copy()
        return cols

    @staticmethod
    def concatenate(parts) -> Result:
        """Join results of consecutive patient chunks."""
        parts = list(parts)
        first = parts[0]
        return Result(
            t=first.t,
            names=first.names,
            values=np.concatenate([p.values for p in parts]),
            summaries={k: np.concatenate([p.summaries[k] for p in parts]) for k in first.summaries},
            status=np.concatenate([p.status for p in parts]),
            n_steps=np.concatenate([p.n_steps for p in parts]),
            n_rejected=np.concatenate([p.n_rejected for p in parts]),
            info=dict(first.info),
        )

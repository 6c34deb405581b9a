"""Read the run's patients table and long-format trajectories into what the figures need.

Only patients whose solver status is "OK" are shown in figures and curves: a failed solve has
no trustworthy trajectory or endpoint (the header counts and flags the others).

Example:
    >>> import numpy as np
    >>> p = {"arm": np.array(["a", "a"]), "status": np.array(["OK", "MAX_STEPS"]), "os_days": np.array([1.0, 2.0])}
    >>> column(ok_patients(p, "a"), "os_days").tolist()
    [1.0]
"""

from __future__ import annotations

import numpy as np


def ok_patients(patients: dict, arm: str) -> dict:
    """Columns of the arm's patients with status OK (all of them when there is no status column)."""
    n = len(np.asarray(patients.get("arm", [])))
    arm_col = np.asarray(patients.get("arm", np.array([], dtype=str)))
    mask = arm_col == arm
    if "status" in patients:
        mask &= np.asarray(patients["status"]) == "OK"
    return {k: np.asarray(v)[mask] for k, v in patients.items() if len(np.asarray(v)) == n}


def column(p: dict, name: str, kind=float) -> np.ndarray:
    """A column as an array of ``kind`` (NaN / False / "" filled when the column is absent)."""
    n = len(next(iter(p.values()))) if p else 0
    if name not in p:
        fill = {float: np.nan, bool: False, str: "", int: 0}[kind]
        return np.full(n, fill, dtype=object if kind is str else kind)
    v = np.asarray(p[name])
    if kind is float:
        return _as_float(v)
    if kind is bool:
        if v.dtype == object:  # None or NaN in an object column count as False
            return np.array([bool(x) and x == x for x in v], dtype=bool)
        return v.astype(bool)
    return v.astype(kind)


def _as_float(v: np.ndarray) -> np.ndarray:
    try:
        return v.astype(float)
    except (TypeError, ValueError):
        # An object column with None or stray strings: coerce element-wise, unknowns to NaN.
        out = np.full(v.shape, np.nan)
        for i, x in enumerate(v):
            try:
                out[i] = float(x)
            except (TypeError, ValueError):
                pass
        return out


#: Caption sentence of every per-patient trajectory figure: the convention of :class:`ArmTrajectories`.
LINES_END = ("Each patient's line ends at their death, or at the end of follow-up; nothing simulated after death "
             "is drawn.")


class ArmTrajectories:
    """The trajectories of one arm's OK patients, sorted by patient then day, each cut at its end of
    observation (``end_days``, aligned with ``ok_keys``: death or end of follow-up, the OS time).

    The model keeps integrating a dead patient's tumour past the lethal burden; drawing or
    summarising those values would show patients who no longer exist. So every series ends at the
    patient's death or censoring, and :meth:`bands` at a day are over the patients alive then.
    Patients are keyed by ``replicate * stride + patient`` so keys sort by replicate first.

    Example:
        >>> at = ArmTrajectories({"patient": np.array([0, 0, 0]), "day": np.array([0.0, 5.0, 9.0]),
        ...                       "x": np.array([1.0, 2.0, 3.0])}, np.array([0]), 1, np.array([6.0]))
        >>> at.series("x", 0)[0].tolist(), at.end_day(0)
        ([0.0, 5.0], 6.0)
    """

    def __init__(self, columns: dict, ok_keys: np.ndarray, stride: int, end_days: np.ndarray | None = None):
        key = np.asarray(columns.get("replicate", np.zeros(len(columns["day"]))), dtype=np.int64) * stride
        key = key + np.asarray(columns["patient"], dtype=np.int64)
        day = np.asarray(columns["day"], dtype=float)
        ok_keys = np.asarray(ok_keys, dtype=np.int64)
        end = np.full(len(ok_keys), np.inf) if end_days is None else _as_float(np.asarray(end_days))
        end = np.where(np.isfinite(end), end, np.inf)
        self._end = dict(zip(ok_keys.tolist(), end.tolist(), strict=True))
        keep = np.isin(key, ok_keys)
        by_key = np.argsort(ok_keys, kind="stable")
        row_end = end[by_key][np.searchsorted(ok_keys[by_key], key[keep])]
        keep[keep] = day[keep] <= row_end + 1e-9  # the tolerance keeps the sample taken on the death day itself
        day, key = day[keep], key[keep]
        order = np.lexsort((day, key))
        self.day, self.key = day[order], key[order]
        self.stride = stride
        self._columns = {q: _as_float(np.asarray(v)[keep][order]) for q, v in columns.items()
                         if q not in ("arm", "replicate", "patient", "day")}
        self.keys, self._starts = np.unique(self.key, return_index=True)
        self._ends = np.append(self._starts[1:], len(self.key))

    def end_day(self, key: int) -> float:
        """The patient's last day of observation (death or censoring; inf when unknown)."""
        return float(self._end.get(int(key), np.inf))

    def __len__(self) -> int:
        return len(self.keys)

    def has(self, quantity: str) -> bool:
        values = self._columns.get(quantity)
        return values is not None and bool(np.isfinite(values).any())

    def values(self, quantity: str) -> np.ndarray:
        return self._columns[quantity]

    def subset(self, n: int) -> np.ndarray:
        """Keys of the first ``n`` patients of the first replicate: an unbiased sample, since virtual
        patients are drawn independently, and the same patients in every figure."""
        if not len(self.keys):
            return self.keys
        first = self.keys[self.keys // self.stride == self.keys[0] // self.stride]
        return first[:n]

    def series(self, quantity: str, key: int) -> tuple:
        """(day, value) of one patient."""
        i = int(np.searchsorted(self.keys, key))
        s, e = self._starts[i], self._ends[i]
        return self.day[s:e], self._columns[quantity][s:e]

    def bands(self, quantity: str, percentiles=(5, 50, 95), max_bins: int = 300, min_patients: int = 1) -> tuple:
        """(day grid, (len(percentiles), grid) array) of across-patient percentiles.

        Only patients alive and under observation at a day count at that day (series end at death or
        censoring), and days with fewer than ``min_patients`` values are left out. Trajectories saved on
        a common day grid are summarised day by day; otherwise days are binned, so adaptive thinning
        does not leave one patient per "day"."""
        values = self._columns[quantity]
        fin = np.isfinite(values)
        day, values = self.day[fin], values[fin]
        if not day.size:
            return np.array([]), np.empty((len(percentiles), 0))
        grid, inverse = np.unique(day, return_inverse=True)
        if grid.size > max_bins or grid.size > 3 * max(1, day.size // max(1, len(self.keys))):
            edges = np.linspace(day.min(), day.max() + 1e-9, min(max_bins, 120) + 1)
            inverse = np.clip(np.searchsorted(edges, day, side="right") - 1, 0, len(edges) - 2)
            grid = 0.5 * (edges[:-1] + edges[1:])
        order = np.argsort(inverse, kind="stable")
        groups = np.split(values[order], np.flatnonzero(np.diff(inverse[order])) + 1)
        used = np.unique(inverse)
        enough = np.array([g.size >= min_patients for g in groups], dtype=bool)
        if not enough.any():
            return np.array([]), np.empty((len(percentiles), 0))
        out = np.array([np.percentile(g, percentiles) for g, ok in zip(groups, enough, strict=True) if ok]).T
        return grid[used][enough], out


class TrajectoryIndex:
    """Per-arm :class:`ArmTrajectories`, built lazily once per report."""

    def __init__(self, run):
        self._run = run
        self._cache: dict = {}

    def arm(self, arm: str) -> ArmTrajectories | None:
        """The arm's trajectories, or None when the run stored none for this arm."""
        if arm not in self._cache:
            self._cache[arm] = self._build(arm)
        return self._cache[arm]

    def _build(self, arm: str) -> ArmTrajectories | None:
        traj = self._run.trajectories
        if not traj or "day" not in traj or "patient" not in traj or "arm" not in traj:
            return None
        mask = np.asarray(traj["arm"]) == arm
        if not mask.any():
            return None
        cols = {k: np.asarray(v)[mask] for k, v in traj.items() if len(np.asarray(v)) == len(mask)}
        p = ok_patients(self._run.patients, arm)
        patient = np.asarray(p.get("patient", np.arange(len(p.get("arm", [])))), dtype=np.int64)
        stride = int(max(patient.max(initial=0), np.asarray(cols["patient"], dtype=np.int64).max(initial=0))) + 1
        ok_keys = np.asarray(p.get("replicate", np.zeros(len(patient))), dtype=np.int64) * stride + patient
        # os_days is the day of death, or of censoring at the end of follow-up: where observation ends
        arm_traj = ArmTrajectories(cols, ok_keys, stride, column(p, "os_days") if p else None)
        return arm_traj if len(arm_traj) else None


class ReportContext:
    """What every figure builder needs: the run, arm order and colours, rules and trajectories.

    Example:
        >>> ctx = ReportContext(run)  # doctest: +SKIP
        >>> ctx.rule("lloq_cells_uL")  # doctest: +SKIP
        1.0
    """

    def __init__(self, run):
        from .style import arm_colours

        self.run = run
        self.arms = list(run.arm_names())
        self.colours = arm_colours(self.arms)
        self.trajectories = TrajectoryIndex(run)
        self.summary = run.summary if isinstance(run.summary, dict) else {}
        self.meta = run.meta if isinstance(run.meta, dict) else {}
        rules = self.meta.get("endpoint_rules")
        self.rules = rules if isinstance(rules, dict) else {}

    def rule(self, name: str) -> float | None:
        """A positive finite endpoint-rule value, or None."""
        try:
            v = float(self.rules.get(name))
        except (TypeError, ValueError):
            return None
        return v if np.isfinite(v) and v > 0 else None

    @property
    def currency(self) -> str:
        return str(self.rules.get("currency", "USD") or "USD")

    def follow_up(self) -> float:
        """Follow-up in days (meta, else the longest OS time, else 365)."""
        try:
            v = float(self.meta.get("follow_up_days"))
            if np.isfinite(v) and v > 0:
                return v
        except (TypeError, ValueError):
            pass
        os_days = column(self.run.patients, "os_days") if self.run.patients else np.array([])
        os_days = os_days[np.isfinite(os_days)]
        return float(os_days.max()) if os_days.size and os_days.max() > 0 else 365.0

    def no_trajectory_reason(self, arm: str) -> str:
        """Why an arm's trajectory panel is empty."""
        if not len(column(self.patients(arm), "arm", str)):
            return "no evaluable patients"
        return "no trajectories stored"

    def patients(self, arm: str) -> dict:
        return ok_patients(self.run.patients or {}, arm)

    def doses(self, arm: str) -> dict | None:
        """The arm's rows of the dose log (``run.extra["doses"]``: arm, replicate, patient, day, source,
        multiplier, reason), or None when the run has no usable dose log (runs stored before it existed)."""
        if not hasattr(self, "_dose_log"):
            self._dose_log = dose_log(self.run)
        log = self._dose_log
        if log is None:
            return None
        mask = log["arm"] == arm
        return {k: v[mask] for k, v in log.items()}


#: Columns of the dose log the report reads (``multiplier`` is optional: 1 when absent).
DOSE_LOG_COLUMNS = ("arm", "replicate", "patient", "day", "source", "reason")


def dose_log(run) -> dict | None:
    """The run's dose log as arrays of one length, or None when ``run.extra`` has none or it is malformed."""
    extra = getattr(run, "extra", None)
    log = extra.get("doses") if isinstance(extra, dict) else None
    if not isinstance(log, dict) or any(k not in log for k in DOSE_LOG_COLUMNS):
        return None
    out = {k: np.asarray(log[k]) for k in DOSE_LOG_COLUMNS}
    out["multiplier"] = np.asarray(log.get("multiplier", np.ones(len(out["day"]))))
    if len({v.shape for v in out.values()}) != 1 or out["day"].ndim != 1:
        return None
    out["arm"], out["source"], out["reason"] = (out[k].astype(str) for k in ("arm", "source", "reason"))
    out["day"], out["multiplier"] = _as_float(out["day"]), _as_float(out["multiplier"])
    out["replicate"], out["patient"] = _as_float(out["replicate"]), _as_float(out["patient"])
    return out

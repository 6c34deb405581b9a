"""Patient covariates (weight, age, disease stage, ...) drawn from per-patient streams.

A :class:`Covariate` pairs a name with a distribution: :class:`Normal` (optionally truncated),
:class:`LogNormal`, :class:`Uniform` or :class:`Categorical`. Each patient draws one uniform
number per covariate from its own "covariates" stream and maps it through the inverse CDF;
a truncated normal that falls outside its window is redrawn from the same patient's stream,
after that fixed block, so no patient's values depend on another's.

Values are in the covariate's ``unit``; their effects on parameters live in
:mod:`celltrial.cohorts.effects`.

Example:
    >>> import numpy as np
    >>> weight = Covariate("weight", Normal(70.0, 15.0, low=40.0, high=150.0), unit="kg")
    >>> values, redraws = sample_covariates([weight], seed=1, patients=np.arange(4))
    >>> bool(((values["weight"] >= 40) & (values["weight"] <= 150)).all())
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from scipy.special import ndtri

from ..errors import InputError, did_you_mean
from . import _checks
from .streams import patient_blocks, patient_rng

MIN_TRUNCATED_MASS = 0.01  # with >= 1 % of the mass, 10 000 redraws fail with probability < 1e-43
MAX_TRUNCATION_REDRAWS = 10_000
_HALF_STEP = 2.0**-54  # random() gives k/2**53; adding half a step maps it into the open (0, 1)


@dataclass(frozen=True)
class Normal:
    """Normal(mean, sd) in the covariate's unit, truncated to [low, high] by redrawing."""

    mean: float
    sd: float
    low: float | None = None
    high: float | None = None
    kind: ClassVar[str] = "normal"

    def __post_init__(self):
        object.__setattr__(self, "mean", _checks.real("Normal", "mean", self.mean))
        object.__setattr__(self, "sd", _checks.real("Normal", "sd", self.sd, positive=True))
        object.__setattr__(self, "low", _checks.real("Normal", "low", self.low, optional=True))
        object.__setattr__(self, "high", _checks.real("Normal", "high", self.high, optional=True))
        lo = -math.inf if self.low is None else self.low
        hi = math.inf if self.high is None else self.high
        if not lo < hi:
            raise InputError(f"Normal: `low` ({self.low}) must be below `high` ({self.high})")
        mass = _phi((hi - self.mean) / self.sd) - _phi((lo - self.mean) / self.sd)
        if mass < MIN_TRUNCATED_MASS:
            raise InputError(
                f"Normal(mean={self.mean:g}, sd={self.sd:g}): the window [{lo:g}, {hi:g}] holds only "
                f"{mass:.2%} of the distribution (at least {MIN_TRUNCATED_MASS:.0%} needed); widen the "
                "window or move the mean inside it"
            )

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        return self.mean + self.sd * ndtri(u)

    def inside(self, x: np.ndarray) -> np.ndarray:
        ok = np.ones(x.shape, dtype=bool)
        if self.low is not None:
            ok &= x >= self.low
        if self.high is not None:
            ok &= x <= self.high
        return ok

    @property
    def positive(self) -> bool:
        return self.low is not None and self.low > 0


@dataclass(frozen=True)
class LogNormal:
    """log(value) ~ Normal(log(median), sd_log); median in the covariate's unit."""

    median: float
    sd_log: float
    kind: ClassVar[str] = "lognormal"
    positive: ClassVar[bool] = True

    def __post_init__(self):
        object.__setattr__(self, "median", _checks.real("LogNormal", "median", self.median, positive=True))
        object.__setattr__(self, "sd_log", _checks.real("LogNormal", "sd_log", self.sd_log, positive=True))

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        return self.median * np.exp(self.sd_log * ndtri(u))


@dataclass(frozen=True)
class Uniform:
    """Uniform on [low, high] in the covariate's unit."""

    low: float
    high: float
    kind: ClassVar[str] = "uniform"

    def __post_init__(self):
        object.__setattr__(self, "low", _checks.real("Uniform", "low", self.low))
        object.__setattr__(self, "high", _checks.real("Uniform", "high", self.high))
        if not self.low < self.high:
            raise InputError(f"Uniform: `low` ({self.low:g}) must be below `high` ({self.high:g})")

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * u

    @property
    def positive(self) -> bool:
        return self.low > 0


@dataclass(frozen=True)
class Categorical:
    """Levels with probabilities, e.g. ``{"stage_I": 0.3, "stage_II": 0.7}`` (must sum to 1)."""

    levels: dict
    kind: ClassVar[str] = "categorical"
    positive: ClassVar[bool] = False

    def __post_init__(self):
        if not isinstance(self.levels, dict) or not self.levels:
            raise InputError(
                f"Categorical: `levels` must be a non-empty dict level -> probability, got {self.levels!r}"
            )
        levels = {}
        for level, p in self.levels.items():
            if not isinstance(level, str) or not level:
                raise InputError(f"Categorical: level names must be non-empty strings, got {level!r}")
            levels[level] = _checks.real("Categorical", f"levels[{level!r}]", p)
            if levels[level] < 0:
                raise InputError(f"Categorical: probability of {level!r} is {p}; probabilities must be >= 0")
        total = sum(levels.values())
        if abs(total - 1.0) > 1e-6:
            raise InputError(f"Categorical: probabilities {levels} sum to {total:g}; they must sum to 1")
        object.__setattr__(self, "levels", levels)

    def from_uniform(self, u: np.ndarray) -> np.ndarray:
        cumulative = np.cumsum(list(self.levels.values()))
        index = np.searchsorted(cumulative[:-1] / cumulative[-1], u, side="right")
        return np.array(list(self.levels), dtype=str)[index]


DISTRIBUTIONS = {cls.kind: cls for cls in (Normal, LogNormal, Uniform, Categorical)}


def _phi(z: float) -> float:
    return 0.5 * (1.0 + math.erf(z / math.sqrt(2.0))) if math.isfinite(z) else float(z > 0)


@dataclass(frozen=True)
class Covariate:
    """A patient characteristic drawn from ``distribution``; ``unit`` is for display (e.g. "kg")."""

    name: str
    distribution: Normal | LogNormal | Uniform | Categorical
    unit: str = ""

    def __post_init__(self):
        _checks.identifier("Covariate", "name", self.name)
        if not isinstance(self.distribution, tuple(DISTRIBUTIONS.values())):
            raise InputError(
                f"Covariate {self.name!r}: `distribution` must be one of Normal, LogNormal, Uniform, "
                f"Categorical, got {self.distribution!r}"
            )
        if not isinstance(self.unit, str):
            raise InputError(f"Covariate {self.name!r}: `unit` must be a string, got {self.unit!r}")

    @property
    def categorical(self) -> bool:
        return isinstance(self.distribution, Categorical)

    def to_dict(self) -> dict:
        out = {"distribution": self.distribution.kind, **_fields(self.distribution)}
        return {**out, "unit": self.unit} if self.unit else out

    @classmethod
    def from_dict(cls, name: str, data) -> Covariate:
        """From ``{"distribution": "normal", "mean": 70, "sd": 15, "unit": "kg"}``."""
        owner = f"covariate {name!r}"
        if not isinstance(data, dict) or "distribution" not in data:
            raise InputError(f"{owner}: expected a mapping with a 'distribution' key, got {data!r:.80}")
        data = dict(data)
        kind, unit = data.pop("distribution"), data.pop("unit", "")
        if kind not in DISTRIBUTIONS:
            raise InputError(
                f"{owner}: unknown distribution {kind!r}{did_you_mean(str(kind), DISTRIBUTIONS)}; "
                f"known: {', '.join(DISTRIBUTIONS)}"
            )
        return cls(name, _checks.build(DISTRIBUTIONS[kind], data, owner), unit)


def _fields(obj) -> dict:
    return {k: dict(v) if isinstance(v, dict) else v for k, v in vars(obj).items() if v is not None}


def sample_covariates(covariates, seed: int, patients) -> tuple[dict, dict]:
    """Draw every covariate for every patient: (name -> (n,) values, name -> number of redraws).

    Patient ``p`` uses ``patient_rng(seed, p, "covariates").random(len(covariates))``, one number
    per covariate in declaration order; truncated normals then redraw one number at a time.
    """
    covariates = tuple(covariates)
    patients = np.asarray(patients, dtype=np.int64)
    # Transposed copy: each covariate's column is contiguous, so ufuncs take the same code path
    # whatever the batch size (strided and contiguous loops may differ in the last bit).
    u = patient_blocks(seed, patients, "covariates", len(covariates), "random").T.copy() + _HALF_STEP
    values = {c.name: c.distribution.from_uniform(u[j]) for j, c in enumerate(covariates)}
    redraws = {c.name: 0 for c in covariates}
    bad = np.zeros(patients.size, dtype=bool)
    for c in covariates:
        if isinstance(c.distribution, Normal):
            bad |= ~c.distribution.inside(values[c.name])
    for row in np.flatnonzero(bad):
        _redraw_patient(covariates, values, redraws, seed, int(patients[row]), row)
    return values, redraws


def _redraw_patient(covariates, values, redraws, seed, patient, row) -> None:
    """Redraw this patient's out-of-window truncated normals from its own stream, in order."""
    rng = patient_rng(seed, patient, "covariates")
    rng.random(len(covariates))  # the fixed block already used above
    for c in covariates:
        dist = c.distribution
        if not isinstance(dist, Normal):
            continue
        x = values[c.name][row : row + 1]
        for _ in range(MAX_TRUNCATION_REDRAWS):
            if dist.inside(x)[0]:
                break
            x = dist.from_uniform(rng.random(1) + _HALF_STEP)
            redraws[c.name] += 1
        else:
            raise InputError(
                f"covariate {c.name!r}: patient {patient} drew no value inside "
                f"[{dist.low}, {dist.high}] in {MAX_TRUNCATION_REDRAWS} tries"
            )
        values[c.name][row] = x[0]

"""Calibration targets: published population summaries with their uncertainty and provenance.

Three kinds of target, told apart by ``kind`` in the file:

- ``rate``: ``events`` of ``n`` patients (ZUMA-1 CR 59 of 101), or a ``percent`` of ``n``.
- ``value``: a central ``value`` (e.g. median Cmax, copies/µg) on a ``log`` or ``linear``
  scale, with a ``ci`` (lower, upper, level) or a relative SD ``rel_sd``; or only a ``band``
  (min-max), which is then used for pass/fail and adds nothing to the likelihood.
- ``landmark``: a Kaplan-Meier survival ``percent`` at ``at_day`` (PFS 42% at 15.4 months =
  day 468.7), with a ``ci`` or the number at risk ``n_at_risk``.

Units: proportions are written in percent in the file (``percent``, a rate's or landmark's
``ci`` and ``band``) and are proportions in [0, 1] everywhere in the API (``observed``,
:meth:`RateTarget.band_fraction`, simulated arrays). Values and their bands are in the
published unit (``unit``, free text). Times are days.

Example:
    >>> t = RateTarget(name="cr", quantity="cr_rate", events=59, n=101, source="[R] Locke 2019")
    >>> round(t.observed, 3)
    0.584
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from scipy.stats import norm

from ..errors import InputError, did_you_mean
from ..inputs import MAX_YAML_BYTES, Integer, Number, format_validation, load_yaml, read_text

#: Latest day of a target (ten years, the longest scenario follow-up).
MAX_TARGET_DAY = 3650.0
#: Most patients behind a published rate.
MAX_PATIENTS = 10_000_000
#: Relative SD of a value target: a CV below 0.1% is no published precision, above 1000% carries no information.
MIN_REL_SD, MAX_REL_SD = 1e-3, 10.0
#: Largest magnitude of a published value or band end.
MAX_VALUE = 1e15

_TAGS = ("[R]", "[K]", "[E]", "[X]", "[F]")


def z_of(level: float) -> float:
    """Two-sided standard-normal quantile of a confidence ``level`` (1.96 for 0.95).

    Example:
        >>> round(z_of(0.95), 4)
        1.96
    """
    return float(norm.ppf(0.5 + level / 2.0))


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Band(_Strict):
    """A pass/fail band: the simulated value (or its CI) must overlap [lower, upper]."""

    lower: Number = Field(ge=-MAX_VALUE, le=MAX_VALUE)
    upper: Number = Field(ge=-MAX_VALUE, le=MAX_VALUE)

    @model_validator(mode="after")
    def _ordered(self):
        if not self.lower < self.upper:
            raise ValueError(f"lower ({self.lower:g}) must be below upper ({self.upper:g})")
        return self


class Interval(Band):
    """A confidence interval [lower, upper] at ``level`` in [0.5, 1), e.g. 0.95."""

    level: Number = Field(0.95, ge=0.5, lt=1.0, description="write 0.95 for a 95% CI")


class _Target(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=60)
    quantity: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=60, description="simulator summary key, e.g. "
                                                                                   "cr_rate")
    at_day: Number | None = Field(None, ge=0.0, le=MAX_TARGET_DAY)
    source: str = Field(min_length=3)
    band: Band | None = None
    weight: Number = Field(1.0, ge=0.0, le=1e3)
    note: str | None = None

    @field_validator("source")
    @classmethod
    def _tagged(cls, v):
        if not v.lstrip().startswith(_TAGS):
            raise ValueError("start the source with a provenance tag: [R], [K], [E], [X] or [F] (fitted)")
        return v


def _check_percent(**fields) -> None:
    """Each value given (a number or a Band/Interval) is a percentage in [0, 100]."""
    for name, v in fields.items():
        pairs = [(name, v)] if not isinstance(v, Band) else [(f"{name}.lower", v.lower), (f"{name}.upper", v.upper)]
        bad = [f"{f} = {x:g}" for f, x in pairs if x is not None and not 0.0 <= x <= 100.0]
        if bad:
            raise ValueError(f"{', '.join(bad)}: percentages lie in [0, 100] (write 42 for 42%)")


class _Proportion(_Target):
    """A target whose value is a proportion, written in percent in the file."""

    def band_fraction(self) -> tuple[float, float] | None:
        """The file's band (percent) as proportions, or None."""
        return None if self.band is None else (self.band.lower / 100.0, self.band.upper / 100.0)


class RateTarget(_Proportion):
    """A response or toxicity rate: ``events`` of ``n`` patients, or ``percent`` of ``n``.

    A percent gives a possibly non-integer count ``k = percent/100 * n`` (not rounded, which
    would move the rate by up to 0.5/n); the likelihood accepts non-integer counts.
    """

    kind: Literal["rate"] = "rate"
    n: Integer = Field(gt=0, le=MAX_PATIENTS, description="patients evaluated")
    events: Integer | None = Field(None, ge=0, le=MAX_PATIENTS)
    percent: Number | None = None

    @model_validator(mode="after")
    def _one_count(self):
        if (self.events is None) == (self.percent is None):
            raise ValueError("give exactly one of `events` (count) or `percent` (of n)")
        if self.events is not None and self.events > self.n:
            raise ValueError(f"events ({self.events}) cannot exceed n ({self.n})")
        _check_percent(percent=self.percent, band=self.band)
        return self

    @property
    def k(self) -> float:
        """Number of events (non-integer when derived from a percent)."""
        return float(self.events) if self.events is not None else self.percent / 100.0 * self.n

    @property
    def observed(self) -> float:
        """Observed proportion k/n in [0, 1]."""
        return self.k / self.n


class ValueTarget(_Target):
    """A central value with its uncertainty on a log or linear scale, or only a band.

    The SD on the chosen scale comes from the CI half-width, ``(upper - lower) / 2 / z_level``
    (on the log scale from ``log(upper) - log(lower)``), or from ``rel_sd``: ``rel_sd * |value|``
    on the linear scale and ``sqrt(log(1 + rel_sd**2))`` on the log scale (a log-normal with
    that coefficient of variation).
    """

    kind: Literal["value"] = "value"
    value: Number | None = Field(None, ge=-MAX_VALUE, le=MAX_VALUE)
    unit: str = ""
    scale: Literal["log", "linear"] = "log"
    ci: Interval | None = None
    rel_sd: Number | None = Field(None, ge=MIN_REL_SD, le=MAX_REL_SD)

    @model_validator(mode="after")
    def _uncertainty(self):
        if self.value is None:
            if self.ci is not None or self.rel_sd is not None or self.band is None:
                raise ValueError("without `value`, give only a `band` (pass/fail); to contribute to the "
                                 "likelihood give `value` and one of `ci` or `rel_sd`")
            return self  # a band is compared on the raw scale only, so it may include 0
        if (self.ci is None) == (self.rel_sd is None):
            raise ValueError("give exactly one of `ci` (lower, upper, level) or `rel_sd` with `value`")
        if self.ci is not None and not self.ci.lower <= self.value <= self.ci.upper:
            raise ValueError(f"value ({self.value:g}) must lie inside its ci [{self.ci.lower:g}, {self.ci.upper:g}]")
        if self.scale == "linear" and self.rel_sd is not None and self.value == 0.0:
            raise ValueError("rel_sd needs a non-zero value; give a `ci` instead")
        checks = [("value", self.value)] + ([("ci.lower", self.ci.lower)] if self.ci else [])
        return self._check_positive(*checks)

    def _check_positive(self, *checks):
        for field, x in checks:
            if self.scale == "log" and not x > 0.0:
                raise ValueError(f"{field} must be > 0 on the log scale (got {x:g}); use scale: linear")
        return self

    def to_scale(self, x):
        """``x`` on this target's scale (natural log or unchanged); works on arrays."""
        return np.log(x) if self.scale == "log" else np.asarray(x, dtype=float)

    @property
    def center(self) -> float | None:
        """The central value on the target's scale (None for a band-only target)."""
        return None if self.value is None else float(self.to_scale(self.value))

    @property
    def sd(self) -> float | None:
        """SD of the published value on the target's scale (None for a band-only target)."""
        if self.value is None:
            return None
        if self.ci is not None:
            lo, hi = self.to_scale(self.ci.lower), self.to_scale(self.ci.upper)
            return float(hi - lo) / (2.0 * z_of(self.ci.level))
        if self.scale == "log":
            return math.sqrt(math.log1p(self.rel_sd**2))
        return self.rel_sd * abs(self.value)


class LandmarkTarget(_Proportion):
    """A Kaplan-Meier survival ``percent`` at ``at_day``, with a ``ci`` or ``n_at_risk``.

    The landmark counts as a rate with an effective sample size: from the CI,
    ``n_eff = S(1 - S) / sd**2`` with ``sd = (upper - lower) / 2 / z_level`` (a binomial
    with the published precision); from the number at risk, Peto's ``Var S = S**2 (1 - S) / n(t)``
    gives ``n_eff = n(t) / S``.
    """

    kind: Literal["landmark"] = "landmark"
    at_day: Number = Field(ge=0.0, le=MAX_TARGET_DAY)
    percent: Number = Field(gt=0.0, lt=100.0)
    ci: Interval | None = None
    n_at_risk: Integer | None = Field(None, gt=0, le=MAX_PATIENTS)

    @model_validator(mode="after")
    def _uncertainty(self):
        if (self.ci is None) == (self.n_at_risk is None):
            raise ValueError("give exactly one of `ci` (percent, with level) or `n_at_risk`")
        _check_percent(ci=self.ci, band=self.band)
        if self.ci is not None and not self.ci.lower <= self.percent <= self.ci.upper:
            raise ValueError(f"percent ({self.percent:g}) must lie inside its ci "
                             f"[{self.ci.lower:g}, {self.ci.upper:g}]")
        return self

    @property
    def observed(self) -> float:
        """Observed survival fraction S in (0, 1)."""
        return self.percent / 100.0

    @property
    def n_eff(self) -> float:
        """Effective number of patients carrying the landmark's precision."""
        s = self.observed
        if self.ci is None:
            return self.n_at_risk / s
        sd = (self.ci.upper - self.ci.lower) / 100.0 / (2.0 * z_of(self.ci.level))
        return s * (1.0 - s) / sd**2

    @property
    def k(self) -> float:
        """Effective number surviving, S * n_eff."""
        return self.observed * self.n_eff


Target = Annotated[RateTarget | ValueTarget | LandmarkTarget, Field(discriminator="kind")]
_KINDS = {"rate": RateTarget, "value": ValueTarget, "landmark": LandmarkTarget}


class TargetSet(_Strict):
    """A named set of calibration targets from a file, with its literature sources."""

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=60)
    title: str
    description: str = ""
    sources: list[str] = Field(min_length=1)
    targets: list[Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self):
        names = [t.name for t in self.targets]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"target names must be unique; repeated: {dupes}")
        return self

    def __getitem__(self, name: str):
        for t in self.targets:
            if t.name == name:
                return t
        names = [t.name for t in self.targets]
        raise InputError(f"no target named {name!r}{did_you_mean(name, names)}; targets: {names}")


def load_targets(path: str | Path) -> TargetSet:
    """Read and validate a targets YAML file; InputError naming each bad field and the fix.

    Example:
        >>> load_targets("no-such.yaml")  # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        celltrial.errors.InputError: targets file 'no-such.yaml' not found
    """
    return parse_targets(read_text(path, "targets file", MAX_YAML_BYTES, InputError), where=str(path))


def parse_targets(text: str, where: str = "targets") -> TargetSet:
    """Validate YAML ``text`` as a :class:`TargetSet` (see :func:`load_targets`)."""
    return targets_from(load_yaml(text, where, InputError), where)


def targets_from(data, where: str) -> TargetSet:
    """Validate parsed YAML ``data`` (a mapping) as a :class:`TargetSet`."""
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a mapping of fields (name, title, sources, targets) at the top level")
    try:
        return TargetSet.model_validate(data)
    except ValidationError as exc:
        raise InputError(format_validation(exc, where, "targets file", TargetSet,
                                           tag_hint=f"give `kind`, one of {', '.join(_KINDS)}")) from None

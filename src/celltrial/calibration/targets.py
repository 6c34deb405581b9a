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
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from scipy.stats import norm

from ..errors import InputError, did_you_mean
from ..scenarios.loader import UniqueKeyLoader

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

    lower: float
    upper: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.lower < self.upper:
            raise ValueError(f"lower ({self.lower:g}) must be below upper ({self.upper:g})")
        return self


class Interval(Band):
    """A confidence interval [lower, upper] at ``level`` in (0, 1), e.g. 0.95."""

    level: float = Field(0.95, gt=0.0, lt=1.0, description="write 0.95 for a 95% CI")


class _Target(_Strict):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    quantity: str = Field(pattern=r"^[a-z][a-z0-9_]*$", description="simulator summary key, e.g. cr_rate")
    at_day: float | None = Field(None, ge=0.0)
    source: str = Field(min_length=3)
    band: Band | None = None
    weight: float = Field(1.0, ge=0.0)
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
    n: int = Field(gt=0, description="patients evaluated")
    events: int | None = Field(None, ge=0)
    percent: float | None = None

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
    value: float | None = None
    unit: str = ""
    scale: Literal["log", "linear"] = "log"
    ci: Interval | None = None
    rel_sd: float | None = Field(None, gt=0.0)

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
    at_day: float = Field(ge=0.0)
    percent: float = Field(gt=0.0, lt=100.0)
    ci: Interval | None = None
    n_at_risk: int | None = Field(None, gt=0)

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

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
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
    path = Path(path)
    if not path.is_file():
        raise InputError(f"targets file {str(path)!r} not found")
    return parse_targets(path.read_text(), where=str(path))


def parse_targets(text: str, where: str = "targets") -> TargetSet:
    """Validate YAML ``text`` as a :class:`TargetSet` (see :func:`load_targets`)."""
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise InputError(f"{where}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InputError(f"{where}: expected a mapping of fields (name, title, sources, targets) at the top level")
    try:
        return TargetSet.model_validate(data)
    except ValidationError as exc:
        raise InputError(_format_errors(exc, where)) from None


def _format_errors(err: ValidationError, where: str) -> str:
    lines = [f"{where} is not a valid targets file:"]
    for e in err.errors():
        raw = list(e["loc"])
        path = ".".join(str(x) for x in raw if x not in _KINDS) or "(top level)"
        message = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            allowed = _fields_at(raw[:-1])
            lines.append(f"  - {path}: unknown field{did_you_mean(str(raw[-1]), allowed)}; "
                         f"allowed here: {', '.join(allowed)}")
        elif e["type"] == "missing":
            lines.append(f"  - {path}: missing (required)")
        elif e["type"] == "union_tag_invalid" or e["type"] == "union_tag_not_found":
            lines.append(f"  - {path}: give `kind`, one of {', '.join(_KINDS)}")
        elif isinstance(e.get("input"), (dict, list)):
            lines.append(f"  - {path}: {message}")
        else:
            lines.append(f"  - {path}: {message} (got {e.get('input')!r:.80})")
    return "\n".join(lines)


def _fields_at(loc) -> list:
    """Field names allowed at ``loc`` (a pydantic error location without its last item)."""
    model = TargetSet
    for part in loc:
        if isinstance(part, int) or part == "targets":
            continue  # the member class is named by the union tag that follows the index
        if part in _KINDS:
            model = _KINDS[part]
            continue
        inner = {"band": Band, "ci": Interval}.get(part)
        if inner is None:
            return []
        model = inner
    return list(model.model_fields)

"""Covariate effects: how a patient's covariates scale the typical value of a parameter.

"power" multiplies by ``(cov/reference)**coefficient`` (allometric weight scaling),
"exponential" by ``exp(coefficient*(cov - reference))`` (coefficient per covariate unit), and
"categorical" by ``coefficient[level]`` (levels missing from the dict keep factor 1).

Example:
    >>> import numpy as np
    >>> effect = CovariateEffect("V", "weight", "power", 1.0, reference=70.0)
    >>> effect.factor(np.array([35.0, 140.0])).tolist()
    [0.5, 2.0]
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, did_you_mean
from . import _checks
from .covariates import Covariate

EFFECT_KINDS = ("power", "exponential", "categorical")


@dataclass(frozen=True)
class CovariateEffect:
    """Scale the typical value of ``parameter`` by a function of ``covariate``.

    Args:
        parameter: model parameter name.
        covariate: covariate name.
        kind: "power", "exponential" or "categorical".
        coefficient: exponent ("power"), rate per covariate unit ("exponential"), or dict
            level -> positive factor ("categorical").
        reference: covariate value with factor 1 ("power": positive; "exponential": any);
            for "categorical", optionally the baseline level name (factor 1).
    """

    parameter: str
    covariate: str
    kind: str
    coefficient: float | dict
    reference: float | str | None = None

    def __post_init__(self):
        owner = f"CovariateEffect({self.parameter!r}, {self.covariate!r})"
        _checks.identifier(owner, "parameter", self.parameter)
        _checks.identifier(owner, "covariate", self.covariate)
        if self.kind not in EFFECT_KINDS:
            raise InputError(
                f"{owner}: unknown kind {self.kind!r}{did_you_mean(str(self.kind), EFFECT_KINDS)}; "
                f"use one of {', '.join(EFFECT_KINDS)}"
            )
        if self.kind == "categorical":
            self._check_categorical(owner)
            return
        object.__setattr__(self, "coefficient", _checks.real(owner, "coefficient", self.coefficient))
        positive = self.kind == "power"
        object.__setattr__(
            self, "reference", _checks.real(owner, "reference", self.reference, positive=positive)
        )

    def _check_categorical(self, owner):
        if not isinstance(self.coefficient, dict) or not self.coefficient:
            raise InputError(
                f"{owner}: categorical `coefficient` must be a dict level -> factor, got {self.coefficient!r}"
            )
        factors = {
            str(k): _checks.real(owner, f"coefficient[{k!r}]", v, positive=True)
            for k, v in self.coefficient.items()
        }
        if self.reference is not None and not isinstance(self.reference, str):
            raise InputError(
                f"{owner}: categorical `reference` must be a level name or None, got {self.reference!r}"
            )
        if self.reference is not None and factors.get(self.reference, 1.0) != 1.0:
            raise InputError(
                f"{owner}: reference level {self.reference!r} must have factor 1, "
                f"got {factors[self.reference]}"
            )
        object.__setattr__(self, "coefficient", factors)

    def check_against(self, covariate: Covariate) -> None:
        """InputError when this effect cannot apply to ``covariate``'s distribution."""
        owner = f"CovariateEffect({self.parameter!r}, {self.covariate!r})"
        if (self.kind == "categorical") != covariate.categorical:
            want = "a Categorical covariate" if self.kind == "categorical" else "a numeric covariate"
            raise InputError(
                f"{owner}: kind {self.kind!r} needs {want}, but {covariate.name!r} is "
                f"{covariate.distribution.kind}"
            )
        if self.kind == "power" and not covariate.distribution.positive:
            raise InputError(
                f"{owner}: a power effect needs a positive covariate; give "
                f"{covariate.name!r} a positive lower bound or a LogNormal distribution"
            )
        if self.kind == "categorical":
            levels = covariate.distribution.levels
            names = list(self.coefficient) + ([self.reference] if self.reference is not None else [])
            _checks.check_known(owner, f"level of {covariate.name!r}", names, levels)

    def factor(self, values: np.ndarray) -> np.ndarray:
        """Multiplicative factor on the typical value for each patient's covariate value."""
        if self.kind == "power":
            return np.power(values / self.reference, self.coefficient)
        if self.kind == "exponential":
            return np.exp(self.coefficient * (values - self.reference))
        out = np.ones(values.shape)
        for level, factor in self.coefficient.items():
            out[values == level] = factor
        return out

    def to_dict(self) -> dict:
        out = {"parameter": self.parameter, "covariate": self.covariate, "kind": self.kind}
        coefficient = dict(self.coefficient) if isinstance(self.coefficient, dict) else self.coefficient
        out["coefficient"] = coefficient
        return {**out, "reference": self.reference} if self.reference is not None else out

"""Declarative description of a virtual cohort: typical values, variability, covariates, effects.

For each patient, parameter ``p`` is ``typical_p * prod(covariate effects on p) * exp(eta_p)``
with ``eta ~ N(0, Omega)``; ``Omega = D R D`` where ``D = diag(omega)`` holds the standard
deviations of the log-normal random effects (e.g. omega 0.3 is a coefficient of variation of
about 31 %) and ``R`` the correlations. Parameters in ``fixed`` take the given value for
every patient. Values are in the parameter's declared unit.

Specs validate themselves on construction (and against a model in :meth:`CohortSpec.check`)
and convert to and from plain dicts for YAML scenarios; correlation keys there are written
``"p1,p2"``.

Example:
    >>> spec = CohortSpec.from_dict({
    ...     "variability": {"omega": {"gamma": 0.4, "rho": 0.3}, "correlations": {"gamma,rho": 0.5}},
    ...     "covariates": {"weight": {"distribution": "lognormal", "median": 70, "sd_log": 0.2}},
    ...     "effects": [{"parameter": "gamma", "covariate": "weight", "kind": "power",
    ...                  "coefficient": 0.75, "reference": 70}],
    ... })
    >>> CohortSpec.from_dict(spec.to_dict()) == spec
    True
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import InputError
from . import _checks
from .covariates import Covariate
from .effects import CovariateEffect


@dataclass(frozen=True)
class Variability:
    """Log-normal inter-individual variability.

    Args:
        omega: parameter -> SD of its random effect eta (log scale, dimensionless, > 0).
        correlations: (p1, p2) -> correlation of eta_p1 and eta_p2, in (-1, 1); both names
            must have an omega. Together they must form a positive definite matrix.
    """

    omega: dict = field(default_factory=dict)
    correlations: dict = field(default_factory=dict)

    def __post_init__(self):
        omega = _checks.number_map("Variability", "omega", self.omega, positive=True)
        object.__setattr__(self, "omega", omega)
        object.__setattr__(self, "correlations", self._checked_correlations())
        self.cholesky(tuple(omega))

    def _checked_correlations(self) -> dict:
        if not isinstance(self.correlations, dict):
            raise InputError(
                f"Variability: `correlations` must be a dict (p1, p2) -> rho, got {self.correlations!r}"
            )
        out, seen = {}, set()
        for key, rho in self.correlations.items():
            if not (isinstance(key, tuple) and len(key) == 2 and all(isinstance(k, str) for k in key)):
                raise InputError(f"Variability: correlation key {key!r} must be a pair of parameter names")
            _checks.check_known(f"Variability: correlation {key}", "parameter with an omega", key, self.omega)
            if key[0] == key[1] or frozenset(key) in seen:
                raise InputError(
                    f"Variability: correlation {key} is repeated or pairs a parameter with itself"
                )
            seen.add(frozenset(key))
            rho = _checks.real("Variability", f"correlations[{key}]", rho)
            if not -1.0 < rho < 1.0:
                raise InputError(
                    f"Variability: correlation {key} is {rho}; it must lie strictly inside (-1, 1)"
                )
            out[key] = rho
        return out

    def correlation_matrix(self, names) -> np.ndarray:
        """(k, k) correlations of the random effects of ``names`` (all with an omega)."""
        index = {name: i for i, name in enumerate(names)}
        matrix = np.eye(len(names))
        for (a, b), rho in self.correlations.items():
            matrix[index[a], index[b]] = matrix[index[b], index[a]] = rho
        return matrix

    def cholesky(self, names) -> np.ndarray:
        """Lower-triangular L with L L^T = Omega for ``names``; InputError if not positive definite."""
        corr = self.correlation_matrix(names)
        try:
            np.linalg.cholesky(corr)
        except np.linalg.LinAlgError:
            smallest = float(np.linalg.eigvalsh(corr).min())
            pairs = ", ".join(f"{a}~{b}={rho:g}" for (a, b), rho in self.correlations.items())
            raise InputError(
                f"Variability: the correlations ({pairs}) are not positive definite (smallest eigenvalue "
                f"{smallest:.3g}); they contradict each other - weaken some of them"
            ) from None
        sd = np.array([self.omega[name] for name in names])
        return np.linalg.cholesky(corr * np.outer(sd, sd))

    def to_dict(self) -> dict:
        out = {"omega": dict(self.omega)}
        if self.correlations:
            out["correlations"] = {f"{a},{b}": rho for (a, b), rho in self.correlations.items()}
        return out

    @classmethod
    def from_dict(cls, data) -> Variability:
        """From ``{"omega": {...}, "correlations": {"p1,p2": rho}}`` (tuple keys also accepted)."""
        data = dict(data) if isinstance(data, dict) else data
        if isinstance(data, dict) and isinstance(data.get("correlations"), dict):
            data["correlations"] = {_pair(key): rho for key, rho in data["correlations"].items()}
        return _checks.build(cls, data, "variability")


def _pair(key):
    if isinstance(key, str):
        parts = tuple(part.strip() for part in key.split(","))
        if len(parts) != 2:
            raise InputError(f"variability: correlation key {key!r} must read 'p1,p2'")
        return parts
    return tuple(key) if isinstance(key, list) else key


@dataclass(frozen=True)
class CohortSpec:
    """Everything that defines a virtual cohort except its size and seed.

    Args:
        typical: parameter -> typical value overriding the model default (declared unit).
        variability: random effects, see :class:`Variability`.
        covariates: :class:`Covariate` objects, drawn in this order.
        effects: :class:`CovariateEffect` objects, applied in this order.
        fixed: parameter -> value for every patient (no variability or effects allowed on it).
    """

    typical: dict = field(default_factory=dict)
    variability: Variability = field(default_factory=Variability)
    covariates: tuple = ()
    effects: tuple = ()
    fixed: dict = field(default_factory=dict)

    def __post_init__(self):
        object.__setattr__(self, "typical", _checks.number_map("CohortSpec", "typical", self.typical))
        object.__setattr__(self, "fixed", _checks.number_map("CohortSpec", "fixed", self.fixed))
        if not isinstance(self.variability, Variability):
            raise InputError(f"CohortSpec: `variability` must be a Variability, got {self.variability!r}")
        object.__setattr__(self, "covariates", _tuple_of("covariates", self.covariates, Covariate))
        object.__setattr__(self, "effects", _tuple_of("effects", self.effects, CovariateEffect))
        self._check_covariates()
        self._check_fixed()

    def _check_covariates(self):
        by_name = {}
        for covariate in self.covariates:
            if covariate.name in by_name:
                raise InputError(f"CohortSpec: covariate {covariate.name!r} is declared twice")
            by_name[covariate.name] = covariate
        pairs = set()
        for effect in self.effects:
            owner = f"CohortSpec: effect on {effect.parameter!r}"
            _checks.check_known(owner, "covariate", [effect.covariate], by_name)
            effect.check_against(by_name[effect.covariate])
            if (effect.parameter, effect.covariate) in pairs:
                raise InputError(
                    f"{owner}: covariate {effect.covariate!r} acts on it twice; merge the effects"
                )
            pairs.add((effect.parameter, effect.covariate))

    def _check_fixed(self):
        varied = {
            "typical": set(self.typical),
            "omega": set(self.variability.omega),
            "effects": {e.parameter for e in self.effects},
        }
        for where, names in varied.items():
            clash = sorted(names & set(self.fixed))
            if clash:
                raise InputError(f"CohortSpec: {clash} are fixed and also appear in `{where}`; keep one")

    def check(self, model) -> None:
        """InputError unless every name exists in ``model`` and given values lie within bounds."""
        known = model.parameter_names
        _checks.check_known("CohortSpec.typical", "parameter", self.typical, known)
        _checks.check_known("CohortSpec.fixed", "parameter", self.fixed, known)
        _checks.check_known("CohortSpec.variability.omega", "parameter", self.variability.omega, known)
        _checks.check_known("CohortSpec.effects", "parameter", [e.parameter for e in self.effects], known)
        by_name = {p.name: p for p in model.parameters}
        for where, values in (("typical", self.typical), ("fixed", self.fixed)):
            for name, value in values.items():
                lo, hi = by_name[name].bounds
                if not lo <= value <= hi:
                    raise InputError(
                        f"CohortSpec.{where}: {name} = {value:g} lies outside its declared "
                        f"bounds [{lo:g}, {hi:g}]; change the value or widen the bounds"
                    )

    def to_dict(self) -> dict:
        return {
            "typical": dict(self.typical),
            "variability": self.variability.to_dict(),
            "covariates": {c.name: c.to_dict() for c in self.covariates},
            "effects": [e.to_dict() for e in self.effects],
            "fixed": dict(self.fixed),
        }

    @classmethod
    def from_dict(cls, data) -> CohortSpec:
        """From the plain form of :meth:`to_dict` (every key optional); covariates may also be a
        list of mappings with a "name" key."""
        if not isinstance(data, dict):
            raise InputError(f"cohort spec: expected a mapping, got {type(data).__name__}")
        data = dict(data)
        if "variability" in data:
            data["variability"] = Variability.from_dict(data["variability"])
        if "covariates" in data:
            data["covariates"] = _covariates_from(data["covariates"])
        if "effects" in data:
            effects = data["effects"]
            if not isinstance(effects, (list, tuple)):
                raise InputError(f"cohort spec: `effects` must be a list of mappings, got {effects!r:.80}")
            data["effects"] = [
                _checks.build(CovariateEffect, e, f"effect #{i}") for i, e in enumerate(effects)
            ]
        return _checks.build(cls, data, "cohort spec")


def _covariates_from(data) -> list:
    if isinstance(data, dict):
        return [Covariate.from_dict(name, spec) for name, spec in data.items()]
    if isinstance(data, (list, tuple)):
        out = []
        for item in data:
            if not isinstance(item, dict) or "name" not in item:
                raise InputError(f"cohort spec: covariate entry {item!r:.80} needs a 'name' key")
            rest = {k: v for k, v in item.items() if k != "name"}
            out.append(Covariate.from_dict(item["name"], rest))
        return out
    raise InputError(f"cohort spec: `covariates` must be a mapping name -> distribution, got {data!r:.80}")


def _tuple_of(name: str, items, cls) -> tuple:
    if not isinstance(items, (list, tuple)):
        raise InputError(f"CohortSpec: `{name}` must be a list of {cls.__name__}, got {type(items).__name__}")
    for item in items:
        if not isinstance(item, cls):
            raise InputError(f"CohortSpec: `{name}` must contain {cls.__name__} objects, got {item!r:.80}")
    return tuple(items)

"""Sample a virtual cohort: per-patient parameters from a :class:`CohortSpec`.

Patient ``p`` draws its random effects from ``patient_rng(seed, p, "iiv")`` (a block of one
standard normal per varied parameter, in model declaration order) and its covariates from
``patient_rng(seed, p, "covariates")``; the rest (Cholesky factor of Omega, covariate
effects, exponentials) is vectorised over patients with operations that give each patient
the same bits whatever the batch. Any chunk of a cohort can thus be sampled on its own:
``sample_cohort(..., n=10)`` rows 3..9 equal ``sample_cohort(..., n=7, first_patient=3)``.

Values outside a parameter's declared bounds are never clamped: ``out_of_bounds="error"``
raises, ``"resample"`` redraws the offending random effects from the patient's own stream (only those
when the random effects are uncorrelated: each log-normal is truncated exactly; the whole eta vector
when they are correlated).

Example:
    >>> from celltrial.cohorts import CohortSpec, Variability, sample_cohort
    >>> from celltrial.model.library import cart6
    >>> spec = CohortSpec(variability=Variability({"gamma": 0.3, "rho": 0.2}))
    >>> cohort = sample_cohort(cart6(), spec, n=5, seed=42)
    >>> cohort.params.shape, cohort.patient_ids.tolist()
    ((5, 17), [0, 1, 2, 3, 4])
    >>> chunk = sample_cohort(cart6(), spec, n=2, seed=42, first_patient=3)
    >>> bool((chunk.params == cohort.params[3:]).all())
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError, did_you_mean
from .covariates import sample_covariates
from .spec import CohortSpec
from .streams import check_seed, fast_streams_available, patient_blocks, patient_rng

OUT_OF_BOUNDS = ("error", "resample")
MAX_RESAMPLE = 100  # eta redraws per patient before giving up


@dataclass(frozen=True, eq=False)
class Cohort:
    """A sampled cohort.

    Attributes:
        params: (n, n_params) float64, C-contiguous, columns in ``parameter_names`` order
            (the model's declaration order), each in its declared unit.
        covariates: name -> (n,) array (float64, or str for categorical covariates).
        patient_ids: (n,) int64 trial indices of the rows.
        seed: the trial seed.
        spec: the :class:`CohortSpec` sampled from.
        info: counts of redraws (``resampled_patients``, ``resample_draws``,
            ``covariate_redraws``) and whether the fast stream path was used.
        parameter_names: column names of ``params``.
    """

    params: np.ndarray
    covariates: dict
    patient_ids: np.ndarray
    seed: int
    spec: CohortSpec
    info: dict
    parameter_names: tuple

    def __len__(self) -> int:
        return self.params.shape[0]

    def parameter(self, name: str) -> np.ndarray:
        """The (n,) column of parameter ``name``."""
        if name not in self.parameter_names:
            raise InputError(f"unknown parameter {name!r}{did_you_mean(name, self.parameter_names)}")
        return self.params[:, self.parameter_names.index(name)]

    def to_dict(self) -> dict:
        """Plain Python types only (JSON/YAML-ready); floats round-trip exactly."""
        return {
            "seed": self.seed,
            "patient_ids": self.patient_ids.tolist(),
            "parameter_names": list(self.parameter_names),
            "params": {name: self.params[:, j].tolist() for j, name in enumerate(self.parameter_names)},
            "covariates": {name: values.tolist() for name, values in self.covariates.items()},
            "spec": self.spec.to_dict(),
            "info": dict(self.info),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Cohort:
        names = tuple(data["parameter_names"])
        n = len(data["patient_ids"])
        params = np.empty((n, len(names)))
        for j, name in enumerate(names):
            params[:, j] = data["params"][name]
        covariates = {
            name: np.array(values, dtype=str if values and isinstance(values[0], str) else np.float64)
            for name, values in data["covariates"].items()
        }
        return cls(
            params,
            covariates,
            np.array(data["patient_ids"], dtype=np.int64),
            int(data["seed"]),
            CohortSpec.from_dict(data["spec"]),
            dict(data["info"]),
            names,
        )


@dataclass(frozen=True)
class _Plan:
    """A spec resolved against a model: column indices and arrays ready for vectorised math."""

    typical: np.ndarray  # (n_params,) typical values (defaults, overrides, fixed)
    eta_columns: np.ndarray  # (k,) model columns that carry a random effect
    chol: np.ndarray  # (k, k) lower Cholesky factor of Omega
    effects: tuple  # (column, CovariateEffect) pairs
    lower: np.ndarray
    upper: np.ndarray


def _plan(model, spec: CohortSpec) -> _Plan:
    spec.check(model)
    names = model.parameter_names
    typical = model.default_parameters()
    for name, value in {**spec.typical, **spec.fixed}.items():
        typical[names.index(name)] = value
    # Declaration order, not dict order, so reordering `omega` does not change the draws.
    varied = [name for name in names if name in spec.variability.omega]
    return _Plan(
        typical=typical,
        eta_columns=np.array([names.index(name) for name in varied], dtype=np.intp),
        chol=spec.variability.cholesky(varied),
        effects=tuple((names.index(e.parameter), e) for e in spec.effects),
        lower=np.array([p.bounds[0] for p in model.parameters]),
        upper=np.array([p.bounds[1] for p in model.parameters]),
    )


def _check_arguments(n, first_patient, out_of_bounds) -> None:
    for name, value in (("n", n), ("first_patient", first_patient)):
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < 0:
            raise InputError(f"sample_cohort: `{name}` must be a non-negative integer, got {value!r}")
    if out_of_bounds not in OUT_OF_BOUNDS:
        raise InputError(
            f"sample_cohort: out_of_bounds={out_of_bounds!r} is not one of {OUT_OF_BOUNDS}"
            f"{did_you_mean(str(out_of_bounds), OUT_OF_BOUNDS)}"
        )


def sample_cohort(
    model, spec: CohortSpec, n: int, seed: int, first_patient: int = 0, out_of_bounds: str = "error",
    *, patient_ids=None, eta_block=(),
) -> Cohort:
    """Sample patients ``first_patient .. first_patient + n - 1`` of the cohort ``(spec, seed)``.

    Args:
        model: a :class:`celltrial.model.Model`.
        spec: the :class:`CohortSpec`.
        n: number of patients in this chunk.
        seed: trial seed (non-negative integer).
        first_patient: trial index of the first row; any chunk of a large cohort is
            bit-for-bit identical to the same rows sampled in one go.
        out_of_bounds: "error" (raise InputError naming the parameter) or "resample"
            (redraw the offending patients' random effects, at most 100 times).
        patient_ids: explicit (n,) trial indices instead of ``first_patient ..``.
        eta_block: parameter names that own a draw in the patient's random-effect block, a
            superset of the varied ones. Specs that vary different subsets of these names then
            give a patient the same eta for the parameters they share (paired digital twins).
    """
    _check_arguments(n, first_patient, out_of_bounds)
    seed = check_seed(seed)
    if not isinstance(spec, CohortSpec):
        raise InputError(f"sample_cohort: `spec` must be a CohortSpec, got {type(spec).__name__}")
    plan = _plan(model, spec)
    ids = _ids(n, first_patient, patient_ids)
    covariates, covariate_redraws = sample_covariates(spec.covariates, seed, ids)
    base = _typical_matrix(plan, covariates, n)
    block = _block_positions(model, plan, eta_block)
    z = patient_blocks(seed, ids, "iiv", block[0])[:, block[1]]
    params = _individual(plan, base, z)
    bad = _outside(plan, params)
    draws = np.zeros(n, dtype=np.int64)
    if bad.any():
        if out_of_bounds == "error":
            raise InputError(_bounds_message(model, spec, plan, base, params, bad))
        _resample(model, plan, base, params, bad, draws, seed, ids, block)
    info = {
        "resampled_patients": int((draws > 0).sum()),
        "resample_draws": int(draws.sum()),
        "covariate_redraws": covariate_redraws,
        "fast_streams": fast_streams_available(),
    }
    return Cohort(params, covariates, ids, seed, spec, info, model.parameter_names)


def _ids(n, first_patient, patient_ids) -> np.ndarray:
    if patient_ids is None:
        return np.arange(first_patient, first_patient + n, dtype=np.int64)
    ids = np.asarray(patient_ids)
    if ids.shape != (n,) or not np.issubdtype(ids.dtype, np.integer) or (ids < 0).any():
        raise InputError(f"sample_cohort: patient_ids must be {n} non-negative integers")
    return ids.astype(np.int64)


def _block_positions(model, plan: _Plan, eta_block) -> tuple:
    """(block width, positions of the varied parameters in the block)."""
    if not eta_block:
        return plan.eta_columns.size, np.arange(plan.eta_columns.size)
    names = model.parameter_names
    unknown = sorted(set(eta_block) - set(names))
    varied = [names[j] for j in plan.eta_columns]
    missing = sorted(set(varied) - set(eta_block))
    if unknown or missing:
        raise InputError(f"sample_cohort: eta_block has unknown parameters {unknown} or lacks varied ones {missing}")
    ordered = [name for name in names if name in set(eta_block)]  # declaration order
    return len(ordered), np.array([ordered.index(v) for v in varied], dtype=np.intp)


def _typical_matrix(plan: _Plan, covariates: dict, n: int) -> np.ndarray:
    """(n, n_params) typical values after covariate effects (before random effects)."""
    base = np.tile(plan.typical, (n, 1))
    with np.errstate(over="ignore"):  # overflow becomes inf, caught by the bounds check
        for column, effect in plan.effects:
            base[:, column] *= effect.factor(covariates[effect.covariate])
    return base


def _individual(plan: _Plan, base: np.ndarray, z: np.ndarray) -> np.ndarray:
    """Apply eta = L z to the typical values: value = typical * exp(eta)."""
    params = base.copy()
    k = plan.eta_columns.size
    if k == 0:
        return params
    # Explicit triangular sums instead of z @ L.T: BLAS may block rows differently for
    # different batch sizes, which would change last bits and break chunk invariance.
    eta = np.empty_like(z)
    for j in range(k):
        column = z[:, 0] * plan.chol[j, 0]
        for m in range(1, j + 1):
            column = column + z[:, m] * plan.chol[j, m]
        eta[:, j] = column
    with np.errstate(over="ignore"):
        params[:, plan.eta_columns] = base[:, plan.eta_columns] * np.exp(eta)
    return params


def _outside(plan: _Plan, params: np.ndarray) -> np.ndarray:
    """(n, n_params) mask of values outside bounds or not finite (NaN fails both comparisons)."""
    return ~((params >= plan.lower) & (params <= plan.upper) & np.isfinite(params))


def _resample(model, plan, base, params, bad, draws, seed, ids, block) -> None:
    """Redraw the out-of-bounds random effects of patients, each from its own stream.

    With uncorrelated random effects only the offending ones are redrawn (exact truncation of
    each log-normal, and a patient's other parameters stay the same, which keeps common random
    numbers when a calibration moves one omega); correlated ones are redrawn as a whole vector.
    """
    rows = np.flatnonzero(bad.any(axis=1))
    k = plan.eta_columns.size
    if k == 0:
        raise InputError(
            _give_up_message(model, plan, base, params, rows, ids, "no random effects to redraw")
        )
    rngs = [patient_rng(seed, int(ids[r]), "iiv") for r in rows]
    width, positions = block
    current = np.array([rng.standard_normal(width)[positions] for rng in rngs]).reshape(rows.size, k)
    diagonal = np.array_equal(plan.chol, np.diag(np.diag(plan.chol)))
    for _ in range(MAX_RESAMPLE):
        z = np.empty((rows.size, width))
        for rng, out in zip(rngs, z, strict=True):
            rng.standard_normal(out=out)
        z = z[:, positions]
        if diagonal:  # keep the in-bounds components of each patient's first draw
            offending = _outside(plan, params[rows])[:, plan.eta_columns]
            z = np.where(offending, z, current)
        current = z
        params[rows] = _individual(plan, base[rows], z)
        draws[rows] += 1
        still = _outside(plan, params[rows]).any(axis=1)
        rows, rngs, current = rows[still], [rng for rng, s in zip(rngs, still, strict=True) if s], current[still]
        if rows.size == 0:
            return
    raise InputError(_give_up_message(model, plan, base, params, rows, ids, f"{MAX_RESAMPLE} redraws"))


def _bounds_message(model, spec, plan, base, params, bad) -> str:
    lines = []
    for j in np.flatnonzero(bad.any(axis=0)):
        p = model.parameters[j]
        column = params[:, j]
        omega = spec.variability.omega.get(p.name)
        lines.append(
            f"parameter {p.name!r}: {int(bad[:, j].sum())} of {len(column)} patients fall outside its "
            f"bounds [{p.bounds[0]:g}, {p.bounds[1]:g}] ({_value_range(column)}; "
            f"omega {omega if omega is not None else 'none'})" + _typical_note(plan, base, j)
        )
    return (
        "sample_cohort: " + "; ".join(lines) + ". Reduce omega, widen the declared bounds, or pass "
        'out_of_bounds="resample" to redraw those patients\' random effects (never clamped)'
    )


def _value_range(column: np.ndarray) -> str:
    finite = column[np.isfinite(column)]
    text = f"values seen {finite.min():.4g} to {finite.max():.4g}" if finite.size else "no finite values"
    n_bad = column.size - finite.size
    return text + (f", {n_bad} not finite" if n_bad else "")


def _typical_note(plan, base, j) -> str:
    n_bad = int(_outside(plan, base)[:, j].sum())
    if not n_bad:
        return ""
    return f"; for {n_bad} patients the typical value after covariate effects is already outside"


def _give_up_message(model, plan, base, params, rows, ids, why) -> str:
    columns = np.flatnonzero(_outside(plan, params[rows]).any(axis=0))
    names = [model.parameter_names[j] for j in columns]
    shown = ", ".join(str(int(ids[r])) for r in rows[:5]) + (" ..." if rows.size > 5 else "")
    stuck = int(_outside(plan, base[rows]).any(axis=1).sum())
    return (
        f"sample_cohort: {rows.size} patients (ids {shown}) still have {names} outside the declared "
        f"bounds after {why}; {stuck} of them are outside even without random effects (check the "
        "typical values and covariate effects), otherwise reduce omega or widen the bounds"
    )

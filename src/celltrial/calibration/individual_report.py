"""Results and diagnostics of an individual fit, and simulated data sets.

- :class:`PatientFit`, :class:`IndividualFit`: MAP estimates, standard errors (Gauss-Newton
  Hessian, delta method), correlations, eta shrinkage, and identifiability warnings
  (:class:`IdentifiabilityWarning`: posterior SD >= 0.9 x prior SD, or |correlation| > 0.95);
- :func:`observation_table`: observed vs predicted per observation (TIME, DV, IPRED, PRED, IWRES, BLQ);
- :func:`parameter_table`: MAP value, standard error and shrinkage per patient and parameter;
- :func:`render_table`: plain-text rendering of either table; :func:`summary_dict`: JSON-ready summary;
- :func:`vpc`: prediction bands (5/50/95 %) of the population with the prior, plus the observed points;
- :func:`simulate_dataset`: virtual patients with known or sampled random effects, residual error and
  censoring at an LLOQ, as :class:`~celltrial.calibration.nonmem.PatientData` (optionally written to CSV).

The fit itself is :func:`celltrial.calibration.individual.fit_individuals`; the functions here take its
:class:`~celltrial.calibration.individual.PopulationModel` and results and never re-fit.

Example:
    >>> print(render_table([{"ID": "1", "TIME": 7.0, "DV": 2400.0}]))
    ID  TIME    DV
     1     7  2400
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..errors import InputError, SolverError
from .nonmem import PatientData, write_nonmem

if TYPE_CHECKING:  # individual imports this module for its result types
    from .individual import PopulationModel


class IdentifiabilityWarning(UserWarning):
    """A fitted parameter is barely informed by a patient's data (its estimate is the prior's)."""


@dataclass(frozen=True)
class PatientFit:
    """MAP estimate of one patient.

    Attributes:
        id: patient ID; eta: (p,) MAP random effects (log scale); values: name -> MAP value (parameter unit);
        se_eta: (p,) posterior SDs of eta; se: name -> standard error on the parameter scale (delta method);
        corr: (p, p) posterior correlation; objective: negative log posterior at the MAP (nats);
        converged, iterations: optimiser outcome; warnings: identifiability and convergence messages;
        ipred, pred: (n_obs,) individual (MAP) and population (eta = 0) predictions.
    """

    id: str
    eta: np.ndarray
    values: dict
    se_eta: np.ndarray
    se: dict
    corr: np.ndarray
    objective: float
    converged: bool
    iterations: int
    warnings: tuple
    ipred: np.ndarray
    pred: np.ndarray


@dataclass(frozen=True)
class IndividualFit:
    """MAP fits of all patients with the population shrinkage of each random effect.

    Attributes:
        population: the prior (presets, fitted names, omegas); sigma: residual SD (log scale);
        sigma_estimated: whether sigma was estimated; patients: one :class:`PatientFit` per record;
        records: the data; shrinkage: name -> 1 - SD(MAP etas)/omega (NaN with fewer than 2 patients);
        objective: total negative log posterior (nats); warnings: every patient's warnings.
    """

    population: PopulationModel
    sigma: float
    sigma_estimated: bool
    patients: tuple
    records: tuple
    shrinkage: dict
    objective: float
    warnings: tuple

    @property
    def names(self) -> tuple:
        return self.population.names


def _warnings(pid, names, omega, se_eta, corr, converged, objective):
    """Why a patient's estimates should not be trusted, one message each (empty when all is well)."""
    if not math.isfinite(objective):
        return (f"patient {pid}: the model could not be solved at the typical parameter values (solver failure); "
                "check this patient's doses and the presets",)
    out = []
    for k, name in enumerate(names):
        if se_eta[k] >= 0.9 * omega[k]:
            out.append(f"patient {pid}: {name} is not identifiable from these data: posterior SD {se_eta[k]:.3g} "
                       f">= 0.9 x prior SD {omega[k]:.3g} (log scale), so the estimate is the prior's; fix it at "
                       "its typical value or add observations that depend on it")
    for j in range(len(names)):
        for k in range(j + 1, len(names)):
            if abs(corr[j, k]) > 0.95:
                out.append(f"patient {pid}: {names[j]} and {names[k]} are not separately identifiable "
                           f"(posterior correlation {corr[j, k]:.2f}); fit one of them only")
    if not converged:
        out.append(f"patient {pid}: the MAP search did not converge; raise FitSettings.max_iter or check the data")
    return tuple(out)


def warning_summary(patients, names) -> str:
    """One line per affected parameter (the per-patient reasons are in PatientFit.warnings)."""
    lines = []
    for name in names:
        ids = [p.id for p in patients if any(f": {name} is not identifiable" in w for w in p.warnings)]
        if ids:
            lines.append(f"{name} is not identifiable from the data of patient(s) {', '.join(ids)} "
                         "(posterior SD >= 0.9 x prior SD)")
    others = sum(1 for p in patients for w in p.warnings if " is not identifiable from these" not in w)
    if others:
        lines.append(f"{others} further warning(s): high posterior correlation or no convergence")
    return "; ".join(lines) + "; details in IndividualFit.warnings"


def patient_fit(pop, rec, eta, obj, hess, logf, logpred, converged, iters) -> PatientFit:
    """Result of one patient from the MAP: covariance = inverse Gauss-Newton Hessian of the negative log
    posterior in eta; SE on the parameter scale by the delta method, d theta / d eta = theta.

    ``logf``, ``logpred``: padded (n_max,) log individual and population predictions.
    """
    n = rec.n_obs
    cov = np.linalg.inv(hess)
    se_eta = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    corr = cov / np.outer(se_eta, se_eta)
    values = pop.typical * np.exp(eta)
    return PatientFit(
        id=rec.id, eta=eta.copy(), values=dict(zip(pop.names, values.tolist(), strict=True)), se_eta=se_eta,
        se=dict(zip(pop.names, (values * se_eta).tolist(), strict=True)), corr=corr, objective=float(obj),
        converged=bool(converged), iterations=int(iters),
        warnings=_warnings(rec.id, pop.names, pop.omega, se_eta, corr, converged, float(obj)),
        ipred=np.exp(logf[:n]), pred=np.exp(logpred[:n]),
    )


def shrinkage(pop, etas) -> dict:
    """Eta shrinkage per parameter, 1 - SD(MAP etas across patients) / omega (NaN below 2 patients).

    Near 0: the data determine each patient's value; near 1: the estimates collapse to the typical value.
    """
    if etas.shape[0] < 2:
        return {name: math.nan for name in pop.names}
    return dict(zip(pop.names, (1.0 - etas.std(axis=0, ddof=1) / np.asarray(pop.omega)).tolist(), strict=True))


def observation_table(fit: IndividualFit) -> list:
    """One row per observation: ID, TIME (days), OBS, DV, LLOQ, BLQ, IPRED, PRED, IWRES.

    IPRED is the MAP prediction, PRED the population (eta = 0) prediction, both in the unit of
    DV; IWRES = (log DV - log IPRED) / sigma (NaN for below-limit rows, whose DV is unknown).
    """
    rows = []
    for rec, p in zip(fit.records, fit.patients, strict=True):
        for k in range(rec.n_obs):
            dv, blq = float(rec.values[k]), bool(rec.blq[k])
            iwres = math.nan if blq else math.log(dv / p.ipred[k]) / fit.sigma
            rows.append({"ID": rec.id, "TIME": float(rec.times[k]), "OBS": rec.observables[k], "DV": dv,
                         "LLOQ": float(rec.lloq[k]), "BLQ": int(blq), "IPRED": float(p.ipred[k]),
                         "PRED": float(p.pred[k]), "IWRES": iwres})
    return rows


def parameter_table(fit: IndividualFit) -> list:
    """One row per patient and parameter: MAP VALUE, SE, RSE_PCT, ETA, SE_ETA, OMEGA, SHRINKAGE."""
    rows = []
    for p in fit.patients:
        for k, name in enumerate(fit.names):
            value, se = p.values[name], p.se[name]
            rows.append({"ID": p.id, "PARAMETER": name, "VALUE": value, "SE": se, "RSE_PCT": 100.0 * se / value,
                         "ETA": float(p.eta[k]), "SE_ETA": float(p.se_eta[k]),
                         "OMEGA": fit.population.omega[k], "SHRINKAGE": fit.shrinkage[name]})
    return rows


def _cell(value) -> str:
    if isinstance(value, float):
        return "." if math.isnan(value) else f"{value:.4g}"
    return str(value)


def render_table(rows, columns=None) -> str:
    """Right-aligned plain-text table of dict rows (floats to 4 significant digits, NaN as '.')."""
    rows = list(rows)
    if not rows:
        return "(no rows)"
    columns = list(columns or rows[0])
    cells = [[_cell(r.get(c, "")) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[j]) for row in cells)) for j, c in enumerate(columns)]
    lines = ["  ".join(c.rjust(w) for c, w in zip(columns, widths, strict=True))]
    lines += ["  ".join(v.rjust(w) for v, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _clean(x):
    return None if isinstance(x, float) and not math.isfinite(x) else x


def summary_dict(fit: IndividualFit, *, observations: bool = False) -> dict:
    """A JSON-serialisable summary: settings, per-patient estimates with SEs, shrinkage, warnings.

    ``observations=True`` adds the :func:`observation_table` rows. Non-finite numbers become None.
    """
    pop = fit.population
    out = {
        "disease": pop.disease.name, "product": pop.product.name, "fitted": list(fit.names),
        "typical": dict(zip(fit.names, pop.typical.tolist(), strict=True)),
        "omega": dict(zip(fit.names, pop.omega, strict=True)),
        "sigma": fit.sigma, "sigma_estimated": fit.sigma_estimated, "objective": fit.objective,
        "shrinkage": {k: _clean(v) for k, v in fit.shrinkage.items()},
        "patients": [{"id": p.id, "values": p.values, "se": p.se, "eta": p.eta.tolist(),
                      "se_eta": p.se_eta.tolist(), "corr": p.corr.tolist(), "objective": p.objective,
                      "converged": p.converged, "iterations": p.iterations, "warnings": list(p.warnings)}
                     for p in fit.patients],
        "warnings": list(fit.warnings),
    }
    if observations:
        out["observations"] = [{k: _clean(v) for k, v in row.items()} for row in observation_table(fit)]
    return out


@dataclass(frozen=True)
class VpcData:
    """Visual predictive check of one observable.

    Attributes:
        observable: the observable; times: (n_t,) days; bands: (3, n_t) 5 %, 50 % and 95 % quantiles of
        simulated observations (with residual error, before censoring); lloq: limit used for censoring
        or NaN; obs_times, obs_values, obs_blq: the observed points (values NaN where below the limit).
    """

    observable: str
    times: np.ndarray
    bands: np.ndarray
    lloq: float
    obs_times: np.ndarray
    obs_values: np.ndarray
    obs_blq: np.ndarray


def vpc(population: PopulationModel, records, *, observable: str, rng: np.random.Generator, sigma: float = 0.5,
        n_rep: int = 200, rtol: float = 1e-6) -> VpcData:
    """Prediction bands of the population with the prior, simulated on the design (doses, times) of ``records``.

    Each of ``n_rep`` replicates re-simulates every record's dosing with etas drawn from the prior
    and adds residual error; bands pool all replicates at each observation time.
    """
    records = [r for r in records if observable in r.observables]
    if not records:
        raise InputError(f"vpc: no observations of {observable!r} in the data")
    times = np.unique(np.concatenate([r.times[np.array(r.observables) == observable] for r in records]))
    n = n_rep * len(records)
    eta = rng.standard_normal((n, len(population.names))) * np.asarray(population.omega)
    events = [population.events(r) for r in records] * n_rep
    f = population.simulate(eta, events, times, [observable], rtol=rtol)[observable]
    y = f * np.exp(sigma * rng.standard_normal(f.shape))
    bands = np.nanquantile(np.where(f > 0, y, np.nan), [0.05, 0.5, 0.95], axis=0)
    pick = [np.array(r.observables) == observable for r in records]
    lloqs = np.concatenate([r.lloq[m] for r, m in zip(records, pick, strict=True)])
    return VpcData(observable, times, bands, float(np.nanmin(lloqs)) if np.isfinite(lloqs).any() else math.nan,
                   np.concatenate([r.times[m] for r, m in zip(records, pick, strict=True)]),
                   np.concatenate([r.values[m] for r, m in zip(records, pick, strict=True)]),
                   np.concatenate([r.blq[m] for r, m in zip(records, pick, strict=True)]))


def simulate_dataset(population: PopulationModel, times, *, observable: str = "car_copies", eta=None,
                     n_patients: int | None = None, rng: np.random.Generator | None = None, sigma: float = 0.5,
                     lloq: float | None = None, doses=None, path=None, rtol: float = 1e-8) -> list:
    """Virtual patients' observations with residual error and censoring, in the NONMEM layout.

    Args:
        population: prior and presets (see :meth:`PopulationModel.from_presets`).
        times: observation days (same for every patient).
        eta: (n, p) random effects; if None, ``n_patients`` are drawn from N(0, omega^2) with ``rng``.
        sigma: residual SD on log scale (0 = no noise); lloq: values below it are censored (BLQ).
        doses: ((day, CAR+ cells), ...) for every patient; default the preset dose on day 0.
        path: also write the CSV here.

    Example:
        >>> from celltrial.calibration.individual import PopulationModel
        >>> pop = PopulationModel.from_presets("b-all", "tisa-cel-like", ["d_EFF"])
        >>> recs = simulate_dataset(pop, [7, 14, 28], n_patients=3, rng=np.random.default_rng(1), lloq=50.0)
        >>> len(recs), recs[0].observables, recs[0].doses   # the preset dose (3.1e6/kg x 30 kg) on day 0
        (3, ('car_copies', 'car_copies', 'car_copies'), ((0.0, 93000000.0),))
    """
    times = np.asarray(times, dtype=np.float64)
    if eta is None:
        if rng is None or not n_patients:
            raise InputError("simulate_dataset: give eta, or n_patients and rng to draw them from the prior")
        eta = rng.standard_normal((n_patients, len(population.names))) * np.asarray(population.omega)
    eta = np.atleast_2d(np.asarray(eta, dtype=np.float64))
    if sigma > 0 and rng is None:
        raise InputError("simulate_dataset: residual error (sigma > 0) needs rng=np.random.default_rng(seed)")
    n = eta.shape[0]
    if doses is None:
        doses = ((0.0, population.product.cells_for(population.disease.weight_kg)),)
    template = PatientData("0", [], [], [], [], [], doses=doses)
    res = population.simulate(eta, [population.events(template)] * n, times, [observable], rtol=rtol)
    if not res.ok().all():
        raise SolverError("simulate_dataset: " + "; ".join(res.problems()))
    f = res[observable]
    y = f * np.exp(sigma * rng.standard_normal(f.shape)) if sigma > 0 else f.copy()
    limit = np.full(times.shape, math.nan if lloq is None else float(lloq))
    records = []
    for i in range(n):
        blq = y[i] < limit if lloq is not None else np.zeros(times.shape, bool)
        records.append(PatientData(str(i + 1), times, np.where(blq, np.nan, y[i]), [observable] * times.size,
                                   limit, blq, doses=doses))
    if path is not None:
        write_nonmem(path, records)
    return records

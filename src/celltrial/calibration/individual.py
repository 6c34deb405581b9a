"""Individual calibration: maximum a posteriori (MAP) parameters of each patient from time series.

Each patient i has log-normal random effects on a chosen subset of parameters,
``theta_ik = theta_k * exp(eta_ik)`` with ``eta_ik ~ N(0, omega_k^2)``; the typical values
``theta_k`` come from a disease + product preset and ``omega_k`` (log-scale SD) from the
presets' ``variability`` or are given. Observations follow a proportional error model,
``log DV = log f(t; theta_i) + eps``, ``eps ~ N(0, sigma^2)``; an observation below the limit
of quantification contributes ``log Phi((log LLOQ - log f) / sigma)`` (Beal's M3 method).

The negative log posterior of every patient is minimised by a batched Levenberg-Marquardt
(Gauss-Newton) iteration: each iteration simulates all patients still improving and their
finite-difference perturbations in one :func:`celltrial.solve.simulate` call. Standard errors
come from the Gauss-Newton Hessian at the MAP (delta method to the parameter scale). The result
types, identifiability warnings and diagnostics live in :mod:`.individual_report`.

Why not scipy.optimize per patient: patients are independent given the prior, so one damped
Gauss-Newton step for all of them costs one batched solve of n_patients x (1 + n_fitted) rows;
scipy is used for the one-dimensional residual-SD update only.

Example (the first call compiles the standard model: minutes on a cold cache):
    >>> fit = fit_individuals("tests/calibration/data/two_patients.csv", "b-all", "tisa-cel-like",
    ...                       ["f_engraft", "d_EFF"], sigma=0.5)
    >>> [p.id for p in fit.patients], round(fit.patients[0].values["d_EFF"], 2)   # 1/day
    (['101', '102'], 0.48)
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_ndtr

from ..errors import InputError, did_you_mean
from ..presets import Disease, Product, combined_parameters, load_disease, load_product
from ..protocols.doses import anti_pd1
from ..solve import simulate
from .individual_report import IdentifiabilityWarning, IndividualFit, patient_fit, shrinkage, warning_summary
from .nonmem import PatientData, read_nonmem

LOG2PI = math.log(2.0 * math.pi)
#: Dose record types of the data (see :data:`celltrial.calibration.nonmem.DOSE_RECORDS`) -> solver events.
DRUG_EVENTS = {"anti_pd1": lambda day, mg: anti_pd1([day], mg)}


def proportional_loglik(dv, f, sigma):
    """Log density of log DV under the proportional error model, N(log f, sigma^2).

    Args:
        dv: observed values (> 0); f: model predictions (> 0), same unit; sigma: log-scale SD.

    Example:
        >>> round(float(proportional_loglik(2.0, 2.0, 1.0)), 6)   # -0.5 log(2 pi)
        -0.918939
    """
    z = (np.log(dv) - np.log(f)) / sigma
    return -0.5 * z * z - 0.5 * LOG2PI - np.log(sigma)


def m3_loglik(lloq, f, sigma):
    """Log probability that an observation lies below ``lloq`` (M3 censoring), log Phi((log LLOQ - log f)/sigma).

    Example:
        >>> round(float(m3_loglik(50.0, 50.0, 1.0)), 6)   # log 0.5
        -0.693147
    """
    return log_ndtr((np.log(lloq) - np.log(f)) / sigma)


@dataclass(frozen=True)
class PopulationModel:
    """The prior of the individual fit: preset typical values, fitted parameters and their log-scale SDs.

    Attributes:
        disease, product: the presets (doses and weights come from them where the data give none).
        names: fitted parameter names; omega: (p,) prior SDs of eta (log scale).
        base: typical value of every model parameter (model defaults, then presets, then overrides).
    """

    disease: Disease
    product: Product
    names: tuple
    omega: tuple
    base: dict

    @classmethod
    def from_presets(cls, disease, product, fit, *, omega=None, overrides=None) -> PopulationModel:
        """Typical values and omegas from presets (names or objects); ``omega`` overrides the variability."""
        from ..biology import standard_model

        d = disease if isinstance(disease, Disease) else load_disease(disease)
        pr = product if isinstance(product, Product) else load_product(product)
        model = standard_model()
        base = dict(zip(model.parameter_names, model.default_parameters().tolist(), strict=True))
        base.update(combined_parameters(d, pr, overrides=overrides))
        names = tuple([fit] if isinstance(fit, str) else fit)
        if not names or len(set(names)) != len(names):
            raise InputError(f"fit: give one or more distinct parameter names, got {list(names)}")
        for n in names:
            if n not in base:
                raise InputError(f"fit: unknown parameter {n!r}{did_you_mean(n, base)}")
            if not base[n] > 0:
                raise InputError(f"fit: {n!r} has typical value {base[n]:g}; log-normal effects need a positive one")
        sds = {**d.variability, **pr.variability, **(omega or {})}
        missing = [n for n in names if n not in sds]
        if missing:
            raise InputError(f"no prior SD (omega) for {missing}: the presets give variability for {sorted(sds)}; "
                             f"pass omega={{{missing[0]!r}: 0.5}} (log-scale SD)")
        if any(not sds[n] > 0 for n in names):
            raise InputError(f"omega must be > 0 for every fitted parameter, got { {n: sds[n] for n in names} }")
        return cls(d, pr, names, tuple(float(sds[n]) for n in names), base)

    @property
    def typical(self) -> np.ndarray:
        return np.array([self.base[n] for n in self.names])

    def eta_bounds(self):
        """(lower, upper) eta arrays keeping every fitted parameter inside its declared bounds."""
        from ..biology import standard_model

        params = {p.name: p for p in standard_model().parameters}
        lo = np.array([params[n].bounds[0] for n in self.names]) * (1 + 1e-9)
        hi = np.array([params[n].bounds[1] for n in self.names]) * (1 - 1e-9)
        with np.errstate(divide="ignore"):
            return np.log(lo / self.typical), np.log(hi / self.typical)

    def events(self, record: PatientData) -> list:
        """The patient's dosing: the product regimen (with lymphodepletion) at each dose in the data."""
        wt = record.covariates.get("WT")
        weight = wt if isinstance(wt, float) and wt > 0 else self.disease.weight_kg
        drugs = [e for t, kind, mg in record.drugs for e in DRUG_EVENTS[kind](t, mg)]
        if not record.doses:  # no dose rows: the preset dose on day 0
            return self.product.regimen(0.0, weight) + drugs
        return [e for t, amount in record.doses for e in self.product.regimen(t, weight, cells=amount)] + drugs

    def simulate(self, eta, events, times, save, *, rtol=1e-8):
        """Simulate rows of eta (m, p) with one event list per row, saving ``save`` at ``times`` (days)."""
        lo, hi = self.eta_bounds()
        values = self.typical * np.exp(np.clip(np.atleast_2d(eta), lo, hi))  # draws from the prior may overshoot
        params = {**self.base, **{n: values[:, k] for k, n in enumerate(self.names)}}
        return simulate(_compiled(), params, n_patients=values.shape[0], t_end=max(float(np.max(times)), 1e-3),
                        patient_events=list(events), save_at=times, save=list(save), rtol=rtol)

    def log_predict(self, eta, obs, rows, *, rtol=1e-8) -> np.ndarray:
        """(m, n_max) log predictions at each row's observations; NaN where the solve failed."""
        res = self.simulate(eta, [obs.events[i] for i in rows], obs.times, obs.quantities, rtol=rtol)
        f = res.values[np.arange(len(rows))[:, None], obs.t_idx[rows], obs.q_idx[rows]]
        f[~res.ok()] = np.nan
        return np.log(np.maximum(f, 1e-300))  # a prediction of exactly 0 (before any dose) stays finite


def _compiled():
    from ..biology import standard_model
    from ..solve import compile

    return compile(standard_model())


@dataclass(frozen=True)
class Observed:
    """Observations of all patients padded to (n_patients, n_max) arrays, and the union of their times."""

    times: np.ndarray
    quantities: tuple
    t_idx: np.ndarray
    q_idx: np.ndarray
    log_y: np.ndarray
    log_lloq: np.ndarray
    cens: np.ndarray
    valid: np.ndarray
    events: tuple


def observed_arrays(pop: PopulationModel, records) -> Observed:
    """Pack records for batched evaluation (padding entries have valid = False)."""
    times = np.unique(np.concatenate([r.times for r in records] + [[0.0]]))
    quantities = tuple(sorted({o for r in records for o in r.observables}))
    n, m = len(records), max(max(r.n_obs for r in records), 1)
    t_idx, q_idx = np.zeros((n, m), int), np.zeros((n, m), int)
    log_y, log_lloq = np.zeros((n, m)), np.zeros((n, m))
    cens, valid = np.zeros((n, m), bool), np.zeros((n, m), bool)
    for i, r in enumerate(records):
        k = r.n_obs
        t_idx[i, :k] = np.searchsorted(times, r.times)
        q_idx[i, :k] = [quantities.index(o) for o in r.observables]
        log_y[i, :k] = np.log(np.where(r.blq, 1.0, r.values))
        log_lloq[i, :k] = np.log(np.where(r.blq, r.lloq, 1.0))
        cens[i, :k], valid[i, :k] = r.blq, True
    return Observed(times, quantities, t_idx, q_idx, log_y, log_lloq, cens, valid,
                    tuple(pop.events(r) for r in records))


def log_likelihood(pop: PopulationModel, obs: Observed, eta, sigma: float, *, row: int = 0,
                   rtol: float = 1e-7) -> np.ndarray:
    """(m,) log likelihood (nats) of record ``row`` of ``obs`` at each of m rows of ``eta`` (-inf where the solve
    failed): proportional error on log DV, M3 censoring below the limit.

    Example (the prior's typical patient, no observations: log likelihood 0):
        >>> pop = PopulationModel.from_presets("b-all", "tisa-cel-like", ["d_EFF"])
        >>> rec = PatientData("1", [], [], [], [], [])
        >>> log_likelihood(pop, observed_arrays(pop, [rec]), np.zeros((1, 1)), 0.5).tolist()
        [0.0]
    """
    eta = np.atleast_2d(np.asarray(eta, dtype=np.float64))
    rows = np.full(eta.shape[0], int(row))
    if not obs.valid[row].any():  # no observations: every eta is equally likely
        return np.zeros(eta.shape[0])
    logf = pop.log_predict(eta, obs, rows, rtol=rtol)
    nll = _terms(logf, obs, rows, sigma)[0]
    return np.where(np.isfinite(nll), -nll, -np.inf)


def _terms(logf, obs, rows, sigma):
    """Negative log likelihood per row (m,), its derivative in log f and Gauss-Newton weights (m, n)."""
    y, l, cens, valid = obs.log_y[rows], obs.log_lloq[rows], obs.cens[rows], obs.valid[rows]
    r = (y - logf) / sigma
    z = (l - logf) / sigma
    log_cdf = log_ndtr(z)
    lam = np.exp(-0.5 * z * z - 0.5 * LOG2PI - log_cdf)  # inverse Mills ratio phi/Phi, stable in the tails
    nll = np.where(cens, -log_cdf, 0.5 * r * r + math.log(sigma) + 0.5 * LOG2PI)
    grad = np.where(cens, lam / sigma, -r / sigma)
    weight = np.where(cens, lam * (z + lam), 1.0) / sigma**2
    return (np.where(valid, nll, 0.0).sum(axis=1), np.where(valid, grad, 0.0), np.where(valid, weight, 0.0))


@dataclass(frozen=True)
class FitSettings:
    """Numerical settings of the MAP fit.

    Attributes:
        max_iter: Levenberg-Marquardt iterations per patient.
        fd_step: forward-difference step in eta (log scale).
        rtol: solver relative tolerance (tighter than the default so differences are smooth).
        tol: converged when a Gauss-Newton step would lower the objective by less than this (nats), or an
            accepted step lowers it by less, or moves eta by less than 1e-4.
    """

    max_iter: int = 60
    fd_step: float = 1e-3
    rtol: float = 1e-7
    tol: float = 1e-5


def _evaluate(pop, obs, eta, rows, sigma, settings):
    """Objective (m,), gradient (m, p), Gauss-Newton Hessian (m, p, p) and log f (m, n) in one batched solve."""
    m, p = eta.shape
    lo, hi = pop.eta_bounds()
    step = np.where(eta + settings.fd_step > hi, -settings.fd_step, settings.fd_step)
    perturbed = (eta[:, None, :] + np.eye(p)[None] * step[:, None, :]).reshape(m * p, p)
    logf_all = pop.log_predict(np.vstack([eta, perturbed]), obs, np.concatenate([rows, np.repeat(rows, p)]),
                               rtol=settings.rtol)
    logf = logf_all[:m]
    jac = (logf_all[m:].reshape(m, p, -1) - logf[:, None, :]) / step[:, :, None]
    nll, g_f, w = _terms(logf, obs, rows, sigma)
    inv_om2 = 1.0 / np.asarray(pop.omega) ** 2
    prior = 0.5 * (eta**2 * inv_om2).sum(1) + np.log(pop.omega).sum() + 0.5 * p * LOG2PI
    jac = np.where(obs.valid[rows][:, None, :], jac, 0.0)
    grad = np.einsum("mpn,mn->mp", jac, g_f) + eta * inv_om2
    hess = np.einsum("mpn,mn,mqn->mpq", jac, w, jac) + np.diag(inv_om2)
    obj = nll + prior
    bad = ~(np.isfinite(obj) & np.isfinite(grad).all(1) & np.isfinite(hess).all((1, 2)))  # a solve failed
    return (np.where(bad, np.inf, obj), np.where(bad[:, None], 0.0, grad),
            np.where(bad[:, None, None], np.diag(inv_om2), hess), logf)


def _lm_step(hess, grad, mu):
    """Levenberg-Marquardt steps (m, p): (H + mu diag H) delta = -g, patient by patient in one solve."""
    damped = hess + mu[:, None, None] * np.einsum("mii->mi", hess)[:, :, None] * np.eye(hess.shape[1])
    return np.linalg.solve(damped, -grad[:, :, None])[:, :, 0]


def _map(pop, obs, sigma, eta, settings):
    """Batched MAP search; returns (eta, objective, hessian, log f, converged, iterations)."""
    n = eta.shape[0]
    lo, hi = pop.eta_bounds()
    obj, grad, hess, logf = _evaluate(pop, obs, eta, np.arange(n), sigma, settings)
    mu, iters = np.full(n, 1e-3), np.zeros(n, int)
    converged, active = np.zeros(n, bool), np.isfinite(obj)
    for _ in range(settings.max_iter):
        a = np.flatnonzero(active)
        # Newton decrement g' H^-1 g / 2: the decrease a full Gauss-Newton step would still bring
        flat = 0.5 * np.einsum("mp,mp->m", grad[a], np.linalg.solve(hess[a], grad[a][:, :, None])[:, :, 0])
        converged[a[flat < settings.tol]], active[a[flat < settings.tol]] = True, False
        a = a[flat >= settings.tol]
        if a.size == 0:
            break
        trial = np.clip(eta[a] + _lm_step(hess[a], grad[a], mu[a]), lo, hi)
        o2, g2, h2, f2 = _evaluate(pop, obs, trial, a, sigma, settings)
        better = o2 <= obj[a]
        small = (obj[a] - o2 < settings.tol) | (np.abs(trial - eta[a]).max(1) < 1e-4)
        take = a[better]
        eta[take], obj[take], grad[take], hess[take], logf[take] = trial[better], o2[better], g2[better], \
            h2[better], f2[better]
        mu[a] = np.where(better, np.maximum(mu[a] / 3.0, 1e-9), mu[a] * 5.0)
        iters[a] += 1
        done = (better & small) | (mu[a] > 1e6)  # mu this large: no direction lowers the objective any more
        converged[a[done]] = True
        active[a[done]] = False
    return eta, obj, hess, logf, converged, iters


def map_estimate(pop: PopulationModel, obs: Observed, sigma: float, settings: FitSettings = FitSettings()):
    """MAP random effects of every record of ``obs``: (eta (n, p), Gauss-Newton Hessian of the negative log
    posterior (n, p, p), converged (n,)); the search starts at the typical values (eta = 0)."""
    eta, _, hess, _, converged, _ = _map(pop, obs, sigma, np.zeros((obs.log_y.shape[0], len(pop.names))), settings)
    return eta, hess, converged


def _estimate_sigma(obs, logf, sigma):
    """Residual SD maximising the likelihood given the predictions (scipy, bounded in [1e-3, 10])."""
    rows = np.arange(logf.shape[0])
    best = minimize_scalar(lambda s: _terms(logf, obs, rows, math.exp(s))[0].sum(),
                           bounds=(math.log(1e-3), math.log(10.0)), method="bounded", options={"xatol": 1e-5})
    return float(math.exp(best.x)) if best.success else sigma


def fit_individuals(data, disease, product, fit, *, omega: dict | None = None, sigma: float = 0.5,
                    estimate_sigma: bool = False, observable: str | None = None, overrides: dict | None = None,
                    settings: FitSettings = FitSettings()) -> IndividualFit:
    """MAP parameters of every patient in ``data`` with the preset population as prior.

    Main arguments:
        data: a NONMEM-style CSV path (see :mod:`celltrial.calibration.nonmem`) or PatientData records.
        disease, product: preset names (or Disease/Product objects), e.g. "b-all", "tisa-cel-like".
        fit: names of the parameters with a random effect, e.g. ["f_engraft", "d_EFF"].

    Other arguments:
        omega: name -> prior log-scale SD, overriding the presets' variability.
        sigma: residual SD on log scale (0.5 is about 50 % CV); the start value if ``estimate_sigma``.
        estimate_sigma: also estimate sigma (alternating with the MAPs; biased low with strong shrinkage;
            the standard errors then ignore sigma's own uncertainty).
        observable: observable of rows without an OBS entry; overrides: typical-value changes.
        settings: :class:`FitSettings`.

    Raises:
        InputError: unknown parameter or preset, missing prior SD, malformed data, sigma <= 0.
    """
    if not sigma > 0:
        raise InputError(f"sigma is the residual SD on log scale and must be > 0, got {sigma}")
    records = tuple(read_nonmem(data, observable=observable) if not _is_records(data) else data)
    if not records:
        raise InputError("no patients to fit")
    pop = PopulationModel.from_presets(disease, product, fit, omega=omega, overrides=overrides)
    obs = observed_arrays(pop, records)
    eta, obj, hess, logf, converged, iters = _map(pop, obs, sigma, np.zeros((len(records), len(pop.names))),
                                                  settings)
    for _ in range(10 if estimate_sigma else 0):  # alternate sigma given the MAPs and the MAPs given sigma
        new = _estimate_sigma(obs, logf, sigma)
        if abs(math.log(new / sigma)) < 1e-3:
            break
        sigma = new
        eta, obj, hess, logf, converged, iters = _map(pop, obs, sigma, eta, settings)
    rows = np.arange(len(records))
    logpred = pop.log_predict(np.zeros_like(eta), obs, rows, rtol=settings.rtol)
    patients = tuple(patient_fit(pop, rec, eta[i], obj[i], hess[i], logf[i], logpred[i], converged[i], iters[i])
                     for i, rec in enumerate(records))
    messages = tuple(w for p in patients for w in p.warnings)
    if messages:
        warnings.warn(warning_summary(patients, pop.names), IdentifiabilityWarning, stacklevel=2)
    return IndividualFit(population=pop, sigma=float(sigma), sigma_estimated=estimate_sigma, patients=patients,
                         records=records, shrinkage=shrinkage(pop, eta), objective=float(obj.sum()),
                         warnings=messages)


def _is_records(data) -> bool:
    return isinstance(data, (list, tuple)) and all(isinstance(r, PatientData) for r in data)


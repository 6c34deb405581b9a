"""Population calibration problem: a base scenario, the values to fit, and a batched simulator.

A fitted value is a typical value (a standard-model parameter set for every patient of the
scenario, on the log scale) or a variability (the log-normal SD omega of a parameter, on the
linear scale). :meth:`PopulationProblem.simulate` runs the scenario's first arm once per
parameter vector with the **same trial seed**, so every candidate treats the same virtual
patients with the same random numbers (common random numbers): the random effects are
``omega * z`` with ``z`` fixed per patient, and the extinction, assay and outcome draws are
the same. The objective is then a smooth function of theta, which the emulator needs.

Example:
    >>> bool(FitParameter("x_neg", "typical", 5.0, 1000.0).to_theta(20.0) == np.log(20.0))
    True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..solve import compile as compile_model
from ..trials.design import TrialPlan
from ..trials.endpoints import patient_endpoints
from ..trials.runner import simulate_chunk
from .summaries import CohortResult, summarise_cohort

KINDS = ("typical", "omega")


@dataclass(frozen=True)
class FitParameter:
    """One value to fit: ``name`` (a model parameter), ``kind`` typical|omega, prior box [low, high].

    The prior is uniform on theta: log(value) for a typical value, omega itself for a variability.
    ``preset`` names the preset whose file records the fitted value (documentation only);
    ``shared_with`` other presets that take the same typical value (a scale shared by diseases).
    """

    name: str
    kind: str
    low: float
    high: float
    preset: str | None = None
    shared_with: tuple = ()

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InputError(f"fit parameter {self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        if not (self.low < self.high) or (self.kind == "typical" and self.low <= 0) or self.low < 0:
            raise InputError(f"fit parameter {self.name}: needs 0 {'<' if self.kind == 'typical' else '<='} "
                             f"low < high, got [{self.low}, {self.high}]")

    @property
    def label(self) -> str:
        return self.name if self.kind == "typical" else f"omega({self.name})"

    def to_theta(self, value: float) -> float:
        return float(np.log(value)) if self.kind == "typical" else float(value)

    def from_theta(self, theta: float) -> float:
        return float(np.exp(theta)) if self.kind == "typical" else float(theta)

    @property
    def bounds(self) -> tuple:
        return self.to_theta(self.low), self.to_theta(self.high)


def apply_values(scenario, parameters, values) -> object:
    """``scenario`` with typical values in ``disease_changes`` and omegas in ``cohort.variability``."""
    typical = dict(scenario.disease_changes)
    omega = dict(scenario.cohort.variability)
    for par, value in zip(parameters, values, strict=True):
        (typical if par.kind == "typical" else omega)[par.name] = float(value)
    cohort = scenario.cohort.model_copy(update={"variability": omega})
    return scenario.model_copy(update={"disease_changes": typical, "cohort": cohort})


def cohort_summary(scenario, wanted) -> tuple:
    """The summaries ``wanted`` of one scenario's simulated cohort: one design point as a mapper runs it
    (on numba's current thread count; a Dask worker runs it on one thread and compiles the model once,
    or loads it from its cache)."""
    plan = TrialPlan(scenario)
    return summarise_cohort(simulate_cohort(scenario, compile_model(plan.model)), wanted)


def simulate_cohort(scenario, compiled=None, *, chunk_size: int = 500, threads=None) -> CohortResult:
    """Simulate the first arm of ``scenario`` (all its patients) and keep the blood trajectories."""
    plan = TrialPlan(scenario)
    compiled = compiled or compile_model(plan.model)
    tables, blood, copies, t = [], [], [], None
    for lo in range(0, plan.rows(), chunk_size):
        rows = np.arange(lo, min(lo + chunk_size, plan.rows()), dtype=np.int64)
        course = simulate_chunk(plan, compiled, 0, rows, threads=threads)
        tables.append(patient_endpoints(course, plan, 0, rows))
        blood.append(course.values["product_uL"])
        copies.append(course.values["car_copies"])
        t = course.t
    patients = {k: np.concatenate([p[k] for p in tables]) for k in tables[0]}
    return CohortResult(patients, t, np.concatenate(blood), np.concatenate(copies))


@dataclass
class PopulationProblem:
    """Fit ``parameters`` of ``scenario`` (its first arm) to summaries named by ``wanted``.

    Args:
        scenario: a validated scenario (cohort size and seed are the simulation's).
        parameters: the :class:`FitParameter` list (theta order).
        wanted: (quantity, at_day) per output, see :mod:`celltrial.calibration.summaries`.
    """

    scenario: object
    parameters: list
    wanted: list
    compiled: object = None
    threads: int | None = None
    #: ``mapper(fn, calls) -> [fn(*args) for args in calls]``: where the design points run (None: here, in
    #: turn; ``DaskExecutor.map``: as Dask tasks). Results do not depend on it.
    mapper: object = None

    def __post_init__(self):
        if not self.parameters:
            raise InputError("a calibration needs at least one parameter to fit")
        names = [p.label for p in self.parameters]
        if len(set(names)) != len(names):
            raise InputError(f"fit parameters are listed twice: {names}")

    @property
    def bounds(self) -> np.ndarray:
        """(k, 2) prior box on theta."""
        return np.array([p.bounds for p in self.parameters], float)

    def values(self, theta) -> list:
        """Natural-scale values of one theta vector."""
        return [p.from_theta(x) for p, x in zip(self.parameters, np.asarray(theta, float), strict=True)]

    def scenario_at(self, theta):
        return apply_values(self.scenario, self.parameters, self.values(theta))

    def cohort(self, theta) -> CohortResult:
        """The simulated cohort at one theta."""
        if self.compiled is None:
            self.compiled = compile_model(TrialPlan(self.scenario).model)
        return simulate_cohort(self.scenario_at(theta), self.compiled, threads=self.threads)

    def simulate(self, thetas) -> tuple:
        """Summaries for a batch: (values (m, n_out), standard errors (m, n_out), n (m, n_out))."""
        thetas = np.atleast_2d(np.asarray(thetas, float))
        if self.mapper is not None:
            rows = self.mapper(cohort_summary, [(self.scenario_at(theta), self.wanted) for theta in thetas])
        else:
            rows = [summarise_cohort(self.cohort(theta), self.wanted) for theta in thetas]
        return tuple(np.array([r[k] for r in rows]) for k in range(3))

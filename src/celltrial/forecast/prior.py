"""The population prior of a forecast: from disease and product presets, or from one arm of a scenario.

By default every parameter the presets give a patient-to-patient spread (``variability`` of the
disease and the product) carries a random effect, because what the data cannot pin down must
still vary in the forecast (the antigen-negative share ``x_neg``, for instance, decides
antigen-escape relapse but leaves no trace in early ctDNA).

Example:
    >>> random_effects("b-all", "tisa-cel-like")[:3]
    ('k_car', 'fit_T', 'susc_nt')
"""

from __future__ import annotations

from dataclasses import dataclass

from ..calibration.individual import PopulationModel
from ..errors import InputError, did_you_mean
from ..presets import load_disease, load_product
from ..scenarios.costs import Costs
from ..scenarios.rules import Endpoints


@dataclass(frozen=True)
class PriorSetting:
    """What a forecast takes from presets or a scenario arm.

    Attributes:
        population: the prior; endpoints: progression and lethal-burden rules; costs: unit costs;
        dose_price: the product price per dose (None: by product kind); notes: what was not carried over.
    """

    population: PopulationModel
    endpoints: Endpoints
    costs: Costs
    dose_price: float | None
    notes: tuple


def random_effects(disease, product) -> tuple:
    """Parameters with a patient-to-patient spread in the presets (disease first, then product), in order."""
    d = load_disease(disease) if isinstance(disease, str) else disease
    pr = load_product(product) if isinstance(product, str) else product
    return tuple(dict.fromkeys([*d.variability, *pr.variability]))


def from_presets(disease: str, product: str, *, fit=None, omega=None, overrides=None) -> PriorSetting:
    """The prior of ``disease`` and ``product`` presets (``fit``: names with a random effect, default all)."""
    names = list(fit) if fit else list(random_effects(disease, product))
    pop = PopulationModel.from_presets(disease, product, names, omega=omega, overrides=overrides)
    return PriorSetting(pop, Endpoints(), Costs(), None, ())


def from_scenario(path, arm: str, *, fit=None, omega=None) -> PriorSetting:
    """The prior of one arm of a scenario: its disease (with ``disease_changes``), product, endpoints and costs."""
    from ..scenarios import load_scenario

    scenario, _ = load_scenario(path)
    names = [a.name for a in scenario.arms]
    if arm not in names:
        raise InputError(f"--arm: no arm named {arm!r} in {path}{did_you_mean(arm, names)}; arms: {names}")
    spec = scenario.arms[names.index(arm)]
    base = from_presets(scenario.disease, spec.product, fit=fit, omega=omega, overrides=dict(scenario.disease_changes))
    notes = []
    if spec.changes.model_dump(exclude_defaults=True):
        notes.append(f"arm {arm}: its product changes {sorted(spec.changes.model_dump(exclude_defaults=True))} are "
                     "not applied to the forecast (the product preset is used)")
    if scenario.cohort.model_dump(exclude_defaults=True, exclude={"patients", "replicates"}):
        notes.append("the scenario's cohort (covariates, effects) is not applied: the prior is the presets' spread")
    return PriorSetting(base.population, scenario.endpoints, scenario.costs, spec.cost_per_dose, tuple(notes))

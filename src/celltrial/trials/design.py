"""From a scenario to arms of virtual patients: parameters, covariates, events and stream ids.

Patient identity is a stream index. In a paired design patient ``i`` of replicate ``r`` has
id ``r*n + i`` in every arm (the same covariates, random effects and extinction draws: a
digital twin); in an independent design arm ``a`` uses ``(r*A + a)*n + i``. Random effects
are drawn for the union of the arms' varied parameters, so twins share the eta of every
parameter both arms vary. A chunk of rows is sampled from those ids alone, so results never
depend on chunking.

Example:
    >>> from celltrial.scenarios import parse_scenario
    >>> s = parse_scenario("name: d\\ntitle: D\\ndisease: lbcl\\ncohort: {patients: 3, design: paired}\\n"
    ...                    "arms: [{name: a, product: axi-cel-like}, {name: b, product: tscm-enriched}]")
    >>> plan = TrialPlan(s)
    >>> plan.patient_ids(1, np.arange(3)).tolist()
    [0, 1, 2]
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..biology import standard_model
from ..cohorts import CohortSpec, Covariate, CovariateEffect, Variability, patient_blocks, sample_cohort
from ..errors import InputError
from ..presets import combined_parameters, load_disease, load_product
from ..presets.schema import Product
from ..protocols.conditioning import mosteller_bsa, resolve
from ..protocols.dosing import DOSE_UNIFORMS, patient_cells, pick_levels
from ..protocols.logistics import MAX_PRODUCTS, UNIFORMS_PER_PRODUCT, AutologousLogistics
from ..protocols.regimens import DoseTable, Regimen, from_schema, to_events
from ..scenarios import Scenario, arm_product
from ..scenarios.limits import DEFAULT_HEIGHT_CM

#: Covariates with a fixed meaning in the trial (anything else acts only through effects).
WEIGHT, BURDEN, LINES, HEIGHT = "weight_kg", "baseline_burden", "prior_lines", "height_cm"


def baseline_burden(cohort) -> np.ndarray:
    """(n,) each patient's tumour cells at day 0 (cells): the baseline_burden covariate, else B0."""
    if BURDEN in cohort.covariates:
        return np.asarray(cohort.covariates[BURDEN], dtype=float)
    return np.asarray(cohort.parameter("B0"), dtype=float)


@dataclass(frozen=True)
class PatientProtocol:
    """Per patient: product cells per full dose (CAR+ cells of T-cell products), body surface area (m2), and
    ``depletion`` (n, 2, 2): [first course, later courses] x [host T cells left, CD4 help left] (0-1)."""

    dose_cells: np.ndarray
    bsa_m2: np.ndarray
    depletion: np.ndarray
    scanned_burden: np.ndarray  # (n,) cells the baseline scan measured (0 below detection)

    def depletion_of(self, i: int) -> tuple:
        """((host T left, CD4 left) of the first course, the same of later courses) of patient ``i``."""
        d = self.depletion[i]
        return (float(d[0, 0]), float(d[0, 1])), (float(d[1, 0]), float(d[1, 1]))


@dataclass(frozen=True)
class Logistics:
    """Per patient: wait (days) before the regimen's day 0, manufacturing failed, and the uniforms
    of later products (re-manufacture), or a zero wait when the arm has no logistics."""

    spec: AutologousLogistics | None
    wait: np.ndarray
    failed: np.ndarray
    uniforms: np.ndarray | None


@dataclass(frozen=True)
class ArmPlan:
    """One arm resolved: its product, cohort spec and fixed events."""

    index: int
    name: str
    product: Product
    spec: CohortSpec
    doses: DoseTable  # the regimen realised over the follow-up

    @property
    def kind(self) -> str:
        return self.product.kind


class TrialPlan:
    """A scenario resolved against the presets and the standard model."""

    def __init__(self, scenario: Scenario, patients: int | None = None, replicates: int | None = None,
                 policies: dict | None = None):
        self.scenario = scenario
        self.policies = dict(policies or {})  # arm name -> Python policy object replacing the scenario's
        self.model = standard_model()
        self.disease = load_disease(scenario.disease)
        self.patients = int(patients or scenario.cohort.patients)
        self.replicates = int(replicates or scenario.cohort.replicates)
        self.arms = [self._arm(i, arm) for i, arm in enumerate(scenario.arms)]
        unknown = sorted(set(self.policies) - {a.name for a in self.arms})
        if unknown:
            raise InputError(f"policies given for unknown arms {unknown}; arms: {[a.name for a in self.arms]}")
        self.eta_block = tuple(sorted({name for a in self.arms for name in a.spec.variability.omega}))

    # -- arms ---------------------------------------------------------------------------------
    def _arm(self, index, arm) -> ArmPlan:
        product = arm_product(arm)
        typical = combined_parameters(self.disease, product, overrides={
            **self.scenario.disease_changes, **arm.changes.parameters})
        omega = {**self.disease.variability, **product.variability, **self.scenario.cohort.variability}
        covariates, effects = self._covariates()
        if BURDEN in {c.name for c in covariates}:
            omega.pop("B0", None)
            typical["B0"] = 1.0  # B0 = 1 cell x (burden / 1 cell): the covariate sets it exactly
        omega = {k: w for k, w in omega.items() if w > 0}
        regimen = Regimen(items=arm.regimen.items) if arm.regimen.items else from_schema(arm.regimen,
                                                                                        product.lymphodepletion)
        table = regimen.realise(self.scenario.follow_up_days)
        spec = CohortSpec(typical=typical, variability=Variability(omega), covariates=covariates, effects=effects)
        return ArmPlan(index, arm.name, product, spec, table)

    def _covariates(self):
        c = self.scenario.cohort
        covariates, effects = [], []
        # height comes last: a covariate's uniform is its position in the patient's stream
        for name, dist in ((WEIGHT, c.weight_kg), (BURDEN, c.baseline_burden), (LINES, c.prior_lines),
                           (HEIGHT, c.height_cm)):
            if dist is not None:
                covariates.append(Covariate.from_dict(name, dist.to_covariate()))
        if c.baseline_burden is not None:
            effects.append(CovariateEffect("B0", BURDEN, "power", 1.0, reference=1.0))
        for e in c.effects:
            effects.append(CovariateEffect(e.parameter, e.covariate, e.kind, e.coefficient, e.reference))
        return covariates, effects

    # -- patients -----------------------------------------------------------------------------
    def inputs_fingerprint(self) -> str:
        """A hash of everything a patient's course depends on besides the scenario text and the seed:
        the model's structure and parameter defaults, the disease and product presets as resolved, and
        each arm's typical values and variability. Two plans with equal fingerprints (and equal
        scenarios) simulate equal patients; ``celltrial run --resume`` refuses to continue a run
        started under another fingerprint (after a preset was refitted, say)."""
        import hashlib

        def text(value) -> str:
            dump = getattr(value, "model_dump_json", None)
            return dump() if callable(dump) else repr(value)

        parts = [self.model.structure_fingerprint(), repr(list(self.model.default_parameters())), text(self.disease)]
        for arm in self.arms:
            parts += [text(arm.product), repr(sorted(arm.spec.typical.items())),
                      repr(sorted(arm.spec.variability.omega.items()))]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def rows(self) -> int:
        """Patients per arm over all replicates."""
        return self.patients * self.replicates

    def patient_ids(self, arm_index: int, rows: np.ndarray) -> np.ndarray:
        """Stream ids of rows ``replicate*patients + patient`` of one arm."""
        rows = np.asarray(rows, dtype=np.int64)
        if self.scenario.cohort.design == "paired":
            return rows
        replicate, patient = np.divmod(rows, self.patients)
        return (replicate * len(self.arms) + arm_index) * self.patients + patient

    def sample(self, arm: ArmPlan, rows: np.ndarray):
        """The cohort (parameters, covariates) of some rows of an arm."""
        ids = self.patient_ids(arm.index, rows)
        return sample_cohort(self.model, arm.spec, len(ids), self.scenario.seed, patient_ids=ids,
                             eta_block=self.eta_block, out_of_bounds=self.scenario.cohort.out_of_bounds)

    def weights(self, cohort) -> np.ndarray:
        if WEIGHT in cohort.covariates:
            return np.asarray(cohort.covariates[WEIGHT], dtype=float)
        return np.full(len(cohort), self.disease.weight_kg)

    def protocol(self, arm: ArmPlan, cohort, weights) -> PatientProtocol:
        """Each patient's cells per dose, body surface area and depth of lymphodepletion."""
        regimen = self.scenario.arms[arm.index].regimen
        heights = cohort.covariates.get(HEIGHT)
        bsa = mosteller_bsa(np.full(len(weights), DEFAULT_HEIGHT_CM) if heights is None else heights, weights)
        first = resolve(regimen.lymphodepletion)
        later = first if regimen.relymphodepletion is None else resolve(regimen.relymphodepletion)
        depletion = np.stack([np.stack(first.remaining(bsa), axis=-1), np.stack(later.remaining(bsa), axis=-1)],
                             axis=1)
        burden = baseline_burden(cohort)
        scanned = np.where(burden >= self.scenario.endpoints.imaging_detection_cells, burden, 0.0)
        return PatientProtocol(self.dose_cells(arm, cohort.patient_ids, weights), bsa, depletion, scanned)

    def dose_cells(self, arm: ArmPlan, ids, weights) -> np.ndarray:
        """Product cells per full dose of each patient: the preset's (or the arm's) dose for the patient's weight,
        or a pooled dose level, delivered spread and CAR+ fraction drawn from the patient's "dose" stream."""
        c = self.scenario.arms[arm.index].changes
        if c.dose_levels is None and c.dose_spread is None and c.car_fraction_spread is None:
            return np.array([arm.product.cells_for(float(w)) for w in weights], dtype=float)
        u = patient_blocks(self.scenario.seed, ids, "dose", DOSE_UNIFORMS, "random")
        n = len(weights)
        levels = [level.dose for level in c.dose_levels] if c.dose_levels else [arm.product.dose]
        level = pick_levels(c.dose_levels, u[:, 0]) if c.dose_levels else np.zeros(n, dtype=np.int64)
        multiple = c.dose_spread.multiples(u[:, 1]) if c.dose_spread else np.ones(n)
        centre = arm.product.car_fraction
        fraction = c.car_fraction_spread.fractions(centre, u[:, 2]) if c.car_fraction_spread else np.full(n, centre)
        return patient_cells(levels, level, weights, multiple, fraction)

    def infusion_plan(self, arm: ArmPlan) -> list:
        """(day, lymphodepletion on that day?, dose multiple) for each infusion of the arm's regimen."""
        ld_days = set(arm.doses.of("lymphodepletion").day.tolist())
        infusions = arm.doses.of("infusion")
        return [(float(day), day in ld_days, float(amount))
                for day, amount in zip(infusions.day.tolist(), infusions.amount.tolist(), strict=True)]

    def logistics(self, arm: ArmPlan, ids) -> Logistics:
        """Per-patient wait before the regimen starts and manufacturing failure (autologous arms with
        ``logistics``; zero wait and no failure otherwise), from each patient's "logistics" stream."""
        spec = self.scenario.arms[arm.index].logistics
        n = len(ids)
        if spec is None:
            return Logistics(None, np.zeros(n), np.zeros(n, bool), None)
        u = patient_blocks(self.scenario.seed, ids, "logistics", MAX_PRODUCTS * UNIFORMS_PER_PRODUCT, "random")
        u = u.reshape(n, MAX_PRODUCTS, UNIFORMS_PER_PRODUCT)
        wait, failed = spec.draw(u[:, 0, :])
        return Logistics(spec, wait, failed, u)

    def patient_events(self, arm: ArmPlan, weights: np.ndarray, logistics: Logistics | None,
                       protocol: PatientProtocol) -> list:
        """Per-patient event lists of the realised regimen (the patient's dose and depth of lymphodepletion from
        ``protocol``), shifted by the patient's manufacturing wait; none at all when manufacturing failed
        (bridging still happens, for the patients whose baseline scan qualifies)."""
        out = []
        for i, w in enumerate(weights):
            table = arm.doses
            if logistics is not None and logistics.spec is not None:
                table = table.shift(float(logistics.wait[i])).before(self.scenario.follow_up_days)
            events = [] if logistics is not None and logistics.failed[i] else to_events(
                table, dose_cells=float(protocol.dose_cells[i]), kind=arm.kind, weight_kg=float(w),
                depletion=protocol.depletion_of(i))
            if logistics is not None and logistics.spec is not None and logistics.spec.bridges(
                    protocol.scanned_burden[i]):
                events = logistics.spec.bridging_events() + events
            out.append(events)
        return out

    def ctdna_draw_days(self, arm_index: int | None = None) -> np.ndarray:
        """ctDNA draw days of an arm: its own schedule, else the scenario's, else ``assessments.ctdna_days``."""
        a = self.scenario.assessments
        own = None if arm_index is None else self.scenario.arms[arm_index].ctdna_schedule
        schedule = own or a.ctdna_schedule
        if schedule is not None:
            return np.asarray(schedule.days(self.scenario.follow_up_days), dtype=float)
        return np.asarray(a.ctdna_days, dtype=float)

    def policy(self, arm_index: int):
        """The arm's policy: a Python override if given, else the scenario's (or None)."""
        return self.policies.get(self.arms[arm_index].name, self.scenario.arms[arm_index].policy)

    def dose_price(self, arm_index: int) -> float:
        """Product price of one dose of an arm (its own, else the costs default for its kind)."""
        s, arm = self.scenario, self.arms[arm_index]
        if s.arms[arm_index].cost_per_dose is not None:
            return float(s.arms[arm_index].cost_per_dose)
        autologous = arm.kind == "t_cell" and not arm.product.allogeneic
        return float(s.costs.autologous_dose if autologous else s.costs.allogeneic_dose)

    def ctdna_assay(self, arm_index: int):
        """The ctDNA assay of an arm (its own, else the scenario's)."""
        return self.scenario.arms[arm_index].ctdna_assay or self.scenario.assessments.ctdna_assay

    @cached_property
    def parameter_changes(self) -> list:
        """Values that differ from the presets (scenario changes), for the report's methods."""
        defaults = dict(zip(self.model.parameter_names, self.model.default_parameters().tolist(), strict=True))
        by_covariate = self.scenario.cohort.baseline_burden is not None
        out = []
        for arm in self.arms:
            preset = combined_parameters(self.disease, load_product(arm.product.name))
            for name, value in arm.spec.typical.items():
                base = preset.get(name, defaults[name])
                if name == "B0" and by_covariate:
                    out.append({"arm": arm.name, "parameter": name, "preset_value": base, "value": None,
                                "reason": "drawn per patient from cohort.baseline_burden"})
                elif value != base:
                    out.append({"arm": arm.name, "parameter": name, "preset_value": base, "value": value,
                                "reason": "scenario change"})
        return out

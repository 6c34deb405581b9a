"""The scenario reference page (``docs/scenarios.md``), generated from the schema classes.

Every field table is read from the pydantic classes (annotation, unit, default, description,
constraints), the rule defaults from :class:`Endpoints` and the output-column table from
:data:`celltrial.trials.columns.COLUMNS`, so the page cannot drift from the code;
``docs/generate.py`` writes it and a test checks it is current.

Example:
    >>> [type_name(sc.Cohort.model_fields[f].annotation) for f in ("weight_kg", "design")]
    ['Distribution | None', '"independent" | "paired"']
    >>> field_rows(sc.Cohort)[0]
    ['`patients`', '`int`', '', '`100`', 'patients per arm (per replicate trial); >= 1; <= 10000000']
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing
from pathlib import Path

import annotated_types as at
from pydantic import BaseModel

from ..inputs import MAX_INT_DIGITS, MAX_YAML_BYTES, MAX_YAML_DEPTH, MAX_YAML_NODES
from ..inputs.messages import unwrap
from ..policies.conditional import Condition, ConditionalSteps, Step
from ..policies.library import BridgeToTransplant, CtDNATrigger, Maintenance, MRDTrigger, RelapseTrigger
from ..policies.safety import SafetyRules
from ..presets.schema import FIELD_PARAMETERS, Dose, Edits
from ..protocols.assays import ClonotypeNGS, MRDSampling, TumourInformedNGS
from ..protocols.conditioning import AGENTS, NAMED, AgentCourse, Conditioning
from ..protocols.dosing import CarFractionSpread, DoseLevel, DoseSpread
from ..protocols.inventory import InventorySpec
from ..protocols.logistics import AutologousLogistics
from ..protocols.monitoring import CtDNAAssay, MRDAssay
from ..protocols.regimens import Cycle, Give, Repeat, Sequence
from ..protocols.schedules import Piece, Schedule
from ..trials.columns import COLUMNS
from . import economics as ec
from . import schema as sc
from . import search
from .costs import Costs
from .limits import MAX_MAGNITUDE, MIN_DOSE_CELLS, MIN_DOSE_PER_KG, SMALLEST, UNIT_LIMITS
from .rules import CompareCriterion, CountCriterion, Endpoints

#: (class, where it appears in a scenario file), in reading order.
SECTIONS = [
    (sc.Scenario, "top level"), (sc.Cohort, "`cohort`"),
    (sc.Distribution, "`cohort.weight_kg`, `cohort.height_cm`, `cohort.baseline_burden`, `cohort.prior_lines`"),
    (sc.Effect, "`cohort.effects`"), (sc.Arm, "`arms`"), (sc.ProductChanges, "`arms.changes`"),
    (Dose, "`arms.changes.dose`"), (DoseLevel, "`arms.changes.dose_levels`"),
    (DoseSpread, "`arms.changes.dose_spread`"), (CarFractionSpread, "`arms.changes.car_fraction_spread`"),
    (Edits, "`arms.changes.edits`"), (sc.Regimen, "`arms.regimen`"),
    (Conditioning, "`arms.regimen.lymphodepletion`, `arms.regimen.relymphodepletion`"),
    (AgentCourse, "`arms.regimen.lymphodepletion.agents`"),
    (sc.Radiotherapy, "`arms.regimen.radiotherapy`"),
    (sc.Drug, "`arms.regimen.anti_pd1`, `arms.regimen.adcc_antibody`"),
    (Give, "`arms.regimen.items`: one administration"), (Repeat, "`arms.regimen.items`: repeat"),
    (Cycle, "`arms.regimen.items`: cycles"), (Sequence, "`arms.regimen.items`: one after another"),
    (SafetyRules, "`arms.safety`"), (AutologousLogistics, "`arms.logistics`"),
    (InventorySpec, "`arms.inventory`"),
    (Maintenance, "`arms.policy` with `kind: maintenance`"),
    (CtDNATrigger, "`arms.policy` with `kind: ctdna_trigger`"),
    (BridgeToTransplant, "`arms.policy` with `kind: bridge_to_transplant`"),
    (RelapseTrigger, "`arms.policy` with `kind: relapse_trigger`"),
    (MRDTrigger, "`arms.policy` with `kind: mrd_trigger`"),
    (MRDAssay, "`arms.policy.assay` (mrd_trigger), `arms.policy.steps.when.mrd_assay` (conditional), "
               "`assessments.mrd.assay`"),
    (ConditionalSteps, "`arms.policy` with `kind: conditional`"), (Step, "`arms.policy.steps` (conditional)"),
    (Condition, "`arms.policy.steps.when` (conditional)"),
    (sc.Assessments, "`assessments`"), (Schedule, "`assessments.ctdna_schedule`"),
    (Piece, "`assessments.ctdna_schedule.pieces`"),
    (CtDNAAssay, "`assessments.ctdna_assay`, `arms.ctdna_assay` with `kind: poisson_draw` (the default)"),
    (TumourInformedNGS, "`assessments.ctdna_assay`, `arms.ctdna_assay` with `kind: tumour_informed_ngs`"),
    (ClonotypeNGS, "`assessments.ctdna_assay`, `arms.ctdna_assay` with `kind: clonotype_ngs`"),
    (MRDSampling, "`assessments.mrd`"),
    (Endpoints, "`endpoints`"), (CountCriterion, "`endpoints.success`"),
    (CompareCriterion, "`endpoints.success`"), (Costs, "`costs`"),
    (ec.Economics, "`economics`"), (ec.Utilities, "`economics.utilities`"),
    (ec.Discounting, "`economics.discounting`"), (ec.Extrapolation, "`economics.extrapolation`"),
    (ec.Upfront, "`economics.payment_models` with `kind: upfront`"),
    (ec.OutcomesBased, "`economics.payment_models` with `kind: outcomes_based`"),
    (ec.PerDose, "`economics.payment_models` with `kind: per_dose`"),
    (ec.Subscription, "`economics.payment_models` with `kind: subscription`"),
    (sc.Simulation, "`simulation`"),
    (search.SearchSpec, "`search` (read by `celltrial optimise` only)"), (search.Variable, "`search.variables`"),
    (search.Objective, "`search.objectives`"), (search.Constraint, "`search.constraints`"),
    (search.Patients, "`search.patients`"), (search.Reevaluation, "`search.reevaluate`"),
]
#: Shipped scenarios shown in full at the end of the page (skipped when the repository is absent).
EXAMPLES = ("quickstart.yaml", "tscm_vs_standard.yaml", "offshelf_long_game.yaml", "relapse_redosing.yaml")
SCENARIOS = Path(__file__).resolve().parents[3] / "scenarios"

INTRO = """\
# Scenario files

*Generated by `python docs/generate.py` from the schema classes in `celltrial.scenarios` and
`celltrial.trials.columns`; do not edit by hand.*

A **scenario** is a YAML file that describes one virtual trial: the disease (a disease preset), who the patients
are (`cohort`: how many, their covariates and between-patient variability), the arms (each a product preset,
changes to it and a regimen), when patients are assessed, how long they are followed, how endpoints are read, what
counts as a successful trial and what things cost. Days count from the first infusion (day 0). Anything left out
takes the default listed below. Unknown fields, presets or parameters, values outside a parameter's bounds and
implausible sizes are errors naming the field, the bad value and what is allowed (with a "did you mean" for
misspellings): nothing is clamped or silently ignored. This is schema version {version} (`schema_version`).

## Running a scenario

```
celltrial run scenarios/quickstart.yaml
celltrial run scenarios/quickstart.yaml --patients 50 --replicates 10 --seed 7
celltrial report latest --html report.html
```

`--patients`, `--replicates` and `--seed` override the file's `cohort.patients`, `cohort.replicates` and `seed`;
`--chunk-size` and `--threads` change memory use and speed, never the results.

## Designs: independent arms or paired digital twins

* `cohort.design: independent` (default): every arm enrols its own virtual patients, as in a randomised trial;
  differences between arms mix the treatment effect with who was enrolled.
* `cohort.design: paired`: the same virtual patients (covariates, random effects, stochastic extinction and GvHD
  draws) receive every arm, as digital twins, so differences between arms are the treatment effect alone. Random
  effects are drawn for the union of the parameters the arms vary: twins share the random effect of every
  parameter both arms vary.

## Replicate trials

`cohort.replicates: R` runs R trials, each with `cohort.patients` new patients per arm. Per-replicate results (for
example the number of complete responses in an 11-patient trial) show the spread a trial of that size could
report; `endpoints.success` is judged in each replicate, and the share of successful replicates is the
probability of success.

## Patient identity and reproducibility

Every virtual patient is a stream index: all its random numbers are spawned from `seed` and that index alone.
With n = `cohort.patients` and A arms, patient i of replicate r has id r*n + i in every arm of a paired design, and
id (r*A + a)*n + i in arm a of an independent design. Patients are sampled and simulated in chunks of
`simulation.chunk_size` from their ids alone, so results do not depend on the chunk size, the number of threads
or the order of the chunks: the same scenario and seed give the same trial.

## Adaptive dosing and monitoring

An arm may carry a `policy` that keeps dosing after its regimen. The policy sees only what a clinic
would see: ctDNA results drawn through `assessments.ctdna_assay` (Poisson sampling of mutant molecules in
the drawn plasma, the limit of detection and false positives follow from it) on the days of
`assessments.ctdna_schedule` (or `assessments.ctdna_days`), each from the patient's own "assay" stream.
Decisions are taken at the first daily check on or after a draw (or maintenance) day and the dose is
given then; caps (`max_doses`, `min_interval_days`) apply to every policy; dead patients are never dosed.
`maintenance` doses every `every_days` (optionally spaced out after `space_out_after` negative draws in a
row); `relapse_trigger` re-doses at the first scan with measurable disease after a remission;
`bridge_to_transplant` doses every `every_days` until a per-patient transplant day; `ctdna_trigger`
re-doses after `consecutive_positive` positive draws in a row or a positive draw
`rise_from_nadir` times the lowest measured level, escalating by `escalate_factor` (up to `max_multiplier`)
while no negative draw has followed the last policy dose. The output columns `policy_doses`,
`first_policy_dose_day`, `molecular_relapse_day` and `ctdna_lead_time_days` record what it did and saw.

**Conditional protocol steps** (`kind: conditional`) write a response-adapted protocol: each step reads, on
its `on_day` (from the regimen's day 0; with autologous logistics it moves with the patient's manufacturing
wait, as the scans do), what the clinic has observed: the response category of the latest scan (the
`endpoints` rule applied to the burdens the scans measured against the baseline scan), the burden that scan
measured, the latest ctDNA call or an MRD sample taken that day. Patients for whom the `when` conditions all
hold get the step's `give` items (regimen items: give / repeat / cycle / sequence, days from the step's day),
the others its `otherwise` items; patients who died, were never infused or progressed (unless the step asks
for PD) get neither. A step's product doses are policy doses (dose log with the step's name and condition,
`policy_doses`, costs; its Flu/Cy is costed too); radiotherapy and drugs are given but, as in the regimen,
not logged or costed. A step due after the follow-up or reading a response before any scan is an error. One
ordinary policy may run alongside (`then`, e.g. a ctDNA trigger after a second cycle): its caps and budget
count the steps' doses. `scenarios/response_adapted.yaml` is an example.

Every draw's call is stored as the clinic would record it (table `assays`: patient, day, detected, measured
value, the assay's 95% LoD; `simulation.store_assays`), and the summary gives each arm's detection rate per
draw day. The ctDNA assay `kind` sets how many sites of each tumour genome are tracked, and so the LoD:
`poisson_draw` (one site, 1.09 hGE/mL), `tumour_informed_ngs` (16 variants, 0.3 MTM/mL, Signatera-like; more
`sites` for CAPP-Seq or PhasED-seq) or `clonotype_ngs` (the lymphoma's Ig clonotypes in plasma). In an arm
with a policy the stored calls are the ones the policy acted on. `assessments.mrd` adds MRD samples (flow
1e-4 or NGS 1e-6 of the cells analysed) on its days; an MRD policy samples on its own days instead.
In Python, any subclass of `celltrial.policies.Policy` with a vectorised `decide(obs, history, record)` can
replace an arm's policy: `run_trial(scenario, policies={{"arm name": MyPolicy(...)}})`.
"""

RULES = """\
## How endpoints are read

**Response (Lugano-like).** At each `assessments.imaging_days` day before death the tumour burden b (all tumour
cells) is compared with the baseline burden (cells at day 0):

* **CR**: no measurable disease, b < `endpoints.imaging_detection_cells` (default {imaging_detection_cells} cells);
* **PD**: measurable and at least (1 + `endpoints.progression_increase`) x the nadir (the lowest of the baseline
  and earlier assessments; default {progression_increase}), or measurable again after a CR;
* **PR**: measurable and at most (1 - `endpoints.partial_response_fraction`) x baseline (default
  {partial_response_fraction});
* **SD**: otherwise.

Assessments stop at the first PD. The best overall response is the best category up to then; **NE** (not
evaluable) when no assessment was done. A *responder* had CR or PR; time to response is the first assessment with
CR or PR. **PFS** ends at the first PD or death, else is censored at the last assessment done. **Duration of
response** (responders only) runs from the first CR or PR to the end of PFS, an event when the response ended by
progression or death. **OS** ends at death, else is censored at `follow_up_days`. Landmark PFS/OS are read at
`endpoints.landmarks_days`; arms are compared with `endpoints.reference_arm` (default: the first arm).

**Death** comes from the tumour, when the burden passes `endpoints.lethal_burden_cells` (default
{lethal_burden_cells} cells) or twice the baseline if that is larger (so a patient entering near the threshold is
not dead on day 0), or from GvHD: GvHD starts when its cumulative hazard passes the patient's own exponential draw
and is fatal with probability `endpoints.gvhd_fatal_fraction` (default {gvhd_fatal_fraction}; death placed at
onset). Deaths after follow-up are not counted, and nothing after death is (no assessments, tests or doses).
**Cure**: every tumour clone extinct (below `simulation.extinction_threshold` cells a clone is an integer
birth-death process, so it can reach zero; one rounded to no cells is gone).

**CRS** is graded ASTCT-like from the model's IL-6 signal: grade g while the signal is above the model parameter
`crs_g<g>`; the patient's grade is that of the peak, onset and duration come from the crossings of the grade-1
threshold. `crs_grade_penn` reads the same peak on the Penn scale (grades 2-4 at `r_penn` times the
thresholds). **Kinetics** are read from product cells in blood (time above `endpoints.lloq_cells_uL`) and, for
T-cell products, CAR transgene copies.

**Success.** Each criterion of `endpoints.success` is judged per replicate trial: a count (the number of patients
of an arm with a CR, a response or CRS grade >= 3 is at least / at most k) or a comparison (log-rank test of PFS
or OS between two arms with p below a level). A replicate is a success when all its criteria hold.

**Costs** per patient: product doses given (`arms.cost_per_dose`, else `costs.autologous_dose` or
`costs.allogeneic_dose`), manufacturing per autologous dose and each lymphodepletion course, hospital days
(`costs.infusion_stay_days` per infusion plus `costs.crs_days_by_grade` for the maximum CRS grade) and monitoring
(imaging and ctDNA tests done while alive).
"""


REGIMENS_TEXT = (
    "`arms.regimen.lymphodepletion` names one of these or writes its own agents. Each agent removes a share of the "
    "reference course's log-kill in proportion to its total dose per m2 received (`celltrial.protocols.conditioning`); "
    "the depth is placed at the infusion day, the nadir, and host T cells and CD4 help then recover by the model's own "
    "rates. `flu_cy_30_500` is the course the model was calibrated at; the others are extrapolations.")


def type_name(annotation) -> str:
    """An annotation as written in the schema: ``float``, ``list[float]``, ``Dose | None``, ``"a" | "b"``."""
    if annotation is type(None):
        return "None"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:  # tagged unions: document the member, not its tag
        return type_name(args[0])
    if origin is typing.Literal:
        return " | ".join(json.dumps(a) for a in args)
    if origin in (typing.Union, types.UnionType):
        return " | ".join(type_name(a) for a in args)
    if origin is not None:
        return f"{origin.__name__}[{', '.join(type_name(a) for a in args)}]"
    return annotation.__name__


def _models(annotation) -> list:
    """The schema classes named in an annotation, in order."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for a in typing.get_args(annotation) for m in _models(a)]


def value_text(value) -> str:
    """A default as it would be written in YAML (``true``, ``[28, 90]``, ``1e9``, ``{t_cell: 7}``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e6:
            return str(int(value))
        return f"{value:g}".replace("e+0", "e").replace("e+", "e").replace("e-0", "e-")
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {value_text(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return json.dumps(value)
    return str(value)


def _default(field) -> str:
    value = None if field.is_required() else field.get_default(call_default_factory=True)
    if value is None or isinstance(value, BaseModel):
        return "required" if field.is_required() else "not set" if value is None else "see below"
    return f"`{value_text(value)}`"


_BOUNDS = ((at.Gt, "gt", ">"), (at.Ge, "ge", ">="), (at.Lt, "lt", "<"), (at.Le, "le", "<="))


def _constraints(field) -> list:
    """Bounds, patterns and lengths of a field in words (``> 0``, ``pattern ...``, ``at least 1 item``)."""
    out, what = [], "character" if field.annotation is str else "item"
    for m in field.metadata:
        out += [f"{sign} {value_text(getattr(m, attr))}" for kind, attr, sign in _BOUNDS if isinstance(m, kind)]
        out += [f"pattern `{m.pattern}`"] if getattr(m, "pattern", None) else []
    lo = next((m.min_length for m in field.metadata if isinstance(m, at.MinLen)), None)
    hi = next((m.max_length for m in field.metadata if isinstance(m, at.MaxLen)), None)
    lengths = [("exactly", lo)] if lo is not None and lo == hi else [("at least", lo), ("at most", hi)]
    return out + [f"{word} {n} {what}{'s' * (n != 1)}" for word, n in lengths if n is not None] + _item_bounds(field)


def _item_bounds(field) -> list:
    """Bounds on each item of a list field or each value of a mapping field (``each >= 0, <= 3650``)."""
    for _, member in unwrap(field.annotation)[0]:
        origin, args = typing.get_origin(member), typing.get_args(member)
        if origin in (list, dict) and args:
            words = [f"{sign} {value_text(getattr(m, attr))}" for m in unwrap(args[-1])[1]
                     for kind, attr, sign in _BOUNDS if isinstance(m, kind)]
            if words:
                return [f"each {'item' if origin is list else 'value'} {', '.join(words)}"]
    return []


def _sets(model, name) -> list:
    """The model parameters a product field sets (from ``FIELD_PARAMETERS``), by product kind."""
    prefix = {Edits: "edits.", sc.ProductChanges: ""}.get(model)
    if prefix is None or name in ("edits", "parameters"):
        return []
    key = prefix + name
    found = [(kind, [p for p, f in fields.items() if f == key or f.startswith(key + ".")])
             for kind, fields in FIELD_PARAMETERS.items()]
    found = ["`" + "`, `".join(ps) + f"` ({kind})" for kind, ps in found if ps]
    return [f"sets model parameters {', '.join(found)}"] if found else []


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def field_rows(model: type[BaseModel]) -> list:
    """One table row per field: field, type, unit, default, description (with constraints and links)."""
    rows = []
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        parts = [field.description or ""] if field.description else []
        parts += _constraints(field) + _sets(model, name)
        text = "; ".join(parts)
        links = [f"[{m.__name__}](#{m.__name__.lower()})" for m in _models(field.annotation)]
        if links:
            text += (" " if text else "") + f"(see {', '.join(links)})"
        rows.append([f"`{name}`", f"`{type_name(field.annotation)}`", extra.get("unit", ""), _default(field), text])
    return [[_cell(c) for c in row] for row in rows]


def _table(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return "\n".join(lines + ["| " + " | ".join(row) + " |" for row in rows])


def _doc(model) -> str:
    text = " ".join(inspect.cleandoc(model.__doc__ or "").split("\n\n")[0].split()).replace("``", "`")
    return re.sub(r":\w+:`", "`", text)


def class_section(model: type[BaseModel], where: str) -> str:
    """``## Class (where)`` with an anchor, the class summary and the field table."""
    summary = f"{_doc(model)}\n\n" if _doc(model) else ""
    name = model.__name__
    return (f'<a id="{name.lower()}"></a>\n\n## {name} ({where})\n\n{summary}'
            + _table(["field", "type", "unit", "default", "description"], field_rows(model)))


def columns_section() -> str:
    """The per-patient output columns table."""
    rows = [[f"`{c.name}`", c.kind, c.unit, _cell(c.description)] for c in COLUMNS.values()]
    return ("## Per-patient output columns\n\nOne row per patient and arm in the results store (`patients` "
            "table); times in days from the first infusion; missing values are NaN (numbers) or \"\" (text).\n\n"
            + _table(["column", "type", "unit", "description"], rows))


def examples_section(folder: Path = SCENARIOS) -> str:
    """The shipped example scenarios in full ("" when the folder is absent, as in an installed package)."""
    found = [folder / name for name in EXAMPLES if (folder / name).is_file()]
    if not found:
        return ""
    blocks = [f"### `scenarios/{p.name}`\n\n```yaml\n{p.read_text().rstrip()}\n```" for p in found]
    return "## Examples\n\n" + "\n\n".join(blocks)


def regimens_section() -> str:
    """The shipped lymphodepleting regimens with their depths, and each agent's share of the reference log-kill."""
    regimens = []
    for name in NAMED:
        r = Conditioning.named(name)
        left, cd4 = r.remaining(1.9)  # no BSA cap in a shipped regimen: the depth is the same for every patient
        regimens.append([f"`{name}`", r.label(), f"{float(left):g}", f"{float(cd4):g}"])
    agents = [[f"`{a}`", f"{e.reference_mg_m2:g}", f"{e.n_share:g}", f"{e.cd4_share:g}", e.source]
              for a, e in AGENTS.items()]
    return ("## Lymphodepleting regimens\n\n" + REGIMENS_TEXT + "\n\n"
            + _table(["name", "regimen", "host T cells left", "CD4 help left"], regimens) + "\n\n"
            + _table(["agent", "reference course (mg/m2)", "share of host T log-kill", "share of CD4 deficit",
                      "source"], agents))


def limits_section() -> str:
    """The plausibility limits by unit and the file limits (from :mod:`.limits` and :mod:`celltrial.inputs`)."""
    rows = [[f"`{unit}`", value_text(lo), value_text(hi), value_text(SMALLEST[unit]) if unit in SMALLEST else ""]
            for unit, (lo, hi) in UNIT_LIMITS.items()]
    return ("## Plausibility limits\n\nBesides the bounds in the tables above, every number of a scenario must lie "
            "within the limits of the unit its field declares (fields without a unit: magnitude at most "
            f"{value_text(MAX_MAGNITUDE)}); a value outside them is an error naming the field and the range. A dose "
            f"is at least {value_text(MIN_DOSE_CELLS)} cells (`cells`, `max_cells`) or "
            f"{value_text(MIN_DOSE_PER_KG)} cells/kg (`per_kg`). True/false (also yes/no, on/off) is never a number. "
            f"A scenario file is at most {MAX_YAML_BYTES:,} bytes of UTF-8 text, nested at most {MAX_YAML_DEPTH} "
            f"levels, with at most {MAX_YAML_NODES:,} keys and values (aliases expanded) and integers of at most "
            f"{MAX_INT_DIGITS} digits.\n\n" + _table(["unit", "lowest", "highest", "smallest non-zero"], rows))


def scenarios_markdown() -> str:
    """The whole reference page: introduction, one table per schema class, rules, columns, examples."""
    rules = Endpoints()
    parts = [INTRO.format(version=sc.SCHEMA_VERSION)]
    parts += [class_section(model, where) for model, where in SECTIONS] + [regimens_section(), limits_section()]
    parts += [RULES.format(**{k: value_text(getattr(rules, k)) for k in Endpoints.model_fields}),
              columns_section(), examples_section()]
    return "\n\n".join(p.rstrip() for p in parts if p) + "\n"

"""The per-patient endpoint table, declared once: column name, type, unit and meaning.

The trial runner fills these columns, the results store creates its ``patients`` table from
them, the report reads them and ``docs/scenarios.md`` lists them. Times are days from the
first infusion (day 0). Missing values are NaN (floats) or "" (strings).

Example:
    >>> COLUMNS["pfs_days"].unit
    'day'
    >>> "cr" in column_names()
    True
"""

from __future__ import annotations

from dataclasses import dataclass

#: Response categories, best first (Lugano-like; NE = not evaluable, no assessment done).
RESPONSES = ("CR", "PR", "SD", "PD", "NE")
#: Causes of death.
DEATH_CAUSES = ("", "tumour", "gvhd")


@dataclass(frozen=True)
class Column:
    """One column of the patients table: ``kind`` is "int", "float", "bool" or "str"."""

    name: str
    kind: str
    unit: str
    description: str


def _c(name, kind, unit, description):
    return Column(name, kind, unit, description)


_COLUMNS = [
    # identity
    _c("arm", "str", "", "arm name"),
    _c("replicate", "int", "", "replicate trial index (0 .. replicates-1)"),
    _c("patient", "int", "", "patient index within its arm and replicate (0 .. patients-1)"),
    _c("patient_id", "int", "", "stream index of the virtual patient (same in every arm for paired designs)"),
    _c("status", "str", "", "solver status: OK, MAX_STEPS, STEP_TOO_SMALL, NON_FINITE, NOT_RUN"),
    # covariates
    _c("weight_kg", "float", "kg", "body weight"),
    _c("baseline_burden", "float", "cells", "tumour cells at day 0 (B0)"),
    _c("prior_lines", "str", "", "prior lines of therapy (\"\" when the scenario does not model them)"),
    _c("bsa_m2", "float", "m2", "body surface area (Mosteller, from height and weight)"),
    # the product and conditioning each patient was prescribed
    _c("dose_cells", "float", "cells", "product cells of one full dose (CAR+ cells of T-cell products), after the "
                                       "arm's dose level, manufacturing spread and CAR+ fraction"),
    _c("host_t_left", "float", "", "host T cells left at the first lymphodepletion's nadir (fraction; 1 without "
                                   "lymphodepletion)"),
    # response
    _c("best_response", "str", "", "best overall response: CR, PR, SD, PD or NE"),
    _c("cr", "bool", "", "complete response at any assessment"),
    _c("responder", "bool", "", "CR or PR at any assessment (objective response)"),
    _c("time_to_response_days", "float", "day", "first assessment with CR or PR (NaN if none)"),
    _c("time_to_cr_days", "float", "day", "first assessment with CR (NaN if none)"),
    _c("duration_of_response_days", "float", "day", "first response to progression or death, else to last assessment"),
    _c("dor_event", "bool", "", "response ended by progression or death (False: censored)"),
    _c("pfs_days", "float", "day", "progression or death, else last assessment (censored)"),
    _c("pfs_event", "bool", "", "progression or death observed"),
    _c("os_days", "float", "day", "death, else end of follow-up (censored)"),
    _c("os_event", "bool", "", "death observed"),
    _c("progression_antigen_negative", "bool", "",
       "at progression most tumour cells were antigen-negative or -low (False without progression)"),
    _c("death_cause", "str", "", "\"tumour\" (burden passed the lethal threshold), \"gvhd\", or \"\""),
    _c("cure_day", "float", "day", "day no tumour cell was left (every clone extinct; NaN if never)"),
    # toxicity
    _c("crs_grade", "int", "grade", "maximum CRS grade 0-4, ASTCT 2019 (from the IL-6 signal; Lee 2014 and CARTOX "
                                    "read the same grade)"),
    _c("crs_grade_penn", "int", "grade", "maximum CRS grade 0-4 on the Penn scale (grades 2-4 reached earlier)"),
    _c("crs_onset_days", "float", "day", "first time at grade >= 1 (NaN if no CRS)"),
    _c("crs_duration_days", "float", "day", "time spent at grade >= 1"),
    _c("crs_peak_il6", "float", "pg/mL", "peak IL-6 signal"),
    _c("icans_grade", "int", "grade", "maximum neurotoxicity grade 0-4 (from the neuro-inflammation index; read as "
                                      "ICANS and as CTCAE, see celltrial.biology.grading_scales)"),
    _c("icans_onset_days", "float", "day", "first time at ICANS grade >= 1 (NaN if no ICANS)"),
    _c("gvhd", "bool", "", "clinically significant GvHD during follow-up"),
    # kinetics (product cells in blood, flow cytometry; CAR transgene by qPCR for T-cell products)
    _c("cmax_cells_uL", "float", "cells/uL", "peak product cells in blood after the distribution phase (expansion)"),
    _c("tmax_days", "float", "day", "time of the peak product cells in blood"),
    _c("expansion_fold", "float", "",
       "Stein 2019 fold-expansion: Cmax over the expansion extrapolated back to the infusion"),
    _c("auc0_28_cells_uL_day", "float", "cells/uL*day", "area under product cells in blood, days 0-28"),
    _c("time_above_lloq_days", "float", "day", "time product cells in blood were above the LLOQ"),
    _c("cmax_copies_ug", "float", "copies/ug", "peak CAR transgene copies per ug genomic DNA (0 for NK)"),
    # ctDNA
    _c("ctdna_d0", "float", "hGE/mL", "ctDNA at enrolment (day 0), before any treatment: the pre-lymphodepletion "
                                      "baseline"),
    _c("ctdna_d7", "float", "hGE/mL", "ctDNA at day 7"),
    _c("ctdna_d28", "float", "hGE/mL", "ctDNA at day 28"),
    # logistics (autologous arms with `logistics`: day 0 is apheresis)
    _c("infused", "bool", "", "received the product (False: manufacturing failed, or died while waiting)"),
    _c("vein_to_vein_days", "float", "day", "apheresis to first infusion (0 off the shelf; NaN if not infused)"),
    # adaptive protocol (policy) and molecular monitoring
    _c("policy_doses", "int", "", "doses given by the arm's policy (included in `doses`)"),
    _c("first_policy_dose_day", "float", "day", "first dose given by the policy (NaN if none)"),
    _c("last_dose_day", "float", "day", "last product dose (regimen or policy decision day; NaN if none)"),
    _c("dose_multiples", "float", "", "all product given, in multiples of the arm's dose"),
    _c("molecular_relapse_day", "float", "day", "first positive ctDNA draw after a negative one (NaN if none)"),
    _c("ctdna_lead_time_days", "float", "day", "imaging progression day minus molecular relapse day (NaN unless both)"),
    _c("transplant_day", "float", "day", "planned transplant day (bridge-to-transplant policies; NaN otherwise)"),
    _c("bridged", "bool", "", "alive and progression-free on the transplant day"),
    # resources and cost
    _c("doses", "int", "", "product doses given"),
    _c("hospital_days", "float", "day", "inpatient days (infusion stays and CRS)"),
    _c("imaging_tests", "int", "", "imaging assessments done (alive)"),
    _c("ctdna_tests", "int", "", "ctDNA draws done (alive)"),
    _c("cost_product", "float", "currency", "product doses"),
    _c("cost_manufacturing", "float", "currency", "apheresis and manufacturing (autologous), lymphodepletion"),
    _c("cost_hospital", "float", "currency", "hospital days"),
    _c("cost_monitoring", "float", "currency", "imaging and ctDNA tests"),
    _c("cost_total", "float", "currency", "sum of the four costs"),
]

COLUMNS = {c.name: c for c in _COLUMNS}


def column_names() -> list:
    """Column names of the patients table, in order."""
    return [c.name for c in _COLUMNS]


#: Thinned trajectories stored per patient (long format: identity columns, ``day``, then these).
TRAJECTORY_QUANTITIES = {
    "B_tot": ("cells", "tumour cells"),
    "product_uL": ("cells/uL", "product cells in blood"),
    "car_copies": ("copies/ug", "CAR transgene copies per ug genomic DNA"),
    "ctdna": ("hGE/mL", "circulating tumour DNA"),
    "il6_signal": ("pg/mL", "IL-6 signal (net of tocilizumab)"),
}

#: Long-format dose log: one row per product dose given (regimen or policy), with its reason.
DOSE_COLUMNS = {"arm": "str", "replicate": "int", "patient": "int", "day": "float", "source": "str",
                "multiplier": "float", "reason": "str"}

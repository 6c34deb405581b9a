"""Words for what the run stores under code names: solver statuses, endpoint rules, criteria.

The report never shows a field name or a Python value to the reader: each known name has a
label with its unit, and an unknown one is turned into words rather than shown raw.

Example:
    >>> status_label("MAX_STEPS")
    'Not simulated: solver step limit reached'
    >>> rule_rows({"lloq_cells_uL": 0.05, "reference_arm": None})[1]
    ('Reference arm of the comparisons', 'the first arm (default)')
    >>> pretty_numbers("2e+06 cells/kg (max 2e+08)")
    '2×10⁶ cells/kg (max 2×10⁸)'
    >>> regimen_text("day 0 after Flu/Cy; then policy ctdna_trigger")
    'day 0 after Flu/Cy; then policy: ctDNA-triggered doses'
    >>> criterion_text("b: CRS grade >= 3 count <= 4")
    'b: CRS grade ≥ 3 count ≤ 4'
"""

from __future__ import annotations

import re

from .fmt import NA, fmt_ref, fmt_sci, fmt_share, fmt_value, landmark_label

#: Solver status -> what it means for the patient.
STATUS_LABELS = {
    "OK": "Simulated",
    "MAX_STEPS": "Not simulated: solver step limit reached",
    "STEP_TOO_SMALL": "Not simulated: solver step became too small",
    "NON_FINITE": "Not simulated: solution became non-finite",
    "NOT_RUN": "Not simulated: not run",
}


def status_label(status: str) -> str:
    """A solver status in words (unknown statuses are kept, marked as not simulated)."""
    return STATUS_LABELS.get(str(status), f"Not simulated: {humanize(str(status)).lower()}")


def _days(v) -> str:
    return f"{fmt_ref(v)} days" if fmt_ref(v) != NA else NA


def _landmarks(v) -> str:
    values = v if isinstance(v, list | tuple) else [v]
    return ", ".join(landmark_label(d) for d in values) if values else "none"


#: Endpoint rule -> (label with unit, value formatter, wording of a missing value).
RULES = {
    "imaging_detection_cells": ("Imaging detection limit (cells)", fmt_ref, "not set"),
    "partial_response_fraction": ("Partial response: tumour shrinkage from baseline of at least", fmt_share, "not set"),
    "progression_increase": ("Progression: tumour growth from its lowest value of at least", fmt_share, "not set"),
    "lethal_burden_cells": ("Lethal tumour burden (cells)", fmt_ref, "not set"),
    "gvhd_fatal_fraction": ("Share of clinically significant GvHD that is fatal", fmt_share, "not set"),
    "lloq_cells_uL": ("Lower limit of quantification of product cells in blood (cells/µL)", fmt_ref, "not set"),
    "ctdna_lod_hge_ml": ("ctDNA limit of detection (hGE/mL)", fmt_ref, "the assay's 95% detection level"),
    "landmarks_days": ("Landmark times of PFS and OS", _landmarks, "half and end of follow-up (default)"),
    "imaging_days": ("Imaging assessments (days after first infusion)", lambda v: fmt_value(v), "not set"),
    "reference_arm": ("Reference arm of the comparisons", fmt_value, "the first arm (default)"),
    "currency": ("Currency of costs", fmt_value, "USD (default)"),
    "crs_scale": ("CRS grading scale", lambda v: _scale(v, "astct2019"), "ASTCT 2019 (default)"),
    "neurotoxicity_scale": ("Neurotoxicity grading scale", lambda v: _scale(v, "icans"),
                            "ICANS (ASTCT 2019) (default)"),
}


def _scale(name, default) -> str:
    from ..biology.grading_scales import scale_label

    return scale_label(name, default)


def grading_labels(summary, meta=None) -> tuple:
    """(CRS scale label, neurotoxicity scale label) of a run: from its summary's ``grading``, else its
    endpoint rules, else the defaults (a run stored before scales were named was graded by them).

    Example:
        >>> grading_labels({"grading": {"crs": "penn", "neurotoxicity": "ctcae"}})
        ('Penn', 'CTCAE')
        >>> grading_labels({})
        ('ASTCT 2019', 'ICANS (ASTCT 2019)')
    """
    grading = summary.get("grading") if isinstance(summary, dict) else None
    rules = meta.get("endpoint_rules") if isinstance(meta, dict) else None
    source = grading if isinstance(grading, dict) else (rules if isinstance(rules, dict) else {})
    crs = source.get("crs", source.get("crs_scale"))
    neuro = source.get("neurotoxicity", source.get("neurotoxicity_scale"))
    return _scale(crs, "astct2019"), _scale(neuro, "icans")


_UNITS = {"days": "days", "cells": "cells", "uL": "per µL", "pct": "%"}


def humanize(name: str) -> str:
    """A field name as words: 'time_to_cr_days' -> 'Time to cr (days)' (a last resort for unknown names)."""
    words = str(name).replace("_", " ").split()
    unit = ""
    if len(words) > 1 and words[-1] in _UNITS:
        unit = f" ({_UNITS[words[-1]]})"
        words = words[:-1]
    text = " ".join(words)
    return (text[:1].upper() + text[1:] + unit) if text else str(name)


def rule_rows(rules: dict) -> list:
    """[(label, value text)] of the endpoint rules, known rules first in a fixed order."""
    known = [k for k in RULES if k in rules]
    rows = []
    for key in known + [k for k in rules if k not in RULES]:
        label, fmt, missing = RULES.get(key, (humanize(key), fmt_value, "not set"))
        value = rules[key]
        text = missing if value is None or value == [] else fmt(value)
        rows.append((label, missing if text == NA else text))
    return rows


_E_NUMBER = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)[eE]([+-]?\d+)(?![\w.])")


def pretty_numbers(text) -> str:
    """Numbers in Python's e-notation written as a reader writes them: '2e+06 cells/kg' -> '2×10⁶ cells/kg'."""
    return _E_NUMBER.sub(lambda m: fmt_sci(float(m.group(0)), 3), str(text))


#: Adaptive policy kinds (``policy.kind`` in scenarios) in words.
POLICY_WORDS = {"maintenance": "maintenance doses", "ctdna_trigger": "ctDNA-triggered doses",
                "bridge_to_transplant": "bridge to transplant", "relapse_trigger": "doses at relapse",
                "mrd_trigger": "MRD-triggered doses", "conditional": "response-adapted steps"}
_SNAKE = re.compile(r"\b[A-Za-z]\w*_\w+\b")


def regimen_text(text) -> str:
    """A stored regimen in words: numbers written out, policy kinds named ('then policy ctdna_trigger' ->
    'then policy: ctDNA-triggered doses')."""
    text = re.sub(r"\bpolicy (\w+)", lambda m: f"policy: {POLICY_WORDS.get(m.group(1), m.group(1))}",
                  pretty_numbers(text))
    return _SNAKE.sub(lambda m: m.group(0).replace("_", " "), text)


def criterion_text(text) -> str:
    """A stored success criterion with mathematical signs (>= -> ≥, <= -> ≤)."""
    return str(text).replace(">=", "≥").replace("<=", "≤")

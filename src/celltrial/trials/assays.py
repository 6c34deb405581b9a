"""What the clinic saw: every ctDNA and MRD draw's call per patient and day, and detection rates.

One row per patient per draw while alive (draw day before death, solver status ok): the call
(``detected``), the measured value and the assay's 95% LoD in one ``unit`` (hGE/mL for ctDNA, the
tumour fraction of the cells analysed for MRD). Draw k of a patient uses the uniforms of its own
"assay" (ctDNA) or "mrd" stream at position k, so calls do not depend on the chunk. In an arm whose
policy observes an assay, the rows are the calls the policy controller made and acted on (read at
the first daily check on or after the draw, as the policy was); in other arms they come from the
course on the draw day with the same uniforms. :func:`detection_summary` pools the calls into
per-day detection rates (detected / drawn, all replicates together) for the run summary.

Example:
    >>> calls = {"arm": np.array(["a", "a"]), "assay": np.array(["ctdna", "ctdna"]),
    ...          "day": np.array([28.0, 28.0]), "detected": np.array([True, False])}
    >>> detection_counts(calls)
    {('a', 'ctdna', 28.0): [2, 1]}
"""

from __future__ import annotations

import numpy as np

from ..cohorts import patient_blocks
from ..protocols.monitoring import assay_uniforms
from .response import values_at

#: Columns of the ``assays`` table (name -> kind), in order.
ASSAY_COLUMNS = {"arm": "str", "replicate": "int", "patient": "int", "day": "float", "assay": "str",
                 "method": "str", "detected": "bool", "value": "float", "unit": "str", "lod": "float"}
CTDNA_UNIFORMS = 2  # per draw: the molecule count and the false-positive call (as the policy controller)


def arm_assays(plan, arm_index: int) -> dict:
    """assay ("ctdna", "mrd") -> (assay, draw days within follow-up) of an arm; an assay without draws is left out.

    The MRD schedule is the arm's policy's when it samples MRD, else ``assessments.mrd``.
    """
    s = plan.scenario
    out = {}
    ctdna = plan.ctdna_draw_days(arm_index)
    ctdna = ctdna[ctdna <= s.follow_up_days]
    if ctdna.size:
        out["ctdna"] = (plan.ctdna_assay(arm_index), ctdna)
    policy = plan.policy(arm_index)
    own = getattr(policy, "mrd_assay", lambda: None)() if policy is not None else None
    if own is not None:
        days = np.asarray(policy.mrd_sample_days(s.follow_up_days, plan.ctdna_draw_days(arm_index)), dtype=float)
        out["mrd"] = (own, days[days <= s.follow_up_days])
    elif s.assessments.mrd is not None:
        out["mrd"] = (s.assessments.mrd.assay, s.assessments.mrd.sample_days(s.follow_up_days))
    return {k: v for k, v in out.items() if v[1].size}


def method_of(assay) -> str:
    """The assay's method: its ``kind`` for ctDNA (poisson_draw, ...), its ``method`` for MRD (flow, ngs)."""
    return str(getattr(assay, "kind", None) or getattr(assay, "method", ""))


def lod_of(assay) -> float:
    """The assay's 95% LoD in its unit (hGE/mL for ctDNA, tumour fraction for MRD)."""
    return assay.lod_hge_ml(0.95) if hasattr(assay, "lod_hge_ml") else assay.lod_fraction(0.95)


def _from_course(course, plan, name: str, assay, days) -> list:
    """(draw index, day, detected, value, drawn) per draw of a chunk, from the course on the draw day."""
    s = plan.scenario
    ok = np.asarray(course.status) == 0
    if name == "ctdna":
        u = assay_uniforms(s.seed, course.ids, len(days), CTDNA_UNIFORMS)
        level = _at(course.t, course.values["ctdna"], days)
        return [(k, day, *assay.observe(level[:, k], u[:, k, 0], u[:, k, 1]), ok) for k, day in enumerate(days)]
    u = patient_blocks(s.seed, course.ids, "mrd", len(days), "random")
    burden = _at(course.t, course.values["B_tot"], days)
    return [(k, day, *assay.measure(burden[:, k], u[:, k]), ok) for k, day in enumerate(days)]


def _from_policy(controller, name: str) -> list:
    """The same from the calls the policy controller made (drawn: alive when it looked)."""
    return [(k, day, positive, value, alive) for kind, k, day, positive, value, alive in controller.calls
            if kind == name]


def _at(t, y, days) -> np.ndarray:
    """(n, k) values of ``y`` (n, T) at ``days``: the saved value on a grid day (draw days are on the
    course grid), linear in between otherwise."""
    j = np.minimum(np.searchsorted(t, days), t.size - 1)
    exact = t[j] == days
    between = values_at(t, y, np.broadcast_to(days, (y.shape[0], days.size)))
    return np.where(exact[None, :], y[:, j], between)


def assay_calls(course, plan, arm_index: int, table: dict) -> dict:
    """The chunk's calls as a column dict of :data:`ASSAY_COLUMNS` (rows by patient, assay, day)."""
    death = np.where(table["os_event"], table["os_days"], np.inf)
    ok = np.asarray(course.status) == 0
    controller = course.policy
    parts = []
    for name, (assay, days) in arm_assays(plan, arm_index).items():
        observed = controller is not None and (controller.assay if name == "ctdna" else controller.mrd) is not None
        draws = _from_policy(controller, name) if observed else _from_course(course, plan, name, assay, days)
        for _, day, detected, value, drawn in draws:
            rows = np.flatnonzero(np.asarray(drawn, bool) & ok & (day < death))
            parts.append((rows, day, name, method_of(assay), np.asarray(detected, bool)[rows],
                          np.asarray(value, float)[rows], assay.unit, lod_of(assay)))
    return _long_table(parts, table)


def _long_table(parts: list, table: dict) -> dict:
    rows = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
    size = [p[0].size for p in parts]

    def spread(i, dtype):
        return np.repeat(np.array([p[i] for p in parts], dtype=dtype), size) if parts else np.zeros(0, dtype)

    out = {"arm": np.asarray(table["arm"])[rows].astype(str), "replicate": np.asarray(table["replicate"])[rows],
           "patient": np.asarray(table["patient"])[rows], "day": spread(1, float), "assay": spread(2, str),
           "method": spread(3, str),
           "detected": np.concatenate([p[4] for p in parts]) if parts else np.zeros(0, bool),
           "value": np.concatenate([p[5] for p in parts]) if parts else np.zeros(0), "unit": spread(6, str),
           "lod": spread(7, float)}
    order = np.lexsort((out["day"], out["assay"], rows))  # per patient, then assay, then day
    return {k: v[order] for k, v in out.items()}


def detection_counts(calls: dict | None) -> dict:
    """(arm, assay, day) -> [drawn, detected] of a table of calls (any subset of its rows)."""
    out: dict = {}
    if calls is None or not len(calls["day"]):
        return out
    keys = np.rec.fromarrays([np.asarray(calls["arm"]).astype(str), np.asarray(calls["assay"]).astype(str),
                              np.asarray(calls["day"], float)])
    unique, inverse = np.unique(keys, return_inverse=True)
    drawn = np.bincount(inverse.ravel(), minlength=len(unique))
    detected = np.bincount(inverse.ravel(), weights=np.asarray(calls["detected"], float), minlength=len(unique))
    for key, d, k in zip(unique.tolist(), drawn.tolist(), detected.tolist(), strict=True):
        out[(str(key[0]), str(key[1]), float(key[2]))] = [int(d), int(round(k))]
    return out


def add_counts(total: dict, counts: dict) -> dict:
    """``total`` with ``counts`` added in place (both as from :func:`detection_counts`)."""
    for key, (drawn, detected) in counts.items():
        have = total.setdefault(key, [0, 0])
        have[0] += drawn
        have[1] += detected
    return total


def detection_summary(plan, counts: dict) -> dict:
    """arm -> {assay: {method, unit, lod, days, drawn, detected, detected_rate}} for the arms with draws.

    ``detected_rate`` is detected / drawn per draw day (None where nobody was drawn); every replicate
    pooled. Example keys: ``summary["arms"]["A"]["assays"]["ctdna"]["detected_rate"][1]``.
    """
    out = {}
    for arm in plan.arms:
        block = {}
        for name, (assay, days) in arm_assays(plan, arm.index).items():
            drawn = [counts.get((arm.name, name, float(d)), [0, 0])[0] for d in days]
            detected = [counts.get((arm.name, name, float(d)), [0, 0])[1] for d in days]
            block[name] = {"method": method_of(assay), "unit": assay.unit, "lod": lod_of(assay),
                           "days": [float(d) for d in days], "drawn": drawn, "detected": detected,
                           "detected_rate": [k / n if n else None for n, k in zip(drawn, detected, strict=True)]}
        if block:
            out[arm.name] = block
    return out

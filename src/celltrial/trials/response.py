"""Response by imaging (Lugano-like) and the time-to-event endpoints derived from it (pure numpy).

At each imaging day before death a patient's tumour burden ``b`` is read as:

* CR - no measurable disease: ``b < detection``;
* PD - measurable and at least ``(1 + increase)`` x the nadir (lowest of baseline and earlier
  assessments), or measurable again after a CR;
* PR - measurable and at most ``(1 - pr_fraction)`` x baseline;
* SD - otherwise.

Assessments stop at the first PD. Best overall response is the best category up to it (NE
when no assessment was done). PFS ends at the first PD or death, else is censored at the last
assessment; duration of response runs from the first CR/PR to the end of PFS.

Example:
    >>> r = read_responses(np.array([28.0, 90.0]), np.array([[1e8, 5e9]]), np.array([1e11]),
    ...                    np.array([np.inf]), detection=1e9, pr_fraction=0.5, increase=0.5)
    >>> r["best_response"].tolist(), r["pfs_days"].tolist(), r["pfs_event"].tolist()
    (['CR'], [90.0], [True])
"""

from __future__ import annotations

import numpy as np

CR, PR, SD, PD, NE = 0, 1, 2, 3, 4
LABELS = np.array(["CR", "PR", "SD", "PD", "NE"])


def classify(days, burden, baseline, death_day, *, detection, pr_fraction, increase) -> np.ndarray:
    """(n, k) response codes at each imaging day ((k,) or per patient (n, k)); NE where not assessed."""
    n, k = burden.shape
    days = np.broadcast_to(np.asarray(days, dtype=float), (n, k))
    codes = np.full((n, k), NE, dtype=np.int8)
    nadir = baseline.astype(float).copy()
    was_cr = np.zeros(n, dtype=bool)
    stopped = np.zeros(n, dtype=bool)
    for j in range(k):
        b = burden[:, j]
        assessed = ~stopped & (days[:, j] < death_day) & np.isfinite(b)
        measurable = b >= detection
        pd = measurable & ((b >= (1.0 + increase) * nadir) | was_cr)
        pr = measurable & (b <= (1.0 - pr_fraction) * baseline)
        code = np.where(~measurable, CR, np.where(pd, PD, np.where(pr, PR, SD)))
        codes[:, j] = np.where(assessed, code, NE)
        nadir = np.where(assessed, np.minimum(nadir, b), nadir)
        was_cr |= assessed & ~measurable
        stopped |= assessed & pd
    return codes


def read_responses(days, burden, baseline, death_day, *, detection, pr_fraction, increase) -> dict:
    """Per-patient response endpoints from burdens (n, k) at imaging ``days`` ((k,) or per patient (n, k)).

    Returns columns best_response, cr, responder, time_to_response_days, time_to_cr_days,
    duration_of_response_days, dor_event, pfs_days, pfs_event (see
    :mod:`celltrial.trials.columns`).
    """
    days = np.broadcast_to(np.asarray(days, dtype=float), burden.shape)
    codes = classify(days, burden, baseline, death_day, detection=detection, pr_fraction=pr_fraction,
                     increase=increase)
    rows = np.arange(burden.shape[0])
    best = codes.min(axis=1)
    responded = codes <= PR
    responder = responded.any(axis=1)
    first_response = np.where(responder, days[rows, np.argmax(responded, axis=1)], np.nan)
    complete = codes == CR
    first_cr = np.where(complete.any(axis=1), days[rows, np.argmax(complete, axis=1)], np.nan)
    progressed = (codes == PD).any(axis=1)
    pd_day = np.where(progressed, days[rows, np.argmax(codes == PD, axis=1)], np.inf)
    assessed = codes != NE
    last_col = assessed.shape[1] - 1 - np.argmax(assessed[:, ::-1], axis=1)
    last = np.where(assessed.any(axis=1), days[rows, last_col], 0.0)
    end = np.minimum(pd_day, death_day)
    event = np.isfinite(end)
    pfs = np.where(event, end, last)
    return {
        "best_response": LABELS[best],
        "cr": best == CR,
        "responder": responder,
        "time_to_response_days": first_response,
        "time_to_cr_days": first_cr,
        "duration_of_response_days": np.where(responder, pfs - np.nan_to_num(first_response), np.nan),
        "dor_event": responder & event,
        "pfs_days": pfs,
        "pfs_event": event,
    }


def first_crossing(t, y, threshold, log=False) -> np.ndarray:
    """(n,) first time ``y`` (n, T) reaches ``threshold`` (n,) from below, interpolated; inf if never."""
    thr = np.asarray(threshold, dtype=float)[:, None]
    yy, tt = (np.log(np.maximum(y, 1e-300)), np.log(thr)) if log else (y, thr)
    above = yy >= tt
    hit = above[:, 1:] & ~above[:, :-1]
    any_hit = hit.any(axis=1)
    j = np.argmax(hit, axis=1)  # crossing between j and j+1
    rows = np.arange(y.shape[0])
    y0, y1 = yy[rows, j], yy[rows, j + 1]
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.clip((tt[:, 0] - y0) / (y1 - y0), 0.0, 1.0)
    at = t[j] + frac * (t[j + 1] - t[j])
    return np.where(any_hit, at, np.inf)


def time_above(t, y, threshold) -> np.ndarray:
    """(n,) total time ``y`` (n, T) spends at or above ``threshold`` (scalar or (n,)), linear in between."""
    thr = np.broadcast_to(np.asarray(threshold, dtype=float), (y.shape[0],))[:, None]
    d = y - thr
    d0, d1 = d[:, :-1], d[:, 1:]
    dt = np.diff(t)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        cross = np.where(d0 >= 0, d0 / (d0 - d1), -d0 / (d1 - d0))  # fraction until the crossing
    both = (d0 >= 0) & (d1 >= 0)
    up = (d0 < 0) & (d1 >= 0)
    down = (d0 >= 0) & (d1 < 0)
    share = np.where(both, 1.0, np.where(up, 1.0 - cross, np.where(down, cross, 0.0)))
    return np.nansum(share * dt, axis=1)


def values_at(t, y, days) -> np.ndarray:
    """(n, k) values of ``y`` (n, T) on grid ``t`` at per-patient ``days`` (n, k), linear in between."""
    j = np.clip(np.searchsorted(t, days, side="right") - 1, 0, t.size - 2)
    rows = np.arange(y.shape[0])[:, None]
    frac = np.clip((days - t[j]) / (t[j + 1] - t[j]), 0.0, 1.0)
    return y[rows, j] + frac * (y[rows, j + 1] - y[rows, j])

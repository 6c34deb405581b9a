"""Per-patient net monetary benefit: the optimiser's ``nmb_<wtp>`` objective column.

A patient's NMB at a willingness to pay ``w`` (currency per QALY) is ``w * QALYs - payer cost``
(currency): QALYs and cost discounted and extrapolated exactly as the run summary's ``economics``
block does (the scenario's settings or the defaults), with the product priced at the list price
(the summary's ``list`` payment model: the simulated ``cost_product`` on each dose day). Its mean
over an arm's OK patients is ``w * qalys - payer_cost_per_patient`` of that arm in the summary, and
the difference of two arms' means is the summary's incremental NMB. With a horizon beyond follow-up
the survival fits are per arm on the table's OK patients, so a patient's value depends on the
others of its arm (the mean is still the summary's).

Example:
    >>> import numpy as np
    >>> n = 2
    >>> t = {"arm": np.array(["a", "a"]), "status": np.array(["OK", "OK"]), "pfs_days": np.full(n, 365.25),
    ...      "pfs_event": np.ones(n, bool), "os_days": np.full(n, 365.25), "os_event": np.ones(n, bool),
    ...      "crs_grade": np.zeros(n, int), "doses": np.ones(n, int), "dose_multiples": np.ones(n),
    ...      "cost_product": np.array([10.0, 10.0]), "cost_total": np.array([10.0, 30.0]),
    ...      "last_dose_day": np.zeros(n), "replicate": np.zeros(n, int)}
    >>> patient_nmb(t, 100.0, {"discounting": {"rate": 0.0}}, follow_up_days=365.25).tolist()
    [63.0, 43.0]
"""

from __future__ import annotations

import numpy as np

from ..trials.statistics import arm_codes, ok_mask
from .payment import PaymentModel, product_payments
from .summary import _arm_rows, _Settings, arm_qalys, care_costs

_LIST = PaymentModel("list", "list")


def patient_nmb(table: dict, wtp: float, settings: dict | None, *, follow_up_days: float) -> np.ndarray:
    """(n,) NMB per patient (currency) at ``wtp`` (currency per QALY); NaN for rows whose solve failed.

    ``settings``: the scenario's ``economics`` block as a mapping (None: the defaults);
    ``follow_up_days``: the run's follow-up (day).
    """
    s = _Settings(settings or {}, follow_up_days)
    out = np.full(len(table["arm"]), np.nan)
    ok = ok_mask(table)
    names, codes = arm_codes(table["arm"])
    for i in range(len(names)):
        mask = (codes == i) & ok
        if not mask.any():
            continue
        rows = _arm_rows(table, mask)
        q = arm_qalys(rows, s)[2]
        pay = product_payments(_LIST, rows, list_price=0.0, rate=s.rate, method=s.method)["paid_discounted"]
        out[mask] = float(wtp) * np.asarray(q["qalys"], dtype=float) - (care_costs(rows, names[i], s, q) + pay)
    return out

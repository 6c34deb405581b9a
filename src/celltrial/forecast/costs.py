"""Cost of each (action, draw) from the forecast origin on (currency of :class:`~celltrial.scenarios.costs.Costs`).

Counted: re-doses given while alive (product price x dose multiple, manufacturing of an
autologous product, Flu/Cy when given, the infusion stay), anti-PD-1 doses given while alive,
the ctDNA draws of a triggered action, and the extra hospital days of the CRS grade after the
origin. Not counted: what every action shares (routine follow-up), so differences are the point.

Example:
    >>> from celltrial.scenarios.costs import Costs
    >>> crs_days_cost(np.array([0, 3]), Costs()).tolist()   # grade 3: 10 days at 4,500
    [0.0, 45000.0]
"""

from __future__ import annotations

import numpy as np

from ..scenarios.costs import Costs


def dose_price(product, costs: Costs) -> float:
    """Price of one full product dose: autologous T-cell products at ``autologous_dose``, others ``allogeneic_dose``."""
    autologous = product.kind == "t_cell" and not product.allogeneic
    return float(costs.autologous_dose if autologous else costs.allogeneic_dose)


def crs_days_cost(grade, costs: Costs) -> np.ndarray:
    """(n,) cost of the extra inpatient days of each CRS grade."""
    return np.asarray(costs.crs_days_by_grade, float)[np.asarray(grade, int)] * costs.hospital_day


def action_costs(action, product, *, redose_day, death_day, grade, ctdna_draws, origin: float, costs: Costs,
                 price: float | None = None) -> np.ndarray:
    """(n,) cost of one action over its draws (see the module docstring); days are days since the reference."""
    price = dose_price(product, costs) if price is None else float(price)
    n = len(grade)
    out = crs_days_cost(grade, costs) + np.asarray(ctdna_draws, float) * costs.ctdna_test
    if action.redoses:
        given = np.isfinite(redose_day) & (redose_day < death_day)
        autologous = product.kind == "t_cell" and not product.allogeneic
        one = (price * action.dose_multiple + (costs.manufacturing_autologous if autologous else 0.0)
               + (costs.lymphodepletion if action.lymphodepletion and product.lymphodepletion else 0.0)
               + costs.infusion_stay_days[product.kind] * costs.hospital_day)
        out = out + np.where(given, one, 0.0)
    if action.kind == "anti_pd1":
        days = np.asarray(action.drug_days(origin))
        given = (days[None, :] < np.asarray(death_day, float)[:, None]).sum(axis=1) if days.size else np.zeros(n)
        out = out + given * action.price_per_dose
    return out

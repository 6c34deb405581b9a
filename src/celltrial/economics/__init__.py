"""Health economics and patient selection of a simulated trial (pure numpy and lifelines: no files, no screen).

* :mod:`.discounting`: discount factors and discounted time (annual or continuous).
* :mod:`.qaly`: quality-adjusted survival of each patient from the per-patient table.
* :mod:`.extrapolation`: parametric survival fits chosen by AIC, time beyond follow-up.
* :mod:`.payment`: payment models (list, upfront, outcomes-based, per dose with caps, subscription).
* :mod:`.cea`: ICER, net monetary benefit, cost-effectiveness plane and acceptability curve.
* :mod:`.summary`: the run summary's ``economics`` block.
* :mod:`.benefit`: who benefits: covariate associations with PFS and response, treatment interactions.

Example:
    >>> from celltrial.economics import incremental
    >>> incremental(0.0, 1.0, 50_000.0, 1.5, wtp=[100_000])["incremental_nmb"]
    {'100000': 0.0}
"""

from .cea import incremental as incremental
from .cea import plane_and_curve as plane_and_curve
from .discounting import factor as factor
from .discounting import integral as integral
from .extrapolation import fit_survival as fit_survival
from .payment import PaymentModel as PaymentModel
from .payment import product_payments as product_payments
from .qaly import Utilities as Utilities
from .qaly import patient_qalys as patient_qalys
from .summary import economics_summary as economics_summary

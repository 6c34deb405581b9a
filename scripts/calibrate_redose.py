"""Fit the anti-CAR rejection strength ``k_rej_car`` to second CD19 CAR-T infusions (Gauthier 2021).

Target: 39% of second CD19 CAR-T infusions responded (Gauthier et al. 2021 Blood 137:323; 44
patients with ALL, CLL or NHL; science-levers.md section 6). Re-infusions for MRD or early
relapse in B-ALL respond somewhat more often (Blood Adv 2024 8:2182: 5 of 10, 52% for relapse
prevention), which the levers row's band (20-60%) keeps. Quantity: the ``levers`` case's re-dosing row, the share
of twins with an antigen-positive relapse (without the re-dose) whose progression one more
standard axi-cel-like dose after Flu/Cy at molecular relapse prevents or delays by >= 90 days
(r/r LBCL preset, paired twins, common random numbers). The priming rate ``k_car`` and the other
anti-CAR values stay at their estimates ([E]); only ``k_rej_car`` moves, by a root search on its
logarithm (the share falls as rejection strengthens). The result is printed with the share it
gives; copy it into the model default (biology/alloimmunity.py, tagged [F]) and keep the log in
docs/calibration/redose-fit.log. Run (about a minute on two cores after the kernel compile):

    python scripts/calibrate_redose.py              # fit and print
    python scripts/calibrate_redose.py --check      # only the share at the current value
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import brentq

from celltrial.biology import standard_model
from celltrial.calibration.levers import redose_share
from celltrial.solve import compile

TARGET = 0.39
PATIENTS = 400
SEED = 15
BRACKET = (0.1, 30.0)


def main(argv) -> int:
    model = standard_model()
    compiled = compile(model)
    current = dict(zip(model.parameter_names, model.default_parameters(), strict=True))["k_rej_car"]

    def share(k):
        value, n = redose_share(PATIENTS, SEED, {"k_rej_car": float(k)}, compiled=compiled)
        print(f"k_rej_car {k:9.4g}: {value:.1%} of {n} re-dosed antigen-positive relapses helped", flush=True)
        return value

    if "--check" in argv:
        share(current)
        return 0
    lo, hi = BRACKET
    k = float(np.exp(brentq(lambda x: share(np.exp(x)) - TARGET, np.log(lo), np.log(hi), xtol=0.02)))
    print(f"\nk_rej_car = {k:.4g} 1/day (target {TARGET:.0%}, Gauthier 2021; {PATIENTS} twins, seed {SEED})")
    share(k)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

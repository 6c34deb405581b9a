"""Refit the standard model's CAR-T kinetic parameters to the published typical-patient kinetics.

Targets (science.md 8.1):
- axi-cel-like in LBCL (typical patient, 70 kg, Flu/Cy): blood CAR+ cells 27.5 / 9.1 / 2.1 / 0.1
  per uL at days 7 / 14 / 28 / 90 (Kimmel 2021, Moffitt ZUMA-1 medians) and tumour below
  10 cells by day 40 (Kimmel's cures fall in days 20-80), also for a low-burden patient
  (1e10 cells: low tumour burden predicts durable response, Locke 2020);
- tisa-cel-like in B-ALL (typical 30-kg patient): Stein 2019 Cmax 24,000 copies/ug, Tmax 9.3 d,
  fold expansion 3,900, contraction 0.16 /day, slow-phase fraction 0.79 %, slow phase 0.0032 /day.

Shared T-cell parameters (model defaults) and two product parameters per costimulation
(m_rev, d_CM: the presets' values) are fitted jointly by least squares on log scale with a
weak pull (0.05 per log unit) towards the current values. The result is printed; copy it
into the model defaults (biology/tcells.py, tagged [F]) and the product presets. Run:

    python scripts/calibrate_kinetics.py            # fit and print
    python scripts/calibrate_kinetics.py --check    # only report the targets at current values
"""

from __future__ import annotations

import sys

import numpy as np
from scipy.optimize import least_squares

from celltrial.biology import standard_model
from celltrial.biology.kinetics import stein_metrics
from celltrial.presets import combined_parameters, load_disease, load_product
from celltrial.solve import compile, simulate

SHARED = ["p_EFF", "d_EFF", "f_engraft", "K_A", "f_blood_T", "h_CM", "d_S"]
PRODUCT = ["m_rev", "d_CM"]
LOWER = dict(p_EFF=0.3, d_EFF=0.05, f_engraft=1e-3, K_A=1e7, f_blood_T=1e-4, h_CM=1e-4, d_S=0.002, m_rev=1e-5,
             d_CM=0.003)
UPPER = dict(p_EFF=5, d_EFF=3, f_engraft=1, K_A=1e12, f_blood_T=0.05, h_CM=0.3, d_S=0.2, m_rev=0.1, d_CM=0.3)
AXI_BLOOD = {7: 27.5, 14: 9.1, 28: 2.1, 90: 0.1}
STEIN = dict(cmax=24000.0, tmax=9.3, fold=3900.0, alpha=0.16, beta=0.0032, f_slow=0.0079)
DAYS = np.arange(0.0, 366.0)


class Case:
    def __init__(self, disease, product):
        self.disease, self.product = load_disease(disease), load_product(product)
        self.base = combined_parameters(self.disease, self.product)
        self.events = self.product.regimen(0.0, self.disease.weight_kg)

    def run(self, compiled, values):
        params = {k: [v] for k, v in {**self.base, **values}.items()}
        return simulate(compiled, params, t_end=365.0, events=self.events, save_at=DAYS,
                        save=["car_T_uL", "car_copies", "Bp"])


def cured_by(res, day, cells=10.0):
    """Penalty (log units) when the antigen-positive clone is above ``cells`` at ``day``."""
    return 0.5 * max(0.0, np.log(max(res["Bp"][0][day], 1e-30) / cells))


def axi_residuals(res, low_burden):
    blood = res["car_T_uL"][0]
    r = [np.log(blood[int(d)] / v) for d, v in AXI_BLOOD.items()]
    return r + [cured_by(res, 40), cured_by(low_burden, 60)]


def tisa_residuals(res):
    m = stein_metrics(DAYS, res["car_copies"][0])
    return [np.log(max(m[k], 1e-12) / v) * (3.0 if k == "tmax" else 1.0) for k, v in STEIN.items()]


def main(argv):
    model = standard_model()
    compiled = compile(model)
    axi, tisa = Case("lbcl", "axi-cel-like"), Case("b-all", "tisa-cel-like")
    defaults = dict(zip(model.parameter_names, model.default_parameters(), strict=True))
    names = SHARED + [f"axi:{k}" for k in PRODUCT] + [f"tisa:{k}" for k in PRODUCT]
    start = [defaults[k] for k in SHARED] + [axi.base[k] for k in PRODUCT] + [tisa.base[k] for k in PRODUCT]
    x0 = np.log(start)

    def split(x):
        v = dict(zip(names, np.exp(x), strict=True))
        shared = {k: v[k] for k in SHARED}
        return {**shared, **{k: v[f"axi:{k}"] for k in PRODUCT}}, {**shared, **{k: v[f"tisa:{k}"] for k in PRODUCT}}

    def residuals(x):
        a, t = split(x)
        low = axi.run(compiled, {**a, "B0": 1e10})
        return np.array(axi_residuals(axi.run(compiled, a), low) + tisa_residuals(tisa.run(compiled, t))
                        + list(0.05 * (x - x0)))

    x = x0
    if "--check" not in argv:
        bounds = (np.log([LOWER[n.split(":")[-1]] for n in names]), np.log([UPPER[n.split(":")[-1]] for n in names]))
        x = least_squares(residuals, x0, bounds=bounds, diff_step=1e-3).x
        print("fitted values:")
        for n, v in zip(names, np.exp(x), strict=True):
            print(f"  {n:14s} {v:.4g}")
    a, t = split(x)
    blood = axi.run(compiled, a)["car_T_uL"][0]
    low = axi.run(compiled, {**a, "B0": 1e10})["Bp"][0]
    print(f"axi-cel-like / LBCL antigen-positive cells at day 60, B0 = 1e10 (target < 10): {low[60]:.3g}")
    print("axi-cel-like / LBCL blood CAR+ per uL (target):",
          ", ".join(f"day {d}: {blood[d]:.3g} ({v})" for d, v in AXI_BLOOD.items()))
    m = stein_metrics(DAYS, tisa.run(compiled, t)["car_copies"][0])
    print("tisa-cel-like / B-ALL Stein metrics (target):",
          ", ".join(f"{k} {m[k]:.4g} ({v})" for k, v in STEIN.items()))


if __name__ == "__main__":
    main(sys.argv[1:])

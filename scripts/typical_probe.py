"""Probe: typical LBCL patient across levers (development aid)."""
import sys, json
import numpy as np
from celltrial.biology import standard_model
from celltrial.presets import combined_parameters, load_disease, load_product
from celltrial.solve import compile, simulate
from celltrial.biology.kinetics import stein_metrics

EXTRA = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
DIS = sys.argv[2] if len(sys.argv) > 2 else "lbcl"
c = compile(standard_model())
d = load_disease(DIS)
days = np.arange(0.0, 366.0)
cases = [("axi", "axi-cel-like", None, True), ("1e5", "axi-cel-like", 1e5, True), ("1e6", "axi-cel-like", 1e6, True),
         ("1e7", "axi-cel-like", 1e7, True), ("1e9", "axi-cel-like", 1e9, True), ("noLD", "axi-cel-like", None, False),
         ("tisa", "tisa-cel-like", 1.4e8, True), ("tscm", "tscm-enriched", None, True)]
print(f"{'case':6s} {'d7':>7s} {'d14':>7s} {'d28':>7s} {'d90':>7s} {'cmax':>7s} {'tmax':>5s} {'fold':>8s} {'Bmin':>8s} {'dayBmin':>7s} {'B365':>8s} {'IL6pk':>7s} {'NTpk':>6s}")
for name, prod, cells, ld in cases:
    p = load_product(prod)
    params = {**combined_parameters(d, p), **EXTRA}
    ev = p.regimen(0.0, d.weight_kg, cells) if ld else [p.infusion(0.0, d.weight_kg, cells)]
    r = simulate(c, {k: [v] for k, v in params.items()}, t_end=365.0, events=ev, save_at=days,
                 save=["car_T_uL", "Bp", "Bn", "il6_signal", "NT"])
    y = r["car_T_uL"][0]; B = r["Bp"][0] + r["Bn"][0]
    m = stein_metrics(days, y)
    i = int(np.argmin(B))
    print(f"{name:6s} {y[7]:7.3g} {y[14]:7.3g} {y[28]:7.3g} {y[90]:7.3g} {m['cmax']:7.3g} {m['tmax']:5.1f} {m['fold']:8.3g} "
          f"{B[i]:8.2g} {i:7d} {B[-1]:8.2g} {r['il6_signal'][0].max():7.0f} {r['NT'][0].max():6.2f}")

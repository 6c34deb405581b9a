"""Probe: paired-twin lever arms in LBCL (development aid for the levers suite)."""
import sys, time, json
import numpy as np
from celltrial.scenarios.loader import parse_scenario
from celltrial.trials.trial import run_trial

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100
EXTRA = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
ARMS = [
    ("untreated", "axi-cel-like", {"lymphodepletion": False, "parameters": {"gamma_T": 0.0}}),
    ("d1e5", "axi-cel-like", {"dose": {"cells": 1e5}}),
    ("d1e6", "axi-cel-like", {"dose": {"cells": 1e6}}),
    ("d1e7", "axi-cel-like", {"dose": {"cells": 1e7}}),
    ("d1e8", "axi-cel-like", {"dose": {"cells": 1e8}}),
    ("axi", "axi-cel-like", {}),
    ("d1e9", "axi-cel-like", {"dose": {"cells": 1e9}}),
    ("noLD", "axi-cel-like", {"lymphodepletion": False}),
    ("tisa", "tisa-cel-like", {"dose": {"per_kg": 2e6, "max_cells": 2e8}}),
    ("tscm", "tscm-enriched", {}),
]
import yaml
def scenario():
    arms = []
    for name, prod, ch in ARMS:
        ch = dict(ch)
        if EXTRA:
            ch["parameters"] = {**EXTRA, **ch.get("parameters", {})}
        arms.append({"name": name, "product": prod, "changes": ch})
    doc = {"schema_version": 1, "name": "levers-probe", "title": "probe", "disease": "lbcl",
           "cohort": {"patients": N, "design": "paired", "weight_kg": {"distribution": "normal", "mean": 80, "sd": 17, "low": 40, "high": 160}},
           "arms": arms, "assessments": {"imaging_days": [28, 90, 180, 270, 365], "ctdna_days": [7, 28]},
           "follow_up_days": 365, "seed": 7}
    return parse_scenario(yaml.safe_dump(doc))

t = time.time()
out = run_trial(scenario())
p = out.patients
print(f"{'arm':10s} {'CR':>5s} {'ORR':>5s} {'PFS12':>6s} {'CRS1+':>6s} {'CRS3+':>6s} {'Cmax':>8s} {'Tmax':>5s} {'AUC28':>8s}")
for name, *_ in ARMS:
    m = p["arm"] == name
    pfs12 = np.mean((p["pfs_days"][m] >= 364) | (~p["pfs_event"][m]))
    print(f"{name:10s} {p['cr'][m].mean():5.2f} {p['responder'][m].mean():5.2f} {pfs12:6.2f} "
          f"{(p['crs_grade'][m]>=1).mean():6.2f} {(p['crs_grade'][m]>=3).mean():6.2f} "
          f"{np.median(p['cmax_cells_uL'][m]):8.3g} {np.median(p['tmax_days'][m]):5.1f} {np.median(p['auc0_28_cells_uL_day'][m]):8.3g}")
print("time", round(time.time() - t, 1))

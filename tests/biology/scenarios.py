"""Small helpers building standard-model runs from presets for the behaviour tests."""

import numpy as np

from celltrial.presets import combined_parameters, load_disease, load_product
from celltrial.protocols import lymphodepletion
from celltrial.solve import simulate

DAYS = np.arange(0.0, 366.0)


def preset_params(disease, product=None, **overrides):
    d = load_disease(disease)
    products = [load_product(product)] if product else []
    return combined_parameters(d, *products, overrides=overrides)


def run_preset(compiled, disease, product=None, *, cells=None, extra_events=(), t_end=365.0, save_at=DAYS,
               ld=True, save=None, **overrides):
    """One typical patient of ``disease`` given ``product`` at day 0 (after Flu/Cy unless ld=False)."""
    d = load_disease(disease)
    params = preset_params(disease, product, **overrides)
    if product:
        p = load_product(product)
        events = p.regimen(0.0, d.weight_kg, cells) if ld else [p.infusion(0.0, d.weight_kg, cells)]
    else:
        events = [lymphodepletion(0.0)] if ld else []
    return simulate(compiled, {k: [v] for k, v in params.items()}, t_end=t_end, events=events + list(extra_events),
                    save_at=save_at, **({"save": save} if save else {}))

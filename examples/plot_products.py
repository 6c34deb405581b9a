"""One typical patient of each shipped product: blood kinetics, tumour, ctDNA and IL-6.

Run: ``pip install -e ".[examples]" && python examples/plot_products.py`` (writes
docs/figures/standard_products.png). T-cell products are shown in their calibration
disease (tisa-cel-like in B-ALL, the others in LBCL); NK products in LBCL.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from celltrial.biology import standard_model  # noqa: E402
from celltrial.presets import combined_parameters, load_disease, load_product  # noqa: E402
from celltrial.solve import compile, simulate  # noqa: E402

CASES = [("axi-cel-like", "lbcl"), ("tisa-cel-like", "b-all"), ("tscm-enriched", "lbcl"), ("ipsc-car-t", "lbcl"),
         ("ft500-like", "lbcl"), ("ft596-like", "lbcl"), ("ciml-nk", "lbcl")]
T = np.concatenate([np.arange(0.0, 30.0, 0.1), np.arange(30.0, 365.5, 1.0)])
OUT = Path(__file__).resolve().parents[1] / "docs" / "figures" / "standard_products.png"


def run_case(compiled, product_name, disease_name):
    disease, product = load_disease(disease_name), load_product(product_name)
    params = combined_parameters(disease, product)
    events = product.regimen(0.0, disease.weight_kg)
    return simulate(compiled, {k: [v] for k, v in params.items()}, t_end=365.0, events=events, save_at=T,
                    save=["product_uL", "B_tot", "ctdna", "IL6"])


def main():
    compiled = compile(standard_model())
    fig, axes = plt.subplots(2, 2, figsize=(12, 8), sharex=True)
    panels = [("product_uL", "product cells in blood (cells/uL)", 1e-3),
              ("B_tot", "tumour burden (cells)", 1.0),
              ("ctdna", "ctDNA (hGE/mL plasma)", 1e-4),
              ("IL6", "serum IL-6 (pg/mL)", 1.0)]
    for product, disease in CASES:
        res = run_case(compiled, product, disease)
        for ax, (q, label, floor) in zip(axes.flat, panels, strict=True):
            ax.plot(T, np.maximum(res[q][0], floor), label=f"{product} ({disease})")
            ax.set_ylabel(label)
    for ax, (_, _, floor) in zip(axes.flat, panels, strict=True):
        ax.set_yscale("log")
        ax.set_xscale("symlog", linthresh=30)
        ax.set_ylim(bottom=floor)
        ax.axvline(28, color="0.85", lw=0.8)
    axes[0, 1].axhline(1e9, color="k", ls=":", lw=0.8)
    axes[0, 1].text(200, 1.3e9, "imaging detection", fontsize=8)
    axes[0, 0].scatter([7, 14, 28, 90], [27.5, 9.1, 2.1, 0.1], color="k", zorder=5, s=18,
                       label="axi-cel blood medians (Kimmel 2021)")
    for ax in axes[1]:
        ax.set_xlabel("days after infusion (linear to 30, then log)")
    axes[0, 0].legend(fontsize=7, loc="lower left")
    fig.suptitle("celltrial standard model: one typical patient per product (deterministic, no cure draw)")
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()

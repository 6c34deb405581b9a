"""Run the who-benefits study (scenarios/who_benefits.yaml) and write docs/benefit-study.md.

    python scripts/write_benefit_study.py [--patients N] [--store PATH]

The scenario runs through the same API as ``celltrial run`` (:func:`celltrial.cli.runs.execute`),
its patients are read back from the store, and the analysis is the one ``celltrial benefit RUN``
prints (:func:`celltrial.economics.benefit.who_benefits` on the table's covariates and the patients'
recomputed model parameters). The page shows, per arm, which factors predict PFS and response, and
which change the benefit of the re-dosed off-the-shelf arm over the single autologous dose, every
number measured in that run; the forest plot goes to docs/figures/benefit/forest.png.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

from celltrial.cli.runs import execute
from celltrial.economics.benefit import TABLE_COVARIATES, who_benefits
from celltrial.economics.properties import run_covariates

ROOT = Path(__file__).resolve().parents[1]
SCENARIO = ROOT / "scenarios" / "who_benefits.yaml"
PAGE = ROOT / "docs" / "benefit-study.md"
FIGURE = ROOT / "docs" / "figures" / "benefit" / "forest.png"
ALPHA = 0.05

#: What in this study's answer is extrapolation (hand-written; it does not depend on the numbers).
EXTRAPOLATION = [
    "Everything here is model-derived: the associations are those of the simulated patients, whose "
    "outcomes follow from the model's mechanisms and the sampled parameters, not from patient data.",
    "The LBCL preset and the axi-cel-like product are calibrated to ZUMA-1 (response, CRS, PFS at 15 months, "
    "blood CAR+ levels; docs/validation.md). The off-the-shelf iPSC CAR-T arm is not calibrated to outcome "
    "data: its kinetics are extrapolated from the autologous CAR-T structure with host rejection added, and "
    "no trial has re-dosed it on ctDNA relapse. Its column and every interaction are therefore what the "
    "model's assumptions imply, not forecasts ([E]).",
    "The model parameters (T-cell fitness `fit_T`, antigen-negative share `x_neg`, tumour growth `g_T`, ...) "
    "are model quantities sampled per patient, not measurable markers: no assay reads them off a patient "
    "today. Only the patients-table covariates (baseline burden, baseline ctDNA, prior lines, weight, cells "
    "per dose, host T cells after lymphodepletion) are things a trial could select on, and of those, "
    "weight, burden and prior lines were given distributions by this scenario (their spreads are [E]).",
    "Prior lines act only through the scenario's effect on `fit_T` (factors 1, 0.8, 0.6 for 2, 3, 4+ "
    "lines; [E]): the study can find prior lines predictive only through that assumed path. In the model "
    "`fit_T` multiplies the antigen-driven division of any CAR-T cells in the patient, the allogeneic iPSC "
    "product's included, so prior lines act on both arms; whether pretreatment impairs an allogeneic "
    "product as it does an autologous one is not known, and this is an assumption of the model.",
    "Baseline ctDNA is computed from baseline burden in the model, so the two rows carry the same estimates.",
    "The tables give associations; the run does not separate the mechanisms behind them (for instance "
    "whether the single dose does worse in high-burden patients because of the vein-to-vein wait, the "
    "product, or both).",
    "Parameters are per patient, so a parameter sampled in both arms (e.g. `g_T`, `x_neg`) describes the "
    "same twin in both; product parameters exist in one arm only and get no interaction.",
    "p-values are not adjusted for multiplicity (a column marks those below the Bonferroni bound); the "
    "sample size is chosen by the scenario, so 'no association' means none detectable at that size.",
    "Follow-up is 18 months; nothing here is extrapolated beyond it (no parametric tail).",
]


def run_study(patients: int | None = None, store_path: str | Path | None = None, scenario: Path = SCENARIO):
    """Run the scenario and the analysis; returns (stored run, who_benefits result, seconds)."""
    t0 = time.perf_counter()
    outcome = execute(scenario, patients=patients, store_path=store_path)
    run = outcome.full_run()
    rules = run.meta.get("endpoint_rules", {})
    result = who_benefits(run.patients, run_covariates(run, True), reference_arm=rules.get("reference_arm"),
                          paired=run.meta.get("design") == "paired")
    return run, result, time.perf_counter() - t0


def _ci(e: dict | None, key: str) -> str:
    if not e or e.get(key) is None:
        return "n/a"
    return f"{e[key]:.2f} ({e['low']:.2f}-{e['high']:.2f})"


def _p(e: dict | None, bound: float) -> str:
    if not e or e.get("p") is None:
        return "n/a"
    mark = " **" if e["p"] < bound else (" *" if e["p"] < ALPHA else "")
    return f"{e['p']:.2g}{mark}"


def _label(result: dict, name: str) -> str:
    info = result["covariates"][name]
    scale = ", log10" if info["log10"] else ""
    sd = f"; SD {info['sd']:.3g}{scale}" if info.get("sd") is not None else ""
    return f"{info['label']}{sd}".replace("|", "/")


def n_tests(result: dict) -> int:
    """Hypotheses behind the Bonferroni bound: every estimate reported with a p-value."""
    count = sum(1 for arm in result["arms"].values() for v in arm.values() for k in ("pfs", "response")
                if v.get(k) and v[k].get("p") is not None)
    return count + sum(1 for i in result["interactions"] for v in i["covariates"].values()
                       if v["interaction"].get("p") is not None)


def arm_table(result: dict, arm: str, bound: float) -> list[str]:
    """Markdown table: per covariate, PFS hazard ratio and response odds ratio per SD in one arm."""
    rows = ["| factor | n | PFS HR per SD (95% CI) | p | response OR per SD (95% CI) | p |",
            "|---|---|---|---|---|---|"]
    for name, v in result["arms"][arm].items():
        if v["pfs"] is None and v["response"] is None:
            continue  # constant in this arm (a product property of the other arm)
        rows.append(f"| {_label(result, name)} | {v['n']} | {_ci(v['pfs'], 'hr')} | {_p(v['pfs'], bound)} | "
                    f"{_ci(v['response'], 'or')} | {_p(v['response'], bound)} |")
    return rows


def interaction_table(result: dict, bound: float) -> list[str]:
    """Markdown table: treatment x covariate interaction and the arm HR above/below the median."""
    inter = result["interactions"][0]
    rows = ["| factor | interaction HR per SD (95% CI) | p | median | HR above median (95% CI) | "
            "HR below median (95% CI) |", "|---|---|---|---|---|---|"]
    for name, v in inter["covariates"].items():
        if v["interaction"].get("hr") is None:
            continue
        med = v["median"]
        med = 10 ** med if result["covariates"][name]["log10"] else med
        rows.append(f"| {_label(result, name)} | {_ci(v['interaction'], 'hr')} | {_p(v['interaction'], bound)} | "
                    f"{med:.3g} | {_ci(v['hr_above_median'], 'hr')} | {_ci(v['hr_below_median'], 'hr')} |")
    return rows


def _hits(result: dict, effects: dict, names) -> str:
    """The factors among ``names`` with p < ALPHA in one arm, most significant first, with direction."""
    hits = []
    for name in names:
        for key, stat, what in (("pfs", "hr", "PFS HR"), ("response", "or", "response OR")):
            e = effects[name].get(key)
            if e and e.get("p") is not None and e["p"] < ALPHA:
                good = e[stat] < 1 if key == "pfs" else e[stat] > 1
                hits.append((e["p"], f"{result['covariates'][name]['label']} ({what} {_ci(e, stat)} per SD, "
                                     f"p {e['p']:.2g}; higher is {'better' if good else 'worse'})"))
    return "; ".join(h for _, h in sorted(hits)) or "none at p < 0.05"


def findings(result: dict) -> list[str]:
    """Bullets per arm (trial covariates, then model parameters) and per comparison: the factors with
    p < ALPHA and their direction, then the analysis' plain-language sentence."""
    out = []
    for arm, effects in result["arms"].items():
        table = [n for n in effects if n in TABLE_COVARIATES]
        model = [n for n in effects if n not in TABLE_COVARIATES]
        out.append(f"- **{arm}**, trial covariates: {_hits(result, effects, table)}.")
        out.append(f"- **{arm}**, model parameters (not measurable): {_hits(result, effects, model)}.")
    for inter in result["interactions"]:
        hits = sorted((v["interaction"]["p"], name) for name, v in inter["covariates"].items()
                      if v["interaction"].get("p") is not None and v["interaction"]["p"] < ALPHA)
        words = [f"{result['covariates'][n]['label']} ({_ci(inter['covariates'][n]['interaction'], 'hr')}, p {p:.2g}; "
                 f"{'more' if inter['covariates'][n]['interaction']['hr'] < 1 else 'less'} benefit from "
                 f"{inter['arms'][1]} at higher values)" for p, n in hits]
        out.append(f"- **{inter['arms'][1]} vs {inter['arms'][0]}**, factors that change the benefit: "
                   f"{'; '.join(words) or 'none at p < 0.05'}.")
        out.append(f"- In one sentence: {inter['summary']}")
    return out


def build_page(run, result: dict, seconds: float, figure: str = "figures/benefit/forest.png") -> str:
    """The whole page as markdown: provenance, findings, three tables, the figure and the notes."""
    m = run.meta
    arms = list(result["arms"])
    inter = result["interactions"][0]
    k = n_tests(result)
    bound = ALPHA / max(k, 1)
    return "\n".join([
        "# Who benefits from a single autologous dose, and from off-the-shelf re-dosing", "",
        f"Generated by `python scripts/write_benefit_study.py` on {dt.date.today().isoformat()} from run "
        f"`{run.run_id}` of `scenarios/who_benefits.yaml` ({m['patients_per_arm']} paired virtual patients per "
        f"arm, the same twins in both arms; seed {m['seed']}; {seconds:.0f} s on this machine). Every number "
        "below was measured in that run. Reproduce the analysis with `celltrial run scenarios/who_benefits.yaml` "
        "then `celltrial benefit latest` (docs/economics.md, *Who benefits*). Read the extrapolation notes "
        "before the numbers.", "",
        f"Arms: **{arms[0]}** (one axi-cel-like infusion after a vein-to-vein wait, 5% manufacturing failures, "
        f"intention to treat) and **{arms[1]}** (iPSC CAR-T on day 0, re-dosed on ctDNA relapse, at most 3 more "
        "doses). Effects are per SD of each factor (log10 scale for burden-like quantities); a PFS hazard ratio "
        "below 1 and a response odds ratio above 1 mean higher values do better. The interaction is "
        f"`PFS ~ arm + z + arm x z` on both arms with cluster-robust errors on the twin: below 1, {arms[1]} gains "
        f"more over {arms[0]} at higher values. `*` p < 0.05, `**` below the Bonferroni bound 0.05/{k} = "
        f"{bound:.2g} over the {k} p-values on this page.", "",
        "## Findings", "", *findings(result), "",
        f"## Single autologous dose: {arms[0]}", "", *arm_table(result, arms[0], bound), "",
        f"## Off-the-shelf, re-dosed: {arms[1]}", "", *arm_table(result, arms[1], bound), "",
        f"## Benefit from re-dosing: {inter['arms'][1]} vs {inter['arms'][0]}", "",
        "Hazard ratios above and below the median are of the re-dosed arm against the single dose in that half.",
        "", *interaction_table(result, bound), "",
        f"![Forest plot: PFS hazard ratio per SD in each arm and the interaction]({figure})", "",
        "## Extrapolation notes", "", *[f"- {n}" for n in EXTRAPOLATION], ""])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=None)
    parser.add_argument("--store", default=str(ROOT / "celltrial-runs" / "library.duckdb"))
    args = parser.parse_args()
    run, result, seconds = run_study(args.patients, args.store)
    from celltrial.report.economics import forest_figure

    FIGURE.parent.mkdir(parents=True, exist_ok=True)
    forest_figure(result).savefig(FIGURE, dpi=110)
    PAGE.write_text(build_page(run, result, seconds))
    print(f"{PAGE.relative_to(ROOT)} from run {run.run_id} ({seconds:.0f} s)")


if __name__ == "__main__":
    main()

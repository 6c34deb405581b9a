"""Terminal text of ``celltrial forecast``: posterior, bands, probabilities and the action table.

Works on the JSON summary (:func:`celltrial.forecast.summary.forecast_dict`), so the terminal
and ``--json`` can never disagree.

Example:
    >>> interval({"mean": 1.0, "se": 0.1, "q10": 0.0, "q90": 2.0})
    '1 ± 0.1 [0, 2]'
"""

from __future__ import annotations

from ..calibration.individual_report import render_table


def _g(x, digits=3) -> str:
    return "." if x is None else f"{x:.{digits}g}"


def interval(s: dict) -> str:
    """Mean ± Monte Carlo SE [10 %, 90 % of draws]."""
    return f"{_g(s['mean'])} ± {_g(s['se'], 2)} [{_g(s['q10'])}, {_g(s['q90'])}]"


def share(p: dict) -> str:
    """Probability with its 95 % Monte Carlo interval, in percent."""
    if p["p"] is None:
        return "."
    return f"{100 * p['p']:.0f}% ({100 * p['low']:.0f}-{100 * p['high']:.0f})"


def _posterior(s) -> str:
    post = s["posterior"]
    rows = [{"PARAMETER": n, "TYPICAL": v["typical"], "MAP": v["map"], "MEDIAN": v["median"], "Q10": v["q10"],
             "Q90": v["q90"], "SD/PRIOR_SD": v["sd_ratio"], "INFORMED": "yes" if v["informed"] else "no (prior)"}
            for n, v in post["parameters"].items()]
    ess = (f"ESS {_g(post['ess'])} (chain samples / autocorrelation time)" if post["method"].startswith("MCMC")
           else f"ESS {_g(post['ess'])} of {post['proposals']} proposals")
    head = (f"patient {s['patient']}: forecast from day {_g(s['origin_day'], 4)} (last observation) over "
            f"{_g(s['horizon_days'], 4)} days; posterior by {post['method']}: {post['draws']} draws, {ess}; "
            f"{s['draws_used']} draws used")
    return head + "\n" + render_table(rows)


def _bands(s) -> str:
    rows = []
    for name, b in s["bands"].items():
        picks = sorted({0, len(b["day"]) // 4, len(b["day"]) // 2, len(b["day"]) - 1})
        for i in picks:
            rows.append({"QUANTITY": name, "UNIT": b["unit"], "DAY": b["day"][i], "MEDIAN": b["q50"][i],
                         "80%": f"{_g(b['q10'][i])}-{_g(b['q90'][i])}",
                         "95%": f"{_g(b['q2.5'][i])}-{_g(b['q97.5'][i])}"})
    return "prediction intervals of measurements (residual error included):\n" + render_table(rows)


def _actions(s, currency) -> str:
    horizon = _g(s["horizon_days"], 4)
    rows = [{"ACTION": a["action"], "PFS GAIN (d)": interval(a["pfs_gain_days"]),
             f"P(PROG by +{horizon} d)": share(a["p_progression"]), "P(CRS>=3)": share(a["p_crs3"]),
             "P(ICANS>=3)": share(a["p_icans3"]),
             f"COST ({currency})": interval(a["cost"]), "REDOSED": share(a["p_redosed"])} for a in s["actions"]]
    return ("next moves over the same posterior draws (common random numbers); gains vs none, restricted to the "
            "horizon; mean ± MC SE [10%, 90% of draws]:\n" + render_table(rows))


def render_forecast(s: dict, *, currency: str = "USD") -> str:
    """The whole terminal report of one forecast summary."""
    probs = ", ".join(f"+{k} d {share(v)}" for k, v in s["p_progression_by_days_after_origin"].items())
    lines = [_posterior(s), "", f"P(disease already extinct at day {_g(s['origin_day'], 4)}): "
             f"{share(s['p_extinct_at_origin'])}", f"P(progression by, doing nothing): {probs or '.'}", "",
             _bands(s), "", _actions(s, currency)]
    lines += [f"note: {n}" for n in s["notes"]]
    return "\n".join(lines)

"""The individual HTML report of ``celltrial forecast --html``: history, fit, forecast bands, next moves, limits.

One self-contained page (figures embedded as PNG, the run report's stylesheet): the patient's
data over the posterior predictive bands (80 % and 95 % of measurements, fit and forecast in one
picture, the forecast origin marked), what the data could and could not tell (posterior SD over
prior SD per parameter), P(extinct) and P(progression), the action table, and the notes.

Example:
    >>> "<table" in parameter_rows({"B0": {"typical": 1e11, "map": 9e10, "median": 9e10, "q10": 5e10,
    ...                                    "q90": 2e11, "sd_ratio": 0.4, "informed": True}})
    True
"""

from __future__ import annotations

import numpy as np

from .fmt import esc
from .style import new_figure, rc_context
from .template import embedded_png, page

#: Panels of the bands figure: quantity, observable names in the data, axis label.
PANELS = (("ctdna", ("ctdna",), "ctDNA (hGE/mL)"), ("B_tot", ("B_tot",), "tumour burden (cells)"),
          ("car_copies", ("car_copies",), "CAR transgene (copies/ug gDNA)"),
          ("product_uL", ("product_uL", "car_T_uL"), "CAR+ cells/uL blood"))
#: What every forecast leaves out (docs/forecast.md): said on the page, not only in the docs.
LIMITS = (
    "The prior is the presets' population; a patient unlike it (other disease biology, prior therapies the "
    "model does not know) is extrapolated.",
    "ctDNA assay sampling is the fitted log-normal error, not the trial's Poisson molecule count.",
    "Progression is read continuously: a real scan schedule sees it later, by up to its interval.",
    "Costs count only what differs between actions from the last observation on.",
)


def _fmt(x) -> str:
    return "." if x is None else f"{x:.3g}"


def parameter_rows(params: dict) -> str:
    """The posterior table: what the data could and could not tell, one row per parameter."""
    head = "<tr><th>parameter</th><th>typical</th><th>MAP</th><th>median [10-90 %]</th><th>SD / prior SD</th>" \
           "<th>informed by the data</th></tr>"
    rows = [f"<tr><td>{esc(n)}</td><td>{_fmt(v['typical'])}</td><td>{_fmt(v['map'])}</td>"
            f"<td>{_fmt(v['median'])} [{_fmt(v['q10'])}-{_fmt(v['q90'])}]</td><td>{_fmt(v['sd_ratio'])}</td>"
            f"<td>{'yes' if v['informed'] else 'no: the prior spread is carried into the forecast'}</td></tr>"
            for n, v in params.items()]
    return f"<table>{head}{''.join(rows)}</table>"


def bands_figure(fc, record):
    """Posterior predictive bands of every quantity with the patient's observations (BLQ at the limit)."""
    fig = new_figure(10.0, 6.4)
    axes = fig.subplots(2, 2).ravel()
    observables = np.array(record.observables)
    for ax, (name, obs_names, label) in zip(axes, PANELS, strict=True):
        b = fc.bands[name]
        positive = np.maximum(b, 1e-12)  # log axes: an extinct tumour's 0 is drawn at the floor
        ax.fill_between(fc.t, positive[0], positive[4], color="#c6dbef", label="95 %")
        ax.fill_between(fc.t, positive[1], positive[3], color="#6baed6", label="80 %")
        ax.plot(fc.t, positive[2], color="#08519c", lw=1.2, label="median")
        pick = np.isin(observables, obs_names)
        seen, blq = pick & ~record.blq, pick & record.blq
        ax.plot(record.times[seen], record.values[seen], "o", color="#b42318", ms=4, label="observed")
        ax.plot(record.times[blq], record.lloq[blq], "v", color="#6b7280", ms=5, label="below limit (at LLOQ)")
        ax.axvline(fc.origin, color="#444444", ls="--", lw=1.0)
        ax.set_yscale("log")
        ax.set_ylim(max(float(np.nanmin(positive[2])) / 1e3, 1e-6), float(np.nanmax(positive[4])) * 3)
        ax.set_title(label, fontsize=10)
        ax.set_xlabel("days since first infusion")
    axes[0].legend(frameon=False, fontsize=7)
    return fig


def action_rows(actions: list, currency: str, horizon: float) -> str:
    """The next-moves table: mean ± Monte Carlo SE [10-90 % of draws], probabilities with 95 % intervals."""
    def share(p):
        return f"{100 * p['p']:.0f}% ({100 * p['low']:.0f}-{100 * p['high']:.0f})"

    def mean(s):
        return f"{_fmt(s['mean'])} ± {_fmt(s['se'])} [{_fmt(s['q10'])}, {_fmt(s['q90'])}]"

    head = (f"<tr><th>action</th><th>PFS gain vs none (days)</th><th>P(progression by +{horizon:g} d)</th>"
            f"<th>P(CRS grade ≥ 3)</th><th>P(ICANS grade ≥ 3)</th><th>cost ({esc(currency)})</th>"
            "<th>P(re-dosed)</th></tr>")
    rows = [f"<tr><td>{esc(a['action'])}</td><td>{mean(a['pfs_gain_days'])}</td><td>{share(a['p_progression'])}</td>"
            f"<td>{share(a['p_crs3'])}</td><td>{share(a['p_icans3'])}</td><td>{mean(a['cost'])}</td>"
            f"<td>{share(a['p_redosed'])}</td></tr>"
            for a in actions]
    return f"<table>{head}{''.join(rows)}</table>"


def forecast_page(fc, record, summary: dict, *, currency: str = "USD", notes=()) -> str:
    """The whole HTML page of one forecast (``summary``: :func:`celltrial.forecast.summary.forecast_dict`)."""
    post = summary["posterior"]
    with rc_context():
        figure = embedded_png(bands_figure(fc, record), "posterior predictive bands and observations")
    probs = ", ".join(f"+{k} days: {100 * v['p']:.0f}%" for k, v in summary["p_progression_by_days_after_origin"]
                      .items())
    prior = '<p class="warning">The data inform no parameter: this is the population (prior) forecast.</p>' \
        if post["is_prior"] else ""
    body = (
        f"<h2>History, fit and forecast</h2>{prior}<figure>{figure}<figcaption>Bands: 80 % and 95 % of future "
        f"measurements over {summary['draws_used']} posterior draws (residual error included); dashed line: the "
        f"last observation (day {fc.origin:g}).</figcaption></figure>"
        f"<p>P(disease already extinct at day {fc.origin:g}): {100 * summary['p_extinct_at_origin']['p']:.0f}%. "
        f"P(progression, doing nothing): {esc(probs) or '.'}.</p>"
        f"<h2>What the data could and could not tell</h2><p>Posterior by {esc(post['method'])}; effective sample "
        f"size {_fmt(post['ess'])}.</p>{parameter_rows(post['parameters'])}"
        f"<h2>Next moves</h2><p>Every action over the same posterior draws (common random numbers).</p>"
        f"{action_rows(summary['actions'], currency, fc.horizon)}"
        "<h2>Notes and extrapolation</h2><ul>" + "".join(f"<li>{esc(n)}</li>" for n in (*notes, *LIMITS)) + "</ul>")
    header = (f'<header class="top"><h1>Forecast of patient {esc(fc.patient)}</h1><p class="subtitle">from day '
              f"{fc.origin:g} over {fc.horizon:g} days</p></header>")
    return page(f"celltrial forecast: patient {fc.patient}", header, "", body,
                "celltrial: in-silico forecast, not a clinical recommendation")

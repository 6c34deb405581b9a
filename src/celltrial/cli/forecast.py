"""``celltrial forecast``: one patient's forecast from their own data, and candidate next moves compared.

Thin: parse, call :func:`celltrial.forecast.forecast_patient`, format. The prior comes from
``--disease/--product`` presets (as ``celltrial fit``) or from one arm of a scenario
(``--scenario S.yaml --arm A``: its disease changes, endpoints and costs too). Bad input exits 2
with a message naming the row and column (data), the field (actions file) or the option.

Example:
    $ celltrial simdata --out sim.csv --disease b-all --product tisa-cel-like --fit B0,g_T \\
          --observable ctdna --times 7,14,28,56 --lloq 0.01 --patients 3
    $ celltrial forecast sim.csv --id 2 --disease b-all --product tisa-cel-like
    $ celltrial forecast sim.csv --id 2 --scenario scenarios/quickstart.yaml --arm axi-cel --json
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..errors import InputError, did_you_mean
from .fit import OMEGA_HELP, _omegas
from .root import app, guarded, seed_option

ACTIONS_HELP = ("YAML file with `actions:` (name, kind: none|redose|anti_pd1|redose_on_ctdna, and the kind's fields); "
                "default: none, re-dose now (1x, 3x), anti-PD-1 200 mg q3w x4, re-dose when ctDNA >= --threshold.")


def _prior(disease, product, scenario, arm, fit, omega):
    from ..forecast.prior import from_presets, from_scenario

    names = [n.strip() for n in (fit or "").split(",") if n.strip()] or None
    if scenario is not None:
        if disease or product or not arm:
            raise InputError("--scenario goes with --arm ARM, and without --disease/--product")
        return from_scenario(scenario, arm, fit=names, omega=_omegas(omega))
    if not (disease and product):
        raise InputError("give --disease and --product presets, or --scenario S.yaml --arm ARM")
    return from_presets(disease, product, fit=names, omega=_omegas(omega))


def _record(data, pid, observable):
    from ..calibration.nonmem import read_nonmem

    if not Path(data).is_file():
        raise InputError(f"data file {data!r} not found")
    records = read_nonmem(data, observable=observable, require_observations=False)
    ids = [r.id for r in records]
    if pid not in ids:
        raise InputError(f"--id {pid!r}: no such patient in {data}{did_you_mean(pid, ids)}; IDs: {ids[:20]}")
    return records[ids.index(pid)]


def _days(text):
    try:
        return tuple(sorted(float(x) for x in text.split(",") if x.strip()))
    except ValueError:
        raise InputError(f"--days {text!r}: give comma-separated days after the last observation, e.g. 30,90") from None


@app.command("forecast")
@guarded
def forecast_command(
    data: str = typer.Argument(..., metavar="DATA", help="NONMEM-style CSV of the history (docs/forecast.md)."),
    pid: str = typer.Option(..., "--id", help="The patient's ID in DATA."),
    disease: str = typer.Option(None, "--disease", help="Disease preset (the prior), e.g. b-all."),
    product: str = typer.Option(None, "--product", help="Product preset, e.g. tisa-cel-like."),
    scenario: str = typer.Option(None, "--scenario", help="Scenario file: the prior of one of its arms (with --arm)."),
    arm: str = typer.Option(None, "--arm", help="Arm of --scenario."),
    fit: str = typer.Option(None, "--fit", help="Parameters with a random effect (default: all the presets vary)."),
    omega: str = typer.Option(None, "--omega", help=OMEGA_HELP),
    sigma: float = typer.Option(0.5, "--sigma", min=1e-3, max=5.0, help="Residual SD on log scale."),
    observable: str = typer.Option(None, "--observable", help="Observable of rows without OBS (e.g. ctdna)."),
    actions: str = typer.Option(None, "--actions", help=ACTIONS_HELP),
    threshold: float = typer.Option(1.0, "--threshold", min=1e-6, help="ctDNA trigger (hGE/mL) of the defaults."),
    horizon: float = typer.Option(180.0, "--horizon", min=1.0, max=3650.0, help="Days forecast after the last data."),
    days: str = typer.Option("30,90,180", "--days", help="Days after the last observation for P(progression by then)."),
    draws: int = typer.Option(200, "--draws", min=10, max=5000, help="Posterior draws simulated per action."),
    proposals: int = typer.Option(None, "--proposals", min=10, max=100_000, help="Importance proposals (4x draws)."),
    seed: int = seed_option(0, "Seed of the posterior sampling, extinction and assay noise"),
    as_json: bool = typer.Option(False, "--json", help="Print the forecast as JSON."),
    out: str = typer.Option(None, "--out", help="Also write the JSON here."),
    html: str = typer.Option(None, "--html", help="Also write the individual HTML report here."),
):
    """Forecast one patient from their data (posterior by importance sampling) and compare next moves."""
    from ..forecast import default_actions, forecast_patient, load_actions
    from ..forecast.summary import forecast_dict
    from .compiling import ensure_standard_compiled

    record = _record(data, pid, observable)  # the data and the actions are checked before any compile
    setting = _prior(disease, product, scenario, arm, fit, omega)
    chosen = load_actions(actions) if actions else default_actions(threshold=threshold)
    ensure_standard_compiled()
    fc = forecast_patient(record, setting.population, actions=chosen, horizon=horizon, days=_days(days),
                          n_draws=draws, n_proposals=proposals, sigma=sigma, seed=seed, endpoints=setting.endpoints,
                          costs=setting.costs, dose_price=setting.dose_price)
    summary = forecast_dict(fc)
    summary["notes"] = list(setting.notes) + summary["notes"]
    if out is not None:
        Path(out).write_text(json.dumps(summary, indent=2))
    if html is not None:
        from ..report.forecast import forecast_page

        page = forecast_page(fc, record, summary, currency=setting.costs.currency, notes=summary["notes"])
        Path(html).write_text(page, encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    from .forecast_display import render_forecast

    typer.echo(render_forecast(summary, currency=setting.costs.currency))

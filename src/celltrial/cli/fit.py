"""Individual-fit commands of the CLI: fit (MAP per patient) and simdata (virtual NONMEM-style data).

Thin: parse, call :mod:`celltrial.calibration.individual`, format. Bad input exits with code 2
and a message naming the row, column or option (see :func:`celltrial.cli.root.guarded`).

Example:
    $ celltrial simdata --out sim.csv --disease b-all --product tisa-cel-like --fit f_engraft,d_EFF \\
          --patients 20 --lloq 30 --seed 1
    $ celltrial fit sim.csv --disease b-all --product tisa-cel-like --fit f_engraft,d_EFF
    $ celltrial fit sim.csv --disease b-all --product tisa-cel-like --fit d_EFF --json --out fit.json
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import typer

from ..errors import InputError
from .root import app, guarded, seed_option

DEFAULT_DAYS = "1,2,4,7,9,11,14,17,21,28,35,42,56,70,90"
FIT_HELP = "Parameters with a random effect, comma-separated (e.g. f_engraft,d_EFF)."
OMEGA_HELP = "Prior log-scale SDs as NAME=VALUE, comma-separated; default: the presets' variability."


def _names(text: str) -> list:
    names = [n.strip() for n in (text or "").split(",") if n.strip()]
    if not names:
        raise InputError("--fit: name at least one parameter, e.g. --fit f_engraft,d_EFF")
    return names


def _omegas(text: str | None) -> dict:
    out = {}
    for item in [i for i in (text or "").split(",") if i.strip()]:
        name, _, value = item.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise InputError(f"--omega {item!r}: write NAME=VALUE with a number, e.g. --omega d_EFF=0.3") from None
    return out


def _days(text: str):
    try:
        days = sorted(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise InputError(f"--times {text!r}: give comma-separated days, e.g. {DEFAULT_DAYS}") from None
    if not days or days[0] < 0:
        raise InputError(f"--times {text!r}: give one or more days >= 0")
    return days


@app.command("fit")
@guarded
def fit_command(
    data: str = typer.Argument(..., metavar="DATA", help="NONMEM-style CSV (ID, TIME, DV, OBS, AMT, EVID, MDV, "
                                                         "LLOQ, BLQ), e.g. made by `celltrial simdata`."),
    disease: str = typer.Option(..., "--disease", help="Disease preset (typical values), e.g. b-all."),
    product: str = typer.Option(..., "--product", help="Product preset (doses, variability), e.g. tisa-cel-like."),
    fit: str = typer.Option(..., "--fit", help=FIT_HELP),
    omega: str = typer.Option(None, "--omega", help=OMEGA_HELP),
    sigma: float = typer.Option(0.5, "--sigma", help="Residual SD on log scale (proportional error)."),
    estimate_sigma: bool = typer.Option(False, "--estimate-sigma", help="Also estimate sigma."),
    observable: str = typer.Option(None, "--observable", help="Observable of rows without OBS (e.g. car_copies)."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    out: str = typer.Option(None, "--out", help="Write the JSON summary with the observation table here."),
    observations: bool = typer.Option(False, "--observations", help="Also print observed vs predicted."),
    vpc_path: str = typer.Option(None, "--vpc", help="Write a visual predictive check figure (png/svg/pdf)."),
):
    """MAP fit of each patient's parameters to time series, with the preset population as prior."""
    from ..calibration.individual import IdentifiabilityWarning, fit_individuals
    from ..calibration.individual_report import observation_table, parameter_table, render_table, summary_dict
    from ..calibration.nonmem import read_nonmem
    from .compiling import ensure_standard_compiled

    if not Path(data).is_file():
        raise InputError(f"data file {data!r} not found (make one with `celltrial simdata --out {data} ...`)")
    # the whole file is read and checked before the compile: a malformed row fails at once, not minutes later
    records = read_nonmem(data, observable=observable)
    names, omegas = _names(fit), _omegas(omega)
    ensure_standard_compiled()
    with warnings.catch_warnings():  # printed below from result.warnings, not as a Python warning
        warnings.simplefilter("ignore", IdentifiabilityWarning)
        result = fit_individuals(records, disease, product, names, omega=omegas, sigma=sigma,
                                 estimate_sigma=estimate_sigma, observable=observable)
    summary = summary_dict(result)
    if vpc_path is not None:
        _write_vpc(result, vpc_path, observable)
    if out is not None:
        Path(out).write_text(json.dumps(summary_dict(result, observations=True), indent=2))
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(render_table(parameter_table(result)))
    shrink = ", ".join(f"{k} {v:.0%}" for k, v in result.shrinkage.items())
    typer.echo(f"\nsigma {result.sigma:.3g}{' (estimated)' if result.sigma_estimated else ''}; "
               f"objective {result.objective:.4g}; eta shrinkage: {shrink}")
    if observations:
        typer.echo("\n" + render_table(observation_table(result)))
    for line in result.warnings[:10]:
        typer.echo(f"warning: {line}", err=True)
    if len(result.warnings) > 10:
        typer.echo(f"warning: ... {len(result.warnings) - 10} more (all of them: --json)", err=True)


def _write_vpc(result, path: str, observable: str | None) -> None:
    import numpy as np

    from ..calibration.individual_report import vpc
    from ..report.vpc import write_vpc

    name = observable or result.records[0].observables[0]
    data = vpc(result.population, result.records, observable=name, rng=np.random.default_rng(0), sigma=result.sigma)
    write_vpc(data, path)


@app.command("simdata")
@guarded
def simdata_command(
    out: str = typer.Option(..., "--out", "-o", help="CSV file to write (NONMEM layout)."),
    disease: str = typer.Option(..., "--disease", help="Disease preset, e.g. b-all."),
    product: str = typer.Option(..., "--product", help="Product preset, e.g. tisa-cel-like."),
    fit: str = typer.Option(..., "--fit", help="Parameters drawn per patient from the prior. " + FIT_HELP),
    omega: str = typer.Option(None, "--omega", help=OMEGA_HELP),
    patients: int = typer.Option(20, "--patients", "-n", min=1, help="Virtual patients."),
    seed: int = seed_option(0, "Random seed of the random effects and the residual error"),
    sigma: float = typer.Option(0.5, "--sigma", min=0.0, help="Residual SD on log scale (0 = none)."),
    lloq: float = typer.Option(None, "--lloq", help="Censor values below this limit (unit of the observable)."),
    times: str = typer.Option(DEFAULT_DAYS, "--times", help="Comma-separated observation days."),
    observable: str = typer.Option("car_copies", "--observable", help="Observable measured."),
):
    """Simulate virtual patients' observations (random effects, residual error, BLQ) as a NONMEM-style CSV."""
    import numpy as np

    from ..calibration.individual import PopulationModel
    from ..calibration.individual_report import simulate_dataset
    from ..calibration.nonmem import known_observables
    from ..errors import did_you_mean
    from .compiling import ensure_standard_compiled

    if observable not in known_observables():
        raise InputError(f"--observable: unknown observable {observable!r}"
                         f"{did_you_mean(observable, known_observables())}; see `celltrial model`")
    if lloq is not None and not lloq > 0:
        raise InputError(f"--lloq must be > 0, got {lloq}")
    pop = PopulationModel.from_presets(disease, product, _names(fit), omega=_omegas(omega))
    days = _days(times)
    ensure_standard_compiled()
    records = simulate_dataset(pop, days, observable=observable, n_patients=patients,
                               rng=np.random.default_rng(seed), sigma=sigma, lloq=lloq, path=out)
    n_blq = sum(int(r.blq.sum()) for r in records)
    typer.echo(f"wrote {len(records)} patients ({sum(r.n_obs for r in records)} observations, {n_blq} below "
               f"the limit) to {out}")

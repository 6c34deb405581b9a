"""Write a population fit: its evidence files, and the fitted values into the preset files.

:func:`write_fit` leaves ``summary.json`` (posterior medians and 95% credible intervals on the
natural scale, correlations, emulator diagnostics per wave, target checks, warnings),
``posterior.csv`` (the draws, natural scale) and ``design.csv`` (every simulated design point
and its summaries on the link scale) in one folder. :func:`update_presets` rewrites the presets
the case names: each fitted value gets an ``[F]`` source naming the case and its credible
interval, and the preset's ``calibration`` record lists targets, achieved values and what moved.

Example:
    >>> preset_file("lbcl").name
    'lbcl.yaml'
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import yaml

from ..errors import InputError
from .summaries import RATE, quantity
from .validation import Row, row_json

__all__ = ["preset_file", "update_presets", "write_fit", "fit_summary", "target_json"]

#: Added to the achieved value of a target that fails validation's rule (predictive p-value < 0.05).
FAILED_NOTE = " (published value outside the range of replicate trials of its size, p < 0.05)"


def preset_file(name: str) -> Path:
    """The YAML file of the shipped disease or product preset ``name``.

    ``name`` comes from a case file and the file is rewritten by ``--write-presets``, so it must be
    the name of a shipped preset, matched against the folder's listing: never a path, never ``..``.
    """
    root = (Path(__file__).resolve().parents[1] / "presets" / "data").resolve()
    for kind in ("diseases", "products"):
        names = {p.stem: p for p in (root / kind).glob("*.yaml") if p.is_file()}
        path = names.get(str(name))
        if path is not None and path.resolve().parent == root / kind:  # no symlink out of the folder either
            return path
    raise InputError(f"no shipped preset named {name!r}: a case's fit.parameters[].preset must be a preset name "
                     f"(e.g. lbcl), not a path")


def fit_summary(case, fit, seconds: float, settings: dict | None = None) -> dict:
    """JSON-ready summary of a :class:`~celltrial.calibration.fit.PopulationFit`.

    ``settings`` records how it was run (patients, fit seed, design points, waves, the command).
    """
    waves = []
    for w in fit.waves.waves if fit.waves is not None else []:
        loo = w.emulator.loo_
        waves.append({"wave": w.index, "design_points": int(len(w.design)), "failed": int(w.n_failed),
                      "emulator_training_points": int(w.n_train),
                      "loo_q2": dict(zip([f"{q}@{d}" if d else q for q, d in case.wanted()], map(float, loo.q2),
                                         strict=True)),
                      "acceptance": float(w.posterior.acceptance),
                      "autocorrelation_reliable": bool(w.posterior.tau_reliable)})
    return {
        "case": case.name, "title": case.targets.title, "seconds": round(seconds, 1),
        "trial_seed": int(case.scenario.seed), "settings": settings or {},
        "posterior": fit.values,
        "correlations": {"labels": fit.labels, "matrix": np.round(fit.correlations, 3).tolist()},
        "waves": waves, "warnings": fit.warnings,
        "targets": [target_json(c) for c in fit.checks],
    }


def target_json(check) -> dict:
    """A :class:`~celltrial.calibration.fit.TargetCheck` as ``celltrial validate --json`` writes a row.

    Example:
        >>> from celltrial.calibration.fit import TargetCheck
        >>> row = target_json(TargetCheck("cr", "58% (n=101)", 0.47, (0.39, 0.55), False, "why", "47%", 0.04321,
        ...                               "trials of 101: 37–57%", True))
        >>> row["target"], row["p_value"], row["overlap"]
        ('cr', 0.0432, True)
    """
    return row_json(Row(check.name, check.observed, check.text, check.passed, check.reason, check.p_value,
                        check.predictive, check.overlap))


def write_fit(folder: str | Path, case, problem, fit, seconds: float, settings: dict | None = None) -> Path:
    """Write summary.json, posterior.csv and design.csv into ``folder`` (created); returns it.

    design.csv holds every design point that simulated (natural scale) and its summaries on the
    link scale (logit of rates, log of the rest); rows that failed are counted in summary.json.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(fit_summary(case, fit, seconds, settings), indent=2))
    natural = np.array([[p.from_theta(x) for p, x in zip(problem.parameters, row, strict=True)]
                        for row in fit.samples[:: max(1, len(fit.samples) // 4000)]])
    _write_csv(folder / "posterior.csv", fit.labels, natural)
    if fit.waves is not None:
        names = [f"{'logit' if quantity(q)[1] == RATE else 'log'} {q}@{d}" if d else
                 f"{'logit' if quantity(q)[1] == RATE else 'log'} {q}" for q, d in case.wanted()]
        rows = [[w.index, *problem.values(x), *y] for w in fit.waves.waves
                for x, y in zip(w.design, w.outputs, strict=True)]
        _write_csv(folder / "design.csv", ["wave", *fit.labels, *names], rows)
    return folder


def _write_csv(path: Path, header, rows) -> None:
    with path.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        table = np.asarray(rows).tolist()
        writer.writerows([[f"{v:.6g}" if isinstance(v, float) else v for v in row] for row in table])


def _default(name: str) -> float:
    from ..biology import standard_model

    model = standard_model()
    return float(model.default_parameters()[model.parameter_names.index(name)])


def update_presets(case, problem, fit, command: str) -> list:
    """Write the posterior medians into the presets the case names; returns the files changed."""
    by_preset: dict = {}
    for p in problem.parameters:
        if not p.preset:
            raise InputError(f"{case.path}: fit parameter {p.label} names no `preset` to record it in")
        by_preset.setdefault(p.preset, []).append(p)
    changed = []
    for preset, params in by_preset.items():
        path = preset_file(preset)
        data = yaml.safe_load(path.read_text())
        moved = []
        for p in params:
            v = fit.values[p.label]
            ci = _interval(v)
            if p.kind == "typical":
                default = f"{_default(p.name):g} (model default)"
                old = data.setdefault("parameters", {}).get(p.name, {}).get("value", default)
                data["parameters"][p.name] = _fitted_entry(case, v)
            else:
                old = data.setdefault("variability", {}).get(p.name, 0)
                data["variability"][p.name] = float(f"{v['median']:.3g}")
            moved.append(f"{p.label}: {old} -> {v['median']:.4g} ({ci})")
        data["calibration"] = {
            "command": command,
            "targets": {c.name: c.observed for c in fit.checks},
            "achieved": {c.name: c.text + ("" if c.passed else FAILED_NOTE) for c in fit.checks},
            "moved": moved,
        }
        path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110))
        changed.append(path)
    return changed + _write_shared(case, problem, fit)


def _interval(v: dict) -> str:
    return f"95% CrI {v['low']:.3g}-{v['high']:.3g}"


def _fitted_entry(case, v: dict, note: str = "") -> dict:
    """A preset's parameter entry for a fitted typical value, its source citing the fit."""
    return {"value": float(f"{v['median']:.4g}"),
            "source": f"[F] celltrial calibrate {case.name} (posterior median, {_interval(v)}{note})"}


def _write_shared(case, problem, fit) -> list:
    """Write shared typical values into the other presets that use them (their value only, citing the fit)."""
    changed = []
    for p in problem.parameters:
        for other in p.shared_with:
            path = preset_file(other)
            data = yaml.safe_load(path.read_text())
            data.setdefault("parameters", {})[p.name] = _fitted_entry(
                case, fit.values[p.label], f"; shared with {p.preset}, not refitted here")
            path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=110))
            changed.append(path)
    return changed

"""Individual MAP calibration: likelihoods by hand, parameter recovery with BLQ censoring,
identifiability warnings, diagnostics tables, VPC bands and the fit/simdata commands.

One simulated data set (four tisa-cel-like B-ALL patients, known etas on f_engraft and d_EFF,
sampling days 1-90, LLOQ 300 copies/ug) is fitted once per module.
"""

import json
import math

import numpy as np
import pytest
from typer.testing import CliRunner

from celltrial.calibration.individual import (
    IdentifiabilityWarning,
    PopulationModel,
    fit_individuals,
    m3_loglik,
    proportional_loglik,
)
from celltrial.calibration.individual_report import (
    observation_table,
    parameter_table,
    render_table,
    simulate_dataset,
    summary_dict,
    vpc,
)
from celltrial.calibration.nonmem import PatientData, write_nonmem
from celltrial.errors import InputError

DISEASE, PRODUCT, FIT = "b-all", "tisa-cel-like", ["f_engraft", "d_EFF"]
TRUE_ETA = np.array([[0.8, -0.2], [-0.9, 0.15], [0.3, 0.3], [-0.4, -0.25]])
DAYS = np.array([1, 2, 4, 7, 9, 11, 14, 17, 21, 28, 35, 42, 56, 70, 90.0])
SIGMA, LLOQ = 0.3, 300.0  # LLOQ above the slow phase of some patients, so late samples are censored


# --- likelihoods by hand -------------------------------------------------------------------------

def test_m3_censored_loglik_by_hand():
    # log Phi((log LLOQ - log f) / sigma): at the limit a half; one and two SDs above or below.
    assert m3_loglik(50.0, 50.0, 1.0) == pytest.approx(math.log(0.5), rel=1e-12)
    assert m3_loglik(50.0 * math.e, 50.0, 1.0) == pytest.approx(math.log(0.8413447460685429), rel=1e-12)
    assert m3_loglik(50.0 * math.exp(-1.0), 50.0, 0.5) == pytest.approx(math.log(0.022750131948179195), rel=1e-12)
    assert m3_loglik(1.0, 1e30, 0.5) == pytest.approx(-0.5 * (math.log(1e30) / 0.5) ** 2, rel=0.01)  # far tail


def test_proportional_error_loglik_by_hand():
    c = -0.5 * math.log(2 * math.pi)
    assert proportional_loglik(7.0, 7.0, 1.0) == pytest.approx(c, rel=1e-12)
    assert proportional_loglik(7.0 * math.exp(0.5), 7.0, 0.5) == pytest.approx(c - 0.5 - math.log(0.5), rel=1e-12)
    assert proportional_loglik(7.0 * math.exp(-0.6), 7.0, 0.3) == pytest.approx(c - 2.0 - math.log(0.3), rel=1e-12)


# --- one simulated study, fitted once ------------------------------------------------------------

@pytest.fixture(scope="module")
def population(standard):  # `standard` compiles the model once per session (cached on disk)
    return PopulationModel.from_presets(DISEASE, PRODUCT, FIT)


@pytest.fixture(scope="module")
def records(population):
    return simulate_dataset(population, DAYS, eta=TRUE_ETA, rng=np.random.default_rng(5), sigma=SIGMA, lloq=LLOQ)


@pytest.fixture(scope="module")
def fit(records):
    return fit_individuals(records, DISEASE, PRODUCT, FIT, sigma=SIGMA)


def test_simulated_study_has_censored_points(records):
    blq = np.concatenate([r.blq for r in records])
    # infused cells leave the blood within hours, so the first days' samples can fall below the LLOQ
    assert 3 <= blq.sum() <= 45
    assert all(np.isnan(r.values[r.blq]).all() and (r.lloq == LLOQ).all() for r in records)


def test_true_parameters_lie_within_3_standard_errors(fit):
    assert all(p.converged for p in fit.patients) and fit.warnings == ()
    for p, eta in zip(fit.patients, TRUE_ETA, strict=True):
        z = (p.eta - eta) / p.se_eta
        assert np.all(np.abs(z) < 3.0), (p.id, p.eta, eta, p.se_eta)
        # the data inform both parameters, by the library's own identifiability rule (posterior SD < 0.9 prior SD);
        # with budget-limited expansion d_EFF shares its information with the contraction, so the margin is smaller
        assert np.all(p.se_eta < 0.9 * np.asarray(fit.population.omega))
        for k, name in enumerate(FIT):  # delta method: SE on the parameter scale = value x SE of eta
            assert p.values[name] == pytest.approx(fit.population.typical[k] * math.exp(p.eta[k]), rel=1e-12)
            assert p.se[name] == pytest.approx(p.values[name] * p.se_eta[k], rel=1e-12)
        np.testing.assert_allclose(np.diag(p.corr), 1.0, rtol=1e-12)


def test_objective_treats_blq_points_as_censored(fit, records):
    # Rebuild each patient's objective from the public likelihoods at the fitted predictions.
    omega = np.asarray(fit.population.omega)
    for p, r in zip(fit.patients, records, strict=True):
        obs, cens = ~r.blq, r.blq
        loglik = proportional_loglik(r.values[obs], p.ipred[obs], SIGMA).sum()
        loglik += m3_loglik(r.lloq[cens], p.ipred[cens], SIGMA).sum()
        prior = (-0.5 * (p.eta / omega) ** 2 - np.log(omega) - 0.5 * math.log(2 * math.pi)).sum()
        assert p.objective == pytest.approx(-(loglik + prior), rel=1e-10)
    assert fit.objective == pytest.approx(sum(p.objective for p in fit.patients), rel=1e-12)


def test_observation_table_marks_censored_rows(fit, records):
    rows = observation_table(fit)
    assert len(rows) == sum(r.n_obs for r in records)
    blq = [row for row in rows if row["BLQ"]]
    assert blq and all(math.isnan(row["IWRES"]) and math.isnan(row["DV"]) and row["LLOQ"] == LLOQ for row in blq)
    iwres = np.array([row["IWRES"] for row in rows if not row["BLQ"]])
    assert np.abs(iwres).max() < 4.0 and abs(iwres.mean()) < 0.5
    text = render_table(rows, ["ID", "TIME", "DV", "IPRED", "PRED", "IWRES", "BLQ"])
    assert text.splitlines()[0].split() == ["ID", "TIME", "DV", "IPRED", "PRED", "IWRES", "BLQ"]
    assert len(text.splitlines()) == len(rows) + 1


def test_parameter_table_and_summary(fit):
    rows = parameter_table(fit)
    assert len(rows) == 4 * len(FIT) and {r["PARAMETER"] for r in rows} == set(FIT)
    summary = json.loads(json.dumps(summary_dict(fit)))
    assert summary["fitted"] == FIT and len(summary["patients"]) == 4
    assert set(summary["shrinkage"]) == set(FIT)


def test_unidentifiable_parameter_is_named_in_a_warning(records):
    # d_K (NK-cell death) cannot affect CAR-T copies in a T-cell-only patient.
    with pytest.warns(IdentifiabilityWarning, match="d_K is not identifiable"):
        fit = fit_individuals(records[:2], DISEASE, PRODUCT, ["d_EFF", "d_K"], sigma=SIGMA, omega={"d_K": 0.5})
    for p in fit.patients:
        assert p.se_eta[1] == pytest.approx(0.5, rel=1e-3) and abs(p.eta[1]) < 1e-6
        assert p.se_eta[0] < 0.75 * fit.population.omega[0]  # d_EFF is informed by the data: well under its prior
        assert any("d_K is not identifiable" in w and "prior" in w for w in p.warnings)
        assert not any("d_EFF is not" in w for w in p.warnings)
    assert fit.shrinkage["d_K"] == pytest.approx(1.0, abs=1e-6)


def test_sigma_is_estimated_near_the_truth(records):
    fit = fit_individuals(records, DISEASE, PRODUCT, FIT, sigma=0.8, estimate_sigma=True)
    assert fit.sigma_estimated and 0.2 < fit.sigma < 0.4  # MAP estimates of sigma run slightly low


def test_doses_in_the_data_replace_the_preset_dose(population):
    rec = PatientData("1", [7.0], [100.0], ["car_copies"], [math.nan], [False], doses=[(0.0, 2e8), (60.0, 5e7)])
    infused = [e.amounts["I_T"] for e in population.events(rec) if hasattr(e, "amounts")]
    assert infused == [2e8, 5e7]
    no_dose = PatientData("2", [7.0], [100.0], ["car_copies"], [math.nan], [False])
    assert [e.amounts["I_T"] for e in population.events(no_dose) if hasattr(e, "amounts")] == [9.3e7]


def test_vpc_bands_are_ordered_and_carry_the_observations(population, records):
    v = vpc(population, records, observable="car_copies", rng=np.random.default_rng(2), sigma=SIGMA, n_rep=25)
    assert v.bands.shape == (3, DAYS.size)
    assert np.all(v.bands[0] <= v.bands[1]) and np.all(v.bands[1] <= v.bands[2])
    assert v.obs_values.size == sum(r.n_obs for r in records) and v.lloq == LLOQ
    assert v.obs_blq.sum() == sum(r.blq.sum() for r in records)


def test_prior_setup_errors_say_what_to_do():
    with pytest.raises(InputError, match="did you mean 'd_EFF'"):
        PopulationModel.from_presets(DISEASE, PRODUCT, ["d_EF"])
    with pytest.raises(InputError, match=r"no prior SD \(omega\) for \['d_K'\].*omega=\{'d_K': 0.5\}"):
        PopulationModel.from_presets(DISEASE, PRODUCT, ["d_K"])
    with pytest.raises(InputError, match="sigma"):
        fit_individuals([], DISEASE, PRODUCT, FIT, sigma=0.0)


# --- command line --------------------------------------------------------------------------------

def test_simdata_then_fit_from_the_command_line(tmp_path, standard):
    from celltrial.cli import app

    runner, data = CliRunner(), tmp_path / "sim.csv"
    made = runner.invoke(app, ["simdata", "--out", str(data), "--disease", DISEASE, "--product", PRODUCT,
                               "--fit", "d_EFF", "--patients", "3", "--lloq", "30", "--seed", "4",
                               "--times", "2,7,14,28,56"])
    assert made.exit_code == 0, made.output
    out = runner.invoke(app, ["fit", str(data), "--disease", DISEASE, "--product", PRODUCT, "--fit", "d_EFF",
                              "--sigma", "0.5", "--json", "--out", str(tmp_path / "fit.json")])
    assert out.exit_code == 0, out.output
    assert [p["id"] for p in json.loads(out.stdout)["patients"]] == ["1", "2", "3"]
    saved = json.loads((tmp_path / "fit.json").read_text(), parse_constant=pytest.fail)  # strict JSON, no NaN
    assert len(saved["observations"]) == 15 and {"IPRED", "PRED", "IWRES", "BLQ"} <= set(saved["observations"][0])
    text = runner.invoke(app, ["fit", str(data), "--disease", DISEASE, "--product", PRODUCT, "--fit", "d_EFF",
                               "--vpc", str(tmp_path / "vpc.png")])
    assert text.exit_code == 0 and "shrinkage" in text.output and "d_EFF" in text.output
    assert (tmp_path / "vpc.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    omega = runner.invoke(app, ["fit", str(data), "--disease", DISEASE, "--product", PRODUCT, "--fit", "d_EFF",
                                "--omega", "d_EFF"])
    assert omega.exit_code == 2 and "NAME=VALUE" in omega.output
    bad = tmp_path / "bad.csv"
    bad.write_text(data.read_text().replace("car_copies", "car_copy", 1))
    failed = runner.invoke(app, ["fit", str(bad), "--disease", DISEASE, "--product", PRODUCT, "--fit", "d_EFF"])
    assert failed.exit_code == 2 and "row 3, column OBS" in failed.output and "car_copies" in failed.output


def test_fit_accepts_a_written_file(tmp_path, records, fit):
    path = write_nonmem(tmp_path / "study.csv", records)
    again = fit_individuals(path, DISEASE, PRODUCT, FIT, sigma=SIGMA)
    np.testing.assert_allclose([p.eta for p in again.patients], [p.eta for p in fit.patients], rtol=0, atol=1e-9)

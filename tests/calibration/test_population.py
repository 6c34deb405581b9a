"""Population calibration glue: cohort summaries, link scales, the emulated likelihood, cases, CRN, records."""

import json

import numpy as np
import pytest
import yaml
from scipy.special import logit

from celltrial.calibration.cases import case_names, load_case
from celltrial.calibration.fit import emulated_log_likelihood, identifiability_warnings, link_values
from celltrial.calibration.likelihood import normal_log_likelihood, rate_log_likelihood
from celltrial.calibration.population import FitParameter, PopulationProblem, apply_values
from celltrial.calibration.summaries import CohortResult, summarise_cohort
from celltrial.calibration.targets import LandmarkTarget, RateTarget, ValueTarget
from celltrial.calibration.validation import _cr_count_row, _crs_row
from celltrial.errors import InputError
from celltrial.trials.statistics import landmark


def cohort(n=8):
    t = np.arange(0.0, 31.0)
    blood = np.outer(np.arange(1.0, n + 1), np.exp(-0.1 * t))  # patient i: i * exp(-0.1 t)
    patients = {
        "status": np.array(["OK"] * (n - 1) + ["FAILED"]),
        "cr": np.array([1, 1, 1, 0, 0, 1, 0, 1], bool)[:n], "responder": np.array([1, 1, 1, 1, 0, 1, 0, 1], bool)[:n],
        "time_to_response_days": np.array([28, 28, 90, 28, np.nan, 180, np.nan, 28.0])[:n],
        "time_to_cr_days": np.array([28, 90, 90, np.nan, np.nan, 180, np.nan, 28.0])[:n],
        "crs_grade": np.array([0, 1, 2, 3, 4, 1, 0, 3])[:n],
        "pfs_days": np.array([30, 200, 400, 100, 50, 500, 20, 10.0])[:n],
        "pfs_event": np.array([1, 1, 0, 1, 1, 0, 1, 1], bool)[:n],
        "os_days": np.full(n, 1000.0), "os_event": np.zeros(n, bool),
        "cmax_copies_ug": np.arange(1.0, n + 1) * 100, "tmax_days": np.full(n, 9.0),
    }
    return CohortResult(patients, t, blood, blood * 10)


def test_cohort_summaries_by_hand():
    c = cohort()
    wanted = [("cr_rate", None), ("cr_rate", 28), ("orr_rate", None), ("crs3_rate", None), ("crs_any_rate", None),
              ("blood_median_at", 10), ("cmax_copies_median", None), ("pfs_at", 150)]
    values, se, n = summarise_cohort(c, wanted)
    ok = np.arange(7)  # the FAILED patient is left out of every summary
    # CR by day 28 counts the first CR assessment, not the first response (patient 1: PR at 28, CR at 90)
    assert values[0] == pytest.approx(4 / 7) and values[1] == pytest.approx(1 / 7) and values[2] == pytest.approx(5 / 7)
    assert values[3] == pytest.approx(2 / 7) and values[4] == pytest.approx(5 / 7)
    assert values[5] == pytest.approx(np.median((ok + 1) * np.exp(-1.0)))
    assert values[6] == pytest.approx(400.0)
    p = c.patients
    assert values[7] == pytest.approx(landmark(p["pfs_days"][ok], p["pfs_event"][ok], 150.0)["estimate"])
    assert se[0] == pytest.approx(np.sqrt(4 / 7 * 3 / 7 / 7)) and n[0] == 7
    with pytest.raises(InputError, match="at_day"):
        summarise_cohort(c, [("pfs_at", None)])
    with pytest.raises(InputError, match="did you mean 'cr_rate'"):
        summarise_cohort(c, [("cr_rat", None)])


def test_link_scales_and_emulated_likelihood_reduce_to_the_exact_ones():
    values = np.array([[0.0, 0.3, 2.0], [1.0, 0.6, 0.5]])
    linked = link_values(values, ["rate", "rate", "positive"], n_sim=100)
    np.testing.assert_allclose(linked[:, 0], logit([0.005, 0.995]))  # half an event from 0 and 1
    np.testing.assert_allclose(linked[:, 2], np.log([2.0, 0.5]))
    rate = RateTarget(name="cr", quantity="cr_rate", events=59, n=101, source="[R] test")
    lm = LandmarkTarget(name="pfs", quantity="pfs_at", at_day=400, percent=42, ci={"lower": 32, "upper": 52},
                        source="[R] test")
    val = ValueTarget(name="d7", quantity="blood_median_at", at_day=7, value=27.5, rel_sd=0.5, scale="log",
                      source="[R] test")
    targets, scales = [rate, lm, val], ["rate", "rate", "positive"]
    mean = np.array([[logit(0.55), logit(0.40), np.log(20.0)]])
    log_lik = emulated_log_likelihood(targets, scales, n_sim=200, mc_sd=[0, 0, 0.1])
    exact = (rate_log_likelihood(59, 101, 0.55, 200) + rate_log_likelihood(lm.k, lm.n_eff, 0.40, 200)
             + normal_log_likelihood(np.log(27.5), val.sd, np.log(20.0), 0.1))
    assert log_lik(mean, np.zeros_like(mean))[0] == pytest.approx(float(exact), rel=1e-10)
    # emulator variance widens the rate term: a far-off simulated rate is penalised less
    far = np.array([[logit(0.2), logit(0.40), np.log(20.0)]])
    assert log_lik(far, np.full_like(far, 0.5))[0] > log_lik(far, np.zeros_like(far))[0]


def test_fit_parameters_transform_and_check():
    p = FitParameter("x_neg", "typical", 5.0, 1000.0)
    assert p.from_theta(p.to_theta(20.0)) == pytest.approx(20.0) and p.bounds == pytest.approx(np.log([5.0, 1000.0]))
    w = FitParameter("gamma_T", "omega", 0.0, 2.0)
    assert w.label == "omega(gamma_T)" and w.to_theta(0.5) == 0.5
    for bad in (dict(kind="mean"), dict(low=0.0), dict(low=2.0, high=1.0)):
        with pytest.raises(InputError):
            FitParameter(**{"name": "x", "kind": "typical", "low": 1.0, "high": 2.0, **bad})


def test_shipped_cases_load_and_apply_values():
    assert case_names() == ["eliana", "zuma1"]
    case = load_case("zuma1")
    problem = case.problem(patients=20)
    assert problem.scenario.cohort.patients == 20 and len(problem.wanted) == len(case.targets.targets)
    # x_neg, omega(x_neg), omega(fit_T), omega(gamma_T), il6_max, omega(il6_max), K_nt, x_prot, omega(x_prot)
    s = apply_values(case.scenario, problem.parameters, [40.0, 2.0, 1.1, 0.5, 4000.0, 0.3, 250.0, 9.0, 1.2])
    assert s.disease_changes["x_neg"] == 40.0 and s.disease_changes["x_prot"] == 9.0
    assert s.disease_changes["il6_max"] == 4000.0 and problem.parameters[4].shared_with == ("b-all",)
    assert s.disease_changes["K_nt"] == 250.0 and s.cohort.variability["fit_T"] == 1.1
    assert s.cohort.variability["gamma_T"] == 0.5 and s.cohort.variability["il6_max"] == 0.3
    assert s.cohort.variability["x_prot"] == 1.2


def test_case_file_errors_name_the_section(tmp_path):
    data = yaml.safe_load(load_case("zuma1").path.read_text())
    data["fit"]["parameters"][0]["name"] = "x_ne"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match="unknown model parameter 'x_ne'.*did you mean 'x_neg'"):
        load_case(bad)
    del data["fit"]
    bad.write_text(yaml.safe_dump(data))
    with pytest.raises(InputError, match=r"needs sections \['fit'\]"):
        load_case(bad)
    with pytest.raises(InputError, match="shipped cases: eliana, zuma1"):
        load_case("zuma")


def test_common_random_numbers_same_theta_same_summaries_in_any_batch(standard):
    case = load_case("zuma1")
    assessments = case.scenario.assessments.model_copy(update={"imaging_days": [28.0, 56.0], "ctdna_days": [28.0]})
    short = case.scenario.model_copy(update={"follow_up_days": 60.0, "assessments": assessments})
    params = [FitParameter("il6_max", "typical", 1000.0, 30000.0)]
    problem = PopulationProblem(short.model_copy(update={"cohort": short.cohort.model_copy(update={"patients": 12})}),
                                params, [("crs_any_rate", None), ("blood_median_at", 7)], compiled=standard)
    a, b = np.log(3000.0), np.log(9000.0)
    both, _, _ = problem.simulate([[a], [b]])
    alone, _, _ = problem.simulate([[b]])
    np.testing.assert_array_equal(both[1], alone[0])
    assert both[1, 0] >= both[0, 0]  # the same patients: a larger IL-6 scale can only add CRS
    assert both[0, 1] == pytest.approx(both[1, 1], rel=1e-5)  # ...and leaves the kinetics alone (to solver tolerance)


def _paired_table(cr_tscm, grade_tscm, grade_std):
    reps, n = cr_tscm.shape
    p = {"arm": np.repeat(["standard", "tscm"], reps * n), "replicate": np.tile(np.repeat(np.arange(reps), n), 2),
         "patient": np.tile(np.arange(n), 2 * reps),
         "cr": np.concatenate([np.ones(reps * n, bool), cr_tscm.ravel()]),
         "crs_grade": np.concatenate([grade_std.ravel(), grade_tscm.ravel()])}
    return p


def test_seed_trial_rows_by_hand():
    reps = 40
    cr = np.zeros((reps, 11), bool)
    cr[:, :5] = True
    cr[::2, 5] = True  # half the trials 5 of 11, half 6 of 11
    std, tscm = np.full((reps, 11), 3), np.full((reps, 11), 3)
    tscm[:, :6] = 1
    p = _paired_table(cr, tscm, std)
    row = _cr_count_row(p, reps)
    assert row.passed and "P(5 of 11) = 50.0%" in row.simulated
    assert _crs_row(p, "crs_grade", 3, "x").passed  # 6 of 11 twins milder, none worse
    p_none = _paired_table(np.ones((reps, 11), bool), std, std)
    assert not _cr_count_row(p_none, reps).passed and not _crs_row(p_none, "crs_grade", 3, "x").passed


def test_identifiability_warning_for_a_flat_posterior():
    rng = np.random.default_rng(1)
    problem = PopulationProblem(load_case("zuma1").scenario, [FitParameter("il6_max", "typical", 1000.0, 30000.0),
                                                              FitParameter("gamma_T", "omega", 0.0, 2.0)], [])
    samples = np.column_stack([rng.normal(np.log(4000), 0.05, 4000), rng.uniform(0, 2, 4000)])
    warnings = identifiability_warnings(problem, samples)
    assert len(warnings) == 1 and warnings[0].startswith("omega(gamma_T)")


def test_update_presets_records_fit_and_provenance(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from celltrial.calibration import record
    from celltrial.calibration.fit import PopulationFit, TargetCheck

    src = record.preset_file("lbcl")
    copy = tmp_path / "lbcl.yaml"
    copy.write_text(src.read_text())
    monkeypatch.setattr(record, "preset_file", lambda name: copy)
    params = [FitParameter("x_neg", "typical", 5.0, 1000.0, "lbcl"), FitParameter("x_neg", "omega", 0.3, 3.0, "lbcl")]
    fit = PopulationFit(["x_neg", "omega(x_neg)"], np.zeros((4, 2)),
                        {"x_neg": {"median": 0.0123, "low": 0.004, "high": 0.03},
                         "omega(x_neg)": {"median": 2.2, "low": 1.1, "high": 2.9}}, np.eye(2), None,
                        [TargetCheck("cr", "58% (n=101)", 0.55, (0.5, 0.6), True, "ok", "55% (50–60%)", 0.6),
                         TargetCheck("crs3", "13% (n=101)", 0.3, (0.25, 0.35), False, "p = 0.001", "30% (25–35%)",
                                     0.001, "trials of 101: 21–39%", False)])
    case = SimpleNamespace(name="zuma1", path=copy)
    record.update_presets(case, SimpleNamespace(parameters=params), fit, "celltrial calibrate zuma1 --write-presets")
    data = yaml.safe_load(copy.read_text())
    assert data["parameters"]["x_neg"]["value"] == 0.0123
    assert data["parameters"]["x_neg"]["source"].startswith("[F] celltrial calibrate zuma1")
    assert data["variability"]["x_neg"] == 2.2
    achieved = data["calibration"]["achieved"]
    assert achieved["cr"] == "55% (50–60%)" and len(data["calibration"]["moved"]) == 2
    # a failing target is marked by the validation's rule (predictive p), not by an interval "band"
    assert achieved["crs3"].startswith("30% (25–35%) (published value outside") and "p < 0.05" in achieved["crs3"]
    from celltrial.presets.schema import Disease

    Disease.model_validate(data)  # still a valid preset
    json.dumps(data)


def test_a_shared_scale_is_written_into_the_other_presets_without_their_calibration_record(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from celltrial.calibration import record
    from celltrial.calibration.fit import PopulationFit

    copies = {}
    for name in ("lbcl", "b-all"):
        copies[name] = tmp_path / f"{name}.yaml"
        copies[name].write_text(record.preset_file(name).read_text())
    monkeypatch.setattr(record, "preset_file", lambda name: copies[name])
    before = yaml.safe_load(copies["b-all"].read_text())["calibration"]
    params = [FitParameter("il6_max", "typical", 1e3, 3e4, "lbcl", ("b-all",))]
    fit = PopulationFit(["il6_max"], np.zeros((4, 1)), {"il6_max": {"median": 4321.0, "low": 3e3, "high": 6e3}},
                        np.eye(1), None, [])
    changed = record.update_presets(SimpleNamespace(name="zuma1", path=copies["lbcl"]),
                                    SimpleNamespace(parameters=params), fit, "celltrial calibrate zuma1")
    assert changed == [copies["lbcl"], copies["b-all"]]
    other = yaml.safe_load(copies["b-all"].read_text())
    assert other["parameters"]["il6_max"]["value"] == 4321.0
    assert "shared with lbcl" in other["parameters"]["il6_max"]["source"]
    assert other["calibration"] == before  # ELIANA's own record is untouched
    from celltrial.calibration.cases import FitParameterSpec

    with pytest.raises(ValueError, match="shared_with"):  # only a typical value can be shared
        FitParameterSpec(name="il6_max", kind="omega", low=0.1, high=1.0, preset="lbcl", shared_with=["b-all"])
    for twice in (["lbcl"], ["b-all", "b-all"]):  # not with its own preset, and each other preset once
        with pytest.raises(ValueError, match="each once"):
            FitParameterSpec(name="il6_max", kind="typical", low=1e3, high=3e4, preset="lbcl", shared_with=twice)


def test_calibrate_summary_rows_carry_the_predictive_p_value():
    """calibrate's summary.json rows are validate's rows: the p-value, the replicate-trial range, the overlap."""
    from celltrial.calibration.fit import TargetCheck
    from celltrial.calibration.record import target_json
    from celltrial.calibration.validation import Row

    check = TargetCheck("crs3", "13% (n=101)", 0.3, (0.25, 0.35), False, "why", "30% (25–35%)", 0.00123,
                        "trials of 101: 21–39%", True)
    row = target_json(check)
    assert row == {"target": "crs3", "observed": "13% (n=101)", "simulated": "30% (25–35%)", "passed": False,
                   "p_value": 0.0012, "predictive": "trials of 101: 21–39%", "overlap": True, "reason": "why"}
    assert Row(**json.loads(json.dumps(row))).p_value == 0.0012


@pytest.mark.parametrize("change, message", [
    ({"quantity": "cmax_copies_median"}, "is a positive value; give it as kind value, not rate"),
    ({"at_day": 30}, "takes no `at_day`"),
])
def test_case_targets_must_fit_their_quantity(tmp_path, change, message):
    data = yaml.safe_load(load_case("zuma1").path.read_text())
    crs3 = next(t for t in data["targets"] if t["name"] == "crs3")
    crs3.update(change)
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(InputError, match=message.replace("`", ".")):
        load_case(bad)


def test_landmark_after_follow_up_is_refused(tmp_path):
    data = yaml.safe_load(load_case("zuma1").path.read_text())
    next(t for t in data["targets"] if t["name"] == "pfs-15mo")["at_day"] = 900
    bad = tmp_path / "late.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True))
    with pytest.raises(InputError, match="after the scenario's follow-up"):
        load_case(bad)


def test_linear_value_targets_carry_the_emulator_variance_by_the_delta_method():
    val = ValueTarget(name="alpha", quantity="contraction_rate", value=0.16, rel_sd=0.1, scale="linear",
                      source="[E] test")
    log_lik = emulated_log_likelihood([val], ["positive"], n_sim=100, mc_sd=[0.05])
    mean, var = np.array([[np.log(0.32)]]), np.array([[0.01]])
    sim = 0.32
    expected = normal_log_likelihood(0.16, 0.016, sim, sim * np.sqrt(0.01 + 0.05**2))
    assert log_lik(mean, var)[0] == pytest.approx(float(expected), rel=1e-12)

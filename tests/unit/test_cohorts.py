"""Virtual-cohort sampling: distributions, covariate effects, validation messages, round trips.

Statistical checks use n = 20 000 patients and a fixed seed; each tolerance is stated next to
the check as a multiple of the sampling standard error, so a failure means a real bias.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from celltrial.cohorts import (
    Categorical,
    Cohort,
    CohortSpec,
    Covariate,
    CovariateEffect,
    LogNormal,
    Normal,
    Uniform,
    Variability,
    patient_blocks,
    patient_rng,
    sample_cohort,
    sample_covariates,
)
from celltrial.cohorts.streams import fast_streams_available
from celltrial.errors import InputError
from celltrial.model.library import cart6, one_compartment_model

N = 20_000
SEED = 20240611


@pytest.fixture(scope="module")
def model():
    return cart6()


@pytest.fixture(scope="module")
def pk():
    return one_compartment_model()


def _col(model, cohort, name):
    return cohort.params[:, model.parameter_names.index(name)]


# --- shape and bookkeeping -------------------------------------------------------------------


def test_cohort_layout(model):
    spec = CohortSpec(typical={"gamma": 3.0}, variability=Variability({"rho": 0.2}), fixed={"d_E": 0.5})
    cohort = sample_cohort(model, spec, n=50, seed=SEED, first_patient=100)
    assert cohort.params.shape == (50, len(model.parameter_names))
    assert cohort.params.dtype == np.float64 and cohort.params.flags.c_contiguous
    assert cohort.patient_ids.tolist() == list(range(100, 150))
    assert cohort.parameter_names == model.parameter_names and len(cohort) == 50
    assert (_col(model, cohort, "gamma") == 3.0).all()  # overridden typical, no variability
    assert (_col(model, cohort, "d_E") == 0.5).all()  # fixed
    assert (_col(model, cohort, "B0") == 1e10).all()  # model default
    assert np.unique(cohort.parameter("rho")).size == 50
    assert cohort.info["resampled_patients"] == 0 and cohort.seed == SEED


def test_empty_cohort(model):
    spec = CohortSpec(
        variability=Variability({"rho": 0.2}), covariates=[Covariate("s", Categorical({"a": 1}))]
    )
    cohort = sample_cohort(model, spec, n=0, seed=1)
    assert cohort.params.shape == (0, len(model.parameter_names)) and cohort.covariates["s"].shape == (0,)


# --- random effects ----------------------------------------------------------------------------


def test_lognormal_marginals(model):
    omega = {"gamma": 0.4, "rho": 0.2}
    spec = CohortSpec(typical={"gamma": 3.0}, variability=Variability(omega))
    cohort = sample_cohort(model, spec, n=N, seed=SEED)
    for name, typical in (("gamma", 3.0), ("rho", 1.0)):
        log_values = np.log(_col(model, cohort, name))
        # SE of the median of a normal: 1.2533 * omega / sqrt(N) (<= 0.0036); allow 4 SE.
        assert abs(np.median(log_values) - math.log(typical)) < 4 * 1.2533 * omega[name] / math.sqrt(N)
        # SE of a sample SD: omega / sqrt(2 N) (<= 0.002); allow 4 SE.
        assert abs(log_values.std(ddof=1) - omega[name]) < 4 * omega[name] / math.sqrt(2 * N)


def test_correlation_recovered(model):
    variability = Variability(
        {"gamma": 0.4, "rho": 0.3, "r_S": 0.2}, {("gamma", "rho"): 0.6, ("rho", "r_S"): -0.4}
    )
    cohort = sample_cohort(model, CohortSpec(variability=variability), n=N, seed=SEED)
    logs = np.log(np.column_stack([_col(model, cohort, p) for p in ("gamma", "rho", "r_S")]))
    corr = np.corrcoef(logs, rowvar=False)
    # SE of a correlation is (1 - r^2) / sqrt(N) <= 0.007; the brief's tolerance 0.03 is > 4 SE.
    assert corr[0, 1] == pytest.approx(0.6, abs=0.03)
    assert corr[1, 2] == pytest.approx(-0.4, abs=0.03)
    assert corr[0, 2] == pytest.approx(0.0, abs=0.03)


def test_eta_comes_from_patient_stream(model):
    """value = typical * exp(L z) with z the first block of the patient's "iiv" stream."""
    variability = Variability({"gamma": 0.4, "rho": 0.3}, {("gamma", "rho"): 0.5})
    cohort = sample_cohort(model, CohortSpec(variability=variability), n=5, seed=7, first_patient=40)
    # The eta vector follows the model's declaration order, where rho comes before gamma.
    assert model.parameter_names.index("rho") < model.parameter_names.index("gamma")
    chol = np.linalg.cholesky(np.array([[0.09, 0.06], [0.06, 0.16]]))
    typical = {p.name: p.value for p in model.parameters}
    for row, patient in enumerate(cohort.patient_ids):
        eta = chol @ patient_rng(7, int(patient), "iiv").standard_normal(2)
        assert cohort.parameter("rho")[row] == pytest.approx(typical["rho"] * math.exp(eta[0]), rel=1e-13)
        assert cohort.parameter("gamma")[row] == pytest.approx(typical["gamma"] * math.exp(eta[1]), rel=1e-13)


def test_omega_dict_order_does_not_matter(model):
    a = Variability({"gamma": 0.4, "rho": 0.3}, {("gamma", "rho"): 0.5})
    b = Variability({"rho": 0.3, "gamma": 0.4}, {("rho", "gamma"): 0.5})
    ca = sample_cohort(model, CohortSpec(variability=a), n=20, seed=3)
    cb = sample_cohort(model, CohortSpec(variability=b), n=20, seed=3)
    np.testing.assert_allclose(ca.params, cb.params, rtol=1e-15)


# --- covariates and effects --------------------------------------------------------------------


def test_effect_factors_hand_computed():
    power = CovariateEffect("V", "weight", "power", 0.75, reference=70.0)
    assert power.factor(np.array([35.0, 70.0])) == pytest.approx([0.5**0.75, 1.0], rel=1e-15)
    expo = CovariateEffect("k", "age", "exponential", 0.1, reference=50.0)
    assert expo.factor(np.array([60.0, 40.0])) == pytest.approx([math.e, 1 / math.e], rel=1e-15)
    cat = CovariateEffect("k", "sex", "categorical", {"M": 1.5, "X": 0.5}, reference="F")
    assert cat.factor(np.array(["F", "M", "X", "M"])).tolist() == [1.0, 1.5, 0.5, 1.5]


def test_covariate_effects_in_cohort(pk):
    spec = CohortSpec(
        typical={"k": 0.3},
        covariates=[
            Covariate("weight", Uniform(40.0, 100.0), "kg"),
            Covariate("age", Uniform(20.0, 80.0), "years"),
            Covariate("sex", Categorical({"F": 0.5, "M": 0.5})),
        ],
        effects=[
            CovariateEffect("V", "weight", "power", 1.0, 70.0),
            CovariateEffect("k", "age", "exponential", 0.02, 50.0),
            CovariateEffect("k", "sex", "categorical", {"M": 1.5}),
        ],
    )
    cohort = sample_cohort(pk, spec, n=200, seed=SEED)
    w, age, sex = (cohort.covariates[c] for c in ("weight", "age", "sex"))
    assert sex.dtype.kind == "U" and set(sex) == {"F", "M"}
    np.testing.assert_allclose(cohort.parameter("V"), 5.0 * w / 70.0, rtol=1e-14)
    expected_k = 0.3 * np.exp(0.02 * (age - 50.0)) * np.where(sex == "M", 1.5, 1.0)
    np.testing.assert_allclose(cohort.parameter("k"), expected_k, rtol=1e-14)


def test_covariates_come_from_patient_stream():
    covs = [Covariate("a", Uniform(2.0, 4.0)), Covariate("b", LogNormal(10.0, 0.5))]
    values, _ = sample_covariates(covs, seed=5, patients=[8, 3])
    for row, patient in enumerate((8, 3)):
        u = patient_rng(5, patient, "covariates").random(2) + 2.0**-54
        assert values["a"][row] == pytest.approx(2.0 + 2.0 * u[0], rel=1e-15)
        assert values["b"][row] == pytest.approx(10.0 * math.exp(0.5 * stats.norm.ppf(u[1])), rel=1e-12)


def test_truncated_normal_respects_bounds():
    dist = Normal(70.0, 20.0, low=50.0, high=100.0)
    values, redraws = sample_covariates([Covariate("w", dist)], seed=SEED, patients=np.arange(N))
    x = values["w"]
    assert x.min() >= 50.0 and x.max() <= 100.0
    # P(outside) = 1 - (Phi(1.5) - Phi(-1)) = 0.226; the redraws (geometric) number about N * 0.292.
    assert 0.25 * N < redraws["w"] < 0.33 * N
    a, b = (50.0 - 70.0) / 20.0, (100.0 - 70.0) / 20.0
    # SE of the mean is sd_trunc / sqrt(N) ~ 0.09; allow 5 SE.
    assert x.mean() == pytest.approx(stats.truncnorm.mean(a, b, loc=70.0, scale=20.0), abs=0.45)
    # Patients whose first draw was inside the window keep it.
    untruncated, _ = sample_covariates([Covariate("w", Normal(70.0, 20.0))], seed=SEED, patients=np.arange(N))
    inside = (untruncated["w"] >= 50.0) & (untruncated["w"] <= 100.0)
    assert np.array_equal(x[inside], untruncated["w"][inside])


def test_categorical_frequencies():
    levels = {"I": 0.2, "II": 0.5, "III": 0.3}
    values, _ = sample_covariates([Covariate("stage", Categorical(levels))], SEED, np.arange(N))
    for level, p in levels.items():
        # SE sqrt(p (1-p) / N) <= 0.0036; allow 4 SE.
        assert np.mean(values["stage"] == level) == pytest.approx(p, abs=4 * math.sqrt(p * (1 - p) / N))


def test_lognormal_covariate():
    values, _ = sample_covariates([Covariate("w", LogNormal(70.0, 0.25))], SEED, np.arange(N))
    logs = np.log(values["w"])
    assert np.median(logs) == pytest.approx(math.log(70.0), abs=4 * 1.2533 * 0.25 / math.sqrt(N))
    assert logs.std(ddof=1) == pytest.approx(0.25, abs=4 * 0.25 / math.sqrt(2 * N))


# --- out of bounds -----------------------------------------------------------------------------


def test_out_of_bounds_error_message(model):
    spec = CohortSpec(variability=Variability({"eps": 1.5}))  # eps = 0.05 * exp(eta), bounds [0, 1]
    with pytest.raises(InputError) as err:
        sample_cohort(model, spec, n=2000, seed=SEED)
    message = str(err.value)
    for needle in ("'eps'", "of 2000 patients", "[0, 1]", "values seen", "omega 1.5", "resample", "widen"):
        assert needle in message, (needle, message)


def test_out_of_bounds_resample(model):
    spec = CohortSpec(variability=Variability({"eps": 1.5, "rho": 0.2}))
    cohort = sample_cohort(model, spec, n=2000, seed=SEED, out_of_bounds="resample")
    eps = cohort.parameter("eps")
    assert eps.max() <= 1.0
    assert model.parameter_names.index("rho") < model.parameter_names.index("eps")  # eta order
    z = patient_blocks(SEED, cohort.patient_ids, "iiv", 2)
    first = 0.05 * np.exp(1.5 * z[:, 1])
    redrawn = first > 1.0
    assert cohort.info["resampled_patients"] == redrawn.sum() > 10
    assert cohort.info["resample_draws"] >= redrawn.sum()
    np.testing.assert_allclose(eps[~redrawn], first[~redrawn], rtol=1e-15)
    assert not np.isclose(eps[redrawn], first[redrawn]).any()
    # uncorrelated random effects: only eps is redrawn, every patient keeps its first rho
    narrow = sample_cohort(model, CohortSpec(variability=Variability({"eps": 0.01, "rho": 0.2})), n=2000, seed=SEED)
    np.testing.assert_array_equal(cohort.parameter("rho"), narrow.parameter("rho"))


def test_resample_cannot_fix_covariate_effects(pk):
    spec = CohortSpec(
        covariates=[Covariate("w", Uniform(1.0, 2.0))],
        effects=[CovariateEffect("V", "w", "exponential", 10.0, 0.0)],  # V = 5 * e^10..e^20 > 1000
    )
    with pytest.raises(InputError, match="no random effects to redraw"):
        sample_cohort(pk, spec, n=3, seed=1, out_of_bounds="resample")
    with pytest.raises(InputError, match="typical value after covariate effects is already outside"):
        sample_cohort(pk, spec, n=3, seed=1)


# --- validation messages -----------------------------------------------------------------------


def test_non_positive_definite_correlations():
    with pytest.raises(InputError, match="not positive definite"):
        Variability({"a": 0.1, "b": 0.1, "c": 0.1}, {("a", "b"): 0.9, ("b", "c"): 0.9, ("a", "c"): -0.9})


@pytest.mark.parametrize(
    "variability, match",
    [
        ({"omega": {"a": -0.1}}, r"`omega\['a'\]` must be a positive finite number, got -0.1"),
        ({"omega": {"a": 0.1, "b": 0.1}, "correlations": {("a", "b"): 1.0}}, r"strictly inside \(-1, 1\)"),
        ({"omega": {"a": 0.1}, "correlations": {("a", "bb"): 0.3}}, "unknown parameter with an omega 'bb'"),
        ({"omega": {"a": 0.1, "b": 0.1}, "correlations": {("a", "b"): 0.1, ("b", "a"): 0.2}}, "repeated"),
    ],
)
def test_variability_errors(variability, match):
    with pytest.raises(InputError, match=match):
        Variability(**variability)


@pytest.mark.parametrize(
    "spec, match",
    [
        (
            CohortSpec(variability=Variability({"gama": 0.3})),
            "unknown parameter 'gama' \\(did you mean 'gamma'",
        ),
        (CohortSpec(typical={"rh": 2.0}), "unknown parameter 'rh' \\(did you mean 'rho'"),
        (CohortSpec(fixed={"B_0": 1.0}), "did you mean 'B0'"),
        (CohortSpec(typical={"gamma": 50.0}), r"gamma = 50 lies outside its declared bounds \[0, 20\]"),
    ],
)
def test_spec_checked_against_model(model, spec, match):
    with pytest.raises(InputError, match=match):
        sample_cohort(model, spec, n=2, seed=1)


def test_spec_errors():
    weight = Covariate("weight", Normal(70.0, 15.0))
    with pytest.raises(InputError, match="unknown covariate 'wieght' \\(did you mean 'weight'"):
        CohortSpec(covariates=[weight], effects=[CovariateEffect("V", "wieght", "power", 1.0, 70.0)])
    with pytest.raises(InputError, match="power effect needs a positive covariate"):
        CohortSpec(covariates=[weight], effects=[CovariateEffect("V", "weight", "power", 1.0, 70.0)])
    with pytest.raises(InputError, match="fixed and also appear in `omega`"):
        CohortSpec(variability=Variability({"k": 0.2}), fixed={"k": 0.1})
    with pytest.raises(InputError, match="declared twice"):
        CohortSpec(covariates=[weight, weight])
    with pytest.raises(InputError, match="unknown level of 'sex' 'Mal' \\(did you mean 'Male'"):
        CohortSpec(
            covariates=[Covariate("sex", Categorical({"Female": 0.5, "Male": 0.5}))],
            effects=[CovariateEffect("V", "sex", "categorical", {"Mal": 1.2})],
        )


def test_distribution_errors():
    with pytest.raises(InputError, match=r"sum to 0\.9; they must sum to 1"):
        Categorical({"a": 0.5, "b": 0.4})
    with pytest.raises(InputError, match="`sd` must be a positive finite number, got -1"):
        Normal(0.0, -1)
    with pytest.raises(InputError, match="holds only"):
        Normal(0.0, 1.0, low=5.0)
    with pytest.raises(InputError, match="`low` .* must be below `high`"):
        Uniform(3.0, 1.0)
    with pytest.raises(InputError, match="unknown kind 'powr' \\(did you mean 'power'"):
        CovariateEffect("V", "w", "powr", 1.0, 70.0)


def test_call_argument_errors(model):
    spec = CohortSpec()
    with pytest.raises(InputError, match="did you mean 'resample'"):
        sample_cohort(model, spec, n=2, seed=1, out_of_bounds="resampel")
    with pytest.raises(InputError, match="seed must be a non-negative integer"):
        sample_cohort(model, spec, n=2, seed=-1)
    with pytest.raises(InputError, match="`n` must be a non-negative integer"):
        sample_cohort(model, spec, n=2.5, seed=1)
    with pytest.raises(InputError, match="unknown random-stream purpose 'asay' \\(did you mean 'assay'"):
        patient_rng(1, 0, "asay")


# --- streams -----------------------------------------------------------------------------------


def test_fast_blocks_match_patient_rng():
    if not fast_streams_available():
        pytest.skip("this numpy seeds PCG64 differently; the exact slow path is in use")
    ids = np.array([0, 5, 123_456, 2**32 - 1])
    for seed in (0, 99, 2**64 + 5):
        block = patient_blocks(seed, ids, "extinction", 4, draw="random")
        for row, patient in zip(block, ids.tolist(), strict=True):
            assert np.array_equal(row, patient_rng(seed, patient, "extinction").random(4))


def test_purposes_are_independent_streams():
    a = patient_blocks(3, np.arange(5), "iiv", 3)
    b = patient_blocks(3, np.arange(5), "assay", 3)
    assert not np.isin(a, b).any()


# --- dict round trips --------------------------------------------------------------------------


def _full_spec():
    return CohortSpec(
        typical={"gamma": 3.0},
        variability=Variability({"gamma": 0.4, "rho": 0.3}, {("gamma", "rho"): 0.5}),
        covariates=[
            Covariate("weight", Normal(70.0, 15.0, low=40.0, high=150.0), "kg"),
            Covariate("stage", Categorical({"I": 0.4, "II": 0.6})),
            Covariate("age", LogNormal(60.0, 0.2), "years"),
        ],
        effects=[
            CovariateEffect("rho", "weight", "power", 0.75, 70.0),
            CovariateEffect("B0", "stage", "categorical", {"II": 3.0}, "I"),
            CovariateEffect("d_E", "age", "exponential", -0.01, 60.0),
        ],
        fixed={"f_blood": 0.05},
    )


def test_spec_dict_round_trip():
    spec = _full_spec()
    plain = json.loads(json.dumps(spec.to_dict()))
    assert plain["variability"]["correlations"] == {"gamma,rho": 0.5}
    assert CohortSpec.from_dict(plain) == spec
    listed = dict(plain, covariates=[{"name": k, **v} for k, v in plain["covariates"].items()])
    assert CohortSpec.from_dict(listed) == spec


def test_spec_from_dict_errors():
    with pytest.raises(InputError, match="unknown field 'typcal' \\(did you mean 'typical'"):
        CohortSpec.from_dict({"typcal": {}})
    with pytest.raises(InputError, match="unknown distribution 'normall' \\(did you mean 'normal'"):
        CohortSpec.from_dict({"covariates": {"w": {"distribution": "normall", "mean": 1, "sd": 1}}})
    with pytest.raises(InputError, match="missing field\\(s\\) 'sd'"):
        CohortSpec.from_dict({"covariates": {"w": {"distribution": "normal", "mean": 1}}})


def test_cohort_dict_round_trip(model):
    cohort = sample_cohort(model, _full_spec(), n=30, seed=SEED, first_patient=7)
    back = Cohort.from_dict(json.loads(json.dumps(cohort.to_dict())))
    assert np.array_equal(back.params, cohort.params) and back.params.flags.c_contiguous
    assert np.array_equal(back.patient_ids, cohort.patient_ids)
    for name, values in cohort.covariates.items():
        assert np.array_equal(back.covariates[name], values) and back.covariates[name].dtype == values.dtype
    assert back.spec == cohort.spec and back.seed == SEED and back.info == cohort.info


def test_spec_and_cohort_pickle(model):
    """Specs and cohorts travel to worker processes."""
    import pickle

    cohort = sample_cohort(model, _full_spec(), n=5, seed=1)
    back = pickle.loads(pickle.dumps(cohort))
    assert back.spec == cohort.spec and np.array_equal(back.params, cohort.params)

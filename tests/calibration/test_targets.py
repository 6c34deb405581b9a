"""Calibration targets and their likelihood against hand-computed values and scipy (issue 6).

Truths: binomial and beta-binomial log-pmfs from scipy.stats (and written out by hand), normal
log-densities from a published CI computed with the textbook z quantiles (1.959964 for 95%,
1.644854 for 90%), Wilson and Clopper-Pearson intervals from scipy.stats.binomtest.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path

import numpy as np
import pytest
import yaml
from scipy.stats import betabinom, binom, binomtest

from celltrial.calibration.likelihood import (
    clip_rate,
    format_estimate,
    log_likelihood,
    normal_log_likelihood,
    pass_band,
    rate_ci,
    rate_log_likelihood,
    target_log_likelihood,
    verdict,
)
from celltrial.calibration.targets import (
    LandmarkTarget,
    RateTarget,
    ValueTarget,
    load_targets,
    parse_targets,
)
from celltrial.errors import InputError

EXAMPLE = Path(__file__).parent / "data" / "example_targets.yaml"
Z95, Z90 = 1.959963984540054, 1.6448536269514722
SRC = "[E] test"


def rate(**kw):
    return RateTarget(**{"name": "r", "quantity": "cr_rate", "source": SRC, **kw})


def value(**kw):
    return ValueTarget(**{"name": "v", "quantity": "cmax_median", "source": SRC, **kw})


def landmark(**kw):
    return LandmarkTarget(**{"name": "l", "quantity": "pfs_at", "at_day": 365.0, "source": SRC, **kw})


# --- rates -------------------------------------------------------------------------------------


def test_binomial_log_likelihood_matches_scipy_and_the_formula_for_5_of_11_at_045():
    by_hand = math.log(462) + 5 * math.log(0.45) + 6 * math.log(0.55)  # C(11, 5) = 462
    got = rate_log_likelihood(5, 11, 0.45)
    np.testing.assert_allclose(got, binom.logpmf(5, 11, 0.45), rtol=1e-12, atol=0)
    np.testing.assert_allclose(got, by_hand, rtol=1e-12, atol=0)


def test_monte_carlo_folding_is_the_beta_binomial_with_a_equal_n_sim_p():
    got = rate_log_likelihood(5, 11, 0.45, n_sim=200)
    np.testing.assert_allclose(got, betabinom.logpmf(5, 11, 200 * 0.45, 200 * 0.55), rtol=1e-12, atol=0)


def test_larger_n_sim_brings_the_likelihood_closer_to_the_exact_binomial():
    exact = binom.logpmf(5, 11, 0.45)
    gaps = [abs(float(rate_log_likelihood(5, 11, 0.45, n_sim=n)) - exact) for n in (10, 100, 1_000, 100_000)]
    assert all(a > b for a, b in zip(gaps, gaps[1:], strict=False)), gaps
    np.testing.assert_allclose(rate_log_likelihood(5, 11, 0.45, n_sim=10**8), exact, rtol=1e-6, atol=0)


def test_monte_carlo_uncertainty_flattens_the_likelihood_far_from_the_data():
    # p = 0.9 is far from 5/11: a noisy simulated p is penalised less than an exact one
    assert rate_log_likelihood(5, 11, 0.9, n_sim=50) > rate_log_likelihood(5, 11, 0.9)


def test_a_simulated_zero_is_clipped_to_half_an_event_and_flagged():
    p, moved = clip_rate([0.0, 0.3, 1.0], 200)
    np.testing.assert_allclose(p, [0.0025, 0.3, 0.9975], rtol=1e-15, atol=0)
    assert moved.tolist() == [True, False, True]
    assert np.isfinite(rate_log_likelihood(3, 101, 0.0, n_sim=200))
    assert rate_log_likelihood(3, 101, 0.0) == -np.inf  # an exact p = 0 cannot produce 3 events
    np.testing.assert_allclose(rate_log_likelihood(0, 101, 0.0), 0.0, atol=1e-12)


def test_a_percent_gives_the_same_likelihood_as_the_equivalent_count():
    a, b = rate(events=5, n=10), rate(percent=50, n=10)
    np.testing.assert_allclose(target_log_likelihood(a, [0.3, 0.6]), target_log_likelihood(b, [0.3, 0.6]),
                               rtol=1e-12, atol=0)
    assert rate(percent=13, n=101).k == pytest.approx(13.13, rel=1e-12)


def test_nan_simulated_rate_gives_minus_infinity_and_out_of_range_is_an_error():
    assert rate_log_likelihood(5, 11, np.nan, n_sim=100) == -np.inf
    with pytest.raises(InputError, match=r"\[0, 1\]"):
        rate_log_likelihood(5, 11, 1.2)


# --- values and landmarks ----------------------------------------------------------------------


def test_log_scale_value_likelihood_from_a_90_percent_ci_by_hand():
    t = value(value=27.5, ci={"lower": 12, "upper": 60, "level": 0.9}, scale="log")
    sd = (math.log(60) - math.log(12)) / (2 * Z90)
    by_hand = -0.5 * math.log(2 * math.pi * sd**2) - (math.log(40) - math.log(27.5)) ** 2 / (2 * sd**2)
    assert t.sd == pytest.approx(sd, rel=1e-12)
    np.testing.assert_allclose(target_log_likelihood(t, [40.0]), [by_hand], rtol=1e-12, atol=0)


def test_linear_value_with_simulation_sd_adds_the_variances():
    t = value(value=10.0, ci={"lower": 8, "upper": 12}, scale="linear")
    sd, mc = 2 / Z95, 0.7
    var = sd**2 + mc**2
    by_hand = -0.5 * math.log(2 * math.pi * var) - (11.0 - 10.0) ** 2 / (2 * var)
    np.testing.assert_allclose(target_log_likelihood(t, [11.0], simulated_sd=[mc]), [by_hand], rtol=1e-12, atol=0)
    np.testing.assert_allclose(normal_log_likelihood(10.0, sd, 11.0, mc), by_hand, rtol=1e-12, atol=0)


def test_relative_sd_is_a_log_normal_cv_on_the_log_scale_and_proportional_on_the_linear():
    assert value(value=100.0, rel_sd=0.5).sd == pytest.approx(math.sqrt(math.log(1.25)), rel=1e-12)
    assert value(value=100.0, rel_sd=0.5, scale="linear").sd == pytest.approx(50.0, rel=1e-12)


def test_non_positive_simulated_value_on_a_log_scale_gives_minus_infinity_without_warnings():
    t = value(value=100.0, rel_sd=0.5)
    ll = target_log_likelihood(t, [0.0, -1.0, np.nan, 100.0])
    assert ll[:3].tolist() == [-np.inf] * 3 and np.isfinite(ll[3])


def test_landmark_effective_n_from_the_ci_and_from_the_number_at_risk():
    t = landmark(percent=42, ci={"lower": 32, "upper": 52})
    n_eff = 0.42 * 0.58 / (0.10 / Z95) ** 2
    assert t.n_eff == pytest.approx(n_eff, rel=1e-12)
    np.testing.assert_allclose(target_log_likelihood(t, [0.35], n_sim=500),
                               rate_log_likelihood(0.42 * n_eff, n_eff, 0.35, n_sim=500), rtol=1e-12, atol=0)
    assert landmark(percent=50, n_at_risk=40).n_eff == pytest.approx(80.0, rel=1e-12)  # Peto: n(t) / S


# --- batch likelihood --------------------------------------------------------------------------


def test_batch_total_is_the_weighted_sum_with_shape_m():
    targets = load_targets(EXAMPLE)
    m = 7
    grid = np.linspace(0.1, 0.9, m)
    sims = {"cr": grid, "crs3": grid / 4, "pfs-15mo": grid, "cmax": 3e4 * grid, "blood-car-d7": 50 * grid}
    ll = log_likelihood(targets, sims, n_sim=400)
    assert ll.total.shape == (m,)
    assert all(v.shape == (m,) for d in (ll.per_target, ll.clipped, ll.invalid) for v in d.values())
    by_hand = sum(t.weight * target_log_likelihood(t, sims[t.name], n_sim=400) for t in targets.targets
                  if t.name in sims)
    np.testing.assert_allclose(ll.total, by_hand, rtol=1e-12, atol=0)
    np.testing.assert_allclose(ll.per_target["crs3"], 0.5 * target_log_likelihood(targets["crs3"], grid / 4,
                                                                                    n_sim=400), rtol=1e-12, atol=0)
    np.testing.assert_allclose(ll.per_target["blood-car-d28-range"], np.zeros(m), atol=0)  # band only


def test_batch_scalars_become_length_one_and_flags_report_clips_and_failures():
    ll = log_likelihood([rate(events=3, n=20)], {"r": 0.0}, n_sim=100)
    assert ll.total.shape == (1,) and ll.clipped["r"].tolist() == [True] and ll.invalid["r"].tolist() == [False]
    ll = log_likelihood([rate(events=3, n=20)], {"r": [np.nan, 0.2]}, n_sim=100)
    assert ll.invalid["r"].tolist() == [True, False] and ll.total[0] == -np.inf


def test_weight_zero_target_contributes_zero_even_when_its_likelihood_is_minus_infinity():
    t = rate(events=3, n=20, weight=0.0)
    assert log_likelihood([t], {"r": [np.nan]}).total.tolist() == [0.0]


def test_batch_rejects_mismatched_shapes_and_names_missing_targets():
    ts = [rate(name="cr", events=3, n=20), rate(name="crs3", events=1, n=20)]
    with pytest.raises(InputError, match=r"one shared shape \(m,\).*'crs3': \(2,\)"):
        log_likelihood(ts, {"cr": [0.1, 0.2, 0.3], "crs3": [0.1, 0.2]})
    with pytest.raises(InputError, match="shared shape"):
        log_likelihood(ts, {"cr": np.ones((2, 2)), "crs3": np.ones((2, 2))})
    with pytest.raises(InputError, match=r"\['crs3'\] \(did you mean 'crs_3'\?\)"):
        log_likelihood(ts, {"cr": [0.1], "crs_3": [0.1]})


# --- intervals and verdicts --------------------------------------------------------------------


@pytest.mark.parametrize("k,n", [(0, 11), (5, 11), (11, 11), (59, 101), (1, 300)])
@pytest.mark.parametrize("method", ["wilson", "exact"])
def test_rate_ci_equals_scipy_binomtest(k, n, method):
    expected = binomtest(k, n).proportion_ci(0.95, method=method)
    np.testing.assert_allclose(rate_ci(k, n, 0.95, method), (expected.low, expected.high), rtol=1e-9, atol=1e-12)


def test_format_estimate_reads_like_a_validation_table():
    assert format_estimate(0.55, (0.48, 0.61), percent=True) == "55% (48–61%)"
    assert format_estimate(24000, (18000, 31000), unit="copies/µg") == "24,000 (18,000–31,000) copies/µg"


def test_default_band_of_a_rate_is_its_wilson_95_percent_ci():
    ci = binomtest(59, 101).proportion_ci(0.95, method="wilson")
    np.testing.assert_allclose(pass_band(rate(events=59, n=101)), (ci.low, ci.high), rtol=1e-9, atol=0)


def test_default_band_of_a_value_is_its_95_ci_or_center_plus_minus_196_sd():
    assert pass_band(value(value=10.0, ci={"lower": 8, "upper": 12})) == (8.0, 12.0)
    lo, hi = pass_band(value(value=27.5, ci={"lower": 12, "upper": 60, "level": 0.9}))
    half = Z95 * (math.log(60) - math.log(12)) / (2 * Z90)
    np.testing.assert_allclose((lo, hi), (27.5 * math.exp(-half), 27.5 * math.exp(half)), rtol=1e-12, atol=0)


def test_verdict_band_edges_count_as_inside():
    t = rate(events=59, n=101, band={"lower": 50, "upper": 65})
    assert verdict(t, 0.65).passed and verdict(t, 0.50).passed
    v = verdict(t, 0.651)
    assert not v.passed and "above the band 50%–65%" in v.reason


def test_verdict_passes_when_only_the_simulated_ci_overlaps_the_band():
    t = rate(events=59, n=101, band={"lower": 50, "upper": 65})
    v = verdict(t, 0.45, (0.40, 0.50))
    assert v.passed and v.reason == "simulated 45% (40–50%) overlaps the band 50%–65%"
    v = verdict(t, 0.45, (0.40, 0.49))
    assert not v.passed and "below" in v.reason


def test_verdict_on_a_value_without_band_uses_the_published_ci_and_nan_fails():
    t = value(value=24000, ci={"lower": 18000, "upper": 31000}, unit="copies/µg")
    v = verdict(t, 40000.0)
    assert not v.passed and v.reason.endswith("above the target's 95% CI 18,000–31,000 copies/µg")
    assert not verdict(t, float("nan")).passed


def test_verdict_rejects_a_simulated_ci_that_does_not_contain_the_value():
    with pytest.raises(InputError, match="must contain"):
        verdict(rate(events=5, n=11), 0.5, (0.6, 0.7))


# --- the file and its errors -------------------------------------------------------------------


def test_example_file_loads_with_every_kind():
    s = load_targets(EXAMPLE)
    assert [t.kind for t in s.targets] == ["rate", "rate", "landmark", "value", "value", "value"]
    assert s["cr"].observed == pytest.approx(59 / 101, rel=1e-12)
    assert s["crs3"].band_fraction() == pytest.approx((0.05, 0.25), rel=1e-12)
    with pytest.raises(InputError, match="did you mean 'cr'"):
        s["cr2"]


def _errors_for(change) -> str:
    data = copy.deepcopy(yaml.safe_load(EXAMPLE.read_text()))
    change(data)
    with pytest.raises(InputError) as info:
        parse_targets(yaml.safe_dump(data, allow_unicode=True), where="t.yaml")
    return str(info.value)


@pytest.mark.parametrize("change,expected", [
    (lambda d: d["targets"][0].update(evnts=3), "targets.0.evnts: unknown field (did you mean 'events'?)"),
    (lambda d: d["targets"][2]["ci"].update(levl=0.9), "targets.2.ci.levl: unknown field (did you mean 'level'?)"),
    (lambda d: d.update(sorces=[]), "sorces: unknown field (did you mean 'sources'?)"),
    (lambda d: d["targets"][0].pop("kind"), "targets.0: give `kind`, one of rate, value, landmark"),
    (lambda d: d["targets"][0].update(kind="ratio"), "targets.0: give `kind`"),
    (lambda d: d["targets"][0].update(source="Locke 2019"), "targets.0.source: start the source with a provenance"),
    (lambda d: d["targets"][1]["band"].update(upper=250), "band.upper = 250: percentages lie in [0, 100]"),
    (lambda d: d["targets"][0].update(events=120), "events (120) cannot exceed n (101)"),
    (lambda d: d["targets"][0].update(percent=58), "give exactly one of `events` (count) or `percent`"),
    (lambda d: d["targets"][1].update(name="cr"), "target names must be unique; repeated: ['cr']"),
    (lambda d: d["targets"][3].pop("rel_sd"), "targets.3: give exactly one of `ci`"),
    (lambda d: d["targets"][2].pop("at_day"), "targets.2.at_day: missing (required)"),
    (lambda d: d["targets"][4]["ci"].update(level=95), "targets.4.ci.level: Input should be less than 1"),
    (lambda d: d["targets"][3].update(value=-5), "value must be > 0 on the log scale"),
    (lambda d: d["targets"][3].update(rel_sd=float("inf")), "targets.3.rel_sd: Input should be a finite number"),
    (lambda d: d["targets"][3].update(rel_sd=50), "targets.3.rel_sd: Input should be less than or equal to 10"),
    (lambda d: d["targets"][0].update(n=True), "targets.0.n: Input should be a valid integer"),
    (lambda d: d["targets"][2].update(at_day=True), "targets.2.at_day: true/false (also yes/no, on/off) is not a"),
])
def test_bad_files_name_the_field_and_the_fix(change, expected):
    message = _errors_for(change)
    assert message.startswith("t.yaml is not a valid targets file:")
    assert expected in message


def test_a_key_given_twice_a_missing_file_and_a_non_mapping_are_errors(tmp_path):
    with pytest.raises(InputError, match="'name' is given twice"):
        parse_targets("name: a\nname: b\n")
    with pytest.raises(InputError, match="not found"):
        load_targets(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="expected a mapping"):
        parse_targets("- 1\n- 2\n")


def test_monte_carlo_interval_of_an_all_or_none_rate_contains_the_rate():
    from celltrial.calibration.summaries import mc_interval

    for value in (0.0, 1.0):  # Wilson bounds there can miss by one ulp; the verdict refuses such an interval
        lo, hi = mc_interval("cr_rate", value, 0.0, 10)
        assert lo <= value <= hi

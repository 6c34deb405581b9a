"""Simulation-based inference machinery (issue 6): designs, quadratic emulators, emcee sampling and
the design -> emulate -> sample -> refocus wave loop, each checked against an independent truth
(exact polynomials, closed-form Gaussians and truncated normals, a posterior computed on a grid).
"""

import numpy as np
import pytest
from scipy.stats import truncnorm

from celltrial.calibration.design import fit_region, refocus_design, space_filling
from celltrial.calibration.emulator import fit_emulator, implausibility, n_terms
from celltrial.calibration.sampler import sample_posterior, summarise, wave_loop
from celltrial.errors import InputError

BOX3 = np.array([[-2.0, 5.0], [0.0, 1.0], [-1.0, 3.0]])


def _quadratic(x):
    """A full quadratic in 3 inputs with every cross term (coefficients fixed by hand)."""
    q = np.array([[1.0, -0.5, 0.3], [-0.5, 2.0, 0.7], [0.3, 0.7, -1.5]])
    return 1.3 + x @ np.array([0.4, -2.0, 1.1]) + np.einsum("ij,jk,ik->i", x, q, x)


# ---------------------------------------------------------------- designs


@pytest.mark.parametrize("method", ["sobol", "lhs"])
def test_design_puts_one_point_in_each_of_n_strata_of_every_parameter(method):
    # Latin hypercubes do by construction; the first 2^m scrambled Sobol points are a (0, m, 1)-net
    # in each coordinate.
    x = space_filling(BOX3, 32, seed=5, method=method)
    u = (x - BOX3[:, 0]) / (BOX3[:, 1] - BOX3[:, 0])
    for j in range(3):
        assert np.array_equal(np.sort(np.floor(u[:, j] * 32).astype(int)), np.arange(32))


def test_design_is_reproducible_and_seed_dependent():
    a, b, c = (space_filling(BOX3, 20, seed=s) for s in (1, 1, 2))
    assert a.shape == (20, 3) and np.array_equal(a, b) and not np.allclose(a, c, rtol=0, atol=1e-3)


def test_refocused_design_stays_in_the_box_and_near_the_posterior():
    # A posterior pressed against the lower edge of parameter 0: the Gaussian part must not leave the box.
    draws = np.random.default_rng(0).normal([-1.9, 0.5, 1.0], [0.1, 0.05, 0.2], size=(4000, 3))
    x = refocus_design(draws, BOX3, 40, seed=3, draw_fraction=0.5, inflate=1.5)
    region = fit_region(draws, inflate=1.5, coverage=0.99)
    assert x.shape == (40, 3)
    assert np.all((x >= BOX3[:, 0]) & (x <= BOX3[:, 1]))
    assert np.all(region.contains(x))
    assert np.array_equal(x, refocus_design(draws, BOX3, 40, seed=3, draw_fraction=0.5, inflate=1.5))


def test_bad_bounds_are_rejected():
    with pytest.raises(InputError, match="low < high"):
        space_filling([[1.0, 0.0]], 8, seed=0)


# ---------------------------------------------------------------- emulator


def test_emulator_reproduces_an_exact_quadratic():
    x = space_filling(BOX3, 25, seed=1)
    em = fit_emulator(x, _quadratic(x))
    xt = space_filling(BOX3, 64, seed=2)
    mean, var = em.predict(xt)
    assert em.degree == 2
    np.testing.assert_allclose(mean, _quadratic(xt), rtol=0, atol=1e-8)
    np.testing.assert_allclose(em.loo_.mean[:, 0], _quadratic(x), rtol=0, atol=1e-8)  # LOO is always 2-D
    assert np.all(var < 1e-12)


def test_emulator_falls_back_to_linear_when_points_are_too_few_for_a_quadratic():
    x = space_filling(BOX3, n_terms(3, 2) + 1, seed=1)  # below the 10 + MIN_DOF a quadratic needs
    y = 2.0 - x @ np.array([1.0, 3.0, -0.5])
    em = fit_emulator(x, y)
    assert em.degree == 1
    np.testing.assert_allclose(em.predict(BOX3.mean(axis=1)[None])[0], 2.0 - BOX3.mean(axis=1) @ [1.0, 3.0, -0.5],
                               rtol=0, atol=1e-9)
    with pytest.raises(InputError, match="needs >= 13 design points"):
        fit_emulator(x, y, degree=2)


def test_loo_error_detects_a_function_that_is_not_quadratic():
    x = space_filling(BOX3, 25, seed=1)
    exact = fit_emulator(x, _quadratic(x)).loo_
    wavy = fit_emulator(x, np.exp(x[:, 0] / 2) + np.sin(4 * x[:, 1]) + x[:, 2]).loo_
    assert exact.q2[0] > 1 - 1e-12 and wavy.q2[0] < 0.99
    assert wavy.rmse[0] > 1e5 * exact.rmse[0]


def test_emulator_variance_matches_noise_and_loo_errors_are_standardised():
    # Independent noise of SD 0.3 on a quadratic: s should recover 0.3 and the studentised LOO
    # errors should have unit variance (tolerances: about 5 standard errors for m = 256).
    x = space_filling(BOX3, 256, seed=4)
    y = _quadratic(x) + np.random.default_rng(3).normal(0.0, 0.3, size=256)
    em = fit_emulator(x, np.column_stack([y, 2 * y]))
    np.testing.assert_allclose(np.sqrt(em.resid_var_) * em.y_sd_, [0.3, 0.6], rtol=0.25)
    np.testing.assert_allclose(np.mean(em.loo_.std_errors**2, axis=0), [1.0, 1.0], rtol=0, atol=0.3)
    centre, far = em.predict(np.array([[1.5, 0.5, 1.0], [5.0, 1.0, 3.0]]))[1][:, 0]
    assert far > centre  # coefficient uncertainty grows away from the design's centre


def test_implausibility_is_distance_over_total_sd():
    x = np.linspace(-1.0, 1.0, 12)[:, None]
    em = fit_emulator(x, 3.0 * x[:, 0])
    mean, var = em.predict(np.array([[0.2]]))
    expected = abs(1.5 - mean[0]) / np.sqrt(var[0] + 0.04 + 0.01)
    np.testing.assert_allclose(em.implausibility(np.array([[0.2]]), 1.5, 0.04, 0.01), [expected], rtol=1e-12)
    np.testing.assert_allclose(implausibility(np.array([1.0]), np.array([0.0]), 3.0, 1.0), [2.0], rtol=1e-12)


# ---------------------------------------------------------------- sampler


def test_sampler_recovers_a_correlated_gaussian():
    mu, sd, rho = np.array([0.5, -1.0]), np.array([0.3, 0.6]), 0.7
    prec = np.linalg.inv(np.outer(sd, sd) * np.array([[1.0, rho], [rho, 1.0]]))

    def log_prob(x):
        d = x - mu
        return -0.5 * np.einsum("ij,jk,ik->i", d, prec, d)

    post = sample_posterior(log_prob, [[-3.0, 3.0], [-5.0, 3.0]], 32, 1500, 300, seed=11)
    # About 32 * 1200 / tau(~20) = 1900 effective draws: SE(mean) ~ 0.023 sd, SE(sd) ~ 1.6 %.
    assert post.samples.shape == (32 * 1200, 2) and post.log_prob.shape == (32 * 1200,)
    np.testing.assert_allclose((post.summary.mean - mu) / sd, 0.0, rtol=0, atol=0.12)
    np.testing.assert_allclose(post.summary.sd, sd, rtol=0.08)
    np.testing.assert_allclose(post.summary.corr[0, 1], rho, rtol=0, atol=0.05)
    np.testing.assert_allclose(post.summary.q50, mu, rtol=0, atol=0.12 * sd.max())
    assert 0.2 < post.acceptance < 0.9 and np.all(post.tau < 1200 / 20)


def test_sampler_respects_the_box():
    # Standard normal restricted to [0, 2]: a truncated normal with known mean and SD.
    post = sample_posterior(lambda x: -0.5 * x[:, 0] ** 2, [[0.0, 2.0]], 32, 1500, 300, seed=4)
    truth = truncnorm(0.0, 2.0)
    # About 32 * 1200 / tau(~23) = 1700 effective draws: SE(mean) ~ 1.7 %, SE(sd) ~ 1.7 %.
    assert post.samples.min() >= 0.0 and post.samples.max() <= 2.0
    np.testing.assert_allclose(post.summary.mean, [truth.mean()], rtol=0.08)
    np.testing.assert_allclose(post.summary.sd, [truth.std()], rtol=0.08)


def test_same_seed_gives_identical_samples():
    def log_prob(x):
        return -0.5 * np.sum((x - 0.3) ** 2, axis=1)

    a, b, c = (sample_posterior(log_prob, [[-2.0, 2.0]] * 2, 8, 200, 50, seed=s) for s in (7, 7, 8))
    assert np.array_equal(a.samples, b.samples) and np.array_equal(a.log_prob, b.log_prob)
    assert not np.array_equal(a.samples, c.samples)


def test_summary_quantiles_and_correlations():
    s = summarise(np.column_stack([np.arange(1001.0), -np.arange(1001.0)]))
    np.testing.assert_allclose(s.q025, [25.0, -975.0], rtol=1e-12)
    np.testing.assert_allclose(s.q975, [975.0, -25.0], rtol=1e-12)
    np.testing.assert_allclose(s.corr, [[1.0, -1.0], [-1.0, 1.0]], rtol=1e-12)


# ---------------------------------------------------------------- wave loop

TOY_BOX = np.array([[-3.0, 3.0], [-3.0, 3.0]])
TOY_SD = np.array([0.1, 0.1])


def _toy_simulator(x):
    """Smooth, non-polynomial 2-D map standing in for a cohort simulator's two summaries."""
    return np.column_stack([np.exp(0.5 * x[:, 0]) - 0.2 * x[:, 1], np.sin(0.8 * x[:, 1]) + 0.3 * x[:, 0]])


TOY_OBS = _toy_simulator(np.array([[0.5, 0.5]]))[0] + np.array([0.05, -0.08])


def _toy_log_lik(mean, var):
    total = TOY_SD**2 + var  # the emulator's variance adds to the observation noise
    return -0.5 * np.sum((mean - TOY_OBS) ** 2 / total + np.log(total), axis=1)


def _grid_posterior():
    """Exact posterior moments under a uniform prior on the box, on a 601 x 601 grid."""
    g = np.linspace(-3.0, 3.0, 601)
    p = np.column_stack([a.ravel() for a in np.meshgrid(g, g, indexing="ij")])
    lp = -0.5 * np.sum((_toy_simulator(p) - TOY_OBS) ** 2 / TOY_SD**2, axis=1)
    w = np.exp(lp - lp.max())
    w /= w.sum()
    mean = w @ p
    cov = (p - mean).T @ ((p - mean) * w[:, None])
    return mean, np.sqrt(np.diag(cov)), cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])


def test_wave_loop_recovers_the_exact_posterior_of_a_toy_simulator():
    calls = []

    def simulate(x):
        calls.append(len(x))
        return _toy_simulator(x)

    res = wave_loop(simulate, _toy_log_lik, TOY_BOX, None, 20, 3, seed=0, n_steps=600, burn=200)
    mean, sd, corr = _grid_posterior()
    post = res.posterior.summary
    # Tolerances: Monte Carlo error is ~0.04 sd in the mean and ~3 % in the sd (about 640
    # effective draws); the rest is emulator error, which the refocused waves make small.
    assert calls == [20, 20, 20] and len(res.waves) == 3
    np.testing.assert_allclose((post.mean - mean) / sd, 0.0, rtol=0, atol=0.25)
    np.testing.assert_allclose(post.sd, sd, rtol=0.15)
    np.testing.assert_allclose(post.corr[0, 1], corr, rtol=0, atol=0.1)
    assert res.waves[0].region is None and all(w.region is not None for w in res.waves[1:])
    assert np.all(res.waves[-1].emulator.loo_.q2 > 0.99)  # the last wave emulates accurately
    assert np.all(res.waves[-1].region.contains(res.posterior.samples))


def test_wave_loop_is_reproducible_and_drops_failed_simulations():
    def simulate(x):
        out = _toy_simulator(x)
        out[0] = np.nan  # one failed parameter set per wave
        return out

    runs = [wave_loop(simulate, _toy_log_lik, TOY_BOX, None, [16, 12], 2, seed=3, n_walkers=8, n_steps=150,
                      burn=50) for _ in range(2)]
    assert [w.n_failed for w in runs[0].waves] == [1, 1]
    assert [len(w.design) for w in runs[0].waves] == [15, 11]
    assert np.array_equal(runs[0].posterior.samples, runs[1].posterior.samples)

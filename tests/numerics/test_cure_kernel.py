"""The stochastic cure inside the compiled solver, against independent truth.

numpy's PCG64 (the stream), scipy's binomial and negative binomial quantiles, the scipy-based
draw of :func:`birth_death_draw`, and Kendall's closed-form extinction probability of a linear
birth-death process; plus the reproducibility contract (threads, cohort vs alone).
"""

import numpy as np
from scipy import stats

from celltrial.cohorts import patient_blocks, patient_pcg_states
from celltrial.protocols.extinction import Extinction, birth_death_draw, extinction_probability, run_with_extinction
from celltrial.solve import Simulation


def test_compiled_stream_is_numpys_pcg64_bit_for_bit(exponential):
    ids = np.array([0, 1, 977, 2**32 - 1, 2**40])  # the last one takes the exact slow seeding path
    states = patient_pcg_states(2026, ids, "extinction")
    expected = patient_blocks(2026, ids, "extinction", 40, "random")
    for row, start in zip(expected, states, strict=True):
        rng = start.copy()
        drawn = np.array([exponential.kernels.pcg_uniform(rng) for _ in range(40)])
        np.testing.assert_array_equal(drawn, row)


def test_compiled_quantiles_match_scipy(exponential):
    k = exponential.kernels
    rng = np.random.default_rng(5)
    for _ in range(3000):
        u, n, p = rng.random(), float(rng.integers(1, 100)), rng.random()
        assert k.binomial_ppf(u, n, p) == stats.binom.ppf(u, n, p), (u, n, p)
        s, q = float(rng.integers(1, 100)), rng.uniform(0.02, 1.0)
        assert k.neg_binomial_ppf(u, s, q) == stats.nbinom.ppf(u, s, q), (u, s, q)
    # first terms that underflow: (1 - p)^n = 1e-600 in double precision
    assert k.binomial_ppf(0.5, 99.0, 1.0 - 1e-6) == stats.binom.ppf(0.5, 99, 1.0 - 1e-6)


def test_compiled_draw_equals_the_scipy_reference(exponential):
    rng = np.random.default_rng(9)
    n0 = rng.integers(1, 100, 2000).astype(float)
    n1 = n0 * np.exp(rng.uniform(-1.5, 1.0, n0.size))
    b = rng.uniform(0.0, 1.0, n0.size)
    u1, u2 = rng.random((2, n0.size))
    reference = birth_death_draw(n0, n1, b, 1.0, u1, u2)
    draw = exponential.kernels.birth_death_size
    compiled = [draw(*args, 1.0, v1, v2) for *args, v1, v2 in zip(n0, n1, b, u1, u2, strict=True)]
    np.testing.assert_array_equal(compiled, reference)


def test_a_small_population_dies_out_as_kendall_says(exponential):
    """20 cells, birth 0.5/day, death 0.6/day: P(extinct by day 10) = alpha(10)^20 (Kendall 1948)."""
    n, n0, b, r = 4000, 20.0, 0.5, -0.1
    sim = Simulation(exponential, {"r": np.full(n, r), "x0": np.full(n, n0)}, rtol=1e-8)
    extinct = run_with_extinction(sim, 10.0, [Extinction("x", str(b))],
                                  streams=patient_pcg_states(11, np.arange(n), "extinction"))["x"]
    p = float(extinction_probability(n0, n0 * np.exp(10 * r), b, 10.0))
    assert abs(np.isfinite(extinct).mean() - p) < 4 * np.sqrt(p * (1 - p) / n)
    size = sim.y[:, 0]
    assert np.all(size == np.round(size))  # integer counts below the threshold
    mean = n0 * np.exp(10 * r)  # the birth-death mean is the ODE's path
    assert abs(size.mean() - mean) < 4 * size.std() / np.sqrt(n)
    assert np.all(extinct[np.isfinite(extinct)] == np.round(extinct[np.isfinite(extinct)]))  # on check days


def test_large_populations_are_never_touched(exponential):
    sim = Simulation(exponential, {"r": [0.1, -0.1], "x0": [1e6, 1e6]}, rtol=1e-8)
    log = []
    run_with_extinction(sim, 30.0, [Extinction("x", "1.0")], streams=patient_pcg_states(1, [0, 1], "extinction"),
                        log=log)
    assert log == []
    np.testing.assert_allclose(sim.y[:, 0], 1e6 * np.exp(np.array([3.0, -3.0])), rtol=1e-6)


def _cure_run(standard, ids, threads):
    params = np.repeat(standard.model.default_parameters()[None, :], len(ids), axis=0)
    b0 = standard.model.parameter_names.index("B0")
    params[:, b0] = 50.0 * (1.0 + np.asarray(ids) % 5)  # small tumours: the cure acts within days
    sim = Simulation(standard, params, rtol=1e-5, threads=threads, check_bounds=False)
    clones = [Extinction("Bp", "d_T + g_T"), Extinction("Bs", "d_T + g_T"), Extinction("Bn", "d_T + g_T")]
    extinct = run_with_extinction(sim, 60.0, clones, streams=patient_pcg_states(3, ids, "extinction"))
    return sim.y.copy(), extinct


def test_each_patient_has_the_same_fate_alone_in_a_cohort_and_with_any_threads(standard):
    ids = np.arange(24)
    y1, e1 = _cure_run(standard, ids, threads=1)
    y2, e2 = _cure_run(standard, ids, threads=2)
    np.testing.assert_array_equal(y1, y2)
    for state in e1:
        np.testing.assert_array_equal(e1[state], e2[state])
    alone_y, alone_e = _cure_run(standard, ids[7:8], threads=1)
    np.testing.assert_array_equal(alone_y[0], y1[7])
    assert all(alone_e[s][0] == e1[s][7] for s in e1)
    assert any(np.isfinite(e1[s]).any() for s in e1)  # the cure acted

"""Stochastic extinction: Kendall's closed forms against an independent Gillespie simulation."""

import numpy as np
import pytest

from celltrial.errors import InputError
from celltrial.protocols.extinction import birth_death_draw, extinction_probability


def gillespie(n0, b, d, t_end, rng):
    """Exact stochastic simulation of a linear birth-death process (independent truth)."""
    n, t = n0, 0.0
    while n > 0:
        t += rng.exponential(1.0 / ((b + d) * n))
        if t > t_end:
            break
        n += 1 if rng.random() < b / (b + d) else -1
    return n


@pytest.mark.parametrize("n0,b,d,dt", [(5, 0.1, 0.6, 1.0), (3, 0.12, 0.12, 2.0), (10, 0.5, 0.3, 1.0)])
def test_kendall_matches_gillespie(n0, b, d, dt):
    rng = np.random.default_rng(1)
    mc = np.array([gillespie(n0, b, d, dt, rng) for _ in range(20000)])
    n1 = n0 * np.exp((b - d) * dt)
    p_ext = float(extinction_probability(n0, n1, b, dt))
    se = np.sqrt(p_ext * (1 - p_ext) / mc.size)
    assert abs((mc == 0).mean() - p_ext) < 4 * se + 1e-3
    u = np.random.default_rng(2).random((2, 20000))
    drawn = birth_death_draw(np.full(20000, n0), np.full(20000, n1), np.full(20000, b), dt, u[0], u[1])
    assert np.all(drawn == np.round(drawn)) and np.all(drawn >= 0)
    np.testing.assert_allclose(drawn.mean(), n1, rtol=0.03)  # mean = the ODE's value
    np.testing.assert_allclose(drawn.mean(), mc.mean(), rtol=0.04)
    np.testing.assert_allclose(drawn.var(), mc.var(), rtol=0.1)
    assert abs((drawn == 0).mean() - (mc == 0).mean()) < 0.015


def test_edge_cases():
    assert float(extinction_probability(0.0, 0.0, 0.1, 1.0)) == 0.0  # nothing to go extinct
    assert float(extinction_probability(4.0, 0.0, 0.1, 1.0)) == 1.0  # deterministic path hits zero
    np.testing.assert_allclose(float(extinction_probability(1.0, np.exp(-1.0), 0.0, 1.0)), 1 - np.exp(-1.0))


def test_runner_checks_the_draw_block(standard):
    from celltrial.protocols import Extinction, run_with_extinction
    from celltrial.solve import Simulation

    sim = Simulation(standard, n_patients=2)
    with pytest.raises(InputError, match="uniforms must have shape"):
        run_with_extinction(sim, 10.0, [Extinction("Bp", "d_T + g_T")], np.zeros((2, 3)))
    with pytest.raises(InputError, match="unknown state"):
        run_with_extinction(sim, 10.0, [Extinction("Bpos", "d_T + g_T")], np.zeros((2, 30)))


def test_a_clone_rounded_to_no_cells_is_gone_and_stops_reseeding_its_niche(standard):
    """Exposed and protected cells exchange; sub-cell remainders must not keep each other alive."""
    from celltrial.biology import standard_model
    from celltrial.protocols.extinction import DRAWS_PER_CHECK, Extinction, checks_needed, run_with_extinction
    from celltrial.solve import Simulation

    model = standard_model()
    params = dict(zip(model.parameter_names, model.default_parameters(), strict=True))
    # 0.4 cells in each niche, no growth advantage, no product: nothing should survive rounding
    params.update(B0=0.8, x_neg=1e4, x_prot=float(np.log(2.0)), g_T=0.01)
    sim = Simulation(standard, {k: [v, v] for k, v in params.items()})
    clones = [Extinction("Bp", "d_T + g_T"), Extinction("Bs", "d_T + g_T"), Extinction("Bn", "d_T + g_T")]
    u = np.full((2, checks_needed(0.0, 3.0, 1.0) * 3 * DRAWS_PER_CHECK), 0.99)  # 0.99 > 0.4: round down
    extinct = run_with_extinction(sim, 3.0, clones, u)
    assert np.all(extinct["Bp"] == 0.0) and np.all(extinct["Bs"] == 0.0)  # rounded to none at the first check
    assert np.all(extinct["Bn"] == np.inf)  # never existed, never drawn
    assert np.all(sim.y[:, model.state_names.index("Bp")] == 0.0)
    assert np.all(sim.y[:, model.state_names.index("Bs")] == 0.0)

"""Reproducibility of per-patient streams: a patient's values depend only on (seed, index, purpose).

Chunking, batch size, order and worker count must not change a single bit.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from celltrial.cohorts import (
    PURPOSES,
    Categorical,
    CohortSpec,
    Covariate,
    CovariateEffect,
    LogNormal,
    Normal,
    Variability,
    patient_blocks,
    patient_rng,
    sample_cohort,
)
from celltrial.model.library import cart6

MODEL = cart6()
# Exercises every stage: correlated etas, truncated-normal redraws, categorical and lognormal
# covariates, all three effect kinds and out-of-bounds resampling (eps = 0.05 exp(1.5 z) > 1
# for about 2 % of first draws).
SPEC = CohortSpec(
    variability=Variability({"gamma": 0.4, "rho": 0.3, "eps": 1.5}, {("gamma", "rho"): 0.5}),
    covariates=[
        Covariate("weight", Normal(70.0, 20.0, low=50.0, high=100.0), "kg"),
        Covariate("stage", Categorical({"I": 0.3, "II": 0.7})),
        Covariate("age", LogNormal(60.0, 0.2), "years"),
    ],
    effects=[
        CovariateEffect("rho", "weight", "power", 0.75, 70.0),
        CovariateEffect("B0", "stage", "categorical", {"II": 3.0}),
        CovariateEffect("d_E", "age", "exponential", -0.01, 60.0),
    ],
)
SETTINGS = settings(max_examples=30, deadline=None)
seeds = st.integers(min_value=0, max_value=2**130)


def _sample(n, seed, first_patient=0):
    return sample_cohort(MODEL, SPEC, n=n, seed=seed, first_patient=first_patient, out_of_bounds="resample")


def _assert_same(a, b):
    assert np.array_equal(a.params, b.params)
    for name in a.covariates:
        assert np.array_equal(a.covariates[name], b.covariates[name])


@SETTINGS
@given(
    seed=seeds,
    first=st.integers(min_value=0, max_value=10**6),
    cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=6),
    n=st.integers(min_value=1, max_value=60),
)
def test_any_chunking_gives_identical_patients(seed, first, cuts, n):
    whole = _sample(n, seed, first)
    edges = sorted({0, n, *(c for c in cuts if c < n)})
    parts = [_sample(hi - lo, seed, first + lo) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    assert np.array_equal(np.concatenate([p.params for p in parts]), whole.params)
    for name, values in whole.covariates.items():
        assert np.array_equal(np.concatenate([p.covariates[name] for p in parts]), values)


@SETTINGS
@given(seed=seeds, n=st.integers(min_value=2, max_value=40), data=st.data())
def test_sampling_order_and_repetition_do_not_matter(seed, n, data):
    whole = _sample(n, seed)
    _assert_same(whole, _sample(n, seed))  # same call twice: same bits
    order = data.draw(st.permutations(range(n)))
    for patient in order:  # one patient at a time, in a shuffled order
        single = _sample(1, seed, patient)
        assert np.array_equal(single.params[0], whole.params[patient])


@SETTINGS
@given(seed=seeds, other=seeds, n=st.integers(min_value=1, max_value=30))
def test_different_seeds_differ(seed, other, n):
    if seed == other:
        return
    a, b = _sample(n, seed), _sample(n, other)
    column = MODEL.parameter_names.index("gamma")
    # Every patient's continuous random effect differs (equality has probability ~2**-52).
    assert (a.params[:, column] != b.params[:, column]).all()


@SETTINGS
@given(
    seed=seeds,
    patients=st.lists(st.integers(min_value=0, max_value=2**33), min_size=1, max_size=8),
    purpose=st.sampled_from(sorted(PURPOSES)),
    size=st.integers(min_value=1, max_value=5),
    draw=st.sampled_from(["standard_normal", "random"]),
)
def test_blocks_equal_patient_streams(seed, patients, purpose, size, draw):
    """The vectorised seeding path reproduces SeedSequence + PCG64 exactly (ids >= 2**32 too)."""
    block = patient_blocks(seed, patients, purpose, size, draw)
    for row, patient in zip(block, patients, strict=True):
        assert np.array_equal(row, getattr(patient_rng(seed, patient, purpose), draw)(size))

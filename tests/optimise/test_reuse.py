"""A promoted candidate reuses its first twins: the same table bit for bit, only the new patients simulated."""

import numpy as np

from celltrial.optimise import Evaluator
from celltrial.optimise.reuse import ChunkCache
from celltrial.scenarios import load_scenario
from celltrial.trials.trial import run_trial

VALUES = {"ctdna_assay.min_molecules": 2, "ctdna_schedule.pieces.0.every_days": 28.0, "changes.dose.cells": 3.0e8}


def _same(a: dict, b: dict) -> bool:
    return set(a) == set(b) and all(
        np.array_equal(np.asarray(a[k]), np.asarray(b[k]), equal_nan=np.asarray(a[k]).dtype.kind == "f") for k in a)


def test_a_promotion_reuses_the_first_twins_and_matches_a_run_from_scratch(standard):
    mrd = load_scenario("scenarios/optimise_mrd_monitoring.yaml")[0]
    ev = Evaluator(mrd, compiled=standard)
    cache = ChunkCache(4)
    small, large = ev.trial_scenario(VALUES, 4), ev.trial_scenario(VALUES, 10)
    cache.run(small, compiled=standard)
    assert cache.reused_patients == 0 and cache.key_count == 1
    reused = cache.run(large, compiled=standard, keep=False)
    assert cache.reused_patients == 4 and cache.key_count == 0  # the last rung drops the candidate's chunks
    assert _same(reused, run_trial(large, compiled=standard).patients)


def test_another_candidate_reuses_nothing(standard):
    mrd = load_scenario("scenarios/optimise_mrd_monitoring.yaml")[0]
    ev = Evaluator(mrd, compiled=standard)
    cache = ChunkCache(4)
    cache.run(ev.trial_scenario(VALUES, 4), compiled=standard)
    other = ev.trial_scenario({**VALUES, "ctdna_assay.min_molecules": 3}, 8)
    assert _same(cache.run(other, compiled=standard), run_trial(other, compiled=standard).patients)
    assert cache.reused_patients == 0 and cache.key_count == 2


def test_the_evaluator_reuses_on_promotion(standard):
    mrd = load_scenario("scenarios/optimise_mrd_monitoring.yaml")[0]
    ev = Evaluator(mrd, compiled=standard)  # patients start 20, max 80
    first, second = ev.evaluate(VALUES, 20), ev.evaluate(VALUES, 40)
    assert ev.chunks.reused_patients == 20 and first.values != second.values

"""Promotions reuse the patients a candidate has already run: only the new twins are simulated.

Successive halving evaluates a promoted candidate again on ``factor`` times the patients. Patient
``i`` is the same twin whatever the cohort size (its own random streams), so the first patients of
the larger evaluation are exactly those of the smaller one. :class:`ChunkCache` runs one-arm
trials in chunks of the first rung's size and keeps each candidate's chunks; a promotion hands
them to :func:`celltrial.trials.trial.run_trial` as ``done`` chunks and simulates only the rest.
The patients table is the same bit for bit as a run from scratch (tests/optimise/test_reuse.py).

Measured on the MRD example (2 threads, a 2-core machine under load 4): one evaluation of 80
patients takes 0.44 s from scratch in one chunk, 0.49 s in chunks of 20, 0.24 s with the first 40
reused; a 30-evaluation search (rungs 20, 40, 80) reuses 460 of its 1,200 patient-evaluations and
takes 4.3 s instead of 5.6 s (second of two runs each), with the same Pareto set.

Example:
    >>> ChunkCache(20).key_count
    0
"""

from __future__ import annotations

from collections import OrderedDict

#: Candidates whose chunks are kept (least recently used dropped first): bounds the memory.
MOST_CANDIDATES = 256


class ChunkCache:
    """Chunks (columns, dose log, assay counts) of one-arm candidate trials, by candidate."""

    def __init__(self, chunk_size: int, most: int = MOST_CANDIDATES):
        self.chunk_size = int(chunk_size)
        self.most = int(most)
        self._kept: OrderedDict = OrderedDict()
        self.reused_patients = 0

    @property
    def key_count(self) -> int:
        return len(self._kept)

    @staticmethod
    def key(scenario) -> str:
        """Everything a patient's result depends on except the cohort size."""
        return scenario.model_dump_json(exclude={"cohort": {"patients"}})

    def run(self, scenario, *, compiled=None, threads=None, keep: bool = True) -> dict:
        """The patients table of one-arm ``scenario``, reusing its kept chunks; ``keep``: store its chunks
        for a later, larger evaluation (False at the last rung, and the candidate's chunks are dropped)."""
        from ..trials.trial import in_process, run_trial

        if len(scenario.arms) != 1:
            raise ValueError("ChunkCache runs one-arm trials only (chunk indices would mix arms)")
        key, size = self.key(scenario), self.chunk_size
        kept = self._kept.pop(key, {})
        whole = scenario.cohort.patients // size  # a partial last chunk of a smaller run is not a prefix
        # copies of the column dicts: run_trial empties the ones it is given while joining them
        done = {k: (dict(c), d, n) for k, (c, d, n) in kept.items() if k < whole}
        self.reused_patients += size * len(done)
        run = in_process(compiled, threads)

        def capture(plan, items, keep_patients):
            for r in run(plan, items, keep_patients):
                if keep and r.n == size:
                    kept[r.index] = (dict(r.columns), r.dose_log, r.assay_counts)
                yield r

        table = run_trial(scenario, compiled=compiled, threads=threads, chunk_size=size, executor=capture,
                          done=done).patients
        if keep:
            self._kept[key] = kept
            while len(self._kept) > self.most:
                self._kept.popitem(last=False)
        return table

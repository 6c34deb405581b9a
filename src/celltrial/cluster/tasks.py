"""What a Dask worker runs: one chunk of patients, returned as Parquet bytes.

The plan and the compiled model are built once per worker process and scenario (a worker keeps
them between tasks; the kernel comes from the on-disk cache after the first compile on a machine).

Example:
    payload = run_chunk(scenario, None, index=3, arm_index=0, lo=3000, hi=4000)   # on a worker
    payload["n"], sorted(payload)   # 1000, ['arm_index', 'assay_counts', 'assays', 'doses', 'index', 'n', ...]
"""

from __future__ import annotations

import io

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from ..solve import compile as compile_model
from ..store.convert import to_arrow_columns, to_numpy
from ..store.schema import dose_kinds, patient_kinds
from ..store.trajectories import TRAJECTORY_KINDS
from ..trials.assays import ASSAY_COLUMNS, detection_counts
from ..trials.design import TrialPlan
from ..trials.runner import simulate_chunk
from ..trials.trial import chunk_outputs, stored_assays

_PLANS: dict = {}  # per worker process: (scenario JSON, id of the policies) -> (scenario, policies, plan, model)


def _plan(scenario, policies):
    key = (scenario.model_dump_json(), id(policies))
    if key not in _PLANS:
        plan = TrialPlan(scenario, policies=policies)
        _PLANS.clear()  # one trial at a time per worker: do not keep old plans alive
        _PLANS[key] = (scenario, policies, plan, compile_model(plan.model))  # references keep the id unique
    return _PLANS[key][2:]


def to_parquet(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def from_parquet(data: bytes, columns=None) -> pa.Table:
    """The table in Parquet ``data`` (only ``columns`` of it, when given)."""
    return pq.read_table(pa.BufferReader(data), columns=None if columns is None else list(columns))


def run_chunk(scenario, policies, index: int, arm_index: int, lo: int, hi: int) -> dict:
    """Simulate rows ``lo:hi`` of arm ``arm_index`` on one thread; the chunk's tables as Parquet bytes."""
    plan, model = _plan(scenario, policies)
    rows = np.arange(lo, hi, dtype=np.int64)
    course = simulate_chunk(plan, model, arm_index, rows, threads=1)
    table, thin, given, calls = chunk_outputs(plan, course, arm_index, rows)
    counts, calls = detection_counts(calls), stored_assays(plan, calls)
    return {
        "index": index, "arm_index": arm_index, "n": len(rows),
        "patients": to_parquet(to_arrow_columns(patient_kinds(), table, "patients")),
        "doses": to_parquet(to_arrow_columns(dose_kinds(), given, "doses")),
        "trajectories": None if thin is None else to_parquet(to_arrow_columns(TRAJECTORY_KINDS, thin, "trajectories")),
        "assays": None if calls is None else to_parquet(to_arrow_columns(ASSAY_COLUMNS, calls, "assays")),
        "assay_counts": counts,
    }


def numpy_columns(table: pa.Table, kinds: dict, names=None) -> dict:
    """Columns ``names`` (default: all of ``kinds`` present) of an Arrow table as numpy arrays."""
    wanted = [n for n in kinds if n in table.column_names and (names is None or n in names)]
    return {n: to_numpy(table.column(n), kinds[n], f"column {n!r}") for n in wanted}

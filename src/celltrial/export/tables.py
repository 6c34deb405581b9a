"""Parameter tables and trajectories as CSV or Parquet, with columns named after the model.

A parameter table has a ``patient`` column and one column per model parameter. CSV values
are written with ``repr`` (the shortest text that reads back to the same double), so a
table round-trips bit for bit; Parquet stores float64 natively.

Example:
    >>> import numpy as np
    >>> from celltrial.model.library import exponential_model
    >>> model = exponential_model()
    >>> table = parameter_table(model, np.array([[0.1, 1.0], [0.2, 2.0]]))
    >>> list(table), table["r"].tolist()
    (['patient', 'r', 'x0'], [0.1, 0.2])
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from ..errors import InputError, MissingDependencyError, did_you_mean

PATIENT = "patient"


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise MissingDependencyError(
            "Parquet tables need pyarrow; install it with `pip install pyarrow` (a celltrial dependency)"
        ) from None
    return pa, pq


def _format(path) -> str:
    suffix = Path(path).suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise InputError(f"table file {str(path)!r}: unknown suffix {suffix!r}; use '.csv' or '.parquet'")
    return suffix[1:]


def parameter_table(model, params, patient_ids=None) -> dict[str, np.ndarray]:
    """Columns ``patient`` then one per parameter (declaration order) from an (n, n_params) array."""
    arr = np.array(params, dtype=np.float64, ndmin=2)
    names = model.parameter_names
    if arr.ndim != 2 or arr.shape[1] != len(names):
        raise InputError(f"params: expected shape (n, {len(names)}) in model.parameter_names order, "
                         f"got {np.shape(params)}")
    ids = np.arange(arr.shape[0]) if patient_ids is None else np.asarray(patient_ids)
    if ids.shape != (arr.shape[0],):
        raise InputError(f"patient_ids: expected {arr.shape[0]} ids, got shape {ids.shape}")
    if len(set(ids.tolist())) != ids.size:
        raise InputError("patient_ids: ids must be unique")
    table = {PATIENT: ids}
    table.update({name: arr[:, j].copy() for j, name in enumerate(names)})
    return table


def write_parameter_table(model, params, path, patient_ids=None) -> None:
    """Write :func:`parameter_table` to ``path``; ``.csv`` or ``.parquet`` by suffix."""
    fmt = _format(path)
    table = parameter_table(model, params, patient_ids)
    if fmt == "parquet":
        pa, pq = _pyarrow()
        pq.write_table(pa.table(table), str(path))
        return
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(list(table))
        cols = [table[PATIENT].tolist()] + [table[n].tolist() for n in model.parameter_names]
        for row in zip(*cols, strict=True):
            writer.writerow([str(row[0])] + [repr(float(v)) for v in row[1:]])


def _read_csv(path) -> tuple[list, dict]:
    with open(path, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    if not rows:
        raise InputError(f"{str(path)!r} is empty; expected a header row")
    header, body = rows[0], rows[1:]
    bad = [i for i, r in enumerate(body, start=2) if len(r) != len(header)]
    if bad:
        raise InputError(f"{str(path)!r} line {bad[0]}: expected {len(header)} fields")
    return header, {name: [r[j] for r in body] for j, name in enumerate(header)}


def _ids(values) -> np.ndarray:
    # Ids written from integers read back as integers; anything else stays text.
    try:
        return np.array([int(v) for v in values], dtype=np.int64)
    except ValueError:
        return np.array(values, dtype=str)


def _check_columns(model, header, path) -> None:
    names = model.parameter_names
    dupes = sorted({h for h in header if header.count(h) > 1})
    if dupes:
        raise InputError(f"{str(path)!r}: column {dupes[0]!r} appears more than once")
    for h in header:
        if h != PATIENT and h not in names:
            raise InputError(f"{str(path)!r}: unknown column {h!r}{did_you_mean(h, names)}; "
                             f"columns are {PATIENT!r} and the model's parameter names")
    for name in (PATIENT, *names):
        if name not in header:
            raise InputError(f"{str(path)!r}: missing column {name!r}")


def read_parameter_table(model, path) -> tuple[np.ndarray, np.ndarray]:
    """Read a table written by :func:`write_parameter_table`: (patient_ids, (n, n_params) array).

    Columns may come in any order; they are checked against the model by name.
    """
    fmt = _format(path)
    if fmt == "parquet":
        _, pq = _pyarrow()
        raw = pq.read_table(str(path))
        header = list(raw.column_names)
        _check_columns(model, header, path)
        ids = raw.column(PATIENT).to_numpy(zero_copy_only=False)
        cols = [raw.column(n).to_numpy(zero_copy_only=False) for n in model.parameter_names]
    else:
        header, raw = _read_csv(path)
        _check_columns(model, header, path)
        ids = _ids(raw[PATIENT])
        cols = [_floats(raw[n], n, path) for n in model.parameter_names]
    arr = np.column_stack(cols).astype(np.float64) if cols else np.zeros((len(ids), 0))
    return ids, np.ascontiguousarray(arr.reshape(len(ids), len(model.parameter_names)))


def _floats(values, name, path) -> np.ndarray:
    try:
        return np.array([float(v) for v in values], dtype=np.float64)
    except ValueError as exc:
        raise InputError(f"{str(path)!r}: column {name!r} holds a non-number ({exc})") from None


def write_trajectory_csv(result, patient: int, path) -> None:
    """Write patient ``patient``'s saved trajectory to CSV with header ``time,<names>``."""
    n = result.n_patients
    if not isinstance(patient, (int, np.integer)) or not 0 <= patient < n:
        raise InputError(f"patient must be an index in [0, {n}), got {patient!r}")
    cols = result.patient(int(patient))
    names = list(cols)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(names)
        for row in zip(*(cols[c].tolist() for c in names), strict=True):
            writer.writerow([repr(float(v)) for v in row])

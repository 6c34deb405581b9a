"""Conversions between numpy column dicts (what the runner and RunData hold) and Arrow tables.

Strings go through Python lists (numpy -> Arrow) and Arrow dictionaries (Arrow -> numpy): the
direct conversions go element by element and are 3-10x slower for a million rows.

Example:
    >>> table = to_arrow_columns({"arm": "str", "n": "int"}, {"arm": np.array(["b", "a"]), "n": np.arange(2)}, "x")
    >>> to_numpy(table.column("arm"), "str").tolist()
    ['b', 'a']
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import StoreError

_ACCEPTED = {"int": "iub", "float": "fiub", "bool": "b", "str": "UO"}
_NUMPY = {"int": np.int64, "float": np.float64, "bool": np.bool_}
#: The Arrow type of each column kind (what :func:`to_arrow_columns` builds).
ARROW_TYPES = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}


def to_arrow_columns(kinds: dict, data: dict, what: str) -> pa.Table:
    """Validate ``data`` (name -> 1-D array) against ``kinds`` (name -> kind) and build an Arrow table.

    Raises StoreError naming missing or unknown columns, wrong dtypes and unequal lengths.
    """
    missing = [n for n in kinds if n not in data]
    unknown = [n for n in data if n not in kinds]
    if missing or unknown:
        parts = ([f"missing {missing}"] if missing else []) + ([f"unknown {unknown}"] if unknown else [])
        raise StoreError(f"{what} columns do not match the declared columns: {'; '.join(parts)}")
    arrays, length = {}, None
    for name, kind in kinds.items():
        values = np.asarray(data[name])
        if values.ndim != 1:
            raise StoreError(f"{what} column {name!r} must be 1-D, got shape {values.shape}")
        if length is not None and len(values) != length:
            first = next(iter(kinds))
            raise StoreError(f"{what} column {name!r} has {len(values)} rows but {first!r} has {length}")
        length = len(values)
        arrays[name] = _to_arrow(values, kind, f"{what} column {name!r}")
    return pa.table(arrays)


def _to_arrow(values: np.ndarray, kind: str, label: str) -> pa.Array:
    if values.size and values.dtype.kind not in _ACCEPTED[kind]:
        raise StoreError(f"{label} is declared {kind!r} but has numpy dtype {values.dtype}")
    if kind != "str":
        return pa.array(values.astype(_NUMPY[kind], copy=False))
    try:
        array = pa.array(values.tolist() if values.dtype.kind == "U" else values, type=pa.string())
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise StoreError(f"{label} must hold strings: {exc}") from exc
    if array.null_count:  # the table's convention is "" for a missing string, never NULL
        raise StoreError(f"{label} holds None; use '' for a missing string")
    return array


def to_numpy(column: pa.ChunkedArray, kind: str, label: str = "column") -> np.ndarray:
    """Arrow column -> numpy array of the kind's dtype (str columns as numpy unicode arrays).

    NULL only appears in a column added to the schema after a run was stored: it reads as NaN or "";
    an int or bool column cannot represent it, so that is an error.
    """
    if kind == "str":
        encoded = column.fill_null("").combine_chunks().dictionary_encode()
        return np.asarray(encoded.dictionary.to_pylist(), dtype=str)[encoded.indices.to_numpy()]
    if kind == "float":
        return np.asarray((column.fill_null(np.nan) if column.null_count else column).to_numpy(), dtype=np.float64)
    if column.null_count:
        raise StoreError(f"{label} is not stored for this run (it was written by an older celltrial)")
    return np.asarray(column.to_numpy(), dtype=_NUMPY[kind])


def arrow_table(con, sql: str, params=None) -> pa.Table:
    """Run a query and return an Arrow table (``con.sql`` avoids the extra copy of a DB-API result)."""
    relation = con.sql(sql, params=params)
    if relation is None:  # a statement that returns nothing (DDL)
        return pa.table({})
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    return fetch()


def as_table(kinds: dict, data, what: str) -> pa.Table | bytes:
    """An Arrow table (or Parquet bytes) of exactly the declared columns: a column dict is checked and
    converted; a table, or a Parquet file's bytes from a Dask worker (written as they are, without
    decoding), must have those columns with their Arrow types."""
    if isinstance(data, (bytes, bytearray, memoryview)):
        data = bytes(data)
        try:
            schema = pq.read_schema(pa.BufferReader(data))
        except (pa.ArrowInvalid, OSError) as exc:
            raise StoreError(f"{what}: not a Parquet file ({exc})") from exc
    elif isinstance(data, pa.Table):
        schema = data.schema
    else:
        return to_arrow_columns(kinds, data, what)
    expected = pa.schema([(n, ARROW_TYPES[k]) for n, k in kinds.items()])
    if not schema.remove_metadata().equals(expected):
        raise StoreError(f"{what} table columns {schema.names} do not match the declared {list(kinds)} "
                         "(or their types differ)")
    return data

"""Tables of the results store, the SQL types of their columns, and checks of run meta and arms.

The ``patients`` table is built from :data:`celltrial.trials.columns.COLUMNS`, the ``doses`` table
from the runner's ``DOSE_COLUMNS`` (see :func:`dose_kinds`), the ``assays`` table from
:data:`celltrial.trials.assays.ASSAY_COLUMNS` (see :func:`assay_kinds`) and the ``runs`` table from
:data:`celltrial.trials.rundata.META_KEYS`, so a column added there appears here.

Example:
    >>> SQL_TYPES["bool"], META_TYPES["seed"], META_TYPES["endpoint_rules"]
    ('BOOLEAN', 'UHUGEINT', 'JSON')
    >>> meta_to_sql("endpoint_rules", {"lloq_cells_uL": 0.5})
    '{"lloq_cells_uL": 0.5}'
"""

from __future__ import annotations

import json
import operator
from datetime import datetime, timezone

import numpy as np

from celltrial.errors import InputError
from celltrial.trials.columns import COLUMNS, column_names
from celltrial.trials.rundata import META_KEYS

SCHEMA_VERSION = "1"
SQL_TYPES = {"int": "BIGINT", "float": "DOUBLE", "bool": "BOOLEAN", "str": "VARCHAR"}

# Typed META_KEYS columns; every other key (dicts, lists, keys added to META_KEYS later) is stored as
# JSON text in a VARCHAR column ("JSON" here is our marker, not DuckDB's JSON type, which needs an
# extension that may not be loadable offline). Seeds may be 128-bit SeedSequence entropy: UHUGEINT.
_TYPED_META = {
    "scenario_name": "VARCHAR",
    "scenario_title": "VARCHAR",
    "scenario_text": "VARCHAR",
    "seed": "UHUGEINT",
    "patients_per_arm": "BIGINT",
    "replicates": "BIGINT",
    "design": "VARCHAR",
    "follow_up_days": "DOUBLE",
    "package_version": "VARCHAR",
    "git_revision": "VARCHAR",
    "started": "VARCHAR",
    "finished": "VARCHAR",
    "status": "VARCHAR",
    "chunks": "BIGINT",
    "chunk_size": "BIGINT",
    "writer": "VARCHAR",
    "inputs": "VARCHAR",
}
META_TYPES = {key: _TYPED_META.get(key, "JSON") for key in META_KEYS}
ARM_FIELDS = ("product", "description", "dose", "regimen")


def quote(name: str) -> str:
    """SQL identifier quoting (column names such as ``status`` or ``position`` are keywords)."""
    return '"' + name.replace('"', '""') + '"'


def _table_columns() -> dict:
    meta = [(k, "VARCHAR" if t == "JSON" else t) for k, t in META_TYPES.items()]
    patients = [(c.name, SQL_TYPES[c.kind]) for c in COLUMNS.values()]
    return {
        "store_info": [("key", "VARCHAR PRIMARY KEY"), ("value", "VARCHAR")],
        "runs": [("run_id", "VARCHAR PRIMARY KEY"), *meta, ("arms", "VARCHAR")],
        "arms": [("run_id", "VARCHAR"), ("arm", "VARCHAR"), ("position", "INTEGER")]
        + [(f, "VARCHAR") for f in ARM_FIELDS],
        # No key or index on patients: an index would slow million-row inserts; chunks' key guards it.
        "patients": [("run_id", "VARCHAR"), ("chunk", "INTEGER"), *patients],
        # The dose log: one row per product dose given (long format), written with its chunk's patients.
        "doses": [("run_id", "VARCHAR"), ("chunk", "INTEGER"), *((n, SQL_TYPES[k]) for n, k in dose_kinds().items())],
        # Every ctDNA/MRD draw's call while alive (long format); a store made before it gains it empty.
        "assays": [("run_id", "VARCHAR"), ("chunk", "INTEGER"),
                   *((n, SQL_TYPES[k]) for n, k in assay_kinds().items())],
        "summaries": [("run_id", "VARCHAR PRIMARY KEY"), ("summary", "VARCHAR")],
        "chunks": [
            ("run_id", "VARCHAR"),
            ("chunk", "INTEGER"),
            ("n_patients", "BIGINT"),
            ("trajectory_file", "VARCHAR"),
            ("written_at", "VARCHAR"),
        ],
    }


_TABLE_KEYS = {"arms": "run_id, arm", "chunks": "run_id, chunk"}


def ensure_schema(con) -> None:
    """Create missing tables; add columns that COLUMNS / META_KEYS gained since the file was made."""
    for table, columns in _table_columns().items():
        body = ", ".join(f"{quote(n)} {t}" for n, t in columns)
        if table in _TABLE_KEYS:
            body += f", PRIMARY KEY ({_TABLE_KEYS[table]})"
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
        have = {row[0] for row in con.execute(f"SELECT column_name FROM (DESCRIBE {table})").fetchall()}
        for name, sql_type in columns:
            if name not in have:  # older store file: new columns read as NULL for old runs
                con.execute(f"ALTER TABLE {table} ADD COLUMN {quote(name)} {sql_type.split()[0]}")
    con.execute("INSERT OR IGNORE INTO store_info VALUES ('schema_version', ?)", [SCHEMA_VERSION])


def schema_is_current(con) -> bool:
    """True when every table and column of this celltrial exists (a read-only reader can use the file)."""
    have = {(t, c) for t, c in con.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'main'").fetchall()}
    return all((table, name) in have for table, columns in _table_columns().items() for name, _ in columns)


def patient_kinds() -> dict:
    """Column name -> kind of the patients table, in table order."""
    return {name: COLUMNS[name].kind for name in column_names()}


def dose_kinds() -> dict:
    """Column name -> kind of the dose log (``celltrial.trials.columns.DOSE_COLUMNS``), in table order."""
    from celltrial.trials.columns import DOSE_COLUMNS

    return dict(DOSE_COLUMNS)


def assay_kinds() -> dict:
    """Column name -> kind of the assay calls (``celltrial.trials.assays.ASSAY_COLUMNS``), in table order."""
    from celltrial.trials.assays import ASSAY_COLUMNS

    return dict(ASSAY_COLUMNS)


def to_json(value) -> str:
    """JSON text of a meta/summary value; numpy scalars and arrays become plain numbers and lists."""
    return json.dumps(value, default=_json_default)


def _json_default(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def from_json(text):
    return None if text is None else json.loads(text)


def meta_to_sql(key: str, value):
    """A run meta value as bound to its ``runs`` column (raises InputError for a wrongly typed value)."""
    sql_type = META_TYPES[key]
    if value is None:
        return None
    if sql_type == "JSON":
        return to_json(value)
    try:
        if sql_type == "VARCHAR":
            if not isinstance(value, str):
                raise TypeError(f"expected a string, got {type(value).__name__}")
            return value
        if sql_type == "DOUBLE":
            return float(value)
        return operator.index(value)  # rejects 2.5 instead of truncating it
    except (TypeError, ValueError) as exc:
        raise InputError(f"run meta {key!r} = {value!r} does not fit its {sql_type} column: {exc}") from exc


def meta_from_sql(key: str, value):
    return from_json(value) if META_TYPES[key] == "JSON" else value


def utc_now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def time_stamp(started: str) -> str:
    """``YYYYmmdd-HHMMSS`` (UTC) of an ISO 8601 time; a trailing Z is accepted on Python 3.10 too."""
    text = started.strip() if isinstance(started, str) else ""
    try:
        moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError as exc:
        raise InputError(f"run meta 'started' must be an ISO 8601 time, got {started!r}") from exc
    if moment.tzinfo is not None:
        moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y%m%d-%H%M%S")


def check_arms(arms: list) -> list:
    names = [a.get("name") if isinstance(a, dict) else None for a in arms]
    if not names or not all(isinstance(n, str) and n for n in names):
        raise InputError("arms must be a non-empty list of dicts, each with a non-empty 'name'")
    if len(set(names)) != len(names):
        raise InputError(f"arm names must be unique, got {names}")
    return [dict(a) for a in arms]


def arm_text(value):
    return value if value is None or isinstance(value, str) else to_json(value)

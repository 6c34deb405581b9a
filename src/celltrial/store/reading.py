"""Reading a run back from an open store connection: head (meta, arms, summary), patients, doses, assays.

Example:
    reading.read_head(con, run_id).meta["status"]   # inside RunStore, on a read-only connection
"""

from __future__ import annotations

import numpy as np

from celltrial.trials.rundata import META_KEYS, RunData

from .convert import arrow_table, to_numpy
from .liveness import effective_status
from .schema import assay_kinds, dose_kinds, from_json, meta_from_sql, patient_kinds, quote

META_COLUMNS = ", ".join(quote(k) for k in META_KEYS)


def first(con, sql: str, params: list):
    """First row or None. Drains the result: DuckDB 2 refuses ``con.sql`` while a result is unfinished."""
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None


def read_head(con, run_id: str) -> RunData:
    """Meta (with the number of chunks; a run whose writer died reads as interrupted), arms and summary."""
    row = first(con, f"SELECT {META_COLUMNS}, arms FROM runs WHERE run_id = ?", [run_id])
    meta = {k: meta_from_sql(k, v) for k, v in zip(META_KEYS, row[:-1], strict=True)}
    meta["chunks"] = first(con, "SELECT count(*) FROM chunks WHERE run_id = ?", [run_id])[0]
    meta["status"] = effective_status(meta["status"], meta.get("writer"))
    summary = first(con, "SELECT summary FROM summaries WHERE run_id = ?", [run_id])
    return RunData(run_id, meta, from_json(row[-1]), {}, from_json(summary[0]) if summary else {})


def read_rows(con, run_id: str, table: str, kinds: dict, order: str, label: str, columns=None) -> dict:
    """Columns ``kinds`` (or the subset ``columns``) of one run's rows of ``table``, arms in their
    position, then ``order``."""
    wanted = {n: k for n, k in kinds.items() if columns is None or n in columns}
    rows = arrow_table(
        con,
        f"SELECT {', '.join('t.' + quote(n) for n in wanted)} FROM {table} t "
        "LEFT JOIN (SELECT arm, position FROM arms WHERE run_id = ?) a ON a.arm = t.arm WHERE t.run_id = ? "
        f"ORDER BY a.position NULLS LAST, t.arm, {order}",
        params=[run_id, run_id],
    )
    # A column added after this run was stored is all NULL: leave it out (readers treat it as
    # optional) rather than refuse the whole run.
    added_later = {name for name in wanted if rows.num_rows and rows.column(name).null_count == rows.num_rows
                   and wanted[name] in ("int", "bool")}
    return {name: to_numpy(rows.column(name), kind, f"{label} {name!r}") for name, kind in wanted.items()
            if name not in added_later}


def read_patients(con, run_id: str, columns=None) -> dict:
    return read_rows(con, run_id, "patients", patient_kinds(), "t.replicate, t.patient, t.chunk", "column", columns)


def read_doses(con, run_id: str) -> dict:
    """The dose log sorted like the patients, then by day (ties in the order written); empty arrays if none."""
    return read_rows(con, run_id, "doses", dose_kinds(), "t.replicate, t.patient, t.day, t.chunk, t.rowid",
                     "dose column")


def read_assays(con, run_id: str) -> dict:
    """The assay calls sorted like the patients, then by assay and day; empty arrays if none."""
    return read_rows(con, run_id, "assays", assay_kinds(), "t.replicate, t.patient, t.assay, t.day, t.chunk",
                     "assay column")


def assay_counts(con, run_id: str) -> dict:
    """chunk -> {(arm, assay, day): [drawn, detected]} of a stored run's calls (one GROUP BY)."""
    rows = con.execute("SELECT chunk, arm, assay, day, count(*), sum(detected::INTEGER) FROM assays "
                       "WHERE run_id = ? GROUP BY ALL", [run_id]).fetchall()
    out: dict = {}
    for chunk, arm, assay, day, drawn, detected in rows:
        out.setdefault(int(chunk), {})[(arm, assay, float(day))] = [int(drawn), int(detected)]
    return out


def read_chunk_parts(con, run_id: str, columns) -> dict:
    """chunk -> (patients ``columns`` in the order the chunk was written, its dose log, its assay counts)
    for a stored run.

    What ``celltrial run --resume`` needs of the chunks already stored to summarise the whole run
    exactly as an uninterrupted run would (a chunk's rows in written order: replicate, then patient).
    """
    kinds = {n: k for n, k in patient_kinds().items() if n in columns}
    cols = ", ".join(quote(n) for n in kinds)
    table = arrow_table(con, f"SELECT chunk, {cols} FROM patients WHERE run_id = ? ORDER BY chunk, replicate, patient",
                        params=[run_id])
    given = arrow_table(con, f"SELECT chunk, {', '.join(quote(n) for n in dose_kinds())} FROM doses "
                             "WHERE run_id = ? ORDER BY chunk, rowid", params=[run_id])
    rows = {n: to_numpy(table.column(n), kind) for n, kind in kinds.items()}
    doses = {n: to_numpy(given.column(n), kind) for n, kind in dose_kinds().items()}
    row_chunk, dose_chunk = table.column("chunk").to_numpy(), given.column("chunk").to_numpy()
    counts = assay_counts(con, run_id)
    out = {}
    for k in np.unique(row_chunk):  # both tables are sorted by chunk: slice, don't filter
        r = slice(*np.searchsorted(row_chunk, [k, k + 1]))
        d = slice(*np.searchsorted(dose_chunk, [k, k + 1]))
        out[int(k)] = ({n: v[r] for n, v in rows.items()}, {n: v[d] for n, v in doses.items()},
                       counts.get(int(k), {}))
    return out

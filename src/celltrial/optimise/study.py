"""A study on disk: Optuna's journal, an append-only log of evaluations, and a Parquet table of candidates.

Folder layout::

    study.json           what the study searches (fingerprint), its seeds, when it started
    study.journal        Optuna's JournalStorage (the sampler's history; survives a kill)
    evaluations.jsonl    one line per finished evaluation, appended and flushed as it finishes
    candidates.parquet   the same as a table (query with DuckDB: SELECT * FROM 'candidates.parquet')

An evaluation is written to the log before Optuna is told, so a kill at any moment loses at most
the evaluation in progress; a partial last line (a kill mid-write) is ignored.

Example:
    >>> import tempfile
    >>> d = StudyFolder(tempfile.mkdtemp(), "abc", reevaluation_seed=5)
    >>> d.append({"trial": 0, "rung": 0}); [r["trial"] for r in d.rows()], d.meta["reevaluation_seed"]
    ([0], 5)
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from pathlib import Path

from ..errors import InputError

STUDY_NAME = "search"


def fingerprint(scenario) -> str:
    """Hash of everything a candidate's value depends on (not the budget, the re-evaluation or the cohort size)."""
    text = scenario.model_dump_json(exclude={"search": {"budget", "reevaluate"},
                                             "cohort": {"patients", "replicates"}})
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class StudyFolder:
    """The folder of one study; refuses a folder holding a study of another search (``fingerprint``)."""

    def __init__(self, path, fingerprint: str, reevaluation_seed: int | None = None):
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        meta_path = self.path / "study.json"
        if meta_path.is_file():
            self.meta = json.loads(meta_path.read_text())
            if self.meta.get("fingerprint") != fingerprint:
                raise InputError(f"--out {self.path}: this folder holds a study of another search (the scenario "
                                 "or its search block changed); give another --out, or delete the folder to start "
                                 "again")
            return
        # drawn once, fresh, and recorded: the re-evaluation must not reuse the search's virtual twins
        seed = secrets.randbits(63) if reevaluation_seed is None else int(reevaluation_seed)
        self.meta = {"fingerprint": fingerprint, "reevaluation_seed": seed,
                     "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
        tmp = meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.meta, indent=2))
        os.replace(tmp, meta_path)

    @property
    def log(self) -> Path:
        return self.path / "evaluations.jsonl"

    def rows(self) -> list:
        """Every finished evaluation, in the order they finished."""
        if not self.log.is_file():
            return []
        out = []
        for line in self.log.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:  # a kill mid-write leaves a partial last line: that evaluation is redone
                continue
        return out

    def append(self, row: dict) -> None:
        with open(self.log, "a") as f:
            f.write(json.dumps(row) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def write_table(self, rows: list, columns: list, paths: list) -> Path:
        """``candidates.parquet``: one row per evaluation, a column per variable, objective and constraint."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        keys = ("trial", "rung", "patients", "n_ok", "seed", "feasible", "seconds", "error")
        data = {k: [r.get(k) for r in rows] for k in keys}
        data.update({p: [json.dumps(r["params"].get(p)) for r in rows] for p in paths})
        data.update({c: [r["values"].get(c) for r in rows] for c in columns})
        out = self.path / "candidates.parquet"
        tmp = out.with_suffix(".tmp")
        pq.write_table(pa.table(data), tmp)
        os.replace(tmp, out)
        return out

    def optuna_study(self, spec, sampler):
        """The Optuna study in ``study.journal`` (created on first use, loaded after)."""
        import optuna
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        # Optuna logs every trial at INFO on stderr; the CLI prints its own progress line instead
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = JournalStorage(JournalFileBackend(str(self.path / "study.journal")))
        return optuna.create_study(storage=storage, study_name=STUDY_NAME, directions=spec.directions,
                                   sampler=sampler, load_if_exists=True)

"""A mapper that remembers finished calls on disk, so an interrupted study resumes where it stopped.

``celltrial calibrate`` evaluates many design points (each a simulated cohort); with this mapper each
finished point is written to ``<out>/.checkpoint/<key>.pkl`` at once, and a rerun of the same command
after Ctrl-C, SIGTERM or SIGKILL computes only the points that are missing. The key hashes the
function, its arguments and the model and celltrial version, so a changed scenario, target list or
model never reuses a stale result. The calibration deletes the folder when it finishes.

Example:
    >>> import tempfile
    >>> mapper = CheckpointedMapper(Path(tempfile.mkdtemp()), salt="v1")
    >>> mapper(pow, [(2, 3), (3, 2)]), mapper.reused
    ([8, 9], 0)
    >>> mapper(pow, [(2, 3), (2, 5)]), mapper.reused
    ([8, 32], 1)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import secrets
import shutil
from pathlib import Path


def _text(value) -> str:
    """A stable text of an argument (pydantic models by their JSON)."""
    dump = getattr(value, "model_dump_json", None)
    return dump() if callable(dump) else repr(value)


class CheckpointedMapper:
    """``mapper(fn, calls) -> [fn(*args) for args in calls]``, each result kept in ``folder``.

    Args:
        folder: where finished calls are kept (created on first write).
        inner: the mapper that runs the missing calls, ``inner(fn, calls, on_result=...)`` calling
            ``on_result(i, value)`` as each finishes (``DaskExecutor.map``); None runs them here, one at
            a time. Either way each result is saved as soon as it is done.
        salt: text that must match for a result to be reused (model fingerprint, version).
    """

    def __init__(self, folder: Path, inner=None, salt: str = ""):
        self.folder, self.inner, self.salt = Path(folder), inner, salt
        self.reused = 0

    def key(self, fn, args) -> str:
        text = "\n".join([self.salt, f"{fn.__module__}.{fn.__qualname__}", *map(_text, args)])
        return hashlib.sha256(text.encode()).hexdigest()[:32]

    def stored(self) -> int:
        """Finished calls on disk."""
        return len(list(self.folder.glob("*.pkl"))) if self.folder.is_dir() else 0

    def __call__(self, fn, calls: list) -> list:
        keys = [self.key(fn, args) for args in calls]
        results = [self._load(k) for k in keys]
        missing = [i for i, r in enumerate(results) if r is None]
        self.reused += len(calls) - len(missing)
        if self.inner is None:
            for i in missing:
                results[i] = (fn(*calls[i]),)
                self._save(keys[i], results[i])
        elif missing:
            def save(j, value):  # as each task finishes, not when the whole batch has
                results[missing[j]] = (value,)
                self._save(keys[missing[j]], results[missing[j]])

            self.inner(fn, [calls[i] for i in missing], on_result=save)
        return [r[0] for r in results]

    def _load(self, key: str):
        """(result,) or None; an unreadable file (cut short by a kill) counts as missing."""
        try:
            with open(self.folder / f"{key}.pkl", "rb") as f:
                return pickle.load(f)
        except (OSError, EOFError, pickle.UnpicklingError):
            return None

    def _save(self, key: str, wrapped: tuple) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        temp = self.folder / f".{key}.{secrets.token_hex(4)}.tmp"
        with open(temp, "wb") as f:
            pickle.dump(wrapped, f)
        os.replace(temp, self.folder / f"{key}.pkl")

    def clear(self) -> None:
        """Remove the folder (the study finished: nothing left to resume)."""
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(self.folder)

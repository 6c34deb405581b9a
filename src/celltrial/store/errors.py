"""The one error class of the results store.

Example:
    >>> from celltrial.errors import StoreUnavailableError
    >>> from celltrial.errors import CelltrialError
    >>> issubclass(StoreError, CelltrialError) and issubclass(StoreError, StoreUnavailableError)
    True
"""

from __future__ import annotations

from celltrial.errors import StoreUnavailableError


class StoreError(StoreUnavailableError):
    """The results store cannot do what was asked: file locked or unreadable, a chunk stored twice,
    columns that do not match :mod:`celltrial.trials.columns`, a registered Parquet file missing, ...
    The CLI reports it as a store error (exit code 4), never as an internal error."""

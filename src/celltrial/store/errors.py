"""The one error class of the results store.

Example:
    >>> from celltrial.errors import CelltrialError
    >>> issubclass(StoreError, CelltrialError) and issubclass(StoreError, RuntimeError)
    True
"""

from __future__ import annotations

from celltrial.errors import CelltrialError


class StoreError(CelltrialError, RuntimeError):
    """The results store cannot do what was asked: file locked or unreadable, a chunk stored twice,
    columns that do not match :mod:`celltrial.trials.columns`, a registered Parquet file missing, ..."""

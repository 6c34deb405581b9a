"""Read a CSV file's rows within the limits: file size, strict UTF-8, cell length.

Example:
    >>> import tempfile, pathlib
    >>> from celltrial.errors import InputError
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = p.write_text("ID,TIME\\n# a comment\\n1,0\\n")
    >>> read_rows(p, "data file", InputError)
    [(1, ['ID', 'TIME']), (3, ['1', '0'])]
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from .files import MAX_CSV_BYTES, decode, read_bytes

#: Longest cell (an ID, a number, a name); a longer one is a broken or hostile file.
MAX_CELL_CHARS = 1_000


def read_rows(path: str | Path, what: str, error: type[Exception], limit: int = MAX_CSV_BYTES) -> list:
    """[(line number, cells)] of the non-blank rows not starting with '#'; ``error`` naming file and row."""
    text = decode(read_bytes(path, what, limit, error), f"{what} {str(path)!r}", error)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows = []
    try:
        for cells in reader:
            for j, cell in enumerate(cells):
                if len(cell) > MAX_CELL_CHARS:
                    raise error(f"{path}: row {reader.line_num}: cell {j + 1} has {len(cell):,} characters, above "
                                f"the limit of {MAX_CELL_CHARS:,}; is it the right file?")
            if any(c.strip() for c in cells) and not cells[0].lstrip().startswith("#"):
                rows.append((reader.line_num, cells))
    except csv.Error as exc:  # a cell above the csv module's own limit, a NUL byte, a broken quote
        raise error(f"{path}: row {max(reader.line_num, 1)}: cannot read this row as CSV ({exc}); cells are at most "
                    f"{MAX_CELL_CHARS:,} characters") from None
    return rows

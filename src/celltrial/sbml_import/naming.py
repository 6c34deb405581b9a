"""Map SBML identifiers to celltrial names (valid, not reserved, unique).

SBML ids are kept where celltrial accepts them; others are cleaned (``_a`` -> ``a`` when free) or
prefixed (``time`` -> ``sbml_time``), and the renaming is reported, so tables still say where a name came from.

Example:
    >>> names = Names(["k1", "time", "_a"])
    >>> names["k1"], names["time"], names["_a"]
    ('k1', 'sbml_time', 'a')
"""

from __future__ import annotations

import keyword
import re

from ..model.declaration import _NAME, _RESERVED
from .mathml import EXTRA_FUNCTIONS

_TAKEN = set(_RESERVED) | set(EXTRA_FUNCTIONS) | {
    "Integer", "Float", "Rational", "Symbol", "Function", "True", "False", "None",
}


def usable(name: str) -> bool:
    """True when celltrial accepts ``name`` as is."""
    return bool(_NAME.match(name)) and name not in _TAKEN and not keyword.iskeyword(name)


class Names:
    """Allocator: SBML id -> celltrial name, plus fresh names for things SBML does not name."""

    def __init__(self, sbml_ids):
        self.map: dict = {}
        self.used: set = set()
        ids = list(sbml_ids)
        for sid in ids:  # kept ids first, so a mangled name never takes a kept one
            if usable(sid):
                self.map[sid] = sid
                self.used.add(sid)
        for sid in ids:
            if sid not in self.map:
                self.map[sid] = self.fresh(sid)

    def fresh(self, hint: str) -> str:
        """A new unused name built from ``hint``."""
        base = re.sub(r"[^A-Za-z0-9_]", "_", hint).strip("_") or "x"
        base = base if usable(base) and base not in self.used else f"sbml_{base}"
        name, k = base, 2
        while name in self.used or not usable(name):
            name, k = f"{base}_{k}", k + 1
        self.used.add(name)
        return name

    def __getitem__(self, sid: str) -> str:
        return self.map[sid]

    def renamed(self) -> dict:
        """{SBML id: celltrial name} for the ids that had to change."""
        return {k: v for k, v in self.map.items() if k != v}

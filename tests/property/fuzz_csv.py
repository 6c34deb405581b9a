"""Malformed NONMEM-style CSV files for :func:`celltrial.calibration.nonmem.read_nonmem` (issue 14).

Starts from the shipped test file and a file written by ``write_nonmem`` (the format
``celltrial simdata`` writes) and mutates cells by role (DV of an observation, AMT of a dose,
LLOQ, TIME, EVID, MDV, BLQ, ID, WT) and the file as a whole (bad bytes, huge cells, no
observations, missing header, huge and sparse files). See :mod:`.fuzz_corpus` for :class:`Case`.

Example:
    >>> len(csv_cases()) > 200
    True
"""

from __future__ import annotations

import random
from pathlib import Path

from .fuzz_corpus import FILE, MAYBE, REJECT, ROOT, Case

SHIPPED = ROOT / "tests" / "calibration" / "data" / "two_patients.csv"

#: The simdata layout (ID,TIME,DV,OBS,AMT,EVID,MDV,LLOQ,BLQ and a covariate), as write_nonmem writes it.
SIMDATA = """ID,TIME,DV,OBS,AMT,EVID,MDV,LLOQ,BLQ,WT
1,0.0,.,.,100000000.0,1,1,.,.,70.0
1,7.0,2400.0,car_copies,.,0,0,50.0,0,70.0
1,14.0,900.0,car_copies,.,0,0,50.0,0,70.0
1,28.0,.,car_copies,.,0,0,50.0,1,70.0
2,0.0,.,.,50000000.0,1,1,.,.,82.5
2,3.0,12.5,car_T_uL,.,0,0,.,0,82.5
2,7.0,3100.0,car_copies,.,0,0,50.0,0,82.5
"""

#: column -> [(new cell, verdict)] for observation rows (obs) or dose rows (dose).
CELLS = {
    ("obs", "DV"): ["1e308", "1e16", "-5", "0", "nan", "inf", "-inf", "abc", "", "true", "1e-400x", "9" * 400],
    ("obs", "LLOQ"): ["-30", "1e300", "1e16", "inf", "nan", "abc", "-0.001"],
    ("obs", "TIME"): ["-1", "1e9", "x", "nan", "", "inf"],
    ("obs", "EVID"): ["7", "1.5", "-1", "abc"],
    ("obs", "MDV"): ["3", "0.5", "-1"],
    ("obs", "BLQ"): ["2", "-1", "0.5"],
    ("obs", "ID"): [""],
    ("obs", "OBS"): ["car_copy", "../../etc/passwd", "x" * 500],
    ("dose", "AMT"): ["1e308", "1e16", "-1e8", "0", "abc", "inf", "nan"],
    ("dose", "TIME"): ["-5", "1e12"],
    ("any", "WT"): ["0", "-5", "1e9", "heavy", "nan", "inf", "301"],
}


def _table(text: str):
    lines = text.splitlines()
    h = next(i for i, line in enumerate(lines) if line and not line.startswith("#"))
    header = [c.strip().upper() for c in lines[h].split(",")]
    return lines, h, header


def _role(cells, header) -> str:
    v = dict(zip(header, cells, strict=False))
    if v.get("EVID") == "1":
        return "dose"
    if v.get("EVID") == "0" and v.get("MDV") == "0" and v.get("BLQ", "0") in ("0", "."):
        return "obs"
    return "other"


def _writer(data: bytes):
    return lambda path: path.write_bytes(data)


def cell_cases(label: str, text: str) -> list:
    """One case per (row of the role, column, bad cell)."""
    lines, h, header = _table(text)
    out = []
    for i in range(h + 1, len(lines)):
        cells = lines[i].split(",")
        if len(cells) != len(header):
            continue
        role = _role(cells, header)
        for (want, column), bad_cells in CELLS.items():
            if column not in header or want not in (role, "any") or (want == "any" and i > h + 2):
                continue
            for bad in bad_cells:
                new = list(cells)
                new[header.index(column)] = bad
                changed = "\n".join([*lines[:i], ",".join(new), *lines[i + 1:]]) + "\n"
                out.append(Case(f"nonmem/{label}/row {i + 1}/{column}={bad[:20]!r}", "nonmem",
                                _writer(changed.encode()), REJECT, (FILE, column), ".csv"))
    return out


def file_cases(label: str, text: str, seed: int) -> list:
    """Mutations of the whole file."""
    rng = random.Random(seed)
    lines, h, header = _table(text)
    body = text.encode()
    dv = header.index("DV")
    first_obs = next(i for i in range(h + 1, len(lines)) if _role(lines[i].split(","), header) == "obs")

    def with_cell(value: str) -> bytes:
        cells = lines[first_obs].split(",")
        cells[dv] = value
        return ("\n".join([*lines[:first_obs], ",".join(cells), *lines[first_obs + 1:]]) + "\n").encode()

    doses_only = "\n".join(line for j, line in enumerate(lines) if j <= h or _role(line.split(","), header) == "dose")
    observed = [j for j in range(h + 1, len(lines)) if dict(zip(header, lines[j].split(","), strict=False)).get(
        "EVID") == "0"]
    skipped = "\n".join(_set_cell(line, header, "MDV", "1") if j in observed else line for j, line in enumerate(lines))
    no_dv = "\n".join(",".join(c for k, c in enumerate(line.split(",")) if k != dv) if j >= h else line
                      for j, line in enumerate(lines))
    specs = [
        ("5 MB cell", lambda: with_cell("1" * 5_000_000), REJECT, (FILE, "row")),
        ("200 kB cell", lambda: with_cell("x" * 200_000), REJECT, (FILE, "row")),
        ("2 kB cell", lambda: with_cell("7" * 2_000), REJECT, (FILE, "row")),
        ("byte 0xff", lambda: with_cell("12@@").replace(b"@@", b"\xff"), REJECT, (FILE, "UTF-8")),
        ("latin-1", lambda: (text + "# caf\u00e9\n").encode("latin-1"), REJECT, (FILE, "UTF-8")),
        ("utf-16", lambda: text.encode("utf-16"), REJECT, (FILE, "UTF-8")),
        ("NUL in a cell", lambda: with_cell("12\x0034"), REJECT, (FILE,)),
        ("doses only", lambda: (doses_only + "\n").encode(), REJECT, (FILE, "no usable observations")),
        ("every observation skipped", lambda: (skipped + "\n").encode(), REJECT, (FILE, "no usable observations")),
        ("no header", lambda: ("\n".join(lines[h + 1:]) + "\n").encode(), REJECT, (FILE,)),
        ("no DV column", lambda: (no_dv + "\n").encode(), REJECT, (FILE, "DV")),
        ("extra cell", lambda: with_cell("5,6"), REJECT, (FILE, "cells")),
        ("header again", lambda: (text + lines[h] + "\n").encode(), REJECT, (FILE, "header")),
        ("empty", lambda: b"", REJECT, (FILE,)), ("comments only", lambda: b"# x\n# y\n", REJECT, (FILE,)),
        ("header only", lambda: (lines[h] + "\n").encode(), REJECT, (FILE,)),
        ("IDs interleaved", lambda: (text + lines[h + 1] + "\n").encode(), REJECT, (FILE, "ID")),
        ("60 MB sparse", None, REJECT, (FILE, "MB")),
        ("bom", lambda: b"\xef\xbb\xbf" + body, MAYBE, ()),
        ("crlf", lambda: text.replace("\n", "\r\n").encode(), MAYBE, ()),
        ("unterminated quote", lambda: with_cell('"12'), MAYBE, ()),
    ]
    cuts = sorted(rng.sample(range(1, len(body)), 6))
    specs += [(f"truncated at {c}", lambda c=c: body[:c], MAYBE, ()) for c in cuts]
    out = []
    for name, make, verdict, names in specs:
        write = _sparse if make is None else (lambda path, make=make: path.write_bytes(make()))
        out.append(Case(f"nonmem/{label}: {name}", "nonmem", write, verdict, names, ".csv"))
    return out


def _set_cell(line: str, header, column: str, value: str) -> str:
    cells = line.split(",")
    cells[header.index(column)] = value
    return ",".join(cells)


def _sparse(path: Path) -> None:
    with path.open("wb") as fh:  # 60 MB of holes: costs no disk, must be refused by its size alone
        fh.write(b"ID,TIME,DV\n")
        fh.truncate(60_000_000)


def csv_cases() -> list:
    """Every CSV case."""
    bases = [("two_patients.csv", SHIPPED.read_text()), ("simdata.csv", SIMDATA)]
    return [c for i, (label, text) in enumerate(bases) for c in cell_cases(label, text) + file_cases(label, text, i)]

"""NONMEM-style data files: one row per observation or dose, read into one record per patient.

Columns (headers case-insensitive, '.' or empty = missing, any order):

- ``ID`` patient identifier (text or number); rows of one patient must be contiguous.
- ``TIME`` days since the reference time (usually the first infusion); never decreasing within a patient.
- ``DV`` observed value in the unit of the observable (e.g. copies/ug genomic DNA).
- ``OBS`` (or ``OBSERVABLE``, ``CMT``) the model observable measured, e.g. ``car_copies``
  (transgene copies/ug genomic DNA) or ``car_T_uL`` (CAR+ cells/uL blood); may be absent when
  a default observable is given.
- ``AMT`` cells infused (CAR+ cells) on dose rows; ``EVID`` 0 observation, 1 dose (default: 1
  where AMT > 0), 2 other event (ignored); ``MDV`` 1 = row not an observation (default: 1 on dose rows).
- Dose record types: on a dose row the OBS column names what was given (:data:`DOSE_RECORDS`):
  empty, ``product`` (or an observable name, as older files wrote) = the product, AMT in CAR+ cells
  (with the product's lymphodepletion); ``anti_pd1`` = an anti-PD-1 antibody dose, AMT in mg.
  Any other name is an error naming the row and the column.
- ``LLOQ`` lower limit of quantification (unit of DV) and/or ``BLQ`` (1 = below the limit). A
  below-limit row may carry DV '.' or DV = LLOQ. Without a BLQ column, DV '.' or DV < LLOQ
  marks the row below the limit.
- any other column (e.g. ``WT`` in kg) is kept as a per-patient covariate (first value given);
  ``WT`` (used as the body weight of per-kg doses) must be a number in (0, 300] kg.

Limits, checked before the values are used: the file is at most 50 MB of UTF-8 text
(:data:`~celltrial.inputs.MAX_CSV_BYTES`), a cell at most 1,000 characters
(:data:`~celltrial.inputs.tables.MAX_CELL_CHARS`);
every number is finite and at most :data:`MAX_VALUE` in magnitude, ``TIME`` at most
:data:`MAX_TIME_DAYS`, ``LLOQ`` in [0, :data:`MAX_VALUE`); the file needs at least one
observation row.

Blank lines and lines starting with '#' are skipped. Every problem is reported as
:class:`~celltrial.errors.InputError` naming the file, the row (the 1-based line number in the
file: the header is row 1 unless comment lines precede it), the column, and the fix.

Example:
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "d.csv"
    >>> _ = p.write_text("ID,TIME,DV,AMT,EVID\\n1,0,.,1e8,1\\n1,7,2400,.,0\\n")
    >>> [rec] = read_nonmem(p, observable="car_copies")
    >>> rec.id, rec.times.tolist(), rec.values.tolist(), rec.doses
    ('1', [7.0], [2400.0], ((0.0, 100000000.0),))
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import InputError, did_you_mean
from ..inputs.tables import read_rows

REQUIRED = ("ID", "TIME", "DV")
OBS_COLUMNS = ("OBS", "OBSERVABLE", "CMT")
NUMERIC = ("TIME", "DV", "AMT", "EVID", "MDV", "LLOQ", "BLQ")
KNOWN = REQUIRED + OBS_COLUMNS + ("AMT", "EVID", "MDV", "LLOQ", "BLQ")
#: Largest magnitude of any number (DV, AMT, LLOQ, covariates): 1e15 cells or copies is absurd.
MAX_VALUE = 1e15
#: Latest observation or dose time (days): a hundred years.
MAX_TIME_DAYS = 36_525.0
#: Body weights (kg) of the WT column, as the disease presets allow.
WT_RANGE = (0.0, 300.0)
#: Dose record types other than the product (OBS column of a dose row) -> unit of AMT.
DOSE_RECORDS = {"anti_pd1": "mg"}
#: Largest anti-PD-1 dose (mg): 10x the usual 200 mg flat dose catches a unit mix-up (ug, or cells).
MAX_DRUG_MG = 2000.0


@dataclass(frozen=True)
class PatientData:
    """Observations and doses of one patient.

    Attributes:
        id: patient identifier as written in the file.
        times: (n_obs,) observation times (days).
        values: (n_obs,) observed values (NaN where below the limit and not given).
        observables: (n_obs,) name of the model observable of each observation.
        lloq: (n_obs,) lower limit of quantification (NaN where not given).
        blq: (n_obs,) True where the observation is below the limit (censored).
        doses: ((time in days, CAR+ cells infused), ...); empty = the product preset's dose at day 0.
        covariates: extra columns, name -> value (number where numeric, else text).
        drugs: ((time in days, record type of :data:`DOSE_RECORDS`, amount in its unit), ...).
    """

    id: str
    times: np.ndarray
    values: np.ndarray
    observables: tuple
    lloq: np.ndarray
    blq: np.ndarray
    doses: tuple = ()
    covariates: dict = field(default_factory=dict)
    drugs: tuple = ()

    def __post_init__(self):
        n = len(self.observables)
        for name in ("times", "values", "lloq", "blq"):
            arr = np.array(getattr(self, name), dtype=bool if name == "blq" else np.float64)
            if arr.shape != (n,):
                raise InputError(f"patient {self.id}: {name} has shape {arr.shape}, expected ({n},) like observables")
            arr.flags.writeable = False
            object.__setattr__(self, name, arr)
        if np.any(self.blq & ~(self.lloq > 0)):
            raise InputError(f"patient {self.id}: every below-limit observation needs a positive lloq")
        object.__setattr__(self, "observables", tuple(self.observables))
        object.__setattr__(self, "doses", tuple((float(t), float(a)) for t, a in self.doses))
        object.__setattr__(self, "drugs", tuple((float(t), str(k), float(a)) for t, k, a in self.drugs))

    @property
    def n_obs(self) -> int:
        return len(self.observables)


class _Where:
    """Formats "file: row r, column C:" prefixes for error messages."""

    def __init__(self, path):
        self.path = str(path)

    def __call__(self, row=None, col=None) -> str:
        loc = ", ".join(x for x in (f"row {row}" if row else "", f"column {col}" if col else "") if x)
        return f"{self.path}: {loc}: " if loc else f"{self.path}: "


def _read_table(path: Path, where: _Where):
    """Header (upper-case names) and [(row number, cells)] with blank and '#' lines skipped."""
    if not path.is_file():
        raise InputError(f"{path}: no such data file")
    lines = read_rows(path, "data file", InputError)
    if not lines:
        raise InputError(f"{where()}the file is empty; expected a header row such as ID,TIME,DV,OBS,AMT,EVID,MDV,BLQ")
    header = [c.strip().upper() for c in lines[0][1]]
    if len(lines) == 1:
        raise InputError(f"{where()}the file has a header but no data rows")
    return lines[0][0], header, lines[1:]


def _columns(header, hrow, where: _Where, has_default: bool) -> dict:
    seen = {}
    for j, name in enumerate(header):
        if not name:
            raise InputError(f"{where(hrow)}header cell {j + 1} is empty; name every column")
        if name in seen:
            raise InputError(f"{where(hrow)}columns {seen[name] + 1} and {j + 1} are both named {name!r}; "
                             "rename or remove one")
        seen[name] = j
    missing = [c for c in REQUIRED if c not in seen]
    if missing:
        raise InputError(f"{where(hrow)}missing required column(s) {missing}; found {header}")
    if not has_default and not any(c in seen for c in OBS_COLUMNS):
        raise InputError(f"{where(hrow)}no observable column (OBS) and no default observable; add an OBS column "
                         "naming the model observable (e.g. car_copies) or pass observable=...")
    return seen


def _number(cells, cols, name, where, row):
    """Float value of column ``name`` in this row; NaN if missing ('.' or empty) or absent."""
    j = cols.get(name)
    text = cells[j].strip() if j is not None and j < len(cells) else "."
    if text in ("", "."):
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{where(row, name)}{text!r} is not a number; write a number, or '.' for missing") from None
    if not math.isfinite(value):
        raise InputError(f"{where(row, name)}{text!r} is not a finite number; write a number, or '.' for missing")
    if abs(value) > MAX_VALUE:
        raise InputError(f"{where(row, name)}{value:g} is implausible; allowed: -{MAX_VALUE:g} to {MAX_VALUE:g} "
                         "(check the unit or the exponent)")
    return value


def _check_ranges(v, row, where) -> None:
    """TIME, AMT and LLOQ within their ranges (DV is checked where it is used)."""
    if v["TIME"] > MAX_TIME_DAYS:
        raise InputError(f"{where(row, 'TIME')}TIME = {v['TIME']:g} days is beyond {MAX_TIME_DAYS:g} days (100 "
                         "years); times are in days")
    if v["AMT"] < 0:
        raise InputError(f"{where(row, 'AMT')}AMT = {v['AMT']:g} is negative; AMT is the number of cells infused")
    if v["LLOQ"] < 0:
        raise InputError(f"{where(row, 'LLOQ')}LLOQ = {v['LLOQ']:g} is negative; allowed: 0 to {MAX_VALUE:g} "
                         "(unit of DV), or '.' for none")


def _text(cells, j):
    return cells[j].strip() if j is not None and j < len(cells) else ""


def _event(v, row, where):
    """(evid, mdv) with the NONMEM defaults; validates dose rows."""
    evid = (1 if v["AMT"] > 0 else 0) if math.isnan(v["EVID"]) else v["EVID"]
    if evid not in (0, 1, 2):
        raise InputError(f"{where(row, 'EVID')}EVID {v['EVID']:g} is not supported; use 0 (observation), "
                         "1 (dose) or 2 (other event, ignored)")
    if evid == 2:
        return 2, 1
    if evid == 1 and not v["AMT"] > 0:
        raise InputError(f"{where(row, 'AMT')}a dose row (EVID=1) needs AMT > 0 (CAR+ cells infused), "
                         f"got {'.' if math.isnan(v['AMT']) else format(v['AMT'], 'g')}")
    mdv = float(evid == 1) if math.isnan(v["MDV"]) else v["MDV"]
    if mdv not in (0, 1):
        raise InputError(f"{where(row, 'MDV')}MDV must be 0 or 1, got {mdv:g}")
    return int(evid), int(mdv)


def _censoring(v, has_blq, row, where):
    """(dv, lloq, blq) for an observation row, or an error saying how to fix it."""
    dv, lloq = v["DV"], v["LLOQ"]
    if has_blq and v["BLQ"] not in (0, 1) and not math.isnan(v["BLQ"]):
        raise InputError(f"{where(row, 'BLQ')}BLQ must be 0 or 1, got {v['BLQ']:g}")
    blq = bool(v["BLQ"] == 1) if has_blq else bool(lloq > 0 and (math.isnan(dv) or dv < lloq))
    if blq:
        lloq = lloq if lloq > 0 else dv
        if not lloq > 0:
            raise InputError(f"{where(row, 'LLOQ')}a below-limit row (BLQ=1) needs the limit: give LLOQ > 0, "
                             "or DV = LLOQ")
        return math.nan, lloq, True
    if math.isnan(dv):
        raise InputError(f"{where(row, 'DV')}DV is missing on an observation row; set MDV=1 to skip the row, "
                         "or BLQ=1 (with LLOQ) if it was below the limit of quantification")
    if dv <= 0:
        raise InputError(f"{where(row, 'DV')}DV = {dv:g} is not positive and the row is not flagged below the "
                         "limit; the log-scale error model needs DV > 0: set BLQ=1 with LLOQ, or MDV=1 to skip it")
    return dv, (lloq if lloq > 0 else math.nan), False


def _observable(cells, cols, default, known, row, where):
    col = next((c for c in OBS_COLUMNS if c in cols), None)
    name = _text(cells, cols.get(col)) if col else ""
    name = default if name in ("", ".") else name
    if not name:
        raise InputError(f"{where(row, col)}no observable named on this observation row; write one, e.g. car_copies")
    if name not in known:
        raise InputError(f"{where(row, col or 'OBS')}unknown observable {name!r}{did_you_mean(name, known)}; "
                         f"choose from {sorted(known)}")
    return name


def known_observables(names=None) -> tuple:
    """``names`` as a tuple, or the standard model's observable names when None."""
    if names is not None:
        return tuple(names)
    from ..biology import standard_model

    return standard_model().observable_names


def read_nonmem(path, *, observable: str | None = None, observables=None, require_observations: bool = True) -> list:
    """Read a NONMEM-style CSV into one :class:`PatientData` per ID, in file order.

    Args:
        path: the CSV file.
        observable: observable for rows whose OBS is missing (or when there is no OBS column).
        observables: allowed observable names (default: the standard model's observables).
        require_observations: refuse a file without observation rows (a fit needs them; a forecast
            from doses alone is the prior's).

    Raises:
        InputError: naming the file, row, column and the fix for every malformed entry.
    """
    path, where = Path(path), _Where(path)
    hrow, header, lines = _read_table(path, where)
    cols = _columns(header, hrow, where, bool(observable))
    known = known_observables(observables)
    extra = [c for c in header if c not in KNOWN]
    patients, order, last = {}, [], None
    for row, cells in lines:
        if [c.strip().upper() for c in cells] == header:
            raise InputError(f"{where(row)}this row repeats the header; remove it (were two files concatenated?)")
        if len(cells) != len(header):
            raise InputError(f"{where(row)}this row has {len(cells)} cells but the header has {len(header)} "
                             "columns; write '.' for missing values so that every row has one cell per column")
        pid = _text(cells, cols["ID"])
        if pid in ("", "."):
            raise InputError(f"{where(row, 'ID')}ID is missing; every row needs the patient's ID")
        if pid != last and pid in patients:
            raise InputError(f"{where(row, 'ID')}ID {pid} appears again after other IDs; sort the file by ID, "
                             "then TIME")
        last = pid
        rec = patients.setdefault(pid, {"rows": [], "doses": [], "drugs": [], "cov": {}, "t": -math.inf})
        if pid not in order:
            order.append(pid)
        _add_row(rec, cells, cols, row, where, observable, known, extra)
    records = [_patient(pid, patients[pid]) for pid in order]
    if require_observations and not any(r.n_obs for r in records):
        raise InputError(f"{where()}no usable observations: every row is a dose (EVID=1), skipped (MDV=1) or another "
                         "event (EVID=2); a fit needs observation rows (EVID=0, MDV=0) with DV")
    return records


def _add_row(rec, cells, cols, row, where, default, known, extra):
    v = {name: _number(cells, cols, name, where, row) for name in NUMERIC}
    if math.isnan(v["TIME"]):
        raise InputError(f"{where(row, 'TIME')}TIME is missing; give days since the reference time")
    if v["TIME"] < 0:
        raise InputError(f"{where(row, 'TIME')}TIME = {v['TIME']:g} is negative; times are days since the "
                         "reference time (day 0 = first infusion), so shift them to start at 0")
    if v["TIME"] < rec["t"]:
        raise InputError(f"{where(row, 'TIME')}TIME goes backwards ({v['TIME']:g} after {rec['t']:g}) within "
                         "this ID; sort each patient's rows by TIME")
    _check_ranges(v, row, where)
    rec["t"] = v["TIME"]
    for name in extra:
        text = _text(cells, cols[name])
        if text not in ("", "."):
            value = _covariate(name, text, row, where)  # every cell is checked; the first one is kept
            rec["cov"].setdefault(name, value)
    evid, mdv = _event(v, row, where)
    if evid == 1:
        _add_dose(rec, v, _dose_record(cells, cols, known, row, where), row, where)
    elif mdv == 0:
        dv, lloq, blq = _censoring(v, "BLQ" in cols, row, where)
        rec["rows"].append((v["TIME"], dv, _observable(cells, cols, default, known, row, where), lloq, blq))


def _dose_record(cells, cols, known, row, where) -> str:
    """The record type of a dose row: 'product' (OBS empty, 'product' or an observable) or a DOSE_RECORDS key."""
    col = next((c for c in OBS_COLUMNS if c in cols), None)
    name = _text(cells, cols.get(col)) if col else ""
    if name in ("", ".", "product") or name in known:  # older files repeat the observable on dose rows
        return "product"
    if name not in DOSE_RECORDS:
        choices = ["product", *DOSE_RECORDS]
        raise InputError(f"{where(row, col)}unknown dose record type {name!r}{did_you_mean(name, choices)}; on a "
                         f"dose row (EVID=1) {col} names what was given: one of {choices}")
    return name


def _add_dose(rec, v, kind, row, where) -> None:
    """A product dose (CAR+ cells) or a drug dose (mg, checked against a unit mix-up)."""
    if kind == "product":
        rec["doses"].append((v["TIME"], v["AMT"]))
        return
    if v["AMT"] > MAX_DRUG_MG:
        raise InputError(f"{where(row, 'AMT')}AMT = {v['AMT']:g} {DOSE_RECORDS[kind]} of {kind} is implausible; "
                         f"allowed: up to {MAX_DRUG_MG:g} {DOSE_RECORDS[kind]} (AMT of a {kind} row is in "
                         f"{DOSE_RECORDS[kind]}, not cells)")
    rec["drugs"].append((v["TIME"], kind, v["AMT"]))


def _covariate(name, text, row, where):
    """A covariate value: a number where numeric (finite, within range; WT a body weight), else text."""
    try:
        value = float(text)
    except ValueError:
        if name == "WT":
            raise InputError(f"{where(row, name)}{text!r} is not a body weight; write kg, or '.' for missing") from None
        return text
    if not math.isfinite(value) or abs(value) > MAX_VALUE:
        raise InputError(f"{where(row, name)}{text!r} is not a finite number of plausible size; write a number, "
                         "or '.' for missing")
    if name == "WT" and not WT_RANGE[0] < value <= WT_RANGE[1]:
        raise InputError(f"{where(row, name)}WT = {value:g} kg is implausible; allowed: ({WT_RANGE[0]:g}, "
                         f"{WT_RANGE[1]:g}] kg")
    return value


def _patient(pid, rec) -> PatientData:
    rows = rec["rows"]
    return PatientData(
        id=pid, times=[r[0] for r in rows], values=[r[1] for r in rows], observables=[r[2] for r in rows],
        lloq=[r[3] for r in rows], blq=[r[4] for r in rows], doses=rec["doses"], covariates=dict(rec["cov"]),
        drugs=rec["drugs"],
    )


def _fmt(value) -> str:
    if isinstance(value, str):
        return value
    return "." if value is None or not math.isfinite(value) else repr(float(value))


def write_nonmem(path, records) -> Path:
    """Write :class:`PatientData` records as a NONMEM-style CSV (the format :func:`read_nonmem` reads).

    Columns ID,TIME,DV,OBS,AMT,EVID,MDV,LLOQ,BLQ plus the covariates; doses come before the
    observations at the same time; below-limit rows get DV '.'. Numbers are written exactly
    (shortest round-trip form).

    Example:
        >>> import tempfile, pathlib
        >>> rec = PatientData("1", [7.0], [2400.0], ["car_copies"], [50.0], [False], doses=[(0.0, 1e8)])
        >>> p = write_nonmem(pathlib.Path(tempfile.mkdtemp()) / "d.csv", [rec])
        >>> p.read_text().splitlines()[1]
        '1,0.0,.,.,100000000.0,1,1,.,.'
    """
    records = list(records)
    covs = sorted({k for r in records for k in r.covariates})
    header = ["ID", "TIME", "DV", "OBS", "AMT", "EVID", "MDV", "LLOQ", "BLQ", *covs]
    path = Path(path)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh, lineterminator="\n")
        out.writerow(header)
        for r in records:
            extra = [_fmt(r.covariates.get(k)) for k in covs]
            rows = [(t, 0, [_fmt(t), ".", ".", _fmt(a), "1", "1", ".", "."]) for t, a in r.doses]
            rows += [(t, 0, [_fmt(t), ".", k, _fmt(a), "1", "1", ".", "."]) for t, k, a in r.drugs]
            rows += [(t, 1, [_fmt(t), "." if b else _fmt(v), o, ".", "0", "0", _fmt(q), str(int(b))])
                     for t, v, o, q, b in zip(r.times, r.values, r.observables, r.lloq, r.blq, strict=True)]
            for _, _, cells in sorted(rows, key=lambda x: (x[0], x[1])):
                out.writerow([r.id, *cells, *extra])
    return path

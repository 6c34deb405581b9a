"""NONMEM-style data files: reading, BLQ conventions, every malformed-file message, writer round trip.

Malformed files are written inline so that each test shows the offending line; the expected
message names the row (file line, header = row 1), the column and the fix.
"""

from pathlib import Path

import numpy as np
import pytest

from celltrial.calibration.nonmem import PatientData, read_nonmem, write_nonmem
from celltrial.errors import InputError

DATA = Path(__file__).parent / "data"
OBSERVABLES = ("car_copies", "car_T_uL")  # skips building the standard model in most tests
HEADER = "ID,TIME,DV,OBS,AMT,EVID,MDV,LLOQ,BLQ"


def read_text(tmp_path, text, **kwargs):
    path = tmp_path / "data.csv"
    path.write_text(text)
    return read_nonmem(path, **{"observables": OBSERVABLES, **kwargs})


def test_shipped_file_reads_doses_observations_censoring_and_covariates():
    a, b = read_nonmem(DATA / "two_patients.csv")  # default: the standard model's observables
    assert (a.id, b.id) == ("101", "102")
    np.testing.assert_allclose(a.times, [1, 7, 14, 28, 56, 90], rtol=0, atol=0)
    np.testing.assert_array_equal(a.blq, [False, False, False, False, True, True])
    np.testing.assert_allclose(a.lloq, 30.0, rtol=0, atol=0)
    assert np.isnan(a.values[4:]).all()  # censored values are unknown, whether written '.' or as the LLOQ
    assert a.doses == ((0.0, 9.3e7),) and b.doses == ((0.0, 5e7),)
    assert a.covariates == {"WT": 30.0} and b.covariates == {"WT": 24.5}
    assert b.observables == ("car_T_uL", "car_copies", "car_copies", "car_copies")  # EVID=2 row skipped
    assert np.isnan(b.lloq[0]) and not b.blq[0]


def test_lowercase_headers_default_observable_and_lloq_without_blq_column(tmp_path):
    [rec] = read_text(tmp_path, "id,time,dv,amt,lloq\n7,0,.,1e8,.\n7,5,80,.,50\n7,9,40,.,50\n7,12,.,.,50\n",
                      observable="car_copies")
    assert rec.observables == ("car_copies",) * 3
    np.testing.assert_array_equal(rec.blq, [False, True, True])  # DV < LLOQ or '.' is below the limit
    assert rec.doses == ((0.0, 1e8),)


def test_rows_with_mdv_1_are_not_observations(tmp_path):
    rows = "1,0,.,.,1e8,1,1,.,.\n1,3,10,car_copies,.,0,1,.,.\n1,4,9,car_copies,.,0,0,.,0\n"
    [rec] = read_text(tmp_path, f"{HEADER}\n{rows}")
    np.testing.assert_allclose(rec.times, [4.0], rtol=0, atol=0)


MALFORMED = [
    ("non-numeric value", f"{HEADER}\n1,0,.,.,1e8,1,1,.,.\n1,3x,10,car_copies,.,0,0,.,0\n",
     ["row 3, column TIME", "'3x' is not a number"]),
    ("missing required column", "ID,TIME,OBS\n1,0,car_copies\n",
     ["missing required column(s) ['DV']", "found ['ID', 'TIME', 'OBS']"]),
    ("negative time", f"{HEADER}\n1,-2,5,car_copies,.,0,0,.,0\n", ["row 2, column TIME", "negative"]),
    ("time going backwards", f"{HEADER}\n1,0,.,.,1e8,1,1,.,.\n1,7,10,car_copies,.,0,0,.,0\n"
     "1,3,10,car_copies,.,0,0,.,0\n", ["row 4, column TIME", "backwards", "sort"]),
    ("dose without amount", f"{HEADER}\n1,0,.,.,.,1,1,.,.\n", ["row 2, column AMT", "AMT > 0"]),
    ("non-positive DV not flagged", f"{HEADER}\n1,0,.,.,1e8,1,1,.,.\n1,3,0,car_copies,.,0,0,.,0\n",
     ["row 3, column DV", "not positive", "BLQ=1"]),
    ("missing DV not flagged", f"{HEADER}\n1,3,.,car_copies,.,0,0,.,0\n", ["row 2, column DV", "MDV=1"]),
    ("BLQ without a limit", f"{HEADER}\n1,3,.,car_copies,.,0,0,.,1\n", ["row 2, column LLOQ", "LLOQ > 0"]),
    ("unknown observable", f"{HEADER}\n1,3,5,car_copy,.,0,0,.,0\n",
     ["row 2, column OBS", "unknown observable 'car_copy'", "did you mean 'car_copies'"]),
    ("duplicated header column", "ID,TIME,DV,DV\n1,0,1,2\n", ["row 1", "columns 3 and 4 are both named 'DV'"]),
    ("header repeated in the data", f"{HEADER}\n1,3,5,car_copies,.,0,0,.,0\n{HEADER}\n",
     ["row 3", "repeats the header"]),
    ("empty file", "", ["empty"]),
    ("header only", f"{HEADER}\n", ["no data rows"]),
    ("IDs not contiguous", f"{HEADER}\n1,3,5,car_copies,.,0,0,.,0\n2,3,5,car_copies,.,0,0,.,0\n"
     "1,5,5,car_copies,.,0,0,.,0\n", ["row 4, column ID", "sort the file by ID"]),
    ("unsupported EVID", f"{HEADER}\n1,0,.,.,1e8,4,1,.,.\n", ["row 2, column EVID", "EVID 4 is not supported"]),
    ("no observable column or default", "ID,TIME,DV\n1,3,5\n", ["no observable column", "observable="]),
    ("row with too few cells", f"{HEADER}\n1,3,5,car_copies\n", ["row 2", "has 4 cells but the header has 9"]),
    ("infinite value", f"{HEADER}\n1,3,inf,car_copies,.,0,0,.,0\n", ["row 2, column DV", "not a finite number"]),
    # issue 14: absurd values, bad limits and files without observations are refused (not fitted to an infinite
    # objective)
    ("absurd DV", f"{HEADER}\n1,3,1e308,car_copies,.,0,0,.,0\n", ["row 2, column DV", "implausible", "1e+15"]),
    ("absurd AMT", f"{HEADER}\n1,0,.,.,1e308,1,1,.,.\n1,3,5,car_copies,.,0,0,.,0\n", ["row 2, column AMT"]),
    ("negative AMT", f"{HEADER}\n1,0,.,.,-1e8,0,1,.,.\n1,3,5,car_copies,.,0,0,.,0\n", ["row 2, column AMT"]),
    ("negative LLOQ", f"{HEADER}\n1,3,5,car_copies,.,0,0,-30,0\n", ["row 2, column LLOQ", "negative"]),
    ("huge LLOQ", f"{HEADER}\n1,3,5,car_copies,.,0,0,1e300,0\n", ["row 2, column LLOQ", "implausible"]),
    ("time beyond a century", f"{HEADER}\n1,1e9,5,car_copies,.,0,0,.,0\n", ["row 2, column TIME", "days"]),
    ("no usable observations", f"{HEADER}\n1,0,.,.,1e8,1,1,.,.\n1,3,5,car_copies,.,0,1,.,0\n",
     ["no usable observations", "EVID=0, MDV=0"]),
    ("implausible weight", "ID,TIME,DV,OBS,WT\n1,3,5,car_copies,70\n1,4,5,car_copies,7000\n",
     ["row 3, column WT", "implausible", "(0, 300] kg"]),
    ("cell above the limit", f"{HEADER}\n1,3,{'5' * 2000},car_copies,.,0,0,.,0\n", ["row 2", "2,000 characters"]),
    ("cell above the csv module's limit", f"{HEADER}\n1,3,{'5' * 5_000_000},car_copies,.,0,0,.,0\n",
     ["row 2", "cannot read this row"]),
]


@pytest.mark.parametrize("text, expected", [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_file_names_row_column_and_fix(tmp_path, text, expected):
    with pytest.raises(InputError) as err:
        read_text(tmp_path, text)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "data.csv"))
    for part in expected:
        assert part in message, message


def test_unknown_observable_is_checked_against_the_standard_model(tmp_path):
    with pytest.raises(InputError, match="did you mean 'car_T_uL'"):
        read_text(tmp_path, f"{HEADER}\n1,3,5,car_T_ul,.,0,0,.,0\n", observables=None)


def test_non_utf8_file_names_the_byte_offset(tmp_path):
    path = tmp_path / "latin1.csv"
    before = f"{HEADER}\n1,3,5,car_copies,.,0,0,.,0\n# caf"
    path.write_bytes(f"{before}\xe9\n".encode("latin-1"))
    expected = rf"latin1.csv' is not UTF-8 text: byte 0xe9 at offset {len(before)} \(line 3\)"
    with pytest.raises(InputError, match=expected):
        read_nonmem(path, observables=OBSERVABLES)


def test_missing_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="no such data file"):
        read_nonmem(tmp_path / "nope.csv")


def test_writer_round_trip_is_exact(tmp_path):
    records = read_nonmem(DATA / "two_patients.csv")
    records.append(PatientData("P3", [0.5, 2.0, 2.0], [1 / 3, np.nan, 7e-5], ["car_T_uL", "car_copies", "car_T_uL"],
                               [np.nan, 30.0, 1e-5], [False, True, False], doses=[(0.0, 2e8), (30.0, 1e8)]))
    again = read_nonmem(write_nonmem(tmp_path / "out.csv", records))
    assert len(again) == len(records)
    for a, b in zip(records, again, strict=True):
        assert (a.id, a.observables, a.doses, a.covariates) == (b.id, b.observables, b.doses, b.covariates)
        for name in ("times", "values", "lloq", "blq"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    write_nonmem(tmp_path / "again.csv", again)  # a second round trip writes the same text
    assert (tmp_path / "again.csv").read_text() == (tmp_path / "out.csv").read_text()


def test_patient_data_checks_shapes_and_limits():
    with pytest.raises(InputError, match="values has shape"):
        PatientData("1", [1.0, 2.0], [1.0], ["car_copies"] * 2, [np.nan] * 2, [False] * 2)
    with pytest.raises(InputError, match="needs a positive lloq"):
        PatientData("1", [1.0], [np.nan], ["car_copies"], [np.nan], [True])

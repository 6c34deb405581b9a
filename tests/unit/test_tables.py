"""Parameter tables (CSV/Parquet) round-trip bit for bit; trajectories use the model's names.

Example:
    write_parameter_table(model, params, "cohort.csv"); ids, back = read_parameter_table(model, "cohort.csv")
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from celltrial.errors import InputError
from celltrial.export import (
    parameter_table,
    read_parameter_table,
    write_parameter_table,
    write_trajectory_csv,
)
from celltrial.model.library import cart6
from celltrial.solve.result import Result


def _awkward_params(n_params: int) -> np.ndarray:
    """Values whose shortest decimal forms are long or extreme (subnormal, huge, negative zero)."""
    rng = np.random.default_rng(20240611)
    arr = rng.lognormal(0.0, 5.0, size=(6, n_params)) * rng.choice([-1.0, 1.0], size=(6, n_params))
    arr[0, :4] = [0.1 + 0.2, 1.0 / 3.0, 5e-324, 1.7976931348623157e308]
    arr[1, :3] = [-0.0, 2.0**-1074 * 3, np.nextafter(1.0, 2.0)]
    return arr


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and np.array_equal(a.view(np.uint64), b.view(np.uint64))


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
@pytest.mark.parametrize("ids", [None, ["p-001", "p-002", "p-003", "p-004", "p-005", "p-006"]])
def test_round_trip_is_bit_exact(tmp_path, suffix, ids):
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    model = cart6()
    params = _awkward_params(len(model.parameter_names))
    path = tmp_path / f"cohort{suffix}"
    write_parameter_table(model, params, path, patient_ids=ids)
    got_ids, got = read_parameter_table(model, path)
    assert _same_bits(np.ascontiguousarray(got), params)
    expected = list(range(6)) if ids is None else ids
    assert [x.item() if hasattr(x, "item") else x for x in got_ids] == expected


def test_parameter_table_columns():
    model = cart6()
    params = np.tile(model.default_parameters(), (2, 1))
    table = parameter_table(model, params, patient_ids=[10, 11])
    assert list(table) == ["patient", *model.parameter_names]
    assert table["patient"].tolist() == [10, 11]
    assert table["gamma"].tolist() == [2.0, 2.0]
    with pytest.raises(InputError, match="expected shape"):
        parameter_table(model, params[:, :-1])
    with pytest.raises(InputError, match="unique"):
        parameter_table(model, params, patient_ids=[1, 1])


def _rewrite_header(path, old: str, new: str | None) -> None:
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    j = rows[0].index(old)
    if new is None:
        rows = [r[:j] + r[j + 1:] for r in rows]
    else:
        rows[0][j] = new
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)


def test_bad_columns_name_the_column(tmp_path):
    model = cart6()
    params = model.default_parameters()[None, :]
    path = tmp_path / "cohort.csv"
    write_parameter_table(model, params, path)
    _rewrite_header(path, "gamma", "gama")
    with pytest.raises(InputError, match="unknown column 'gama'.*did you mean 'gamma'"):
        read_parameter_table(model, path)
    write_parameter_table(model, params, path)
    _rewrite_header(path, "rho", None)
    with pytest.raises(InputError, match="missing column 'rho'"):
        read_parameter_table(model, path)


def test_parquet_missing_column(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    model = cart6()
    table = parameter_table(model, model.default_parameters()[None, :])
    del table["clr"]
    path = tmp_path / "cohort.parquet"
    pq.write_table(pa.table(table), str(path))
    with pytest.raises(InputError, match="missing column 'clr'"):
        read_parameter_table(model, path)


def test_unknown_suffix(tmp_path):
    model = cart6()
    with pytest.raises(InputError, match="'.txt'"):
        write_parameter_table(model, model.default_parameters()[None, :], tmp_path / "cohort.txt")
    with pytest.raises(InputError, match="suffix"):
        read_parameter_table(model, tmp_path / "cohort.xlsx")


def test_trajectory_csv_uses_model_names(tmp_path):
    model = cart6(qss_ctdna=True)
    names = model.quantity_names
    t = np.array([0.0, 0.5, 1.0])
    values = np.random.default_rng(3).normal(size=(2, t.size, len(names)))
    res = Result(t, names, values, {}, np.zeros(2, np.int8), np.zeros(2, np.int64), np.zeros(2, np.int64), {})
    path = tmp_path / "patient1.csv"
    write_trajectory_csv(res, 1, path)
    with open(path, newline="") as fh:
        rows = list(csv.reader(fh))
    assert rows[0] == ["time", *model.state_names, *model.observable_names]
    got = np.array([[float(v) for v in r] for r in rows[1:]])
    assert _same_bits(got[:, 0], t)
    assert _same_bits(np.ascontiguousarray(got[:, 1:]), values[1])
    with pytest.raises(InputError, match="patient"):
        write_trajectory_csv(res, 2, path)

"""Published CAR-T models from BioModels: imported, compiled, simulated, and compared with libRoadRunner.

Each model runs over its SED-ML time course (days) through the compiled engine; the relative
error against roadrunner (CVODE at rtol 1e-14) must be at most 1e-6 for every state and rule.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from celltrial.sbml_import import import_sbml
from celltrial.sbml_import.compare import compare

pytest.importorskip("libsbml")
BIOMODELS = Path(__file__).resolve().parents[3] / "shared" / "biomodels"

# file, SED-ML end time (days), states after import, events after import
MODELS = [
    ("BIOMD0000001041/Kimmel2021.xml", 200.0, ("Normal_T_cells", "CAR_T_cells", "Antigen_presenting_tumour_cells"),
     0),
    ("BIOMD0000001019/Barros2021_HDLM2.xml", 500.0, ("Cm", "Ct", "T"), 2),
    ("BIOMD0000001011/Leon-Triana2020_(eqs_4).xml", 60.0, ("CAR_T_cells", "Leukaemic_B_cells", "B_cells_healthy"), 0),
    ("BIOMD0000001024/Chaudhury2020_Eq_4-5.xml", 360.0, ("Expanding_CAR_T_cells", "Tumor_cells"), 0),
]


@pytest.mark.parametrize(("file", "t_end", "states", "n_events"), MODELS, ids=[m[0].split("/")[0] for m in MODELS])
def test_published_model_matches_roadrunner(file, t_end, states, n_events):
    path = BIOMODELS / file
    if not path.exists():
        pytest.skip(f"{path} not found (the BioModels copies live in ../shared/biomodels)")
    model = import_sbml(path)
    assert model.state_names == states
    assert len(model.events) == n_events
    pytest.importorskip("roadrunner", reason="libroadrunner is not installed: pip install libroadrunner")
    errors = compare(path, t_end)
    assert set(errors) >= set(states)
    assert max(errors.values()) <= 1e-6, errors

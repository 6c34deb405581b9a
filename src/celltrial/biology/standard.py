"""celltrial's standard model: all modules of the standard biology composed into one Model.

Example:
    >>> model = standard_model()
    >>> len(model.state_names) >= 15
    True
"""

from __future__ import annotations

from functools import lru_cache

from ..model import Model, Module, Observable
from .alloimmunity import alloimmunity
from .crs import crs
from .ctdna import ctdna
from .drugs import drugs_radiation
from .host import host_lymphocytes
from .icans import icans
from .nk import nk_cells
from .tcells import engineered_t_cells
from .tumour import tumour

MODEL_NAME = "standard"


def _readouts() -> Module:
    """Clinic-unit readouts that combine several modules."""
    return Module(
        "readouts",
        description="blood readouts in clinic units",
        observables=[
            Observable("car_copies", "vcn*dna_cells*car_T_uL/(car_T_uL + nk_uL + alc_T + leuk_other)",
                       "copies/ug DNA", "CAR transgene copies per ug of blood genomic DNA (qPCR readout)"),
            Observable("product_uL", "car_T_uL + nk_uL", "cells/uL", "all product cells per uL of blood"),
        ],
    )


@lru_cache(maxsize=1)
def standard_model() -> Model:
    """Engineered T cells, host lymphocytes, NK products, alloimmunity, tumour, ctDNA, CRS, drugs."""
    modules = [host_lymphocytes(), engineered_t_cells(), nk_cells(), alloimmunity(), tumour(), ctdna(), crs(),
               icans(), drugs_radiation(), _readouts()]
    return Model(
        MODEL_NAME,
        modules,
        description=(
            "celltrial's standard biology: phenotype-resolved engineered T cells (T_SCM to exhausted) with a "
            "blood distribution phase and lymphodepletion-driven homeostatic expansion; host T-cell recovery; "
            "off-the-shelf NK cells (CAR, NKG2D, CD16/ADCC); host-versus-graft rejection and GvHD hazard; "
            "antigen-positive and antigen-negative tumour clones; ctDNA (quasi-steady); macrophage/IL-6 CRS "
            "with tocilizumab; ICANS lagging IL-6; anti-PD-1, radiotherapy and a safety switch. Time in days."
        ),
    )

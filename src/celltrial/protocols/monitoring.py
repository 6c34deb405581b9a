"""Monitoring: what the clinic sees, not the truth.

The model gives the true ctDNA level (hGE per mL of plasma, :mod:`celltrial.biology.ctdna`) and
the true tumour burden (cells). The assays here turn them into what a clinic would record:

- :class:`CtDNAAssay` (Avanzini 2020, science.md 4.1): a draw of ``draw_ml`` mL of blood holds
  ``draw_ml * plasma_fraction`` mL of plasma, of which a fraction ``efficiency`` of the mutant
  molecules is extracted and sequenced, so the count is Poisson(concentration * draw_ml *
  plasma_fraction * efficiency). The draw is positive when at least ``min_molecules`` are seen
  or a false positive (rate ``false_positive_rate``, independent) occurs.
- :class:`MRDAssay` (science.md 4.3): an assay with limit of detection ``lod`` analyses about
  ``cells_sampled_per_lod / lod`` cells; tumour cells among them are Poisson with mean
  fraction * cells analysed, and one of them makes the sample MRD-positive.
- :class:`ImagingAssay` (science.md 7): disease is measurable from about 1e9 cells (1 cm^3).

Randomness comes in as explicit uniforms on [0, 1) and counts are drawn by inverse CDF, so an
observation depends only on its uniforms. Each scheduled draw consumes ``uniforms_per_draw``
uniforms (ctDNA 2: molecule count, false positive; MRD 1: tumour-cell count; imaging 0), taken
from the patient's own "assay" stream by :func:`assay_uniforms` in a fixed draw-major layout:
draw k of patient p gets the same uniforms whatever the chunk and however many draws follow.

Example:
    >>> a = CtDNAAssay()
    >>> round(a.lod_hge_ml(0.95), 3)   # 95% LOD of a 10 mL tube (2.75 mL effectively sequenced)
    1.089
    >>> a.observe([0.0, 10.0], [0.9, 0.9], [0.5, 0.5])[0].tolist()
    [False, True]
    >>> MRDAssay(method="ngs").lod
    1e-06
"""

from __future__ import annotations

from typing import ClassVar, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator
from scipy import special, stats

from ..cohorts.streams import patient_blocks
from ..errors import InputError
from .schedules import Piece as Piece
from .schedules import Schedule as Schedule

_CONFIG = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
#: Default limits of detection by MRD method ([R] iwCLL consensus table, Leukemia 2021; clonoSEQ 1e-6).
MRD_LOD = {"flow": 1e-4, "ngs": 1e-6}


def _level(x) -> np.ndarray:
    """A non-negative float array (NaN kept, e.g. a failed patient); tiny negatives from solvers -> 0."""
    x = np.asarray(x, dtype=np.float64)
    return np.where(x < 0, 0.0, x)


def _uniforms(u, name: str) -> np.ndarray:
    u = np.asarray(u, dtype=np.float64)
    if u.size and not (np.all(u >= 0) and np.all(u < 1)):
        raise InputError(f"{name} must be uniforms on [0, 1), got values in [{np.nanmin(u):g}, {np.nanmax(u):g}]")
    return u


class _Assay(BaseModel):
    model_config = _CONFIG
    uniforms_per_draw: ClassVar[int] = 0

    def draws_needed(self, n_draws: int) -> int:
        """Uniforms needed for ``n_draws`` scheduled draws: ``n_draws * uniforms_per_draw``."""
        return int(n_draws) * self.uniforms_per_draw


class CtDNAAssay(_Assay):
    """The generic ctDNA assay on one blood draw: Poisson sampling of the mutant molecules of one tracked
    site (``kind: poisson_draw``; the multi-site kinds of :mod:`celltrial.protocols.assays` extend it)."""

    uniforms_per_draw: ClassVar[int] = 2  # [..., 0] molecule count, [..., 1] false positive
    #: what ``value`` and ``lod`` of a stored call are measured in
    unit: ClassVar[str] = "hGE/mL"

    kind: Literal["poisson_draw"] = Field("poisson_draw", description="the assay kind: `poisson_draw` (this one), "
                                          "`tumour_informed_ngs` or `clonotype_ngs`")

    draw_ml: float = Field(10.0, gt=0, le=100, description="[E] whole blood drawn: one 10 mL Streck tube "
                           "(range 10-15; Avanzini used 15 mL)", json_schema_extra={"unit": "mL"})
    plasma_fraction: float = Field(0.55, gt=0, le=1, description="[R] plasma fraction of blood (Avanzini 2020)",
                                   json_schema_extra={"unit": "1"})
    efficiency: float = Field(0.5, gt=0, le=1, description="[R] extraction x sequencing efficiency (Avanzini 2020 "
                              "seq_eff 0.5)", json_schema_extra={"unit": "1"})
    min_molecules: int = Field(1, ge=1, description="[E] mutant molecules needed to call a draw positive",
                               json_schema_extra={"unit": "molecule"})
    false_positive_rate: float = Field(
        0.0, ge=0, lt=1, description="[E] per draw, independent of the tumour; 0 by default. For scale: a per-base "
        "error of 1e-5 [R] on ~953 hGE/mL normal cfDNA [R] gives ~0.026 error molecules per site per 10 mL draw, "
        "which tumour-informed multi-site calling suppresses", json_schema_extra={"unit": "1"})

    @property
    def volume_factor(self) -> float:
        """mL of plasma effectively sequenced: draw_ml * plasma_fraction * efficiency (2.75 by default)."""
        return self.draw_ml * self.plasma_fraction * self.efficiency

    @property
    def targets(self) -> int:
        """Tracked sites per tumour genome: each mutant genome equivalent gives every site its own
        chance to be sampled (1 here; the multi-site kinds track more)."""
        return 1

    @property
    def molecules_per_hge_ml(self) -> float:
        """Expected mutant molecules per hGE/mL of plasma: volume_factor * targets."""
        return self.volume_factor * self.targets

    def expected_molecules(self, concentration) -> np.ndarray:
        """Mean mutant molecules seen for ``concentration`` (hGE per mL of plasma; any array shape)."""
        # multiplied in two steps: with one target the numbers are bit for bit those of a single-site assay
        return _level(concentration) * self.volume_factor * self.targets

    def detection_probability(self, concentration) -> np.ndarray:
        """P(positive) = 1 - (1 - fpr) * P(Poisson(expected_molecules) < min_molecules).

        Computed as fpr + (1 - fpr) * P(Poisson >= min_molecules): exactly fpr at zero concentration.
        """
        lam = self.expected_molecules(concentration)
        fpr = self.false_positive_rate
        return fpr + (1.0 - fpr) * stats.poisson.sf(self.min_molecules - 1, lam)

    def lod_hge_ml(self, prob: float = 0.95) -> float:
        """The concentration (hGE/mL plasma) detected with probability ``prob`` (0 if ``prob`` <= fpr)."""
        if not 0 < prob < 1:
            raise InputError(f"ctDNA LOD: prob must be in (0, 1), got {prob!r}")
        if prob <= self.false_positive_rate:
            return 0.0
        miss = (1.0 - prob) / (1.0 - self.false_positive_rate)  # required P(Poisson(lam) < min_molecules)
        if self.min_molecules == 1:
            lam = -np.log(miss)  # P(0) = e^-lam
        else:  # P(Poisson(lam) <= m-1) = Q(m, lam), the regularised upper incomplete gamma: invert it numerically
            lam = special.gammainccinv(self.min_molecules, miss)
        return float(lam / self.molecules_per_hge_ml)

    def observe(self, concentration, u_count, u_fp) -> tuple[np.ndarray, np.ndarray]:
        """One draw per element: (positive bool array, measured hGE/mL float array), broadcast shapes.

        molecules = Poisson inverse CDF at ``u_count``; positive when molecules >= min_molecules or
        ``u_fp`` < false_positive_rate. ``measured`` is molecules / molecules_per_hge_ml for a positive
        draw, at least min_molecules / molecules_per_hge_ml (a false call reports the calling threshold),
        and 0 for a negative one; NaN concentrations give NaN molecules (negative unless a false positive).
        """
        lam = self.expected_molecules(concentration)
        u_count, u_fp = _uniforms(u_count, "u_count"), _uniforms(u_fp, "u_fp")
        lam, u_count, u_fp = np.broadcast_arrays(lam, u_count, u_fp)
        molecules = np.maximum(stats.poisson.ppf(u_count, lam), 0.0)  # ppf(0) is -1 in scipy
        positive = (molecules >= self.min_molecules) | (u_fp < self.false_positive_rate)
        measured = np.where(positive, np.fmax(molecules, self.min_molecules) / self.molecules_per_hge_ml, 0.0)
        return positive, measured


class MRDAssay(_Assay):
    """Minimal residual disease: detect tumour cells among the cells a marrow/blood sample analyses."""

    uniforms_per_draw: ClassVar[int] = 1  # tumour-cell count
    unit: ClassVar[str] = "fraction"  # tumour cells per cell analysed

    method: Literal["flow", "ngs"] = Field("flow", description="[R] 'flow' (4-colour flow, LOD 1e-4; ELIANA "
                                           "definition) or 'ngs' (clonoSEQ, LOD 1e-6)")
    lod: float | None = Field(None, gt=0, lt=1, description="[R] limit of detection as a tumour fraction; None: "
                              "by method, flow 1e-4, ngs 1e-6 (iwCLL consensus, clonoSEQ)",
                              json_schema_extra={"unit": "1"})
    reference_cells: float = Field(1e12, gt=0, description="[E] cells the tumour fraction is measured against: "
                                   "~1e12 marrow nucleated cells (for lymphoma a stand-in)",
                                   json_schema_extra={"unit": "cell"})
    cells_sampled_per_lod: float = Field(3.0, gt=0, description="[E] an assay with LOD f analyses ~3/f cells, so a "
                                         "tumour fraction at the LOD is seen with probability 1 - e^-3 = 95%",
                                         json_schema_extra={"unit": "cell"})

    @model_validator(mode="before")
    @classmethod
    def _default_lod(cls, data):
        if isinstance(data, dict) and data.get("lod") is None:
            method = data.get("method", "flow")
            data = {**data, "lod": MRD_LOD.get(method, 1e-4)}  # an unknown method is reported by its own field
        return data

    @property
    def cells_sampled(self) -> float:
        """Cells analysed per sample: cells_sampled_per_lod / lod."""
        return self.cells_sampled_per_lod / self.lod

    def fraction(self, burden) -> np.ndarray:
        """Tumour fraction: burden (cells) / reference_cells."""
        return _level(burden) / self.reference_cells

    def detection_probability(self, burden) -> np.ndarray:
        """P(at least one tumour cell among those analysed) = 1 - exp(-fraction * cells_sampled)."""
        return -np.expm1(-self.fraction(burden) * self.cells_sampled)

    def observe(self, burden, u) -> np.ndarray:
        """MRD-positive (bool array): the inverse-CDF Poisson count of tumour cells at ``u`` is >= 1."""
        lam = self.fraction(burden) * self.cells_sampled
        u = _uniforms(u, "u")
        # Poisson ppf(u) >= 1  <=>  u > P(count = 0) = exp(-lam); NaN burden -> negative
        return u > np.exp(-lam)

    def measure(self, burden, u) -> tuple[np.ndarray, np.ndarray]:
        """(MRD-positive, measured tumour fraction): the call of :meth:`observe` and the tumour cells
        counted (the same inverse-CDF Poisson draw at ``u``) per cell analysed; 0 when negative."""
        positive = self.observe(burden, u)
        lam = self.fraction(burden) * self.cells_sampled
        cells = np.where(positive, np.fmax(stats.poisson.ppf(_uniforms(u, "u"), lam), 1.0), 0.0)
        return positive, cells / self.cells_sampled

    def lod_fraction(self, prob: float = 0.95) -> float:
        """The tumour fraction detected with probability ``prob``: -ln(1 - prob) / cells_sampled
        (0.9986 * lod at 95% with the default 3 cells per LOD)."""
        if not 0 < prob < 1:
            raise InputError(f"MRD LOD: prob must be in (0, 1), got {prob!r}")
        return float(-np.log1p(-prob) / self.cells_sampled)


class ImagingAssay(_Assay):
    """Imaging (CT/PET): disease is measurable from ``detection_cells`` cells on (deterministic)."""

    detection_cells: float = Field(1e9, gt=0, description="[R] imaging detection size ~1e9 cells (1 cm^3; "
                                   "Avanzini 2020 package example)", json_schema_extra={"unit": "cell"})

    def observe(self, burden) -> np.ndarray:
        """Measurable disease (bool array): burden >= detection_cells (NaN -> False)."""
        return np.asarray(burden, dtype=np.float64) >= self.detection_cells


def assay_uniforms(seed: int, patient_ids, n_draws: int, per_draw: int) -> np.ndarray:
    """(n_patients, n_draws, per_draw) uniforms from each patient's "assay" stream, draw-major.

    Draw k of a patient uses numbers k*per_draw ... (k+1)*per_draw - 1 of its stream, so it is the
    same whatever the chunk of patients and however many draws follow. Keep ``per_draw`` fixed for a
    trial (e.g. CtDNAAssay.uniforms_per_draw + MRDAssay.uniforms_per_draw = 3, in a fixed column
    order): changing it reshuffles every draw. Size ``n_draws`` by the longest follow-up, not per chunk.
    """
    for name, value in (("n_draws", n_draws), ("per_draw", per_draw)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
            raise InputError(f"assay_uniforms: {name} must be a non-negative integer, got {value!r}")
    block = patient_blocks(seed, patient_ids, "assay", int(n_draws) * int(per_draw), "random")
    return block.reshape(block.shape[0], int(n_draws), int(per_draw))

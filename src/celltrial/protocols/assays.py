"""Assay kinds a scenario picks for its ctDNA draws, and an MRD sampling schedule.

Every ctDNA kind samples the mutant molecules of one blood draw (Poisson, :class:`CtDNAAssay`); they
differ in how many sites of each tumour genome they track, and so in their limit of detection. A
tumour genome equivalent shed into plasma carries every tracked site, and each site's fragment is
recovered on its own, so the molecules seen are Poisson(concentration * mL sequenced * sites):

- ``poisson_draw`` (:class:`CtDNAAssay`, the default): one site; 95% LoD 1.09 hGE/mL (Avanzini 2020).
- ``tumour_informed_ngs`` (:class:`TumourInformedNGS`): a personalised panel of ``sites`` variants
  found in the tumour (Signatera: 16, called positive from 2 molecules); the defaults give the
  0.3 MTM/mL 95% LoD Natera reports. More sites reach further down: PhasED-seq tracks hundreds of
  phased variants (0.7 per million at 120 ng, Klimova 2025), CAPP-Seq tens of reporters.
- ``clonotype_ngs`` (:class:`ClonotypeNGS`): the lymphoma's own Ig rearrangements (VDJ clonotypes)
  in plasma cfDNA, as in Frank 2021 (axi-cel): any clonotype molecule is a positive draw.

A plasma assay cannot see what is not in the tube: its LoD in hGE/mL falls with sites and volume,
not below one molecule per mL sequenced. Cell-based MRD (:class:`MRDAssay`: flow 1e-4, clonoSEQ
1e-6 of the cells analysed) is scheduled by :class:`MRDSampling` (``assessments.mrd``).

Example:
    >>> round(TumourInformedNGS().lod_hge_ml(0.95), 2), round(ClonotypeNGS().lod_hge_ml(0.95), 3)
    (0.3, 0.545)
    >>> ctdna_assay({"kind": "tumour_informed_ngs", "sites": 200}).targets
    200
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter, field_validator

from .monitoring import CtDNAAssay, MRDAssay

#: Normal cfDNA in plasma, hGE/mL ([R] Avanzini 2020: mean 6.3 ng/mL), to express an LoD as a VAF.
NORMAL_CFDNA_HGE_ML = 953.0


class _MultiSite(CtDNAAssay):
    """A ctDNA assay tracking ``sites`` sites of each tumour genome (see the module docstring)."""

    sites: int = Field(1, ge=1, le=100_000, strict=True, description="sites tracked per tumour genome",
                       json_schema_extra={"unit": "site"})

    @property
    def targets(self) -> int:
        return self.sites

    def lod_vaf(self, prob: float = 0.95, cfdna_hge_ml: float = NORMAL_CFDNA_HGE_ML) -> float:
        """The LoD as a variant allele fraction on ``cfdna_hge_ml`` of normal cfDNA: lod / (lod + cfDNA)."""
        lod = self.lod_hge_ml(prob)
        return lod / (lod + cfdna_hge_ml)


class TumourInformedNGS(_MultiSite):
    """Tumour-informed multi-site ctDNA NGS (Signatera-like by default; more sites: CAPP-Seq, PhasED-seq)."""

    kind: Literal["tumour_informed_ngs"] = Field("tumour_informed_ngs", description="the assay kind")
    sites: int = Field(16, ge=1, le=100_000, strict=True, description="[R] patient-specific variants tracked: 16 "
                       "(Signatera, Reinert 2019 JAMA Oncol); CAPP-Seq tens of reporters, PhasED-seq hundreds of "
                       "phased variants (Kurtz 2021 Nat Biotechnol)", json_schema_extra={"unit": "site"})
    min_molecules: int = Field(2, ge=1, description="[K] mutant molecules needed to call a draw positive "
                               "(Signatera calls a sample positive from 2 of its 16 variants)",
                               json_schema_extra={"unit": "molecule"})
    draw_ml: float = Field(20.0, gt=0, le=100, description="[K] whole blood drawn: two 10 mL cfDNA tubes",
                           json_schema_extra={"unit": "mL"})
    efficiency: float = Field(0.09, gt=0, le=1, description="[E] molecules recovered and sequenced per site, "
                              "calibrated so that the 95% LoD is 0.3 MTM/mL, the LoD Natera reports for Signatera "
                              "[R] (16 sites, 2 molecules, 11 mL plasma)", json_schema_extra={"unit": "1"})
    false_positive_rate: float = Field(
        0.0, ge=0, lt=1, description="[E] per draw; 0 by default. PhasED-seq measured 0.24% on blank plasma "
        "(Klimova 2025 Oncotarget) [R]", json_schema_extra={"unit": "1"})


class ClonotypeNGS(_MultiSite):
    """Clonotype NGS of plasma cfDNA: the lymphoma's Ig VDJ rearrangements (Frank 2021, axi-cel)."""

    kind: Literal["clonotype_ngs"] = Field("clonotype_ngs", description="the assay kind")
    sites: int = Field(2, ge=1, le=100, strict=True, description="[E] clonotypic rearrangements tracked per "
                       "tumour genome: IgH (VDJ or DJ) and a light chain (Frank 2021 amplified IgH-VDJ, IgH-DJ "
                       "and IgK/IgL [R])", json_schema_extra={"unit": "site"})
    min_molecules: int = Field(1, ge=1, description="[R] any detectable clonotype molecule is a positive draw "
                               "(Frank 2021)", json_schema_extra={"unit": "molecule"})


def _ctdna_kind(value) -> str:
    if isinstance(value, dict):
        return str(value.get("kind", "poisson_draw"))  # no kind: the generic assay, as before kinds existed
    return getattr(value, "kind", "")


#: A ctDNA assay in a scenario file, picked by its ``kind`` (default ``poisson_draw``); the tag picks the
#: class, so an error names that kind's own fields.
CtDNAAssaySpec = Annotated[Annotated[CtDNAAssay, Tag("poisson_draw")]
                           | Annotated[TumourInformedNGS, Tag("tumour_informed_ngs")]
                           | Annotated[ClonotypeNGS, Tag("clonotype_ngs")], Discriminator(_ctdna_kind)]
_ADAPTER = TypeAdapter(CtDNAAssaySpec)


def ctdna_assay(value) -> CtDNAAssay:
    """A ctDNA assay of any kind from a dict (as in a scenario file) or an assay."""
    return _ADAPTER.validate_python(value)


class MRDSampling(BaseModel):
    """Scheduled MRD samples (``assessments.mrd``): every arm is sampled on ``days`` with ``assay``.

    An arm whose policy samples MRD itself (``mrd_trigger``, ``ctdna_trigger.confirm_with_mrd``) is
    sampled on the policy's days instead: one patient has one MRD schedule, read from its "mrd" stream.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    assay: MRDAssay = Field(MRDAssay(), description="the MRD assay: `method: flow` (LOD 1e-4, the ELIANA "
                            "definition of MRD-negative [K]) or `ngs` (clonoSEQ, 1e-6 [R])")
    days: list[float] = Field([28.0, 90.0, 180.0, 365.0], min_length=1, description="[K] sample days after the "
                              "first infusion (ELIANA: marrow MRD at day 28 and month 3, then with follow-up)",
                              json_schema_extra={"unit": "day"})

    @field_validator("days")
    @classmethod
    def _increasing(cls, v):
        if any(b <= a for a, b in zip(v, v[1:], strict=False)) or v[0] <= 0 or v[-1] > 3650:
            raise ValueError("MRD sample days must be positive, increase strictly and stay within 3650")
        return v

    def sample_days(self, follow_up: float) -> np.ndarray:
        """The sample days within follow-up (days)."""
        days = np.asarray(self.days, dtype=float)
        return days[days <= follow_up]

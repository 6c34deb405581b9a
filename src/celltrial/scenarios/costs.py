"""Unit costs of a trial arm (configurable; every default carries its source tag).

Prices are list prices in ``currency``. The product price is per dose; autologous products
also pay apheresis and manufacturing once per manufactured product. Hospital days come from
the infusion stay and CRS; monitoring is imaging plus ctDNA draws done while alive.

Example:
    >>> Costs().hospital_day
    4500.0
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..inputs import Number
from .limits import MAX_STAY_DAYS, StayDays
from .limits import money as _money


class Costs(BaseModel):
    """Unit costs; defaults are US list prices or estimates, tagged [K] or [E]."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    currency: str = Field("USD", min_length=1, max_length=8, description="currency of every amount")
    autologous_dose: Number = _money(
        420_000.0, "[K] US list prices of CD19 CAR-T products, 2017-2024: about 373,000-475,000 USD per infusion")
    allogeneic_dose: Number = _money(
        60_000.0, "[E] off-the-shelf (iPSC/donor) dose: no approved price yet; cost-of-goods estimate")
    manufacturing_autologous: Number = _money(
        25_000.0, "[E] apheresis, shipping and bridging therapy per manufactured autologous product")
    lymphodepletion: Number = _money(6_000.0, "[E] Flu/Cy course including administration")
    hospital_day: Number = _money(4_500.0, "[E] US inpatient day on a haematology ward")
    infusion_stay_days: dict[str, StayDays] = Field(
        {"t_cell": 7.0, "nk_cell": 1.0},
        description="[E] inpatient days per infusion by product kind (CAR-T: about a week of monitoring; "
                    "NK products: mostly outpatient)", json_schema_extra={"unit": "day"})
    crs_days_by_grade: list[StayDays] = Field(
        [0.0, 2.0, 5.0, 10.0, 21.0], min_length=5, max_length=5,
        description="[E] extra inpatient days for a maximum CRS grade of 0, 1, 2, 3, 4",
        json_schema_extra={"unit": "day"})
    imaging_test: Number = _money(1_500.0, "[E] PET-CT")
    ctdna_test: Number = _money(1_000.0, "[E] tumour-informed ctDNA assay per draw")

    @field_validator("infusion_stay_days")
    @classmethod
    def _kinds(cls, v):
        if set(v) != {"t_cell", "nk_cell"}:
            raise ValueError(f"give days (0 to {MAX_STAY_DAYS:g}) for exactly the kinds t_cell and nk_cell")
        return v

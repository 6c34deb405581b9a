"""Request bodies of the REST API (pydantic): every field bounded, unknown fields refused (422 naming them).

Example:
    >>> ForecastRequest(data="ID,TIME,DV\\n", id="1", disease="lbcl", product="axi-cel-like").draws
    200
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from ..cli.root import SEED_MAX
from ..forecast.actions import Action
from ..inputs.files import MAX_CSV_BYTES, MAX_YAML_BYTES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class ScenarioText(_Strict):
    """A scenario file's YAML text."""

    text: str = Field(min_length=1, max_length=MAX_YAML_BYTES, description="scenario YAML (docs/scenarios.md)")


class RunRequest(_Strict):
    """Start a trial run of a scenario in the background (the overrides of ``celltrial run``)."""

    scenario: str = Field(min_length=1, max_length=MAX_YAML_BYTES, description="scenario YAML")
    patients: int | None = Field(None, ge=1, le=100_000, description="patients per arm")
    replicates: int | None = Field(None, ge=1, le=1000, description="replicate trials")
    seed: int | None = Field(None, ge=0, le=SEED_MAX, description="trial seed")


class ForecastRequest(_Strict):
    """Forecast one patient from posted NONMEM-style CSV text (the options of ``celltrial forecast``)."""

    data: str = Field(min_length=1, max_length=MAX_CSV_BYTES, description="NONMEM-style CSV (docs/forecast.md)")
    id: str = Field(min_length=1, max_length=100, description="the patient's ID in data")
    disease: str = Field(min_length=1, max_length=100, description="disease preset, e.g. lbcl")
    product: str = Field(min_length=1, max_length=100, description="product preset, e.g. axi-cel-like")
    fit: list[str] | None = Field(None, max_length=40, description="parameters with a random effect (default all)")
    omega: dict[str, float] | None = Field(None, description="prior log-scale SDs by parameter")
    sigma: float = Field(0.5, ge=1e-3, le=5.0, description="residual SD on log scale")
    observable: str | None = Field(None, max_length=100, description="observable of rows without OBS")
    actions: list[Action] | None = Field(None, min_length=1, max_length=20, description="candidate moves")
    threshold: float = Field(1.0, gt=0, le=1e9, description="ctDNA trigger of the default actions (hGE/mL)")
    horizon: float = Field(180.0, ge=1.0, le=3650.0, description="days forecast after the last observation")
    days: list[float] = Field([30.0, 90.0, 180.0], max_length=20, description="days after it for P(progression)")
    draws: int = Field(200, ge=10, le=2000, description="posterior draws per action")
    seed: int = Field(0, ge=0, le=SEED_MAX, description="seed of every random number")

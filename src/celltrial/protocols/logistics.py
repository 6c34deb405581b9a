"""Autologous logistics: the wait from apheresis to infusion, manufacturing failure, bridging.

For an autologous arm day 0 is enrolment (apheresis), as in an intention-to-treat analysis:
the regimen's day 0 becomes the patient's infusion day, drawn from a log-normal vein-to-vein
time; with probability ``failure_probability`` manufacturing fails and the patient gets no
product (a re-manufacture is not attempted). The disease grows meanwhile; optional bridging
therapy kills a fraction of the tumour at ``bridging_day``. A policy re-dose of an autologous
product needs a new product: it is given after a fresh vein-to-vein wait.

Draws come from the patient's own "logistics" stream: uniform k*2 is the wait of manufacture
k (0 = the first product), k*2+1 decides its failure.

Example:
    >>> log = AutologousLogistics()
    >>> wait, failed = log.draw(np.array([[0.5, 0.9]]))
    >>> round(float(wait[0]), 1), bool(failed[0])
    (24.0, False)
"""

from __future__ import annotations

import numpy as np
from pydantic import BaseModel, ConfigDict, Field
from scipy.special import ndtri

from ..solve.events import ScaleState

#: uniforms per manufactured product (wait, failure) and products drawn per patient
UNIFORMS_PER_PRODUCT, MAX_PRODUCTS = 2, 16


class AutologousLogistics(BaseModel):
    """Vein-to-vein time, manufacturing failure and bridging therapy of an autologous product."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    median_vein_to_vein_days: float = Field(
        24.0, gt=0, le=180, json_schema_extra={"unit": "day"},
        description="[K] median apheresis-to-infusion time; 3-4 weeks in practice (ZUMA-1: 17 days in the trial, "
                    "longer in the real world)")
    vein_to_vein_sd_log: float = Field(0.25, ge=0, le=2, description="[E] log-normal spread of that time")
    failure_probability: float = Field(0.05, ge=0, le=1, description="[E] manufacturing failure (out of "
                                                                      "specification) per product: 1-9% reported")
    bridging_day: float | None = Field(None, ge=0, description="day of bridging therapy (null: none)",
                                       json_schema_extra={"unit": "day"})
    bridging_surviving_fraction: float = Field(0.5, gt=0, le=1, description="[E] tumour fraction surviving bridging")
    bridging_above_cells: float | None = Field(
        None, gt=0, le=1e13, json_schema_extra={"unit": "cells"},
        description="bridge only patients whose baseline scan measures at least this many tumour cells (below the "
                    "imaging detection limit a scan measures none); null: bridge everyone")

    def bridges(self, scanned_burden) -> np.ndarray:
        """(n,) bool: which patients get bridging, from the burden their baseline scan measured (cells)."""
        scanned = np.asarray(scanned_burden, dtype=float)
        if self.bridging_day is None:
            return np.zeros(scanned.shape, dtype=bool)
        if self.bridging_above_cells is None:
            return np.ones(scanned.shape, dtype=bool)
        return scanned >= self.bridging_above_cells

    def draw(self, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(wait in days, failed) from (n, 2) uniforms (inverse CDF of the log-normal wait)."""
        u = np.asarray(u, dtype=float)
        z = ndtri(np.clip(u[..., 0], 1e-12, 1 - 1e-12))
        wait = self.median_vein_to_vein_days * np.exp(self.vein_to_vein_sd_log * z)
        return wait, u[..., 1] < self.failure_probability

    def bridging_events(self) -> list:
        if self.bridging_day is None:
            return []
        return [ScaleState(self.bridging_day, {k: self.bridging_surviving_fraction for k in ("Bp", "Bs", "Bn")})]

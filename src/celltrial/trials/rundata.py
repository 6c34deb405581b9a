"""A finished (or reopened) trial run as plain data: what the store returns and the report reads.

Example:
    >>> import numpy as np
    >>> run = RunData("r1", {"seed": 1}, [{"name": "a"}], {"arm": np.array(["a"])}, {}, None)
    >>> run.arm_names()
    ['a']
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: Keys of :attr:`RunData.meta` (all JSON-ready values).
META_KEYS = {
    "scenario_name": "scenario `name`",
    "scenario_title": "scenario `title`",
    "scenario_text": "the scenario file as run (YAML text)",
    "seed": "trial seed",
    "patients_per_arm": "patients per arm per replicate",
    "replicates": "replicate trials",
    "design": '"independent" or "paired"',
    "follow_up_days": "follow-up (days)",
    "package_version": "celltrial version",
    "git_revision": "git revision of the celltrial checkout, or \"\"",
    "model": "model name and structure fingerprint",
    "started": "ISO 8601 UTC start time",
    "finished": "ISO 8601 UTC finish time (\"\" while running or if interrupted)",
    "status": '"running", "finished" or "interrupted"',
    "endpoint_rules": "dict: imaging_detection_cells, lethal_burden_cells, lloq_cells_uL, ctdna_lod_hge_ml, ...",
    "parameter_changes": "list of {arm, parameter, preset_value, value, reason}: values that differ from presets",
    "extrapolation": "list of plain statements of what in this run is extrapolation beyond published data",
    "chunks": "number of chunks written",
    "chunk_size": "patients per chunk (fixes which patients each chunk holds, for --resume)",
    "writer": "host:pid:start of the process writing the run (tells a killed run from a running one)",
    "inputs": "hash of the resolved model, parameter defaults and presets (a resumed run must match it)",
}


@dataclass
class RunData:
    """One run.

    Attributes:
        run_id: identifier in the store.
        meta: see :data:`META_KEYS`.
        arms: one dict per arm: name, product, description, dose (text), regimen (text).
        patients: column name -> (n,) numpy array, columns of :mod:`celltrial.trials.columns`.
        summary: the summary dict (see :func:`celltrial.trials.statistics.summarise`).
        trajectories: long-format thinned trajectories, column -> (m,) array with ``arm``,
            ``replicate``, ``patient``, ``day`` and the quantities of
            :data:`celltrial.trials.columns.TRAJECTORY_QUANTITIES`; None if not stored.
    """

    run_id: str
    meta: dict
    arms: list
    patients: dict
    summary: dict
    trajectories: dict | None = None
    extra: dict = field(default_factory=dict)

    def arm_names(self) -> list:
        return [a["name"] for a in self.arms]

    def arm_patients(self, arm: str) -> dict:
        """Columns of the patients of one arm."""
        mask = np.asarray(self.patients["arm"]) == arm
        return {k: np.asarray(v)[mask] for k, v in self.patients.items()}

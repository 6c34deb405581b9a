"""The parallel-coordinates figure of the Pareto set: axes scaled per variable, objectives turned up-is-better."""

import numpy as np

from celltrial.optimise import Evaluator, StudyFolder, fingerprint, optimise, parse_budget, reevaluate
from celltrial.optimise.coordinates import lines
from celltrial.optimise.figures import pareto_figures

from .synthetic import BOTH, scenario, simulate

ROWS = [{"params": {"policy.every_days": 28.0, "policy.max_doses": 2}, "values": {"cost_per_patient": 5.0,
                                                                                   "pfs_d180": 0.2}},
        {"params": {"policy.every_days": 182.0, "policy.max_doses": 8}, "values": {"cost_per_patient": 9.0,
                                                                                    "pfs_d180": 0.6}}]


def test_minimised_objectives_are_turned_so_that_up_is_better():
    labels, pos, kinds, ticks = lines(ROWS, None, scenario(BOTH).search)
    assert [x.replace("\n", "") for x in labels[:2]] == ["policy.every_days", "policy.max_doses"]
    assert kinds == ["search", "search"]
    assert pos[:, 0].tolist() == [0.0, 1.0]  # every_days: low to high
    assert pos[:, 2].tolist() == [1.0, 0.0]  # cost (minimised): the cheaper policy on top
    assert pos[:, 3].tolist() == [0.0, 1.0]  # pfs (maximised): the longer on top
    assert ticks[2] == ("9", "5")  # the cost axis reads 9 at the bottom, 5 at the top


def test_the_reference_line_reads_the_reference_arm_and_the_fresh_values(tmp_path):
    s = scenario(BOTH)
    ev = Evaluator(s, simulate=simulate)
    result = optimise(ev, StudyFolder(tmp_path, fingerprint(s)), parse_budget("12"))
    honest = reevaluate(ev, result.pareto, patients=16, seed=9)
    reference = s.arms[0].model_dump(mode="json")
    _, pos, kinds, _ = lines(result.pareto, honest, s.search, reference)
    assert kinds[-1] == "reference" and kinds.count("search") == len(result.pareto)
    assert np.all((pos >= 0) & (pos <= 1))
    paths = pareto_figures(result.pareto, honest, None, s, tmp_path)
    assert [p.name for p in paths] == ["parallel_coordinates.png"] and paths[0].stat().st_size > 0

"""`celltrial benefit` on a stored run: table covariates and the re-drawn model properties, as JSON."""

import json
import subprocess
import sys

from celltrial.cli.runs import execute
from celltrial.economics.properties import run_covariates


def test_benefit_reads_a_stored_run(tmp_path, standard):
    store = tmp_path / "runs.duckdb"
    outcome = execute("scenarios/value_redosing.yaml", patients=8, replicates=1, store_path=str(store))
    run = outcome.full_run()
    covariates = run_covariates(run, parameters=True)
    assert {"baseline_burden", "fit_T"} <= set(covariates)
    assert set(run_covariates(run, parameters=False)) < set(covariates)
    proc = subprocess.run([sys.executable, "-m", "celltrial.cli", "benefit", run.run_id, "--out", str(store),
                           "--json"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)

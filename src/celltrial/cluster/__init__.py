"""Scale-out with Dask distributed: chunks of patients as tasks on a local or remote Dask cluster.

``celltrial run SCENARIO --cluster local`` starts a ``LocalCluster`` (one single-threaded worker
process per core by default); ``--cluster tcp://host:8786`` uses a scheduler the user already runs
(Kubernetes, SLURM via dask-jobqueue, a cloud service). A task is one chunk of patients, keyed by
the trial and the chunk; every patient's random streams are keyed by (seed, arm, replicate,
patient), never by worker, so the per-patient table is bit-identical to the in-process run.
Workers return each chunk as Parquet; the client alone writes the results store.

Dask and distributed are dependencies of celltrial (the engine of ``--cluster``).

Example:
    >>> from celltrial.cluster import DaskExecutor                    # doctest: +SKIP
    >>> with DaskExecutor("local", workers=2) as executor:            # doctest: +SKIP
    ...     out = run_trial(scenario, executor=executor)              # doctest: +SKIP
"""

from .executor import DaskExecutor, executor_for

__all__ = ["DaskExecutor", "executor_for"]

"""The REST API (FastAPI): presets, scenario validation, trial runs and forecasts as background jobs.

Thin like the CLI: parse, call the public API, map errors to HTTP statuses (input mistakes 422
with the message naming the field, row or column; a busy or unreadable store 503; our bugs 500).
Long work (a trial run, a forecast) is queued as a job and polled, never done in the request.

Endpoints: ``GET /presets``, ``POST /scenarios/validate``, ``POST /runs`` (202, a job),
``GET /runs``, ``GET /runs/{ref}`` (a stored run's summary), ``POST /forecasts`` (202, a job),
``GET /jobs/{job_id}``; the OpenAPI schema is at ``/openapi.json``. With a token configured,
every request needs ``Authorization: Bearer <token>`` (401 otherwise).

Example:
    >>> app = create_app(store_path="runs.duckdb")          # doctest: +SKIP
    >>> # uvicorn.run(app, host="127.0.0.1", port=8000)      (what `celltrial serve` does)
"""

from __future__ import annotations

import contextlib
import hmac
import tempfile
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from .._version import __version__
from ..errors import CelltrialError, InputError, StoreUnavailableError
from .jobs import Jobs
from .schemas import ForecastRequest, RunRequest, ScenarioText


def _status(exc: CelltrialError) -> int:
    if isinstance(exc, ValueError):
        return 422
    return 503 if isinstance(exc, StoreUnavailableError) else 500


def create_app(*, store_path: str | None = None, token: str | None = None) -> FastAPI:
    """The application; ``store_path``: the results store (default ``celltrial-runs/runs.duckdb``)."""
    from ..store import DEFAULT_STORE

    store = str(store_path or DEFAULT_STORE)
    jobs = Jobs()

    def authorised(authorization: str | None = Header(None)) -> None:
        if token is None:
            return
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), token.encode()):
            raise HTTPException(401, "authorization: send the API token as 'Authorization: Bearer <token>'")

    @contextlib.asynccontextmanager
    async def lifespan(_app):
        yield
        jobs.shutdown()  # queued jobs are dropped; a running one finishes in its thread

    app = FastAPI(title="celltrial", version=__version__, dependencies=[Depends(authorised)], lifespan=lifespan,
                  description="In-silico trials of cell therapies: presets, scenarios, runs and one-patient forecasts.")

    @app.exception_handler(CelltrialError)
    async def _celltrial_error(request: Request, exc: CelltrialError):
        return JSONResponse({"detail": str(exc)}, status_code=_status(exc))

    app.include_router(_reading(store))
    app.include_router(_background(store, jobs))
    app.state.jobs = jobs
    return app


def _reading(store: str) -> APIRouter:
    """Endpoints answered at once: presets, scenario validation, stored runs."""
    router = APIRouter()

    @router.get("/presets")
    def presets() -> dict:
        """Names of the shipped disease and product presets."""
        from ..presets.loader import preset_names

        return {"disease": preset_names("disease"), "product": preset_names("product")}

    @router.post("/scenarios/validate")
    def validate(body: ScenarioText) -> dict:
        """Validate a scenario's YAML: its name and arms, or 422 naming every field in error."""
        from ..scenarios.loader import parse_scenario

        s = parse_scenario(body.text, where="scenario")
        return {"valid": True, "name": s.name, "arms": [a.name for a in s.arms], "follow_up_days": s.follow_up_days}

    @router.get("/runs")
    def runs() -> list:
        """Stored runs, newest first (id, scenario, status, patients, seed)."""
        from ..store import open_store

        with open_store(store) as s:
            return s.list_runs()

    @router.get("/runs/{ref}")
    def run_summary(ref: str) -> dict:
        """The summary of a stored run (``latest``, an id or a unique prefix)."""
        from ..cli.runs import public_summary
        from ..store import open_store

        with open_store(store) as s:
            run = s.load_summary(ref)
        return {"run_id": run.run_id, "status": run.meta["status"], "summary": public_summary(run)}

    return router


def _background(store: str, jobs: Jobs) -> APIRouter:
    """Endpoints that queue a job (a trial run, a forecast) after checking its inputs, and the job poll."""
    router = APIRouter()

    @router.post("/runs", status_code=202)
    def start_run(body: RunRequest) -> dict:
        """Start a trial run in the background (the scenario is validated first); poll ``/jobs/{id}``."""
        from ..scenarios.loader import parse_scenario

        parse_scenario(body.scenario, where="scenario")
        return jobs.submit("run", lambda: _run(body, store)).public()

    @router.post("/forecasts", status_code=202)
    def start_forecast(body: ForecastRequest) -> dict:
        """Forecast one patient in the background (data, presets and actions are checked first)."""
        record, setting, actions = _forecast_inputs(body)
        return jobs.submit("forecast", lambda: _forecast(body, record, setting, actions)).public()

    @router.get("/jobs/{job_id}")
    def job(job_id: str) -> dict:
        """A job's status, and its result (finished) or error (failed); 404 for an unknown id."""
        try:
            return jobs.get(job_id).public()
        except InputError as exc:
            raise HTTPException(404, str(exc)) from None

    return router


def _run(body: RunRequest, store: str) -> dict:
    from ..cli.runs import execute

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "scenario.yaml"
        path.write_text(body.scenario, encoding="utf-8")
        outcome = execute(path, patients=body.patients, replicates=body.replicates, seed=body.seed,
                          store_path=store)
    return {"run_id": outcome.run.run_id, "summary": outcome.public_summary()}


def _forecast_inputs(body: ForecastRequest):
    """(record, prior setting, actions), raising InputError that names ``data`` (not a temp file) and the row."""
    from ..calibration.nonmem import read_nonmem
    from ..forecast import default_actions
    from ..forecast.prior import from_presets

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "data.csv"
        path.write_text(body.data, encoding="utf-8")
        try:
            records = read_nonmem(path, observable=body.observable, require_observations=False)
        except InputError as exc:
            raise InputError(str(exc).replace(str(path), "data")) from None
    ids = [r.id for r in records]
    if body.id not in ids:
        raise InputError(f"id: no patient {body.id!r} in data; IDs: {ids[:20]}")
    setting = from_presets(body.disease, body.product, fit=body.fit, omega=body.omega)
    return records[ids.index(body.id)], setting, body.actions or default_actions(threshold=body.threshold)


def _forecast(body: ForecastRequest, record, setting, actions) -> dict:
    from ..forecast import forecast_patient
    from ..forecast.summary import forecast_dict

    fc = forecast_patient(record, setting.population, actions=actions, horizon=body.horizon, days=tuple(body.days),
                          n_draws=body.draws, sigma=body.sigma, seed=body.seed, endpoints=setting.endpoints,
                          costs=setting.costs, dose_price=setting.dose_price)
    return forecast_dict(fc)

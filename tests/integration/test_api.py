"""The REST API (issue 20): every endpoint through FastAPI's TestClient, and a fuzz of the request bodies.

Skipped when the optional ``api`` extra (FastAPI, httpx) is not installed.
"""

import json
import warnings
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

with warnings.catch_warnings():  # starlette 1.x asks for its own httpx fork; the test client works with httpx
    warnings.filterwarnings("ignore", message=".*httpx.*starlette.testclient.*", category=UserWarning)
    from fastapi.testclient import TestClient  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from celltrial.api import create_app  # noqa: E402

QUICKSTART = Path(__file__).resolve().parents[2] / "scenarios" / "quickstart.yaml"
DATA = ("ID,TIME,DV,OBS,AMT,EVID,MDV,LLOQ,BLQ\n"
        "7,0,.,.,1.6e8,1,1,.,.\n7,7,900,ctdna,.,0,0,0.01,0\n7,14,40,ctdna,.,0,0,0.01,0\n")
FORECAST = {"data": DATA, "id": "7", "disease": "lbcl", "product": "axi-cel-like", "fit": ["B0", "g_T"],
            "draws": 10, "horizon": 20, "days": [10, 20], "actions": [{"name": "wait", "kind": "none"}]}


@pytest.fixture()
def client(tmp_path):
    app = create_app(store_path=str(tmp_path / "runs.duckdb"))
    with TestClient(app) as c:
        yield c


def test_presets_lists_diseases_and_products(client):
    body = client.get("/presets").json()
    assert "lbcl" in body["disease"] and "axi-cel-like" in body["product"]


def test_validate_scenario_accepts_the_quickstart_and_names_bad_fields(client):
    ok = client.post("/scenarios/validate", json={"text": QUICKSTART.read_text()})
    assert ok.status_code == 200 and ok.json()["arms"] == ["axi-cel"]
    bad = client.post("/scenarios/validate", json={"text": QUICKSTART.read_text().replace("follow_up_days: 365",
                                                                                          "follow_up_day: 365")})
    assert bad.status_code == 422 and "follow_up_day" in bad.json()["detail"]
    missing = client.post("/scenarios/validate", json={})
    assert missing.status_code == 422 and "text" in json.dumps(missing.json())


def test_a_token_is_required_when_configured(tmp_path):
    with TestClient(create_app(store_path=str(tmp_path / "r.duckdb"), token="s3cret")) as c:
        assert c.get("/presets").status_code == 401
        assert c.get("/presets", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert c.get("/presets", headers={"Authorization": "Bearer s3cret"}).status_code == 200


def test_forecast_inputs_are_checked_in_the_request_with_row_and_column(client):
    bad = client.post("/forecasts", json={**FORECAST, "data": DATA.replace("7,14,40,ctdna", "7,14,40,ctdma")})
    assert bad.status_code == 422 and "data: row 4, column OBS" in bad.json()["detail"]
    assert client.post("/forecasts", json={**FORECAST, "id": "9"}).status_code == 422
    action = client.post("/forecasts", json={**FORECAST, "actions": [{"name": "x", "kind": "redose", "mg": 3}]})
    assert action.status_code == 422 and "mg" in json.dumps(action.json())
    assert client.get("/jobs/nope").status_code == 404


def test_forecast_runs_as_a_background_job(client, standard):
    job = client.post("/forecasts", json=FORECAST)
    assert job.status_code == 202
    client.app.state.jobs.wait(job.json()["id"], 120.0)
    done = client.get(f"/jobs/{job.json()['id']}").json()
    assert done["status"] == "finished", done
    assert done["result"]["patient"] == "7" and [a["action"] for a in done["result"]["actions"]] == ["wait"]


def test_a_run_started_in_the_background_is_stored_and_summarised(client, standard):
    job = client.post("/runs", json={"scenario": QUICKSTART.read_text(), "patients": 4, "seed": 3})
    assert job.status_code == 202
    client.app.state.jobs.wait(job.json()["id"], 300.0)
    done = client.get(f"/jobs/{job.json()['id']}").json()
    assert done["status"] == "finished", done
    runs = client.get("/runs").json()
    assert [r["run_id"] for r in runs] == [done["result"]["run_id"]]
    summary = client.get("/runs/latest").json()
    assert summary["status"] == "finished" and summary["summary"]["patients_per_arm"] == 4
    assert client.get("/runs/nope").status_code == 422


SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | \
    st.text(max_size=20)
JSONISH = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner,
                                                                                          max_size=4), max_leaves=12)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(path=st.sampled_from(["/scenarios/validate", "/runs", "/forecasts"]),
       body=st.dictionaries(st.sampled_from(["text", "scenario", "data", "id", "disease", "product", "draws",
                                              "actions", "patients", "x"]), JSONISH, max_size=6))
def test_fuzzed_bodies_never_cause_a_server_error(client, path, body):
    response = client.post(path, json=body)
    # 422 names the field; 202 only if the body happened to be valid (a job starts: not awaited here)
    assert response.status_code in (202, 422), (path, body, response.status_code, response.text)

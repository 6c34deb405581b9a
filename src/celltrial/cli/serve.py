"""``celltrial serve``: the REST API on localhost (see :mod:`celltrial.api.app`).

Binds 127.0.0.1 by default. Before exposing it beyond the machine an operator must put it behind
a reverse proxy with TLS and set an API token (``--token-env``, read from the environment, never
from the command line where ``ps`` shows it); the service has no users, quotas or rate limits.

Example:
    $ CELLTRIAL_API_TOKEN=s3cret celltrial serve --port 8000 --store runs.duckdb
    $ curl -H 'Authorization: Bearer s3cret' http://127.0.0.1:8000/presets
"""

from __future__ import annotations

import os

import typer

from ..errors import InputError, MissingDependencyError
from .root import app, guarded


@app.command("serve")
@guarded
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to bind (default: localhost only)."),
    port: int = typer.Option(8000, "--port", min=1, max=65535, help="TCP port."),
    store: str = typer.Option(None, "--store", help="Results store of runs (default: celltrial-runs/runs.duckdb)."),
    token_env: str = typer.Option("CELLTRIAL_API_TOKEN", "--token-env",
                                  help="Environment variable holding the API token (unset: no token required)."),
):
    """Serve the REST API (presets, scenario validation, runs, forecasts) with uvicorn."""
    from ..api import INSTALL, create_app

    token = os.environ.get(token_env) or None
    if host not in ("127.0.0.1", "localhost", "::1") and token is None:
        raise InputError(f"--host {host}: serving beyond localhost needs an API token in ${token_env} (and TLS in "
                         "front of it; see docs/forecast.md)")
    try:
        import uvicorn
    except ImportError:
        raise MissingDependencyError(f"celltrial serve needs uvicorn: {INSTALL}") from None
    uvicorn.run(create_app(store_path=store, token=token), host=host, port=port)

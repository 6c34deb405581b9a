"""The REST API of celltrial (``celltrial serve``): optional, needs the ``api`` extra (FastAPI, uvicorn).

Example:
    >>> from celltrial.api import create_app
    >>> app = create_app(store_path="runs.duckdb")      # doctest: +SKIP
"""

from __future__ import annotations

from ..errors import MissingDependencyError

INSTALL = "pip install 'celltrial[api]'"


def create_app(*, store_path: str | None = None, token: str | None = None):
    """The FastAPI application (see :mod:`celltrial.api.app`); MissingDependencyError without FastAPI."""
    try:
        import fastapi  # noqa: F401
    except ImportError:
        raise MissingDependencyError(f"the REST API needs FastAPI: {INSTALL}") from None
    from .app import create_app as _create

    return _create(store_path=store_path, token=token)


__all__ = ["create_app"]

"""Fixtures of the report tests."""

from __future__ import annotations

import logging

import pytest


@pytest.fixture(autouse=True)
def no_figure_failures(caplog):
    """A figure builder that raises is logged and skipped at run time; in tests it is a failure."""
    yield
    records = caplog.get_records("setup") + caplog.get_records("call")
    errors = [r for r in records if r.name.startswith("celltrial.report") and r.levelno >= logging.ERROR]
    assert not errors, errors[0].getMessage()

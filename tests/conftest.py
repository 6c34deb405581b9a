"""Shared fixtures: compiled test models (compiled once per session) and a fixed seed."""

import numpy as np
import pytest

from celltrial.model import library
from celltrial.solve import compile as compile_model


@pytest.fixture(scope="session")
def cart6():
    return compile_model(library.cart6())


@pytest.fixture(scope="session")
def exponential():
    return compile_model(library.exponential_model())


@pytest.fixture(scope="session")
def logistic():
    return compile_model(library.logistic_model())


@pytest.fixture(scope="session")
def pk1():
    return compile_model(library.one_compartment_model())


@pytest.fixture(scope="session")
def robertson():
    return compile_model(library.robertson_model())


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


@pytest.fixture(scope="session")
def standard():
    """The standard model, compiled once (about 2-4 minutes on a cold kernel cache)."""
    from celltrial.biology import standard_model

    return compile_model(standard_model())

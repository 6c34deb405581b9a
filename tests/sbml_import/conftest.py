"""The ``sbml_suite`` marker (also listed in pyproject.toml), registered here so this folder never depends on it."""


def pytest_configure(config):
    config.addinivalue_line("markers", "sbml_suite: every SBML Test Suite TimeCourse case, opt-in with -m sbml_suite")

"""Scenario files: the versioned YAML schema of a virtual trial, and its loader.

Example:
    >>> from celltrial.scenarios import parse_scenario
    >>> parse_scenario("name: x\\ntitle: X\\ndisease: lbcl\\narms: [{name: a, product: axi-cel-like}]").name
    'x'
"""

from .loader import arm_product as arm_product
from .loader import load_scenario as load_scenario
from .loader import parse_scenario as parse_scenario
from .schema import SCHEMA_VERSION as SCHEMA_VERSION
from .schema import Scenario as Scenario

__all__ = ["SCHEMA_VERSION", "Scenario", "arm_product", "load_scenario", "parse_scenario"]

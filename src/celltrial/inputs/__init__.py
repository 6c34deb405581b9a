"""Input limits and strict values shared by every reader of user files (scenarios, targets, cases, CSV).

A low layer (no celltrial imports beyond :mod:`celltrial.errors`): file size caps and strict
UTF-8 (:mod:`.files`), CSV rows with a cell-length cap (:mod:`.tables`), the limited YAML
loader (:mod:`.yaml_loader`), strict number types (:mod:`.numbers`) and schema error messages
(:mod:`.messages`).

Example:
    >>> from celltrial.errors import InputError
    >>> load_yaml("seed: 7", "demo.yaml", InputError)
    {'seed': 7}
"""

from .files import MAX_CSV_BYTES as MAX_CSV_BYTES
from .files import MAX_YAML_BYTES as MAX_YAML_BYTES
from .files import decode as decode
from .files import read_bytes as read_bytes
from .files import read_text as read_text
from .messages import MAX_ERRORS_SHOWN as MAX_ERRORS_SHOWN
from .messages import format_validation as format_validation
from .numbers import Integer as Integer
from .numbers import Number as Number
from .numbers import coerced_booleans as coerced_booleans
from .tables import MAX_CELL_CHARS as MAX_CELL_CHARS
from .tables import read_rows as read_rows
from .yaml_loader import MAX_INT_DIGITS as MAX_INT_DIGITS
from .yaml_loader import MAX_YAML_DEPTH as MAX_YAML_DEPTH
from .yaml_loader import MAX_YAML_NODES as MAX_YAML_NODES
from .yaml_loader import LimitedLoader as LimitedLoader
from .yaml_loader import load_yaml as load_yaml

"""The one safe YAML loader of every celltrial input file, with limits enforced while it reads.

:class:`LimitedLoader` is a ``yaml.SafeLoader`` (libyaml's scanner when available) whose composer
counts while it builds the document, so a hostile file stops at the limit instead of after
minutes of work: nesting depth (:data:`MAX_YAML_DEPTH`), keys and values in all, aliases
expanded (:data:`MAX_YAML_NODES`), and digits of a number (:data:`MAX_INT_DIGITS`). Keys must
be plain scalars and are kept as written (``on:`` is the key ``'on'``, not ``True``); a key given
twice, a recursive alias or a value that cannot be read are errors with the line and column.

Example:
    >>> from celltrial.errors import InputError
    >>> load_yaml("a: {on: 1}", "demo.yaml", InputError)
    {'a': {'on': 1}}
    >>> load_yaml("a: " + "[" * 100 + "]" * 100, "demo.yaml", InputError)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    celltrial.errors.InputError: demo.yaml: line 1, column 43: a.0.0...: nested more than 40 levels deep; ...
"""

from __future__ import annotations

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, ScalarNode, SequenceNode
from yaml.resolver import Resolver

#: Deepest nesting of lists and mappings; a scenario needs about 12 (nested regimen items).
MAX_YAML_DEPTH = 40
#: Most keys and values in one file, aliases expanded; shipped files hold a few hundred.
MAX_YAML_NODES = 20_000
#: Most digits of an integer (a 64-bit seed has 19); longer numbers are typos or attacks.
MAX_INT_DIGITS = 20
#: Most characters of a decimal number (17 significant digits and an exponent fit easily).
MAX_FLOAT_CHARS = 64

_INT, _FLOAT = "tag:yaml.org,2002:int", "tag:yaml.org,2002:float"

try:  # libyaml scans and parses in C (about 5x faster); the composer below stays in Python
    from yaml.cyaml import CParser

    class _Base(CParser, Composer, SafeConstructor, Resolver):
        def __init__(self, stream):
            CParser.__init__(self, stream)
            Composer.__init__(self)
            SafeConstructor.__init__(self)
            Resolver.__init__(self)

        # CParser composes in C, out of reach of the limits: use the Python composer instead
        check_node, get_node, get_single_node = Composer.check_node, Composer.get_node, Composer.get_single_node
        compose_document = Composer.compose_document
except ImportError:  # pragma: no cover - PyYAML without libyaml
    _Base = yaml.SafeLoader


class LimitError(yaml.MarkedYAMLError):
    """A YAML document exceeds a limit (depth, size, number length) or breaks a rule (key kind)."""


class LimitedLoader(_Base):
    """Safe YAML with limits checked while composing, plain-text keys and no key given twice."""

    def __init__(self, stream):
        super().__init__(stream)
        self._path: list = []  # keys and list indexes down to the node being composed
        self._nodes = 0
        self._deepest = 0
        self._sizes: dict = {}  # anchor -> (nodes, depth) of the node it names, for aliases

    def _fail(self, problem: str, mark, path=None):
        where = _short([str(p) for p in (self._path if path is None else path) if p != ""])
        raise LimitError(None, None, f"{where}: {problem}", mark)

    def _grow(self, nodes: int, depth: int, mark) -> None:
        self._nodes += nodes
        if self._nodes > MAX_YAML_NODES:
            self._fail(f"more than {MAX_YAML_NODES:,} keys and values (aliases expanded); is it the right file?",
                       mark)
        if depth > MAX_YAML_DEPTH:
            self._fail(f"nested more than {MAX_YAML_DEPTH} levels deep; is it the right file?", mark)
        self._deepest = max(self._deepest, depth)

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, AliasEvent):
            if event.anchor in self.anchors and event.anchor not in self._sizes:
                self._fail(f"alias *{event.anchor} refers to a node that contains it", event.start_mark)
            nodes, depth = self._sizes.get(event.anchor, (0, 0))
            self._grow(nodes, len(self._path) + depth, event.start_mark)
            return super().compose_node(parent, index)
        anchor = getattr(event, "anchor", None)
        self._path.append(_label(parent, index))
        outer, before = self._deepest, self._nodes
        self._grow(1, len(self._path), event.start_mark)
        node = super().compose_node(parent, index)
        if anchor is not None:
            self._sizes[anchor] = (self._nodes - before, self._deepest - len(self._path) + 1)
        self._deepest = max(outer, self._deepest)
        if isinstance(parent, MappingNode) and index is None and not isinstance(node, ScalarNode):
            self._fail("a key must be a plain name, not a list or a mapping", node.start_mark, self._path[:-1])
        if isinstance(node, ScalarNode):
            self._check_number(node)
        node.celltrial_path = tuple(p for p in self._path if p != "")  # for construction errors
        self._path.pop()
        return node

    def _check_number(self, node) -> None:
        text = node.value.lstrip("+-")
        if node.tag == _INT and sum(c.isdigit() for c in text) > MAX_INT_DIGITS:
            self._fail(f"a number with {len(text):,} characters is too long (integers have at most "
                       f"{MAX_INT_DIGITS} digits)", node.start_mark)
        if node.tag == _FLOAT and len(text) > MAX_FLOAT_CHARS:
            self._fail(f"a number with {len(text):,} characters is too long (at most {MAX_FLOAT_CHARS})",
                       node.start_mark)

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, f"expected a mapping, found {node.id}", node.start_mark)
        seen = set()
        for key_node, _ in node.value:  # explicit keys only: a merged (<<) key may be overridden
            if isinstance(key_node, ScalarNode) and key_node.tag != "tag:yaml.org,2002:merge":
                if key_node.value in seen:
                    raise ConstructorError(None, None, f"{_where(node)}: field {key_node.value!r} is given twice",
                                           key_node.start_mark)
                seen.add(key_node.value)
        self.flatten_mapping(node)
        mapping = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise ConstructorError(None, None, f"{_where(node)}: a key must be a plain name, not a list or a "
                                       "mapping", key_node.start_mark)
            mapping[key_node.value] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_object(self, node, deep=False):
        try:
            return super().construct_object(node, deep=deep)
        except (ValueError, OverflowError, TypeError) as exc:  # e.g. a date 2024-13-45, !!float 'x'
            raise ConstructorError(None, None, f"{_where(node)}: cannot read this value: {exc}",
                                   node.start_mark) from None


def _where(node) -> str:
    """The dotted path the composer recorded on ``node``."""
    return ".".join(str(p) for p in getattr(node, "celltrial_path", ()) if p != "(key)") or "(top level)"


def _short(parts: list) -> str:
    """A dotted path, shortened when deep: the keys up to the last one, then at most two list indexes."""
    parts = [p for p in parts if p != "(key)"]  # a key being read: its mapping is the place
    keys = [i for i, p in enumerate(parts) if not p.isdigit()]
    head, tail = (parts[:keys[-1] + 1], parts[keys[-1] + 1:]) if keys else ([], parts)
    text = ".".join(head) if len(head) <= 8 else ".".join(head[:3]) + "..." + ".".join(head[-3:])
    text = ".".join([text] * bool(text) + tail) if len(tail) <= 3 else ".".join([text] * bool(text) + tail[:2]) + "..."
    return text or "(top level)"


def _label(parent, index):
    """The path step of a node: its key, its list index, or nothing (a key or the document)."""
    if isinstance(parent, SequenceNode):
        return index
    if isinstance(parent, MappingNode) and isinstance(index, ScalarNode):
        return index.value
    return "(key)" if isinstance(parent, MappingNode) else ""


def load_yaml(text: str, where: str, error: type[Exception]):
    """Parse ``text`` with :class:`LimitedLoader`; ``error`` (naming ``where``, line and column) on failure."""
    try:
        return yaml.load(text, Loader=LimitedLoader)  # noqa: S506 - a SafeLoader
    except LimitError as exc:
        mark = exc.problem_mark
        raise error(f"{where}: line {mark.line + 1}, column {mark.column + 1}: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise error(f"{where}: not valid YAML: {exc}") from None

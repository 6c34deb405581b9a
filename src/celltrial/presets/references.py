"""The bibliography shipped with celltrial, and the works a source string cites.

Source tags (``[R] Kimmel, Locke & Altrock 2021 ... Table 1``, ``[E] science.md 2.3 ...``) are
resolved against ``presets/data/references.yaml``: by the work's key, by its first author near
its year, by the work's own ``match`` patterns, or through the sections of the project's
internal notes (``science.md X.Y``), which users do not have and which :func:`display_source`
rewrites into the citation it stands for. ``[E]`` (estimate) and ``[F]`` (fitted) tags need
no citation; ``[R]`` (read) and ``[K]`` (known) tags should resolve (:func:`needs_citation`).

Example:
    >>> [r.key for r in references_for("[R] Kimmel, Locke & Altrock 2021 Proc R Soc B, Table 1")]
    ['kimmel2021']
    >>> display_source("[E] science.md 4.1 (LBCL sheds more)")
    '[E] Avanzini 2020 (LBCL sheds more)'
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

import yaml

from ..errors import PresetError

#: "science.md 2.3", "science.md sections 1.1, 4.1, 7" (the project's internal notes).
_NOTES = re.compile(r"science\.md(?:\s+sections?|\s+§)?\s+((?:\d+(?:\.\d+)?)(?:\s*(?:,|and)\s*\d+(?:\.\d+)?)*)")
_KEY = re.compile(r"\b([a-z][a-z0-9]*)\b")
_FIELDS = ("short", "authors", "title", "journal", "year", "volume", "issue", "pages", "doi", "note", "match")


@dataclass(frozen=True)
class Reference:
    """One work of the bibliography; fields the compilers could not confirm are None."""

    key: str
    short: str
    authors: str | None = None
    title: str | None = None
    journal: str | None = None
    year: int | None = None
    volume: str | None = None
    issue: str | None = None
    pages: str | None = None
    doi: str | None = None
    note: str | None = None
    match: tuple = ()

    @property
    def doi_url(self) -> str | None:
        return f"https://doi.org/{self.doi}" if self.doi else None

    @property
    def patterns(self) -> tuple:
        """Compiled patterns: the work's own, plus its short name within a few words of its year."""
        own = [re.compile(p) for p in self.match]
        name = re.sub(r"\s*\b\d{4}$", "", self.short)
        if self.year and name != self.short:
            own.append(re.compile(rf"{re.escape(name)}\b[^;()\[\]]{{0,40}}?\b{self.year}\b"))
        return tuple(own)


@dataclass(frozen=True)
class Section:
    """A section of the internal notes: the words shown instead of it and the works it rests on."""

    number: str
    text: str
    works: tuple


@cache
def _data() -> tuple:
    path = resources.files("celltrial.presets").joinpath("data", "references.yaml")
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    works = {}
    for key, entry in raw["works"].items():
        unknown = sorted(set(entry) - set(_FIELDS))
        if unknown or "short" not in entry:
            raise PresetError(f"references.yaml: work {key!r} has unknown fields {unknown} or no `short`")
        works[key] = Reference(key=key, **{**entry, "match": tuple(entry.get("match") or ())})
    sections = {}
    for number, entry in raw["sections"].items():
        missing = [w for w in entry["works"] if w not in works]
        if missing:
            raise PresetError(f"references.yaml: section {number} cites unknown works {missing}")
        sections[str(number)] = Section(str(number), entry["text"], tuple(entry["works"]))
    return works, sections


def bibliography() -> dict:
    """Every work, ``{key: Reference}``, sorted by key.

    Example:
        >>> bibliography()["stein2019"].doi
        '10.1002/psp4.12388'
    """
    return dict(sorted(_data()[0].items()))


def note_sections() -> dict:
    """The internal-notes sections that sources cite, ``{"2.3": Section}``."""
    return dict(_data()[1])


def _cited_sections(text: str) -> list:
    numbers = []
    for m in _NOTES.finditer(text):
        numbers += re.findall(r"\d+(?:\.\d+)?", m.group(1))
    return numbers


def references_for(source_text: str) -> list:
    """The works ``source_text`` cites, in the order they first appear (each once).

    Example:
        >>> [r.short for r in references_for("[R] Kimmel 2021 (b); lung value: science.md 4.1")]
        ['Kimmel 2021', 'Avanzini 2020']
    """
    text = str(source_text or "")
    works, sections = _data()
    found = {}  # key -> position of the first mention
    for m in _KEY.finditer(text):
        if m.group(1) in works:
            found.setdefault(m.group(1), m.start())
    for ref in works.values():
        hits = [m.start() for p in ref.patterns for m in p.finditer(text)]
        if hits:
            found[ref.key] = min(hits + [found.get(ref.key, len(text))])
    for m in _NOTES.finditer(text):  # a section's works in the order the sections are listed
        keys = [k for n in re.findall(r"\d+(?:\.\d+)?", m.group(1)) for k in getattr(sections.get(n), "works", ())]
        for order, key in enumerate(keys):
            found.setdefault(key, m.start() + order / (len(keys) + 1.0))
    return [works[k] for k, _ in sorted(found.items(), key=lambda kv: kv[1])]


def unknown_sections(source_text: str) -> list:
    """Internal-notes sections cited in ``source_text`` that the bibliography does not map."""
    return [n for n in _cited_sections(str(source_text or "")) if n not in _data()[1]]


def display_source(source_text: str) -> str:
    """``source_text`` with every internal-notes mention replaced by what it stands for.

    Example:
        >>> display_source("[E] science.md 2.3: no model")
        '[E] host-versus-graft estimate: no model'
        >>> display_source("science.md sections 1.1, 4.1")
        'Kimmel 2021; Avanzini 2020'
    """
    sections = _data()[1]
    text = str(source_text or "")
    if _NOTES.fullmatch(text.strip()):  # a bare "science.md sections 3.1, 8.2": name the works themselves
        shorts = dict.fromkeys(r.short for r in references_for(text))
        if shorts:
            return "; ".join(shorts)

    def replace(m):
        numbers = re.findall(r"\d+(?:\.\d+)?", m.group(1))
        return "; ".join(sections[n].text if n in sections else "internal notes" for n in numbers)

    return _NOTES.sub(replace, text)


def needs_citation(source_text: str) -> bool:
    """True for a source that claims a read or known fact ([R] or [K]); [E]/[F]/[X] alone need none."""
    return "[R]" in source_text or "[K]" in source_text


def format_reference(ref: Reference, *, markdown: bool = False) -> str:
    """A full citation: authors. Title. Journal year;volume(issue):pages. doi (or 'DOI not found').

    Example:
        >>> format_reference(bibliography()["kimmel2021"]).split(". ")[0]
        'Kimmel GJ, Locke FL, Altrock PM'
    """
    where = " ".join(x for x in (ref.journal, str(ref.year) if ref.year else None) if x)
    if ref.volume:
        where += f";{ref.volume}" + (f"({ref.issue})" if ref.issue else "")
    if ref.pages:
        where += f":{ref.pages}"
    title = f"*{ref.title}*" if markdown and ref.title else ref.title
    parts = [ref.authors or "authors not found", title or "title not found", where or None]
    if ref.doi:
        parts.append(f"[doi:{ref.doi}]({ref.doi_url})" if markdown else f"doi:{ref.doi}")
    else:
        parts.append("DOI not found")
    text = ""
    for part in (p.rstrip(".") for p in parts if p):  # a title may end in "?": no full stop after it
        text += part if not text else (" " if text.endswith(("?", "!", "?*")) else ". ") + part
    return text + "." + (f" Note: {ref.note}." if ref.note else "")


def preset_sources(preset) -> list:
    """Every source text of a preset: its ``sources`` list, then each parameter's source."""
    return list(preset.sources) + [v.source for v in preset.parameters.values()]


def lines_for_preset(preset) -> list:
    """One line per work a preset cites ('Kimmel 2021: Kimmel GJ, ... doi:...'), for ``celltrial presets NAME``.

    Example:
        >>> from celltrial.presets import load_disease
        >>> lines_for_preset(load_disease("lbcl"))[0].startswith("Kimmel 2021: Kimmel GJ")
        True
    """
    seen = {}
    for text in preset_sources(preset):
        for ref in references_for(text):
            seen.setdefault(ref.key, ref)
    return [f"{ref.short}: {format_reference(ref)}" for ref in seen.values()]


def short_links(source_text: str, base: str | None = None) -> str:
    """'Kimmel 2021, Stein 2019' (markdown links to ``base#key`` when ``base`` is given) or ''.

    Example:
        >>> short_links("Kimmel 2021", "references.md")
        '[Kimmel 2021](references.md#kimmel2021)'
    """
    refs = references_for(source_text)
    return ", ".join(f"[{r.short}]({base}#{r.key})" if base else r.short for r in refs)

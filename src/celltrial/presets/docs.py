"""Preset documentation generated from the preset files (never hand-written).

Used by ``docs/generate.py`` (``docs/presets.md``) and by ``celltrial presets``: one lookup
across diseases and products, a summary row per preset, and the full detail of one preset
with every model parameter it sets (value, unit and default from the model declaration, and
its source).

Example:
    >>> [row["name"] for row in preset_rows("disease")]
    ['b-all', 'lbcl', 'ovarian']
    >>> find_preset("lbcl").kind
    'disease'
"""

from __future__ import annotations

from ..biology import standard_model
from ..errors import PresetError, did_you_mean
from ..fmt import fmt_sig
from .loader import load_disease, load_product, preset_names
from .references import format_reference, lines_for_preset, references_for, short_links
from .schema import FIELD_PARAMETERS

CATEGORIES = ("disease", "product")


def _check_category(kind):
    if kind is not None and kind not in CATEGORIES:
        raise PresetError(f"preset kind must be one of {list(CATEGORIES)}, got {kind!r}"
                          f"{did_you_mean(kind, CATEGORIES)}")


def all_preset_names(kind: str | None = None) -> list:
    """``[(category, name), ...]``: diseases then products, each sorted; ``kind`` restricts the category."""
    _check_category(kind)
    return [(c, n) for c in CATEGORIES if kind in (None, c) for n in preset_names(c)]


def find_preset(name: str, kind: str | None = None):
    """The disease or product preset called ``name``; unknown names raise PresetError with a "did you mean"."""
    names = all_preset_names(kind)
    for category, candidate in names:
        if candidate == name:
            return load_disease(name) if category == "disease" else load_product(name)
    known = [n for _, n in names]
    what = f"{kind} preset" if kind else "preset"
    raise PresetError(f"no {what} named {name!r}{did_you_mean(name, known)}; available: {', '.join(known)}")


def preset_rows(kind: str | None = None) -> list:
    """One summary dict per shipped preset: name, kind (disease / t_cell / nk_cell), title, sources (count)."""
    rows = []
    for _, name in all_preset_names(kind):
        p = find_preset(name, kind)
        rows.append({"name": p.name, "kind": p.kind, "title": p.title, "sources": len(p.sources)})
    return rows


def preset_parameters(preset) -> list:
    """Every model parameter the preset sets: name, value, default, unit (from the model), source and references.

    ``references`` holds the short names of the works the source cites (see :mod:`.references`).
    """
    declared = {p.name: p for p in standard_model().parameters}
    derived = FIELD_PARAMETERS.get(preset.kind, {})
    rows = []
    for name, value in preset.to_parameters().items():
        if name in preset.parameters:
            source = preset.parameters[name].source
        else:
            source = f"from the product's `{derived[name]}`"
        p = declared[name]
        rows.append({"name": name, "value": value, "default": p.value, "unit": p.unit, "source": source,
                     "references": [r.short for r in references_for(source)]})
    return rows


def dose_amount(dose) -> str:
    """How much is given, numbers as the report writes them (stored with each run as the arm's dose).

    Example:
        >>> from celltrial.presets.schema import Dose
        >>> dose_amount(Dose(per_kg=2e6, max_cells=2e8)), dose_amount(Dose(cells=1.5e8))
        ('2×10⁶ cells/kg (max 2×10⁸)', '1.5×10⁸ cells')
    """
    amount = f"{fmt_sig(dose.cells)} cells" if dose.cells is not None else f"{fmt_sig(dose.per_kg)} cells/kg"
    return amount + (f" (max {fmt_sig(dose.max_cells)})" if dose.max_cells else "")


def describe_dose(dose) -> str:
    """A dose in words, e.g. ``3.1×10⁶ cells/kg (max 2.5×10⁸), counting CAR+ cells``."""
    counts = "CAR+ cells" if dose.counts == "car_positive" else "all cells"
    return f"{dose_amount(dose)}, counting {counts}"


def preset_detail(preset) -> dict:
    """The whole preset as JSON-able data, plus ``parameters_set`` and the full ``references`` it cites."""
    data = preset.model_dump(mode="json")
    data["parameters_set"] = preset_parameters(preset)
    data["references"] = lines_for_preset(preset)
    if preset.kind != "disease":
        data["dose_text"] = describe_dose(preset.dose)
        data["edits_on"] = [k for k, v in preset.edits.model_dump().items() if v]
    return data


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def product_facts(preset) -> list:
    """``[(label, text), ...]`` of a product's dose, composition, edits, allogeneic and lymphodepletion."""
    if preset.kind == "disease":
        return [("typical weight", f"{preset.weight_kg:g} kg")]
    facts = [("cell type", "T cells" if preset.kind == "t_cell" else "NK cells"),
             ("allogeneic", "yes" if preset.allogeneic else "no (autologous)"),
             ("dose", describe_dose(preset.dose))]
    if preset.car_fraction != 1.0:
        facts.append(("CAR+ fraction", f"{preset.car_fraction:g}"))
    if preset.composition:
        facts.append(("composition", ", ".join(f"{k} {v:g}" for k, v in preset.composition.items())))
    if preset.kind == "nk_cell":
        facts.append(("memory-like fraction", f"{preset.memory_like_fraction:g}"))
    edits = [k for k, v in preset.edits.model_dump().items() if v]
    facts.append(("edits", ", ".join(edits) or "none"))
    facts.append(("lymphodepletion", "yes" if preset.lymphodepletion else "no"))
    return facts


def preset_markdown(preset, level: int = 2) -> str:
    """One preset as markdown (heading at ``level``)."""
    h = "#" * level
    parts = [f'<a id="{preset.name}"></a>\n\n{h} `{preset.name}` ({preset.kind}): {_cell(preset.title)}',
             _cell(preset.description)]
    parts.append("\n".join(f"- **{label}**: {_cell(text)}" for label, text in product_facts(preset)))
    if preset.extrapolation:
        parts.append(f"**Extrapolation:** {_cell(preset.extrapolation)}")
    parts += [f"{h}# Sources", "\n".join(f"- {_cell(s)}" for s in preset.sources)]
    cited = {r.key: r for text in [*preset.sources, *(v.source for v in preset.parameters.values())]
             for r in references_for(text)}
    if cited:
        parts += [f"{h}# References", "\n".join(f"- [{r.short}](references.md#{r.key}): {_cell(format_reference(r))}"
                                                for r in cited.values())]
    rows = ["| parameter | value | model default | unit | source | references |", "|---|---|---|---|---|---|"]
    rows += [f"| `{r['name']}` | {r['value']:g} | {r['default']:g} | {_cell(r['unit'])} | {_cell(r['source'])} | "
             f"{short_links(r['source'], 'references.md')} |" for r in preset_parameters(preset)]
    parts += [f"{h}# Parameters set", "\n".join(rows)]
    if preset.variability:
        rows = ["| parameter | log-normal SD |", "|---|---|"]
        rows += [f"| `{k}` | {v:g} |" for k, v in preset.variability.items()]
        parts += [f"{h}# Between-patient variability", "\n".join(rows)]
    if preset.calibration:
        c = preset.calibration
        lines = [f"- command: `{c.command}`"]
        lines += [f"- target {k}: {_cell(v)}" for k, v in c.targets.items()]
        lines += [f"- achieved {k}: {_cell(v)}" for k, v in c.achieved.items()]
        lines.append(f"- moved: {', '.join(f'`{m}`' for m in c.moved)}")
        parts += [f"{h}# Calibration", "\n".join(lines)]
    return "\n\n".join(parts)


def presets_markdown() -> str:
    """The docs page of every shipped preset: an index table, then each preset in full."""
    rows = ["| preset | kind | title | sources |", "|---|---|---|---|"]
    rows += [f"| [`{r['name']}`](#{r['name']}) | {r['kind']} | {_cell(r['title'])} | {r['sources']} |"
             for r in preset_rows()]
    parts = ["# Presets",
             "Disease and product presets shipped with celltrial (`src/celltrial/presets/data/`), generated from "
             "the preset files by `python docs/generate.py`. Units and defaults come from the standard model "
             "([models/standard.md](models/standard.md)). Source tags: [R] read in the source, [K] known "
             "(textbook or widely quoted), [E] our estimate or a structural choice, [X] reconstructed, "
             "[F] fitted by a script in this repository. The works cited are listed in full, with DOIs, in "
             "[references.md](references.md).",
             "\n".join(rows)]
    for category, name in all_preset_names():
        parts.append(preset_markdown(find_preset(name, category)))
    return "\n\n".join(parts) + "\n"


def _citations() -> dict:
    """``{work key: ["parameter `K_N`", "preset `lbcl`", "calibration `zuma1`", ...]}``: who cites each work."""
    from ..calibration.cases import case_names, load_case

    found: dict = {}

    def add(texts, label):
        for text in texts:
            for ref in references_for(text):
                if label not in found.setdefault(ref.key, []):
                    found[ref.key].append(label)

    for p in standard_model().parameters:
        add([p.source], f"parameter `{p.name}`")
    for category, name in all_preset_names():
        preset = find_preset(name, category)
        add([*preset.sources, *(v.source for v in preset.parameters.values())], f"preset [`{name}`](presets.md#{name})")
    for name in case_names():
        targets = load_case(name).targets
        add([*targets.sources, *(t.source for t in targets.targets)], f"calibration `{name}`")
    return found


def references_markdown() -> str:
    """The docs page of the bibliography (``docs/references.md``): each work in full, its DOI and who cites it."""
    from .references import bibliography

    cited = _citations()
    parts = ["# References",
             "Every work cited by a source tag of the standard model's parameters ([models/standard.md]"
             "(models/standard.md)), the presets ([presets.md](presets.md)) and the calibration targets, generated "
             "from `src/celltrial/presets/data/references.yaml` by `python docs/generate.py`. \"DOI not found\" "
             "means no DOI could be confirmed when the list was compiled; nothing here was guessed. Values tagged "
             "[E] (our estimate) or [F] (fitted by a script in this repository) need no citation."]
    for key, ref in bibliography().items():
        users = cited.get(key, [])
        entry = f'<a id="{key}"></a>**{ref.short}**. {format_reference(ref, markdown=True)}'
        parts.append(entry + (f" Cited by: {', '.join(users)}." if users else ""))
    return "\n\n".join(parts) + "\n"

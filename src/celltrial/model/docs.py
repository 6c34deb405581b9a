"""Documentation generated from a model declaration (never hand-written).

Every function takes an optional ``module`` name that restricts the output to what that
module declares (its states, parameters, observables and the rates that change its states).

Equations: small models (at most :data:`SIMPLIFY_MAX_STATES` states) get one simplified LaTeX
line per state. ``sympy.simplify`` of a large model with nested observables takes minutes per
state, so large models list each right-hand side as a sum of signed rate terms instead
(``dX/dt = + rate_a - rate_b ...``), still derived from the stoichiometry; the rate table
gives each rate's expression.

Example:
    >>> from celltrial.model.library import exponential_model
    >>> print(model_markdown(exponential_model()).splitlines()[0])
    # Model `exponential`
    >>> rate_form_lines(exponential_model())
    ['dx/dt  = + net_growth']
"""

from __future__ import annotations

import re

import sympy as sp

from ..errors import InputError, did_you_mean

SIMPLIFY_MAX_STATES = 8
#: Where generated model pages (docs/models/) link the works a parameter source cites.
REFERENCES = "../references.md"
EQUATION_FORMS = ("auto", "simplified", "rates")
_SIMPLE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*|[0-9.]+(e[-+]?[0-9]+)?)$")


def _cell(text) -> str:
    return str(text).replace("|", "\\|")


def check_module(model, module: str | None) -> None:
    """Raise :class:`InputError` (with a "did you mean") unless ``module`` is None or a module of ``model``."""
    names = [m.name for m in model.modules]
    if module is not None and module not in names:
        raise InputError(f"model {model.name!r} has no module {module!r}{did_you_mean(module, names)}; "
                         f"modules: {', '.join(names)}")


def _owned(model, items, module):
    check_module(model, module)
    return [x for x in items if module is None or model.owner[x.name] == module]


def module_states(model, module: str | None = None) -> list:
    """States declared by ``module`` (all states when None), in declaration order."""
    return _owned(model, model.states, module)


def module_parameters(model, module: str | None = None) -> list:
    """Parameters declared by ``module`` (all when None), in declaration order."""
    return _owned(model, model.parameters, module)


def module_observables(model, module: str | None = None) -> list:
    """Observables declared by ``module`` (all when None), in declaration order."""
    return _owned(model, model.observables, module)


def module_rates(model, module: str | None = None) -> list:
    """Rates that change a state of ``module`` or are declared by it (all when None)."""
    check_module(model, module)
    if module is None:
        return list(model.rates)
    states = {s.name for s in module_states(model, module)}
    return [r for r in model.rates if model.owner[r.name] == module or states & set(r.stoichiometry)]


def parameter_table(model, module: str | None = None, references: str | None = REFERENCES) -> str:
    """Markdown table: name, default, unit, bounds, description, source, references, module.

    The source is shown as users read it (internal-notes mentions replaced by what they stand for)
    and ``references`` names the works it cites, linked to ``references`` (a path to the
    bibliography page; None for plain names). See :mod:`celltrial.presets.references`.
    """
    from ..presets.references import display_source, short_links  # presets import the model: import late

    rows = ["| parameter | default | unit | bounds | description | source | references | module |",
            "|---|---|---|---|---|---|---|---|"]
    for p in module_parameters(model, module):
        rows.append(
            f"| `{p.name}` | {p.value:g} | {_cell(p.unit)} | [{p.bounds[0]:g}, {p.bounds[1]:g}] | "
            f"{_cell(p.description)} | {_cell(display_source(p.source))} | {short_links(p.source, references)} | "
            f"{model.owner[p.name]} |"
        )
    return "\n".join(rows)


def model_counts(model) -> dict:
    """Counts quoted in prose docs, from the declaration: states, parameters, modules, rates, observables.

    Example:
        >>> from celltrial.model.library import exponential_model
        >>> model_counts(exponential_model())["states"]
        1
    """
    return {"states": len(model.states), "parameters": len(model.parameters), "modules": len(model.modules),
            "rates": len(model.rates), "observables": len(model.observables)}


_GENERATED = re.compile(r"<!-- generated: ([a-z_ ]+) -->(.*?)<!-- /generated -->", re.S)


def fill_generated(text: str, values: dict) -> str:
    """Rewrite every ``<!-- generated: NAME -->...<!-- /generated -->`` span of a hand-written page.

    NAME is a key of ``values`` (e.g. from :func:`model_counts`); an unknown NAME is an error, so a
    number in prose cannot silently go stale.

    Example:
        >>> fill_generated("has <!-- generated: states -->3<!-- /generated --> states", {"states": 24})
        'has <!-- generated: states -->24<!-- /generated --> states'
    """
    def replace(m):
        name = m.group(1).strip()
        if name not in values:
            raise InputError(f"generated span {name!r} has no value; known: {', '.join(sorted(values))}")
        return f"<!-- generated: {name} -->{values[name]}<!-- /generated -->"

    return _GENERATED.sub(replace, text)


def state_table(model, module: str | None = None) -> str:
    rows = ["| state | unit | initial | atol | description |", "|---|---|---|---|---|"]
    for s in module_states(model, module):
        rows.append(f"| `{s.name}` | {_cell(s.unit)} | `{s.initial}` | {s.atol:g} | {_cell(s.description)} |")
    return "\n".join(rows)


def module_table(model) -> str:
    """Markdown table of the modules: name, description, the states they declare."""
    rows = ["| module | description | states |", "|---|---|---|"]
    for m in model.modules:
        states = ", ".join(f"`{s.name}`" for s in m.states) or "(none)"
        rows.append(f"| {m.name} | {_cell(m.description)} | {states} |")
    return "\n".join(rows)


def observable_table(model, module: str | None = None) -> str:
    rows = ["| observable | expression | unit | kind | description |", "|---|---|---|---|---|"]
    for o in module_observables(model, module):
        note = f" ({o.note})" if o.note else ""
        rows.append(
            f"| `{o.name}` | `{o.expression}` | {_cell(o.unit)} | {o.kind} | {_cell(o.description)}{note} |"
        )
    return "\n".join(rows)


def _signed_term(coef, rate: str) -> str:
    """``+ rate``, ``- 2*rate`` or ``+ (expr)*rate`` for a stoichiometric coefficient."""
    if isinstance(coef, str):
        return f"+ {coef}*{rate}" if _SIMPLE.match(coef.strip()) else f"+ ({coef})*{rate}"
    sign = "-" if coef < 0 else "+"
    size = abs(coef)
    return f"{sign} {rate}" if size == 1 else f"{sign} {size:g}*{rate}"


def rhs_terms(model, module: str | None = None) -> dict:
    """``{state: [signed rate term, ...]}`` from the stoichiometry, rates in declaration order."""
    states = [s.name for s in module_states(model, module)]
    terms = {name: [] for name in states}
    for r in model.rates:
        for state, coef in r.stoichiometry.items():
            if state in terms:
                terms[state].append(_signed_term(coef, r.name))
    return terms


def rate_form_lines(model, module: str | None = None) -> list:
    """One plain-text line per state: ``dX/dt = + rate_a - rate_b ...`` (``0`` when no rate acts).

    The ``=`` signs are aligned.
    """
    terms = rhs_terms(model, module)
    width = max((len(name) for name in terms), default=0) + 5
    return [f"{f'd{state}/dt':<{width}} = {' '.join(t) or '0'}" for state, t in terms.items()]


def equations(model, module: str | None = None, form: str = "auto") -> str:
    """The right-hand side per state, derived from the rate terms.

    ``form="simplified"``: one LaTeX line per state with the observables substituted and
    ``sympy.simplify`` applied; ``"rates"``: a code block of signed rate terms per state;
    ``"auto"`` (default): simplified for models of at most :data:`SIMPLIFY_MAX_STATES` states.
    """
    if form not in EQUATION_FORMS:
        raise InputError(f"equation form must be one of {EQUATION_FORMS}, got {form!r}"
                         f"{did_you_mean(form, EQUATION_FORMS)}")
    if form == "auto":
        form = "simplified" if len(model.states) <= SIMPLIFY_MAX_STATES else "rates"
    if form == "rates":
        lines = rate_form_lines(model, module)
        return "```text\n" + "\n".join(lines) + "\n```" if lines else ""
    sym = model.symbolic
    wanted = {s.name for s in module_states(model, module)}
    lines = []
    for s, rhs in zip(sym.state_symbols, sym.rhs, strict=True):
        if s.name in wanted:
            lines.append(f"$$\\frac{{d{sp.latex(s)}}}{{dt}} = {sp.latex(sp.simplify(rhs))}$$")
    return "\n\n".join(lines)


def rate_effect(rate) -> str:
    """The stoichiometry as text, e.g. ``I_T: -1, S: +(f_S)``."""
    return ", ".join(f"{k}: {v:+g}" if not isinstance(v, str) else f"{k}: +({v})"
                     for k, v in rate.stoichiometry.items())


def rate_table(model, module: str | None = None) -> str:
    rows = ["| rate | expression (per day) | effect on states |", "|---|---|---|"]
    for r in module_rates(model, module):
        rows.append(f"| `{r.name}` | `{r.expression}` | {rate_effect(r)} |")
    return "\n".join(rows)


def model_markdown(model, module: str | None = None) -> str:
    """A full docs page: description, modules, states, parameters, observables, rates and equations.

    With ``module``, the page covers that module only (its states, parameters, observables
    and the rates acting on its states).
    """
    check_module(model, module)
    if module is None:
        parts = [f"# Model `{model.name}`", model.description or ""]
        if len(model.modules) > 1:
            parts += ["## Modules", module_table(model)]
    else:
        description = next(m.description for m in model.modules if m.name == module)
        parts = [f"# Model `{model.name}`, module `{module}`", description]
    if module_states(model, module):
        parts += ["## States", state_table(model, module)]
    if module_parameters(model, module):
        parts += ["## Parameters", parameter_table(model, module)]
    if module_observables(model, module):
        parts += ["## Observables", observable_table(model, module)]
    if module_rates(model, module):
        parts += ["## Rate terms", rate_table(model, module)]
    eqs = equations(model, module)
    if eqs:
        heading = "## Equations (derived)"
        if len(model.states) > SIMPLIFY_MAX_STATES:
            heading += ("\n\nEach right-hand side is the sum of the rate terms above times their stoichiometric "
                        "coefficients (observables are defined in the observables table).")
        parts += [heading, eqs]
    return "\n\n".join(p for p in parts if p) + "\n"

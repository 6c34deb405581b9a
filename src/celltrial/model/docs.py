"""Documentation generated from a model declaration (never hand-written).

Example:
    >>> from celltrial.model.library import exponential_model
    >>> print(model_markdown(exponential_model()).splitlines()[0])
    # Model `exponential`
"""

from __future__ import annotations

import sympy as sp


def _cell(text) -> str:
    return str(text).replace("|", "\\|")


def parameter_table(model) -> str:
    """Markdown table: name, default, unit, bounds, description, source, module."""
    rows = ["| parameter | default | unit | bounds | description | source | module |", "|---|---|---|---|---|---|---|"]
    for p in model.parameters:
        rows.append(
            f"| `{p.name}` | {p.value:g} | {_cell(p.unit)} | [{p.bounds[0]:g}, {p.bounds[1]:g}] | "
            f"{_cell(p.description)} | {_cell(p.source)} | {model.owner[p.name]} |"
        )
    return "\n".join(rows)


def state_table(model) -> str:
    rows = ["| state | unit | initial | atol | description |", "|---|---|---|---|---|"]
    for s in model.states:
        rows.append(f"| `{s.name}` | {_cell(s.unit)} | `{s.initial}` | {s.atol:g} | {_cell(s.description)} |")
    return "\n".join(rows)


def observable_table(model) -> str:
    rows = ["| observable | expression | unit | kind | description |", "|---|---|---|---|---|"]
    for o in model.observables:
        note = f" ({o.note})" if o.note else ""
        rows.append(
            f"| `{o.name}` | `{o.expression}` | {_cell(o.unit)} | {o.kind} | {_cell(o.description)}{note} |"
        )
    return "\n".join(rows)


def equations(model) -> str:
    """The right-hand side, one LaTeX line per state, as derived from the rate terms."""
    sym = model.symbolic
    lines = []
    for s, rhs in zip(sym.state_symbols, sym.rhs, strict=True):
        lines.append(f"$$\\frac{{d{sp.latex(s)}}}{{dt}} = {sp.latex(sp.simplify(rhs))}$$")
    return "\n\n".join(lines)


def rate_table(model) -> str:
    rows = ["| rate | expression (per day) | effect on states |", "|---|---|---|"]
    for r in model.rates:
        effect = ", ".join(f"{k}: {v:+g}" if not isinstance(v, str) else f"{k}: +({v})"
                           for k, v in r.stoichiometry.items())
        rows.append(f"| `{r.name}` | `{r.expression}` | {effect} |")
    return "\n".join(rows)


def model_markdown(model) -> str:
    """A full docs page: description, states, parameters, observables, rates and equations."""
    parts = [f"# Model `{model.name}`", model.description or "", "## States", state_table(model),
             "## Parameters", parameter_table(model)]
    if model.observables:
        parts += ["## Observables", observable_table(model)]
    parts += ["## Rate terms", rate_table(model), "## Equations (derived)", equations(model)]
    return "\n\n".join(p for p in parts if p) + "\n"

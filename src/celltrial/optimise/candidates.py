"""Candidates: the decision variables written into the searched arm, and the search block checked against it.

A candidate is the scenario with each variable's value set at its path in the searched arm and
the whole scenario validated again (:func:`celltrial.scenarios.loader.scenario_from`), so a value
the schema refuses (a zero interval, a spaced-out interval shorter than the regular one) is a
field error, never a silently clamped trial. :func:`check_search` names every problem by its field
in the ``search`` block: an unknown path, an objective or constraint that is not a summary column,
a constraint no policy can meet, a range end the arm refuses.

Example:
    >>> from celltrial.scenarios import parse_scenario
    >>> s = parse_scenario("name: d\\ntitle: D\\ndisease: lbcl\\narms: [{name: a, product: ft596-like, "
    ...                    "policy: {kind: maintenance, every_days: 91}}]\\nsearch: {variables: "
    ...                    "[{path: policy.every_days, low: 28, high: 182}], objectives: [{maximise: pfs_d180}]}")
    >>> apply(s, 0, {"policy.every_days": 56.0}).arms[0].policy.every_days
    56.0
"""

from __future__ import annotations

from ..errors import ScenarioError, did_you_mean
from .metrics import metric, metric_names


def arm_index(scenario) -> int:
    """Index of the searched arm (``search.arm``, default the first)."""
    name = scenario.search.arm
    names = [a.name for a in scenario.arms]
    if name is None:
        return 0
    if name not in names:
        raise ScenarioError(f"search.arm: no arm named {name!r}{did_you_mean(name, names)}; arms: {names}")
    return names.index(name)


def reference_index(scenario) -> int:
    """Index of the reference arm the Pareto policies are compared with (``endpoints.reference_arm``)."""
    names = [a.name for a in scenario.arms]
    ref = scenario.endpoints.reference_arm
    return names.index(ref) if ref in names else 0


def _key(node, part: str):
    return int(part) if isinstance(node, list) and part.lstrip("-").isdigit() else part


def path_problem(arm: dict, path: str) -> str | None:
    """Why ``path`` does not lead to a value of the arm (as dumped), or None when it does."""
    node, walked = arm, []
    for part in path.split("."):
        if node is None:
            return f"{'.'.join(walked)} is not set in this arm (null): give it in the arm first, then search it"
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                return f"{'.'.join(walked)} is a list of {len(node)}: {part!r} is not a position in it (0-based)"
        elif isinstance(node, dict):
            if part not in node:
                return f"{part!r} is not a field of {'.'.join(walked) or 'the arm'}{did_you_mean(part, node)}; " \
                       f"fields there: {', '.join(node)}"
        else:
            return f"{'.'.join(walked)} is a value ({node!r}), not a group of fields"
        walked.append(part)
        node = node[_key(node, part)]
    if isinstance(node, (dict, list)):
        return f"{path} is a group of fields, not a value: name one of its fields"
    return None


def read_path(arm: dict, path: str):
    """The value at a dotted path of an arm as dumped (None when the path leads nowhere)."""
    node = arm
    for part in path.split("."):
        if isinstance(node, list):
            node = node[int(part)] if part.isdigit() and int(part) < len(node) else None
        else:
            node = node.get(part) if isinstance(node, dict) else None
        if node is None:
            return None
    return node


def _set(node, parts: list, value):
    for part in parts[:-1]:
        node = node[_key(node, part)]
    node[_key(node, parts[-1])] = value


def apply(scenario, arm: int, values: dict):
    """The scenario with ``values`` (path -> value) written into arm ``arm``, validated again, search removed.

    Raises ScenarioError (every problem named by its field) when the candidate is not a valid scenario.
    """
    from ..scenarios.loader import scenario_from  # the loader imports the schema, which imports this package

    data = scenario.model_dump(mode="json", exclude={"search"})
    for path, value in values.items():
        _set(data["arms"][arm], path.split("."), value)
    return scenario_from(data, where="candidate")


def _variable_problems(scenario, arm: int) -> list:
    problems, dumped = [], scenario.arms[arm].model_dump(mode="json")
    for i, v in enumerate(scenario.search.variables):
        where = f"search.variables.{i}"
        why = path_problem(dumped, v.path)
        if why is not None:
            problems.append(f"{where}.path: unknown path {v.path!r} in arm {scenario.arms[arm].name!r}: {why}")
            continue
        ends = [("choices", c) for c in v.choices] if v.choices is not None else [("low", v.low), ("high", v.high)]
        for field, value in ends:
            value = int(value) if v.integer else value
            try:
                apply(scenario, arm, {v.path: value})
            except ScenarioError as exc:
                detail = "; ".join(line.strip(" -") for line in str(exc).splitlines()[1:]) or str(exc)
                problems.append(f"{where}.{field}: {value!r} at {v.path} is not a valid arm: {detail}")
    return problems


def _column_problems(scenario) -> list:
    follow_up, problems = scenario.follow_up_days, []
    known = f"summary columns: {', '.join(metric_names(follow_up))}"
    named = [(f"search.objectives.{i}.{'maximise' if o.maximise else 'minimise'}", o.column, None)
             for i, o in enumerate(scenario.search.objectives)]
    named += [(f"search.constraints.{i}.column", c.column, c) for i, c in enumerate(scenario.search.constraints)]
    for where, name, constraint in named:
        m = metric(name, follow_up)
        if m is None:
            hint = did_you_mean(name, metric_names(follow_up))
            problems.append(f"{where}: {name!r} is not a summary column{hint} (a landmark day must be within "
                            f"the follow-up, {follow_up:g} days); {known}")
        elif constraint is not None and (
                (constraint.max is not None and constraint.max < m.low)
                or (constraint.min is not None and constraint.min > m.high)):
            problems.append(f"{where}: infeasible constraint: {name} lies in [{m.low:g}, {m.high:g}] "
                            f"({m.unit}), so no policy can meet min {constraint.min} / max {constraint.max}")
    return problems


def check_search(scenario) -> None:
    """Raise ScenarioError listing every problem of ``scenario.search`` (none: return quietly)."""
    if scenario.search is None:
        raise ScenarioError("search: this scenario has no `search:` block; add one (see docs/scenarios.md) "
                            "to optimise it")
    arm = arm_index(scenario)
    problems = _variable_problems(scenario, arm) + _column_problems(scenario)
    if problems:
        raise ScenarioError("the search block is not valid:\n" + "\n".join(f"  - {p}" for p in problems))

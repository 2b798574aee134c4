"""Named term sets: "$name" in a rule stands for the set's terms (expanded before validation)."""

from __future__ import annotations

import re
from typing import Any

Path_ = tuple[str | int, ...]

_REF = re.compile(r"^\$([A-Za-z_][A-Za-z0-9_]*)$")
Problem = tuple[Path_, str]


class _Sets:
    """The top-level `terms:` mapping, resolved on demand (sets may use other sets)."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw if isinstance(raw, dict) else {}
        self.done: dict[str, list[Any]] = {}

    def resolve(self, name: str, path: Path_, problems: list[Problem],
                stack: tuple[str, ...] = ()) -> list[Any]:
        if name in self.done:
            return self.done[name]
        if name in stack:
            problems.append((path, f"term set ${name} uses itself (via {' → '.join(stack)})"))
            return []
        if name not in self.raw or not isinstance(self.raw[name], list):
            known = ", ".join(f"${k}" for k in sorted(self.raw)) or "none defined under terms:"
            problems.append((path, f"unknown term set ${name} (known: {known})"))
            return []
        body = self.raw[name]
        out = self.splice(body, ("terms", name), problems, stack + (name,))
        self.done[name] = out
        return out

    def splice(self, values: list[Any], path: Path_, problems: list[Problem],
               stack: tuple[str, ...] = ()) -> list[Any]:
        """A list of terms with every "$name" replaced by that set's terms, and nested lists (YAML
        aliases of other lists) flattened into it."""
        out: list[Any] = []
        for i, v in enumerate(values):
            m = _REF.match(v) if isinstance(v, str) else None
            if m:
                out += self.resolve(m.group(1), path + (i,), problems, stack)
            elif isinstance(v, list):
                out += self.splice(v, path + (i,), problems, stack)
            else:
                out.append(self.group(v, path + (i,), problems) if isinstance(v, dict) else v)
        return out

    def group(self, value: Any, path: Path_, problems: list[Problem]) -> Any:
        """A term list, a lone "$name", or a {field: terms} mapping, expanded."""
        m = _REF.match(value) if isinstance(value, str) else None
        if m:
            return self.resolve(m.group(1), path, problems)
        if isinstance(value, list):
            return self.splice(value, path, problems)
        if isinstance(value, dict):
            return {k: self.group(v, path + (k,), problems) for k, v in value.items()}
        return value


def expand_term_sets(data: dict[str, Any]) -> list[Problem]:
    """Replace "$name" in every rule by the named set's terms, in place; return what is wrong.

    Done on the raw YAML, before validation, so each unknown name is reported at its line."""
    sets = _Sets(data.get("terms"))
    problems: list[Problem] = []
    for name in list(sets.raw):
        if isinstance(sets.raw[name], list):
            sets.raw[name] = sets.resolve(name, ("terms", name), problems)
    criterion = data.get("criterion")
    stages = criterion.get("formalization") if isinstance(criterion, dict) else None
    for k, stage in enumerate(stages if isinstance(stages, list) else []):
        if isinstance(stage, dict):
            _expand_match(stage.get("match"), ("criterion", "formalization", k, "match"), sets,
                          problems)
    occasion = criterion.get("occasion") if isinstance(criterion, dict) else None
    if isinstance(occasion, dict):
        _expand_match(occasion.get("match"), ("criterion", "occasion", "match"), sets, problems)
    for i, ind in enumerate(data.get("indicators") or []):
        if isinstance(ind, dict):
            _expand_match(ind.get("match"), ("indicators", i, "match"), sets, problems)
    return problems


def _expand_match(rules: Any, path: Path_, sets: _Sets, problems: list[Problem]) -> None:
    """A `match`: one rule, or a list of alternative rules."""
    for j, rule in enumerate(rules if isinstance(rules, list) else [rules]):
        if isinstance(rule, dict):
            _expand_rule(rule, path + ((j,) if isinstance(rules, list) else ()), sets, problems)


def _expand_rule(rule: dict[str, Any], path: Path_, sets: _Sets, problems: list[Problem]) -> None:
    if isinstance(rule.get("all"), list):        # a list of groups: each "$name" is one group
        rule["all"] = [sets.group(g, path + ("all", k), problems)
                       for k, g in enumerate(rule["all"])]
    for key in ("any", "none"):
        if key in rule:
            rule[key] = sets.group(rule[key], path + (key,), problems)
    for k, near in enumerate(rule.get("near") or []):
        if isinstance(near, dict):
            for side in ("a", "b"):
                if side in near:
                    near[side] = sets.group(near[side], path + ("near", k, side), problems)



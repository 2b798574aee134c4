"""The rule language of indicators.yaml (DESIGN §5): terms, groups, near, vetoes, examples.

Validated when the file is loaded, so a rule that cannot match is a config error with its line.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from watcher.text import words


def _as_group(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


# How the JSON Schema of indicators.yaml (config/schema.py) describes what a maintainer writes,
# before "$name" sets are expanded and nested lists (YAML aliases) flattened: a term or a
# "$name" is a string; a list may hold terms, "$name"s and further lists. (TERM_ITEM becomes
# a reference to that recursive definition once pydantic has made the rest.)
TERM_ITEM = {"x-watcher": "TermItem"}
TERMS_AS_WRITTEN = {"type": "array", "items": TERM_ITEM}
GROUP_AS_WRITTEN = {"anyOf": [{"type": "string", "minLength": 1}, TERMS_AS_WRITTEN]}

Term = Annotated[str, Field(min_length=1)]
TermGroup = Annotated[list[Term], BeforeValidator(_as_group), Field(min_length=1),
                      WithJsonSchema(GROUP_AS_WRITTEN)]
# `any`, a set under `terms:`: a list, or one "$name" standing for a whole set.
TermList = Annotated[list[Term], WithJsonSchema(GROUP_AS_WRITTEN)]


class Strict(BaseModel):
    """Every config model: unknown keys rejected (a typo must not disable a rule), frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def _flat_terms(v: list[Any]) -> list[str]:
    out: list[str] = []
    for x in v:
        if isinstance(x, FieldTerms):
            out += x.terms
        elif isinstance(x, list):
            out += x
        else:
            out.append(x)
    return out


def _check_terms(v: list[Any]) -> list[Any]:
    """A term must contain a word to match, and '*' may only end a word."""
    for term in _flat_terms(v):
        if not words(term.replace("*", "")):
            raise ValueError(f"term {term!r} has no letters or digits to match")
        if any("*" in w.removesuffix("*") for w in term.split()):
            raise ValueError(f"term {term!r}: '*' may only end a word")
    return v


class Near(Strict):
    """A term from `a` within `within` words of a term from `b`."""

    a: TermGroup
    b: TermGroup
    within: int = Field(default=8, ge=1, le=50)
    field: Literal["title", "summary"] | None = None     # only in this field (default: either)

    @field_validator("a", "b", mode="after")
    @classmethod
    def _words(cls, v: list[str]) -> list[str]:
        return _check_terms(v)


class FieldTerms(Strict):
    """Terms that count in one field only: `{title: [...]}` or `{summary: [...]}`."""

    title: TermList | None = None
    summary: TermList | None = None

    @model_validator(mode="after")
    def _one_field(self) -> FieldTerms:
        if (self.title is None) == (self.summary is None):
            raise ValueError("name exactly one field: {title: [...]} or {summary: [...]}")
        if not self.terms:
            raise ValueError("list at least one term")
        return self

    @property
    def field(self) -> str:
        return "title" if self.title is not None else "summary"

    @property
    def terms(self) -> list[str]:
        return self.title if self.title is not None else (self.summary or [])


def _kind(value: Any) -> str:
    """Route a mapping to FieldTerms and anything else to the plain form (one error, not two)."""
    return "tag:field" if isinstance(value, dict) else "tag:plain"


# An `all` group: a term, a list of terms, or a field-scoped mapping.
Group = Annotated[Annotated[TermGroup, Tag("tag:plain")] | Annotated[FieldTerms, Tag("tag:field")],
                  Discriminator(_kind)]
# A `none` entry: a term, or a field-scoped mapping ({title: [opinion, analysis]}).
Veto = Annotated[Annotated[Term, Tag("tag:plain")] | Annotated[FieldTerms, Tag("tag:field")],
                 Discriminator(_kind)]


def group_terms(group: str | list[str] | FieldTerms) -> tuple[list[str], str | None]:
    """An `all` group or `none` entry as (terms, the one field it counts in or None for any)."""
    if isinstance(group, FieldTerms):
        return group.terms, group.field
    return ([group] if isinstance(group, str) else list(group)), None


class Rule(Strict):
    """DESIGN §5: every `all` group, at least one `any` (if given), every `near`, and no `none`."""

    all: list[Group] = []
    any: TermList = []
    none: Annotated[list[Veto], WithJsonSchema({"anyOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"x-watcher": "VetoItem"}}]})] = []
    near: list[Near] = []

    @model_validator(mode="after")
    def _not_empty(self) -> Rule:
        if not (self.all or self.any or self.near):
            raise ValueError("a rule needs at least one of all, any or near")
        return self

    @field_validator("all", "any", "none", mode="after")
    @classmethod
    def _words(cls, v: list[Any]) -> list[Any]:
        return _check_terms(v)


class Example(Strict):
    title: str
    summary: str = ""


def _as_example(value: Any) -> Any:
    return {"title": value} if isinstance(value, str) else value


# An example is its title, or {title, summary}.
ExampleText = Annotated[Example, BeforeValidator(_as_example), WithJsonSchema({"anyOf": [
    {"type": "string"},
    {"type": "object", "additionalProperties": False, "required": ["title"],
     "properties": {"title": {"type": "string"}, "summary": {"type": "string"}}}]})]


class Examples(Strict):
    match: list[ExampleText] = Field(min_length=2)
    no_match: list[ExampleText] = Field(min_length=2)


def _one_or_alternatives(value: Any) -> str:
    return "tag:alternatives" if isinstance(value, list) else "tag:one"


# One rule, or a list of alternative rules (any of them passing is a match).
Rules = Annotated[Annotated[Rule, Tag("tag:one")]
                  | Annotated[list[Rule], Tag("tag:alternatives"), Field(min_length=1)],
                  Discriminator(_one_or_alternatives)]


def as_rules(match: Rule | list[Rule] | None) -> list[Rule]:
    """The alternatives of a `match`, in file order (a single rule is a list of one)."""
    return [] if match is None else match if isinstance(match, list) else [match]

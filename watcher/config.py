"""indicators.yaml → typed, validated models, parsed once at the edge.

Every problem is reported as `file:line: what is wrong` (never a traceback); unknown
keys are rejected so a typo cannot silently disable a rule.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)

from watcher.dates import LANGUAGES as DATE_LANGUAGES
from watcher.dates import check_format, check_language
from watcher.errors import ConfigError
from watcher.page import PageSelectors, compile_selector
from watcher.text import words

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w|mo|y)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Tier = Literal["official", "wire", "outlet", "thinktank", "aggregator"]
Stance = Literal["momentum", "stall"]


def parse_seconds(text: str) -> int:
    """'30m' → 1800; months and years are calendar spans and not allowed here."""
    m = _DURATION.match(str(text))
    if not m or m.group(2) in ("mo", "y"):
        raise ValueError(f"expected a duration like 30m, 2h, 1d, got {text!r}")
    return int(m.group(1)) * _SECONDS[m.group(2)]


def parse_months(text: str) -> int:
    """'6mo' → 6, '1y' → 12: the criterion counts calendar months from the baseline."""
    m = _DURATION.match(str(text))
    if not m or m.group(2) not in ("mo", "y"):
        raise ValueError(f"expected a span in months like 6mo or 1y, got {text!r}")
    return int(m.group(1)) * (12 if m.group(2) == "y" else 1)


def _check_duration(text: str) -> str:
    parse_seconds(text)
    return text


def duration(text: str) -> timedelta:
    """A validated Duration field as a timedelta."""
    return timedelta(seconds=parse_seconds(text))


# A duration like 30m, 2h or 7d, kept as written (errors and dumps show what the maintainer wrote).
Duration = Annotated[str, AfterValidator(_check_duration)]


def _as_group(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


Term = Annotated[str, Field(min_length=1)]
TermGroup = Annotated[list[Term], BeforeValidator(_as_group), Field(min_length=1)]


class _Strict(BaseModel):
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


class Near(_Strict):
    """A term from `a` within `within` words of a term from `b`."""

    a: TermGroup
    b: TermGroup
    within: int = Field(default=8, ge=1, le=50)
    field: Literal["title", "summary"] | None = None     # only in this field (default: either)

    @field_validator("a", "b", mode="after")
    @classmethod
    def _words(cls, v: list[str]) -> list[str]:
        return _check_terms(v)


class FieldTerms(_Strict):
    """Terms that count in one field only: `{title: [...]}` or `{summary: [...]}`."""

    title: list[Term] | None = None
    summary: list[Term] | None = None

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


class Rule(_Strict):
    """DESIGN §5: every `all` group, at least one `any` (if given), every `near`, and no `none`."""

    all: list[Group] = []
    any: list[Term] = []
    none: list[Veto] = []
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


class Example(_Strict):
    title: str
    summary: str = ""


def _as_example(value: Any) -> Any:
    return {"title": value} if isinstance(value, str) else value


ExampleText = Annotated[Example, BeforeValidator(_as_example)]


class Examples(_Strict):
    match: list[ExampleText] = Field(min_length=2)
    no_match: list[ExampleText] = Field(min_length=2)


class AlertRule(_Strict):
    """Alert at once (not only in the weekly digest) when an event of this indicator is
    corroborated by `sources` independent sources, with this certainty and score."""

    sources: int = Field(default=2, ge=1, le=20)
    certainty: list[Literal["confirmed", "expected", "denied"]] = Field(
        default=["confirmed"], min_length=1)
    min_score: float = Field(default=0.0, ge=0)
    max_age: Duration = "7d"     # older happenings (a backlog read on first start) do not alert

    @property
    def max_age_delta(self) -> timedelta:
        return duration(self.max_age)


class Alerts(_Strict):
    """Who gets alerts and whether a change of the criterion's state is one."""

    criterion: bool = True
    recipients: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] | None = None
    subject: str = "[watcher] ALERT {state}: {what}"


class Indicator(_Strict):
    """One follow-up signal named by a seed paper."""

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]
    group: str
    title: str
    source: Annotated[str, Field(min_length=10)]
    weight: float = Field(default=1.0, gt=0, le=10)
    stance: Stance = "momentum"
    contract: bool = False
    min_score: float = Field(default=1.0, ge=0)
    fields: dict[Literal["title", "summary"], float] = {"title": 2.0, "summary": 1.0}
    # One rule, or a list of alternative rules: the indicator matches if any of them does.
    match: Annotated[Annotated[Rule, Tag("tag:one")]
                     | Annotated[list[Rule], Tag("tag:alternatives"), Field(min_length=1)],
                     Discriminator(lambda v: "tag:alternatives" if isinstance(v, list) else "tag:one")]
    examples: Examples
    alert: AlertRule | None = None

    @property
    def rules(self) -> list[Rule]:
        """The alternatives, in file order (a single rule is a list of one)."""
        return self.match if isinstance(self.match, list) else [self.match]


class Baseline(_Strict):
    event: str
    date: date


class Criterion(_Strict):
    """The Alert in 000_e04cb1293b4fe0c3.txt, as numbers."""

    source: str
    text: str
    warn_after: str = "6mo"
    expire_after: str = "12mo"
    # What is first reported this soon after the baseline belongs to the baseline's own occasion
    # (deals announced at the same summit), not to a follow-up of it.
    baseline_grace: Duration = "0d"
    follow_up: list[str] = Field(min_length=1)
    threshold: float = Field(default=3.0, ge=0)
    # Below these, WARN / HIGH-WATER say the watch saw too little to claim an absence.
    min_coverage: float = Field(default=0.5, ge=0, le=1)      # share of feed-days observed
    min_items_per_week: float = Field(default=5.0, ge=0)

    @field_validator("warn_after", "expire_after")
    @classmethod
    def _months(cls, v: str) -> str:
        parse_months(v)
        return v

    @property
    def grace(self) -> timedelta:
        return duration(self.baseline_grace)

    @property
    def warn_months(self) -> int:
        return parse_months(self.warn_after)

    @property
    def expire_months(self) -> int:
        return parse_months(self.expire_after)


class CertaintyCues(_Strict):
    """Phrases that make a report a denial or an expectation rather than a confirmation."""

    denied: list[Term] = []
    expected: list[Term] = []


class Digest(_Strict):
    schedule: str = "mon 07:00"
    timezone: str = "UTC"
    recipients: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)
    sender: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")] = "watcher@localhost"
    subject: str = "[watcher] {state}: Kazakhstan / Abraham Accords follow-up"
    max_events: int = Field(default=10, ge=1)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        parts = v.lower().split()
        if len(parts) != 2 or parts[0] not in _WEEKDAYS:
            raise ValueError(f"expected 'mon 07:00' (weekday and HH:MM), got {v!r}")
        time.fromisoformat(parts[1])
        return v.lower()

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    @property
    def weekday(self) -> int:
        return _WEEKDAYS.index(self.schedule.split()[0])

    @property
    def at(self) -> time:
        return time.fromisoformat(self.schedule.split()[1])

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _selector(text: str) -> str:
    compile_selector(text)
    return text


# A CSS selector (or XPath starting with / ./ ../ or parenthesis), checked when the file is read.
SelectorText = Annotated[str, AfterValidator(_selector)]


class Select(_Strict):
    """Where a page source's items are: the item element, and each field inside it."""

    item: SelectorText
    title: SelectorText
    link: SelectorText | None = None
    date: SelectorText | None = None
    summary: SelectorText | None = None
    date_format: Annotated[str, AfterValidator(check_format)] | None = None
    date_lang: Annotated[str, AfterValidator(check_language)] | None = None
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r}") from None
        return v

    def selectors(self, lang: str | None) -> PageSelectors:
        """The parse stage's form; month names default to the feed's language when known."""
        date_lang = self.date_lang or (lang if lang in DATE_LANGUAGES else None)
        return PageSelectors(item=self.item, title=self.title, link=self.link, date=self.date,
                             summary=self.summary, date_format=self.date_format,
                             date_lang=date_lang, timezone=self.timezone)


class Feed(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")]
    url: Annotated[str, Field(pattern=r"^https?://")]
    # feed: RSS, Atom, RDF or JSON Feed; html: a page without a feed, read with `select`
    type: Literal["feed", "html"] = "feed"
    select: Select | None = None
    every: str = "1h"
    tier: Tier = "outlet"
    lang: str | None = None
    title: str | None = None

    @model_validator(mode="after")
    def _page(self) -> Feed:
        if self.type == "html" and self.select is None:
            raise ValueError("a `type: html` source needs a `select:` block (item, title, ...)")
        if self.type == "feed" and self.select is not None:
            raise ValueError("`select:` is for pages: add `type: html`")
        return self

    @property
    def page(self) -> PageSelectors | None:
        """The selectors of a page source, None for a feed."""
        return self.select.selectors(self.lang) if self.select is not None else None

    @field_validator("every")
    @classmethod
    def _every(cls, v: str) -> str:
        if parse_seconds(v) < 60:
            raise ValueError("a feed is polled at most once a minute")
        return v

    @property
    def interval(self) -> timedelta:
        return duration(self.every)


class Config(_Strict):
    """The whole of indicators.yaml."""

    version: Literal[1]
    baseline: Baseline
    # Named term sets, used in rules as "$name" (expanded when the file is parsed).
    terms: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], list[Term]] = {}
    criterion: Criterion
    certainty: CertaintyCues = CertaintyCues()
    tiers: dict[Tier, float] = {"official": 1.5, "wire": 1.3, "outlet": 1.0,
                                "thinktank": 1.0, "aggregator": 0.7}
    digest: Digest
    alerts: Alerts = Alerts()
    feeds: list[Feed] = []
    indicators: list[Indicator] = Field(min_length=1)

    @model_validator(mode="after")
    def _references(self) -> Config:
        _unique("feeds", [f.id for f in self.feeds])
        _unique("indicators", [i.id for i in self.indicators])
        names = {i.id for i in self.indicators} | {i.group for i in self.indicators}
        unknown = [n for n in self.criterion.follow_up if n not in names]
        if unknown:
            raise ValueError(f"criterion.follow_up names no indicator or group: {', '.join(unknown)}")
        if self.criterion.expire_months <= self.criterion.warn_months:
            raise ValueError("criterion.expire_after must be later than warn_after")
        return self

    @property
    def baseline_at(self) -> datetime:
        return datetime.combine(self.baseline.date, time(0, 0), tzinfo=UTC)

    def indicator(self, indicator_id: str) -> Indicator:
        return next(i for i in self.indicators if i.id == indicator_id)

    @property
    def alert_recipients(self) -> list[str]:
        return self.alerts.recipients or self.digest.recipients

    def counts_as_follow_up(self, indicator_id: str) -> bool:
        ind = self.indicator(indicator_id)
        return ind.id in self.criterion.follow_up or ind.group in self.criterion.follow_up


def _unique(what: str, ids: list[str]) -> None:
    seen: set[str] = set()
    dups = sorted({i for i in ids if i in seen or seen.add(i)})  # type: ignore[func-returns-value]
    if dups:
        raise ValueError(f"duplicate {what} id: {', '.join(dups)}")


# --- YAML with line numbers ---------------------------------------------------------------

Path_ = tuple[str | int, ...]


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that refuses duplicate keys (PyYAML would keep the last silently).

    LibYAML's parser when PyYAML has it: the pure-Python scanner took 3.5 of the 5 s of a
    1,000-feed `watcher poll` that found nothing new (profile, issue #6)."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r} (first on line {seen[key] + 1})", key_node.start_mark)
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _lines(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    out[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[path + (key,)] = key_node.start_mark.line + 1
            _lines(value_node, path + (key,), out)
            out[path + (key,)] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, child in enumerate(node.value):
            _lines(child, path + (i,), out)


def _synthetic(part: Any) -> bool:
    """Loc parts pydantic adds that are not YAML keys (validators, union tags)."""
    return isinstance(part, str) and part.startswith(("function-", "tag:"))


def _line_for(loc: tuple[Any, ...], lines: dict[Path_, int]) -> int:
    path = tuple(p for p in loc if not _synthetic(p))
    while path and path not in lines:
        path = path[:-1]
    return lines.get(path, 1)


def _describe(err: Any) -> str:
    loc = ".".join(str(p) for p in err["loc"] if not _synthetic(p))
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "extra_forbidden":
        msg = "unknown key (check the spelling)"
    return f"{loc}: {msg}" if loc else msg


MAX_DEPTH = 64                 # the shipped file nests 6 deep
MAX_ALIAS_VALUES = 200_000     # values aliases may add beyond those written (or as many as written)


class _Shape:
    """What the event stream says about a document before it is composed: how deep it
    nests, how many values it writes out, how many more its aliases add.

    An alias stands for its whole anchored value, so anything that walks the loaded data
    (validation, line numbers) walks that value again at each alias: "billion laughs"
    makes billions of values from a few lines. Sizes are counted per anchor, so the check
    costs one pass over the text, not the expansion it measures."""

    def __init__(self, name: str, length: int) -> None:
        self.name = name
        self.length = length       # no file writes more values than it has characters
        self.depth = self.written = self.added = 0
        self.open: list[tuple[str | None, int]] = []   # collections not ended: (anchor, count at start)
        self.sizes: dict[str, int] = {}
        self.first_over: int | None = None             # line of the alias past MAX_ALIAS_VALUES

    def count(self, ev: yaml.Event, line: int) -> None:
        if isinstance(ev, yaml.AliasEvent):
            self._alias(ev.anchor, line)
        elif isinstance(ev, yaml.CollectionStartEvent):
            self.depth += 1
            if self.depth > MAX_DEPTH:
                self._refuse(line, f"nested more than {MAX_DEPTH} deep: too deep to be an indicators file")
            self.written += 1
            self.open.append((ev.anchor, self.written + self.added))
        elif isinstance(ev, yaml.CollectionEndEvent):
            self.depth -= 1
            anchor, start = self.open.pop()
            if anchor is not None:
                self.sizes[anchor] = self.written + self.added - start + 1
        elif isinstance(ev, yaml.ScalarEvent):
            self.written += 1
            if ev.anchor is not None:
                self.sizes[ev.anchor] = 1

    def _alias(self, anchor: str | None, line: int) -> None:
        if any(anchor == name for name, _ in self.open):
            self._refuse(line, f"the YAML alias *{anchor} refers to the list or mapping that contains it")
        self.added += self.sizes.get(anchor or "", 0)   # an unknown anchor: the composer says so
        if self.added > MAX_ALIAS_VALUES and self.first_over is None:
            self.first_over = line
        if self.added > max(MAX_ALIAS_VALUES, self.length):     # over the limit whatever follows
            self._too_many(line)

    def finish(self) -> None:
        if self.added > max(MAX_ALIAS_VALUES, self.written):
            self._too_many(self.first_over or 1)

    def _too_many(self, line: int) -> None:
        self._refuse(line, f"YAML aliases add over {self.added:,} values (at most "
                           f"{MAX_ALIAS_VALUES:,}, or as many as the file writes out): "
                           "write the lists out")

    def _refuse(self, line: int, problem: str) -> None:
        raise ConfigError([f"{self.name}:{line}: {problem}"])


def _check_shape(text: str, name: str) -> None:
    """Refuse absurd nesting and alias bombs from the event stream (no recursion), with the
    line where it happens; a large file with no aliases is never refused here."""
    shape = _Shape(name, len(text))
    for ev in yaml.parse(text, Loader=_LineLoader):
        shape.count(ev, ev.start_mark.line + 1)
    shape.finish()


def _construct(node: yaml.Node | None) -> Any:
    """Python objects from a composed document, with _LineLoader's constructors."""
    if node is None:
        return None
    loader = _LineLoader("")
    try:
        return loader.construct_document(node)
    finally:
        loader.dispose()


def parse_config(text: str, name: str = "indicators.yaml") -> Config:
    """Parse and validate; raise ConfigError listing every problem as `name:line: ...`."""
    try:
        _check_shape(text, name)           # before composing: LibYAML's composer recurses in C
        node = yaml.compose(text, Loader=_LineLoader)
        data = _construct(node)            # from the nodes already composed: parsed once
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        raise ConfigError([f"{name}:{line}: {exc.problem or exc.context}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{name}:1: not valid YAML: {exc}"]) from None
    except RecursionError:
        raise ConfigError([f"{name}:1: nested too deeply to be an indicators file"]) from None
    if not isinstance(data, dict) or node is None:
        raise ConfigError([(f"{name}:1: expected a mapping with version, baseline, criterion, "
                            "digest, feeds and indicators")])
    lines: dict[Path_, int] = {}
    _lines(node, (), lines)
    unresolved = expand_term_sets(data)
    if unresolved:
        raise ConfigError([f"{name}:{_line_for(path, lines)}: {msg}" for path, msg in unresolved])
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = [f"{name}:{_line_for(e['loc'], lines)}: {_describe(e)}" for e in exc.errors()]
        raise ConfigError(problems) from None
    return config


# --- named term sets ($name) ------------------------------------------------------------

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
    for i, ind in enumerate(data.get("indicators") or []):
        if isinstance(ind, dict) and isinstance(ind.get("match"), (dict, list)):
            rules = ind["match"]
            for j, rule in enumerate(rules if isinstance(rules, list) else [rules]):
                path = ("indicators", i, "match") + ((j,) if isinstance(rules, list) else ())
                if isinstance(rule, dict):
                    _expand_rule(rule, path, sets, problems)
    return problems


def _expand_rule(rule: dict[str, Any], path: Path_, sets: _Sets, problems: list[Problem]) -> None:
    if isinstance(rule.get("all"), list):        # a list of groups: each "$name" is one group
        rule["all"] = [sets.group(g, path + ("all", k), problems) for k, g in enumerate(rule["all"])]
    for key in ("any", "none"):
        if key in rule:
            rule[key] = sets.group(rule[key], path + (key,), problems)
    for k, near in enumerate(rule.get("near") or []):
        if isinstance(near, dict):
            for side in ("a", "b"):
                if side in near:
                    near[side] = sets.group(near[side], path + ("near", k, side), problems)


def load_config(path: Path) -> Config:
    """Read indicators.yaml from disk (see parse_config)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}:1: not UTF-8 text"]) from None
    return parse_config(text, str(path))


def config_lines(text: str) -> dict[Path_, int]:
    """Line of every key and list entry (e.g. ('indicators', 3, 'examples', 'match', 0))."""
    lines: dict[Path_, int] = {}
    node = yaml.compose(text, Loader=_LineLoader)
    if node is not None:
        _lines(node, (), lines)
    return lines

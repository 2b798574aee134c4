"""indicators.yaml as typed, validated models (the whole file is `Config`)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Discriminator, Field, Tag, field_validator, model_validator

from watcher.config.rules import Examples, Rule, Strict, Term
from watcher.ingest.dates import LANGUAGES as DATE_LANGUAGES
from watcher.ingest.dates import check_format, check_language
from watcher.ingest.page import PageSelectors, compile_selector

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

class AlertRule(Strict):
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


class Alerts(Strict):
    """Who gets alerts and whether a change of the criterion's state is one."""

    criterion: bool = True
    recipients: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] | None = None
    subject: str = "[watcher] ALERT {state}: {what}"


def _one_or_alternatives(value: Any) -> str:
    return "tag:alternatives" if isinstance(value, list) else "tag:one"


class Indicator(Strict):
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
                     Discriminator(_one_or_alternatives)]
    examples: Examples
    alert: AlertRule | None = None

    def field_weight(self, field: str) -> float:
        """How much a term hit in this field counts (1.0 for a field `fields:` does not name)."""
        return next((weight for name, weight in self.fields.items() if name == field), 1.0)

    @property
    def rules(self) -> list[Rule]:
        """The alternatives, in file order (a single rule is a list of one)."""
        return self.match if isinstance(self.match, list) else [self.match]


class Baseline(Strict):
    event: str
    date: date


class Criterion(Strict):
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


class CertaintyCues(Strict):
    """Phrases that make a report a denial or an expectation rather than a confirmation."""

    denied: list[Term] = []
    expected: list[Term] = []


class Digest(Strict):
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


class Select(Strict):
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


class Feed(Strict):
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


class Config(Strict):
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
            raise ValueError("criterion.follow_up names no indicator or group: "
                             f"{', '.join(unknown)}")
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

    def tier_factor(self, tier: str) -> float:
        """A source tier's factor in scores (1.0 for a tier `tiers:` does not name)."""
        return next((factor for name, factor in self.tiers.items() if name == tier), 1.0)

    def counts_as_follow_up(self, indicator_id: str) -> bool:
        ind = self.indicator(indicator_id)
        return ind.id in self.criterion.follow_up or ind.group in self.criterion.follow_up


def _unique(what: str, ids: list[str]) -> None:
    dups = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dups:
        raise ValueError(f"duplicate {what} id: {', '.join(dups)}")


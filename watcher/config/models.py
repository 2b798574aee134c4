"""indicators.yaml as typed, validated models (the whole file is `Config`)."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, Field, StrictBool, field_validator, model_validator

from watcher.config.durations import Duration, duration, parse_seconds
from watcher.config.judging import CertaintyCues, Criterion, Grouping, Stage, Track
from watcher.config.rules import Examples, Rule, Rules, Strict, TermList, as_rules
from watcher.ingest.dates import LANGUAGES as DATE_LANGUAGES
from watcher.ingest.dates import check_format, check_language
from watcher.ingest.page import PageSelectors, compile_selector

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
Tier = Literal["official", "wire", "outlet", "thinktank", "aggregator"]
Stance = Literal["momentum", "stall"]



def _time_zone(v: str) -> str:
    """An IANA time zone name, checked once when the file is read."""
    try:
        ZoneInfo(v)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {v!r}") from None
    return v


TimeZoneName = Annotated[str, AfterValidator(_time_zone)]

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
    # {what}: the first happening ('… — 2 sources') or state change, '(+N more)'; {state}.
    subject: str = "[watcher] ALERT: {what}"


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
    match: Rules
    examples: Examples
    alert: AlertRule | None = None

    def field_weight(self, field: str) -> float:
        """How much a term hit in this field counts (1.0 for a field `fields:` does not name)."""
        return next((weight for name, weight in self.fields.items() if name == field), 1.0)

    @property
    def rules(self) -> list[Rule]:
        """The alternatives, in file order (a single rule is a list of one)."""
        return as_rules(self.match)


class Baseline(Strict):
    event: str
    date: date


class Digest(Strict):
    schedule: str = "mon 07:00"
    timezone: TimeZoneName = "UTC"
    recipients: list[Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")]] = Field(min_length=1)
    sender: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+$")] = "watcher@localhost"
    # The display name of From ("watcher" <watcher@example.org>); WATCHER_SENDER overrides both.
    sender_name: Annotated[str, Field(pattern=r"^[^\r\n\"<>]*$", max_length=60)] = "watcher"
    # {period} (2026-W49), {state} (FOLLOW-UP (deals)), {new} and {counting} (this week's).
    subject: str = "[watcher] {period} · {state} · {new} new, {counting} counting"
    max_events: int = Field(default=10, ge=1)

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, v: str) -> str:
        parts = v.lower().split()
        if len(parts) != 2 or parts[0] not in _WEEKDAYS:
            raise ValueError(f"expected 'mon 07:00' (weekday and HH:MM), got {v!r}")
        time.fromisoformat(parts[1])
        return v.lower()

    @property
    def weekday(self) -> int:
        return _WEEKDAYS.index(self.schedule.split()[0])

    @property
    def at(self) -> time:
        return time.fromisoformat(self.schedule.split()[1])

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


# Headers watcher sets itself: the fetch's framing, its conditional GET and what it can
# decompress (a bounded gzip/deflate); User-Agent has its own key.
_OWN_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection",
                          "accept-encoding", "if-none-match", "if-modified-since", "te",
                          "upgrade", "proxy-authorization", "user-agent"})
_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")          # an RFC 9110 header name
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")                 # CR, LF, NUL … (tab is fine)
_PROXY = re.compile(r"^(http|socks5h?)://([^@/?#\s]+@)?(\[[0-9a-fA-F:.]+\]|[^:/?#@\s\[\]]+):"
                    r"(\d{1,5})/?$")


def _check_headers(headers: dict[str, str]) -> dict[str, str]:
    """Names that are tokens and not watcher's own, values of one line."""
    for name, value in headers.items():
        if not _TOKEN.match(name):
            raise ValueError(f"{name!r} is not a header name (letters, digits and "
                             "!#$%&'*+.^_`|~- only)")
        if name.lower() in _OWN_HEADERS:
            hint = "; use user_agent:" if name.lower() == "user-agent" else ""
            raise ValueError(f"watcher sets the {name} header itself{hint}")
        if _CONTROL.search(value) or len(value) > 4096:
            raise ValueError(f"the value of {name} must be one line of at most 4096 "
                             "characters (no line breaks or control characters)")
    return headers


def _one_line(text: str) -> str:
    if _CONTROL.search(text):
        raise ValueError("must be one line (no line breaks or control characters)")
    return text


def _proxy_url(url: str) -> str:
    m = _PROXY.match(url)
    if not m or not 0 < int(m.group(4)) < 65536:
        raise ValueError("expected http://host:port, socks5://host:port or socks5h://host:port "
                         "(user:password@ allowed)")
    return url


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
    timezone: TimeZoneName = "UTC"

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
    # Sent with every request to the feed's own origin (not after a redirect elsewhere):
    # an API key, a cookie, Accept-Language. The file is world-readable: see deploy/README.md.
    headers: Annotated[dict[str, str], AfterValidator(_check_headers),
                       Field(max_length=50)] = {}
    # Some servers refuse an unknown client; this one feed's User-Agent (default: watcher's).
    user_agent: Annotated[str, Field(min_length=1, max_length=300),
                          AfterValidator(_one_line)] | None = None
    # Every connection of this feed goes through this proxy, which resolves the host names
    # (README, "Per-feed requests"). Environment proxies (HTTP(S)_PROXY, ALL_PROXY) are not used.
    proxy: Annotated[str, AfterValidator(_proxy_url)] | None = None
    # fetch the article's lead for a headline that nearly matches (issue 13; README: Enrichment)
    enrich: StrictBool = False

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
    terms: dict[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")], TermList] = {}
    criterion: Criterion
    certainty: CertaintyCues = CertaintyCues()
    grouping: Grouping = Grouping()
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
        unknown = [n for n in self.criterion.follow_up or [] if n not in names]
        if unknown:
            raise ValueError("criterion.follow_up names no indicator or group: "
                             f"{', '.join(unknown)}")
        if self.criterion.expire_months <= self.criterion.warn_months:
            raise ValueError("criterion.expire_after must be later than warn_after")
        unknown = [n for n in self.grouping.topics + self.grouping.actors if n not in self.terms]
        if unknown:
            raise ValueError(f"grouping names no term set: {', '.join(unknown)}")
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
        return self.track_of(indicator_id) is not None

    def resolve(self, names: list[str]) -> list[str]:
        """Indicator ids and groups → indicator ids, in file order."""
        return [i.id for i in self.indicators if i.id in names or i.group in names]

    @property
    def tracks(self) -> list[Track]:
        """The criterion's tracks; a file with only `follow_up` has one, holding it."""
        if self.criterion.tracks:
            return list(self.criterion.tracks)
        return [Track(id="follow-up", title="measurable follow-up",
                      indicators=list(self.criterion.follow_up or []))]

    def track_of(self, indicator_id: str) -> str | None:
        """The id of the track an indicator counts for, if any."""
        ind = self.indicator(indicator_id)
        return next((t.id for t in self.tracks
                     if ind.id in t.indicators or ind.group in t.indicators),
                    None)

    def stages_of(self, indicator_id: str) -> list[Stage]:
        """The formalization stages an indicator's events can reach, in order."""
        ind = self.indicator(indicator_id)
        return [s for s in self.criterion.formalization
                if ind.id in s.indicators or ind.group in s.indicators]


def _unique(what: str, ids: list[str]) -> None:
    dups = sorted(i for i, n in Counter(ids).items() if n > 1)
    if dups:
        raise ValueError(f"duplicate {what} id: {', '.join(dups)}")


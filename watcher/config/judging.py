"""What the criterion reads from indicators.yaml (DESIGN §6): its tracks, the accession's
formalization stages, the baseline's occasion, the certainty cues and how reports of one
happening are grouped across languages."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from watcher.config.durations import Duration, duration, parse_months
from watcher.config.rules import Examples, Rule, Rules, Strict, Term, as_rules

TrackId = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$")]


class Track(Strict):
    """One kind of follow-up the Alert names (deals, signatories, diplomacy), with its own
    state: its indicators (ids or groups) are what counts for it."""

    id: TrackId
    title: Annotated[str, Field(min_length=1)]  # the verdict's names it: "additional signatories"
    indicators: list[str] = Field(min_length=1)


class Stage(Strict):
    """One step of the accession's own formalization (announced → signed → … → ratified).

    Reached by a corroborated event of its indicators; where one indicator covers several
    steps (ratification: bill, Constitutional Council, parliament, law), by one whose reports
    also pass `match` (one rule or alternatives), confirmed: a report of the act done, not of
    its prospect. `examples`, if given, are run by `watcher check` as confirmed reports of the
    step (match) or not (no_match). A stage with no indicators is the baseline (announced)."""

    id: TrackId
    title: Annotated[str, Field(min_length=1)]    # "signed", "submitted to parliament"
    indicators: list[str] = []
    match: Rules | None = None
    examples: Examples | None = None

    @model_validator(mode="after")
    def _rule_needs_indicators(self) -> Stage:
        if self.match is not None and not self.indicators:
            raise ValueError("a stage's match refines its indicators' events: list them")
        if self.examples is not None and self.match is None:
            raise ValueError("a stage's examples test its match: give one")
        return self

    @property
    def rules(self) -> list[Rule]:
        return as_rules(self.match)


class Occasion(Strict):
    """Reports that recall the baseline's own occasion (deals "first announced at the White House
    summit" finalised months later, a round-up of what the summit brought): their happening is
    the occasion's, dated to the baseline (issue 12). `examples` are run by `watcher check`."""

    match: Rules
    examples: Examples | None = None

    @property
    def rules(self) -> list[Rule]:
        return as_rules(self.match)


class Criterion(Strict):
    """The Alert in 000_e04cb1293b4fe0c3.txt, as numbers."""

    source: str
    text: str
    warn_after: str = "6mo"
    expire_after: str = "12mo"
    # What is first reported this soon after the baseline belongs to the baseline's own occasion
    # (deals announced at the same summit), not to a follow-up of it.
    baseline_grace: Duration = "0d"
    occasion: Occasion | None = None
    # The indicators that count (ids or groups); kept for files written before tracks. With
    # tracks it may be left out; if given it must name what the tracks hold.
    follow_up: list[str] | None = Field(default=None, min_length=1)
    tracks: list[Track] = []
    formalization: list[Stage] = []
    # Independent publishers an event needs to count (else an official source or an analyst).
    corroboration: int = Field(default=2, ge=1, le=20)
    threshold: float = Field(default=3.0, ge=0)
    # Below these, WARN / HIGH-WATER say the watch saw too little to claim an absence.
    min_coverage: float = Field(default=0.5, ge=0, le=1)      # share of feed-days observed
    min_items_per_week: float = Field(default=5.0, ge=0)

    @field_validator("warn_after", "expire_after")
    @classmethod
    def _months(cls, v: str) -> str:
        parse_months(v)
        return v

    @model_validator(mode="after")
    def _counts_something(self) -> Criterion:
        if self.follow_up is None and not self.tracks:
            raise ValueError("name what counts: criterion.tracks (or the older follow_up list)")
        return self

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
    """Phrases that make a report a denial or an expectation rather than a confirmation; and
    phrases of an act done that an expectation cue shares a word with ("votes to" in "votes to
    ratify", "agrees to" in "agrees to join"), which then says nothing."""

    denied: list[Term] = []
    expected: list[Term] = []
    confirmed: list[Term] = []
    # Prospects: a proposal, a setback, a visit, a review or deliberation ("circulates draft
    # resolution", "talks collapse", "visits Astana", "under review", "weighing Abraham Accords
    # entry") is an expectation, unless the same
    # clause reports an act done (`acts`: "adopts", "signs", "принял" …): "Council adopts US
    # draft resolution", "DFC chief visits Astana, signs $100m loan" are the act (issue 12).
    prospects: list[Term] = []
    acts: list[Term] = []


class Grouping(Strict):
    """Which named term sets tell reports of one happening apart across languages (issue 12):
    `topics` say what happened (UN, RESOLUTION, STAB_FORCE …) and `actors` who did it (KZ,
    OTHER_STATES, US …). Headlines naming the same ones are compared as one happening; two that
    name actors, none in common, are not. Empty: every named set is a topic, no actor check."""

    topics: list[str] = []
    actors: list[str] = []

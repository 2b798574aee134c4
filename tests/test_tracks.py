"""The criterion per track on dated events (issue 12): states before, inside and after each
mark, corroboration, genre, the happening's date, formalization, the analyst's call. Pure."""

from __future__ import annotations

from datetime import datetime

from tests.conftest import ROOT, at
from watcher.config import load_config
from watcher.judge.counting import event_id, judge_event
from watcher.judge.criterion import counts, evaluate
from watcher.judge.events import cluster, host_of
from watcher.judge.match import Matcher
from watcher.judge.score import score_events
from watcher.models import CriterionState, Decision, Event, MatchedItem, Reason

CFG = load_config(ROOT / "indicators.yaml")
M = Matcher(CFG)
WATCHING, FOLLOW_UP, WARN, HIGH_WATER = (CriterionState.WATCHING, CriterionState.FOLLOW_UP,
                                         CriterionState.WARN, CriterionState.HIGH_WATER)
_ids = iter(range(1, 10_000))


def report(
    title: str, day: str, url: str, tier: str = "outlet", summary: str = ""
) -> list[MatchedItem]:
    n = next(_ids)
    return [
        MatchedItem(n, "f", title, url, at(day), at(day), host_of(url), tier, m, summary)
        for m in M.match(title, summary)
    ]


def events(*reports: list[MatchedItem]) -> list[Event]:
    return score_events(cluster([m for r in reports for m in r], M.concept_map()), CFG)


def states(
    evs: list[Event], day: str, decisions: tuple[Decision, ...] = ()
) -> dict[str, CriterionState]:
    v = evaluate(CFG, evs, at(day), decisions=decisions)
    return {t.id: t.state for t in v.tracks}


DEAL = (report("Kazakhstan and Israel sign water technology agreement", "2026-01-20",
               "https://www.timesofisrael.com/kz-water")
        + report("Israel, Kazakhstan sign water cooperation agreement", "2026-01-21",
                 "https://astanatimes.com/2026/01/water"))
JOINS = (report("Azerbaijan formally joins the Abraham Accords", "2026-07-10", "https://apnews.com/az")
         + report("Azerbaijan joins Abraham Accords at White House ceremony", "2026-07-10",
                  "https://www.reuters.com/az", "wire"))


def seen_by(evs: list[Event], day: str) -> list[Event]:
    """The events as they stood on `day`: only reports published by then (as a replay does)."""
    return events([m for e in evs for m in e.items if m.published <= at(day)])


def test_each_track_before_inside_and_after_each_mark() -> None:
    evs = events(DEAL, JOINS)
    table = {day: states(seen_by(evs, day), day) for day in
             ("2025-12-01", "2026-01-20", "2026-01-21", "2026-05-05", "2026-05-06",
              "2026-07-09", "2026-07-10", "2026-11-05", "2026-11-06", "2027-03-01")}
    assert table == {
        "2025-12-01": {"deals": WATCHING, "signatories": WATCHING, "diplomacy": WATCHING},
        "2026-01-20": {
            "deals": WATCHING,
            "signatories": WATCHING,
            "diplomacy": WATCHING,
        },  # 1 source
        "2026-01-21": {"deals": FOLLOW_UP, "signatories": WATCHING, "diplomacy": WATCHING},
        "2026-05-05": {"deals": FOLLOW_UP, "signatories": WATCHING, "diplomacy": WATCHING},
        "2026-05-06": {"deals": FOLLOW_UP, "signatories": WARN, "diplomacy": WARN},
        "2026-07-09": {"deals": FOLLOW_UP, "signatories": WARN, "diplomacy": WARN},
        "2026-07-10": {"deals": FOLLOW_UP, "signatories": FOLLOW_UP, "diplomacy": WARN},
        "2026-11-05": {"deals": FOLLOW_UP, "signatories": FOLLOW_UP, "diplomacy": WARN},
        "2026-11-06": {"deals": FOLLOW_UP, "signatories": FOLLOW_UP, "diplomacy": HIGH_WATER},
        "2027-03-01": {"deals": FOLLOW_UP, "signatories": FOLLOW_UP, "diplomacy": HIGH_WATER},
    }
    v = evaluate(CFG, evs, at("2026-12-04"))
    assert v.state is FOLLOW_UP
    deals = v.tracks[0]
    assert deals.since.isoformat() == "2026-01-21"
    assert deals.counting[0].happened.isoformat() == "2026-01-20"
    assert v.sentence() == (
        "FOLLOW-UP: Follow-up on deals since 21 Jan 2026 (1 corroborated event) and on additional "
        "signatories since 10 Jul 2026 (1 corroborated event); none on Israeli–Palestinian "
        "diplomacy, 393 days after the baseline (past the 12-month mark); accession announced, "
        "not yet signed.")


def test_without_any_follow_up_the_overall_state_follows_the_window() -> None:
    assert evaluate(CFG, [], at("2026-01-01")).state is WATCHING
    assert evaluate(CFG, [], at("2026-06-01")).state is WARN
    v = evaluate(CFG, [], at("2026-11-06"))
    assert v.state is HIGH_WATER and all(t.state is HIGH_WATER for t in v.tracks)
    assert v.sentence().startswith("HIGH-WATER: No measurable follow-up on deals, additional "
                                   "signatories or Israeli–Palestinian diplomacy, 365 days after")


def test_follow_up_after_the_window_or_before_the_baseline_is_outside_it() -> None:
    late = events(report("Hamas begins weapons handover under Gaza peace plan", "2026-12-01",
                         "https://apnews.com/h"),
                  report("Gaza ceasefire enters second phase as Hamas hands over weapons",
                         "2026-12-01", "https://www.reuters.com/h", "wire"))
    early = events(report("Kazakhstan and Israel sign water technology agreement", "2025-10-01",
                          "https://www.gov.il/x", "official"))
    v = evaluate(CFG, late + early, at("2027-01-01"))
    assert {t.id: t.state for t in v.tracks}["diplomacy"] is HIGH_WATER
    assert {v.judgement(e).why_not for e in late + early} == {"outside the window"}


def test_an_op_ed_over_the_threshold_alone_changes_nothing() -> None:
    opinions = events(
        report(
            "Kazakhstan's accession to the Abraham Accords actually is a big deal "
            "for Israel-Kazakh business deals",
            "2026-02-01",
            "https://foreignpolicy.com/x",
        ),
        report(
            "Opinion: Kazakhstan and Israel sign water technology agreement, a model",
            "2026-02-02",
            "https://thehill.com/opinion/kz",
        ),
        report(
            "Kazakhstan and Israel sign water technology agreement",
            "2026-02-02",
            "https://www.thehill.com/opinion/kz-2",
        ),
        report(
            "Israel, Kazakhstan sign water technology agreement",
            "2026-02-02",
            "https://www.atlanticcouncil.org/x",
            "thinktank",
        ),
    )
    assert all(e.score >= CFG.criterion.threshold for e in opinions)
    assert max(len(e.sources) for e in opinions) >= 2
    v = evaluate(CFG, opinions, at("2026-03-01"))
    assert v.state is WATCHING and v.candidates == []
    for e in opinions:
        j = v.judgement(e)
        assert j is not None and j.why_not == "opinion" and j.genre != "news" and j.sources == 0


def test_an_op_ed_never_corroborates_a_single_news_report() -> None:
    (ev,) = events(report("Kazakhstan and Israel sign water technology agreement", "2026-02-01",
                          "https://www.timesofisrael.com/x"),
                   report("Opinion: Kazakhstan and Israel sign water technology agreement",
                          "2026-02-02", "https://thehill.com/opinion/kz"))
    j = judge_event(ev, CFG)
    assert j.candidate and j.sources == 1 and j.genre == "news"


def test_a_conditional_offer_and_an_appeal_are_candidates_at_most() -> None:
    offer = report(
        "Saudi crown prince open to joining Abraham Accords if path to Palestinian state is agreed",
        "2026-02-01",
        "https://www.reuters.com/s",
        "wire",
    )
    appeal = report("Trump urges Arab and Muslim states to join Abraham Accords", "2026-02-03",
                    "https://apnews.com/t")
    call = report("Rubio calls on Indonesia to join the Abraham Accords", "2026-02-05",
                  "https://www.state.gov/x", "official")
    ru = report("Узбекистан и Азербайджан могут стать следующими участниками Соглашений Авраама",
                "2026-02-07", "https://tass.ru/x", "wire")
    # each reported twice, by independent publishers
    twice = [r + [MatchedItem(m.item_id + 5000, "g", m.title, m.url.replace("://", "://other."),
                              m.published, m.seen_at, "other-" + m.host, m.tier, m.match)
                  for m in r] for r in (offer, appeal, call, ru)]
    evs = events(*twice)
    v = evaluate(CFG, evs, at("2026-03-01"))
    assert v.state is WATCHING
    assert all(not v.judgement(e).counts for e in evs)
    assert {v.judgement(e).why_not for e in evs} == {"expected or denied"}
    single = events(report("Rubio calls on Indonesia to join the Abraham Accords", "2026-02-05",
                           "https://apnews.com/r"))
    assert not judge_event(single[0], CFG).counts


def test_a_happening_in_the_grace_period_reported_later_does_not_count() -> None:
    meeting = events(
        report(
            "Kazakh and Israeli ministers sign water agreement",
            "2025-12-02",
            "https://astanatimes.com/x",
            summary="The agreement was signed on November 6 in Astana.",
        ),
        report(
            "Israel and Kazakhstan sign water agreement on November 6",
            "2025-12-02",
            "https://www.timesofisrael.com/y",
        ),
    )
    (ev,) = meeting
    j = judge_event(ev, CFG)
    assert j.happened.isoformat() == "2025-11-06" and j.why_not == "within the grace period"
    assert evaluate(CFG, meeting, at("2026-01-01")).state is WATCHING
    undated = events(report("Kazakh and Israeli ministers sign water agreement", "2025-12-02",
                            "https://astanatimes.com/x"),
                     report("Israel and Kazakhstan sign water agreement", "2025-12-02",
                            "https://www.timesofisrael.com/y"))
    assert evaluate(CFG, undated, at("2026-01-01")).state is FOLLOW_UP


def test_an_official_source_corroborates_on_its_own() -> None:
    (ev,) = events(report("Kazakhstan, US sign critical minerals agreement", "2026-03-02",
                          "https://www.state.gov/kz-minerals", "official"))
    j = judge_event(ev, CFG)
    assert j.counts and j.official and j.corroboration == "an official source"


def test_reasons_come_in_order_and_the_first_is_said() -> None:
    weak = events(report("Kazakhstan", "2026-02-01", "https://a.example/x", "aggregator"))
    assert all(not counts(e, CFG) for e in weak)
    (grace_and_single,) = events(report("Kazakhstan and Israel sign water technology agreement",
                                        "2025-11-07", "https://timesofisrael.com/z"))
    assert judge_event(grace_and_single, CFG).reason is Reason.GRACE     # not "single source"
    (backlash,) = events(report("Protesters rally in Almaty against Abraham Accords", "2026-02-01",
                                "https://rferl.org/p"))
    assert judge_event(backlash, CFG).why_not == "not a follow-up indicator"


def decision(action: str, ev: Event, day: str, by: str = "alice", note: str = "",
             undone: datetime | None = None, n: int = 1) -> Decision:
    return Decision(n, frozenset(m.item_id for m in ev.items), action, by, at(day), note, undone)


def test_an_analyst_confirms_a_candidate_and_it_counts() -> None:
    (single,) = events(report("Kazakhstan and Israel sign water technology agreement", "2026-02-01",
                              "https://www.timesofisrael.com/q"))
    assert states([single], "2026-03-01")["deals"] is WATCHING
    ok = decision("confirm", single, "2026-02-03", note="MFA confirmed by phone")
    v = evaluate(CFG, [single], at("2026-03-01"), decisions=(ok,))
    assert v.tracks[0].state is FOLLOW_UP
    assert v.judgement(single).corroboration == "confirmed by alice"
    assert "1 event on an analyst's confirmation" in v.sentence()


def test_a_dismissed_event_never_counts_and_the_latest_decision_wins() -> None:
    evs = events(DEAL)
    (ev,) = evs
    no = decision("dismiss", ev, "2026-02-01", by="bob", note="a renewal, not new", n=1)
    assert states(evs, "2026-03-01", (no,))["deals"] is WATCHING
    assert judge_event(ev, CFG, (no,)).why_not == "dismissed by bob"
    yes = decision("confirm", ev, "2026-02-02", n=2)
    assert states(evs, "2026-03-01", (no, yes))["deals"] is FOLLOW_UP
    undone = decision("confirm", ev, "2026-02-02", undone=at("2026-02-03"), n=2)
    assert states(evs, "2026-03-01", (no, undone))["deals"] is WATCHING


def test_a_decision_follows_the_reports_as_the_event_grows() -> None:
    first = report("Kazakhstan and Israel sign water technology agreement", "2026-02-01",
                   "https://www.timesofisrael.com/g")
    (small,) = events(first)
    no = decision("dismiss", small, "2026-02-01")
    grown = events(
        first,
        report(
            "Israel, Kazakhstan sign water cooperation agreement",
            "2026-02-02",
            "https://astanatimes.com/g",
        ),
    )
    (big,) = grown
    assert len(big.items) == 2 and event_id(big) == event_id(small)
    assert judge_event(big, CFG, (no,)).reason is Reason.DISMISSED


def test_formalization_is_progress_never_follow_up() -> None:
    signed = events(report("Kazakhstan formally signs Abraham Accords at White House ceremony",
                           "2026-04-02", "https://www.state.gov/kz", "official"))
    bill = events(
        report(
            "Kazakh cabinet approves bill on Abraham Accords accession",
            "2026-05-12",
            "https://astanatimes.com/b",
        ),
        report(
            "Kazakhstan's government approves Abraham Accords accession bill",
            "2026-05-12",
            "https://kazinform.kz/b",
            "wire",
        ),
    )
    court = events(report("Kazakhstan's Constitutional Court approves Abraham Accords accession",
                          "2026-06-20", "https://tengrinews.kz/c"))        # one source: pending
    evs = signed + bill + court
    v = evaluate(CFG, evs, at("2026-07-01"))
    assert v.state is WARN and all(t.state is WARN for t in v.tracks)
    f = v.formalization
    assert f is not None and f.stage is not None and f.stage.id == "submitted"
    assert f.phrase() == ("accession submitted to parliament, not yet cleared by the "
                          "Constitutional Council")
    assert [j.event for j in f.pending] == court
    assert v.judgement(signed[0]).why_not == "formalization (completes the baseline)"
    assert (evaluate(CFG, signed, at("2026-04-01")).formalization.phrase()
            == "accession announced, not yet signed")
    assert evaluate(CFG, signed, at("2026-04-02")).formalization.phrase() == \
        "accession signed, not yet submitted to parliament"
    mazhilis = events(report("Мажилис ратифицировал присоединение Казахстана к Соглашениям Авраама",
                             "2026-08-01", "https://www.akorda.kz/m", "official"))
    assert evaluate(CFG, evs + mazhilis, at("2026-08-02")).formalization.phrase() == \
        "accession passed by the Mazhilis, not yet ratified"
    ratified = events(report("Kazakh Senate ratifies accession to Abraham Accords", "2026-09-01",
                             "https://www.akorda.kz/r", "official"))
    assert (evaluate(CFG, evs + ratified, at("2026-09-02")).formalization.phrase()
            == "accession ratified")


def test_files_without_tracks_have_one_track_holding_follow_up() -> None:
    mini = load_config(ROOT / "tests" / "fixtures" / "mini.yaml")
    assert [(t.id, t.indicators) for t in mini.tracks] == [
        ("follow-up", ["expansion", "kz_israel_deal"])]
    v = evaluate(mini, [], at("2026-01-15"))
    assert len(v.tracks) == 1 and v.sentence().startswith("WATCHING: no measurable follow-up yet")


def test_counts_gives_the_verdicts_answer_for_a_deal_that_is_the_accession_itself() -> None:
    """criterion.counts() and evaluate() are one rule: reports a formalization indicator also
    matched make a deal event complete the baseline in both (issue 14)."""
    evs = events(report("Kazakhstan and Israel sign water technology agreement", "2026-03-01",
                        "https://www.reuters.com/w", "wire"),
                 report("Kazakhstan, Israel sign water technology agreement", "2026-03-01",
                        "https://apnews.com/w"))
    (deal,) = evs
    signing = Event("signing_ceremony", deal.items, deal.score, deal.independent)
    v = evaluate(CFG, [deal, signing], at("2026-04-01"))
    assert v.judgement(deal).why_not == "formalization (completes the baseline)"
    assert counts(deal, CFG, others=[signing]) is False
    assert counts(deal, CFG) is evaluate(CFG, [deal], at("2026-04-01")).judgement(deal).counts

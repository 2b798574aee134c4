"""The 6–12 month criterion on dates before, inside and after the window; events and scores."""

from __future__ import annotations

from tests.conftest import ROOT, at
from watcher.config import parse_config
from watcher.judge.criterion import add_months, evaluate
from watcher.judge.events import cluster, host_of
from watcher.judge.match import Matcher
from watcher.judge.score import score_events
from watcher.models import CriterionState, Match, MatchedItem

CFG = parse_config((ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8"))
M = Matcher(CFG)


def item(n: int, title: str, day: str, url: str, tier: str = "outlet") -> list[MatchedItem]:
    return [MatchedItem(n, "f", title, url, at(day), at(day), host_of(url), tier, m)
            for m in M.match(title)]


def events(*items: list[MatchedItem]) -> list:  # type: ignore[type-arg]
    return score_events(cluster([m for group in items for m in group]), CFG)


STRONG = (item(1, "Azerbaijan joins the Abraham Accords", "2026-02-10",
                "https://reuters.com/a", "wire")
          + item(2, "Azerbaijan formally joins Abraham Accords", "2026-02-11",
                 "https://apnews.com/b"))


def test_watching_inside_the_window_without_follow_up() -> None:
    v = evaluate(CFG, [], at("2026-01-15"))
    assert v.state is CriterionState.WATCHING
    assert v.days_since_baseline == 70 and v.days_to_warn == 111
    assert "WATCHING" in v.sentence() and "111 days to the 6-month warning" in v.sentence()


def test_warn_after_six_months_and_high_water_after_twelve() -> None:
    assert evaluate(CFG, [], at("2026-05-05")).state is CriterionState.WATCHING
    assert evaluate(CFG, [], at("2026-05-06")).state is CriterionState.WARN
    assert evaluate(CFG, [], at("2026-11-05T23:59")).state is CriterionState.WARN
    hw = evaluate(CFG, [], at("2026-11-06"))
    assert hw.state is CriterionState.HIGH_WATER and "high-water" in hw.sentence()


def test_corroborated_confirmed_follow_up_counts_and_is_named() -> None:
    evs = events(STRONG)
    assert len(evs) == 1 and evs[0].sources == ["apnews.com", "reuters.com"]
    v = evaluate(CFG, evs, at("2026-03-01"))
    assert v.state is CriterionState.FOLLOW_UP
    assert v.counting_event is evs[0] and "Azerbaijan" in v.sentence()
    # the follow-up keeps counting after the deadlines pass
    assert evaluate(CFG, evs, at("2027-01-01")).state is CriterionState.FOLLOW_UP


def test_follow_up_is_not_seen_before_it_happened() -> None:
    assert evaluate(CFG, events(STRONG), at("2026-02-01")).state is CriterionState.WATCHING


def test_follow_up_after_the_window_does_not_undo_high_water() -> None:
    late = item(
        1, "Azerbaijan joins the Abraham Accords", "2026-12-01", "https://reuters.com/a", "wire"
    )
    assert evaluate(CFG, events(late + late), at("2027-01-01")).state is CriterionState.HIGH_WATER


def test_expected_denied_and_non_counting_indicators_do_not_count() -> None:
    talks = item(
        1,
        "Azerbaijan in talks to join the Abraham Accords",
        "2026-02-10",
        "https://reuters.com/a",
        "wire",
    )
    denial = item(
        2,
        "Indonesia says it will not join the Abraham Accords",
        "2026-02-10",
        "https://bbc.co.uk/x",
        "wire",
    )
    protest = item(
        3, "Protest in Almaty over Abraham Accords", "2026-02-10", "https://rferl.org/p", "wire"
    )
    v = evaluate(CFG, events(talks, denial, protest), at("2026-03-01"))
    assert v.state is CriterionState.WATCHING


def test_a_single_weak_aggregator_report_is_below_the_threshold() -> None:
    weak = item(1, "Azerbaijan", "2026-02-10", "https://news.google.com/x", "aggregator")
    weak = [m for m in weak] + item(
        2, "Azerbaijan", "2026-02-10", "https://news.google.com/y", "aggregator"
    )
    assert evaluate(CFG, events(weak), at("2026-03-01")).state is CriterionState.WATCHING


def test_syndicated_copies_count_as_one_source() -> None:
    copies = [m for n in range(10) for m in item(n, "Kazakhstan and Israel sign water agreement",
                                                "2026-02-10", f"https://www.reuters.com/{n}")]
    two = (item(20, "Kazakhstan and Israel sign water agreement", "2026-02-10", "https://reuters.com/a")
           + item(21, "Israel and Kazakhstan sign water deal", "2026-02-11", "https://timesofisrael.com/b"))
    (syndicated,) = events(copies)
    (independent,) = events(two)
    assert len(syndicated.sources) == 1 and len(independent.sources) == 2
    assert independent.score > syndicated.score


def test_different_happenings_stay_separate_events() -> None:
    evs = events(item(1, "Kazakhstan and Israel sign water agreement", "2026-02-10", "https://a.com/1"),
                 item(2, "Kazakhstan and Israel sign cybersecurity memorandum", "2026-06-10", "https://b.com/2"))
    assert len(evs) == 2


def test_add_months_clamps_to_month_end() -> None:
    assert add_months(at("2025-08-31"), 6) == at("2026-02-28")
    assert add_months(at("2025-11-06"), 12) == at("2026-11-06")


def test_host_of_groups_subdomains_by_publisher() -> None:
    assert host_of("https://news.bbc.co.uk/a") == "bbc.co.uk"
    assert host_of("https://www.reuters.com/x") == host_of("https://reuters.com/y")


def test_a_denial_never_joins_a_report_that_it_happened() -> None:
    evs = events(item(1, "Azerbaijan joins the Abraham Accords", "2026-02-10", "https://a.com/1"),
                 item(2, "Azerbaijan will not join the Abraham Accords", "2026-02-11", "https://b.com/2"))
    assert sorted(e.certainty.value for e in evs) == ["confirmed", "denied"]


def test_a_widely_reported_denial_still_does_not_count() -> None:
    wording = [
        "Azerbaijan will not join the Abraham Accords",
        "Baku will not join Abraham Accords, Azerbaijan says",
        "Azerbaijan says it will not join Abraham Accords",
        "Azerbaijan: we will not join the Abraham Accords",
        "Azerbaijan will not join Abraham Accords, Aliyev aide says",
        "Aliyev: Azerbaijan will not join the Abraham Accords",
    ]
    denial = [m for n, title in enumerate(wording)
              for m in item(n, title, "2026-02-10", f"https://outlet{n}.com/x", "official")]
    (ev,) = events(denial)
    assert ev.score >= CFG.criterion.threshold and len(ev.sources) == 6
    assert evaluate(CFG, [ev], at("2026-03-01")).state is CriterionState.WATCHING


def test_balance_puts_denials_on_the_stall_side_with_the_strongest_items() -> None:
    from watcher.report.balance import balance_of
    evs = events(
        STRONG,
        item(
            3,
            "Indonesia says it will not join the Abraham Accords",
            "2026-02-12",
            "https://bbc.co.uk/x",
            "wire",
        ),
        item(4, "Protest in Almaty over Abraham Accords", "2026-02-13", "https://rferl.org/p"),
        item(5, "Azerbaijan joins the Abraham Accords", "2025-10-01", "https://old.com/x"),
    )  # before the baseline
    b = balance_of(evs, CFG, at("2026-03-01"))
    assert (b.momentum.events, b.stall.events, b.stall.denials) == (1, 2, 1)
    assert sorted(x.certainty for x in b.stall.strongest) == ["confirmed", "denied"]
    assert (
        b.momentum.strongest[0].title.startswith("Azerbaijan") and b.momentum.score == evs[0].score
    )
    assert "stall 2 event(s)" in b.sentence() and "1 of them denials" in b.sentence()


def test_balance_counts_one_happening_once_across_indicators() -> None:
    from watcher.report.balance import balance_of
    both = item(1, "Protest in Almaty as Azerbaijan joins the Abraham Accords", "2026-02-10", "https://a.com/1")
    assert {m.match.indicator for m in both} == {"new_signatory", "domestic_backlash"}
    b = balance_of(events(both), CFG, at("2026-03-01"))
    assert b.momentum.events == 1 and b.stall.events == 1  # different sides: both shown
    twice = [
        MatchedItem(
            m.item_id,
            m.feed_id,
            m.title,
            m.url,
            m.published,
            m.seen_at,
            m.host,
            m.tier,
            Match("kz_israel_deal", m.match.strength, m.match.certainty, m.match.hits),
        )
        for m in item(2, "Azerbaijan joins the Abraham Accords", "2026-02-10", "https://b.com/2")
    ]
    b = balance_of(
        events(
            item(2, "Azerbaijan joins the Abraham Accords", "2026-02-10", "https://b.com/2"), twice
        ),
        CFG,
        at("2026-03-01"),
    )
    assert b.momentum.events == 1                               # same reports under two indicators


def test_what_the_baseline_occasion_announced_does_not_count_as_follow_up() -> None:
    """Deals announced at the summit where the accession was announced are the baseline."""
    grace = CFG.model_copy(
        update={"criterion": CFG.criterion.model_copy(update={"baseline_grace": "3d"})}
    )
    summit = (item(1, "Azerbaijan joins the Abraham Accords", "2025-11-07",
                    "https://reuters.com/a", "wire")
              + item(2, "Azerbaijan formally joins Abraham Accords", "2025-11-07",
                     "https://apnews.com/b"))
    evs = score_events(cluster(summit), grace)
    assert evaluate(CFG, evs, at("2026-01-01")).state is CriterionState.FOLLOW_UP   # no grace
    assert evaluate(grace, evs, at("2026-01-01")).state is CriterionState.WATCHING
    later = events(STRONG)                                                          # Feb 2026
    v = evaluate(grace, evs + later, at("2026-03-01"))
    assert v.state is CriterionState.FOLLOW_UP and v.counting_event is later[0]

"""The classes of mistakes the first blind replay found in what counted (issue 12), each on
invented headlines of its class in several languages: what must not count, what still must.
Pure: the shipped rules, matched, grouped and judged."""

from __future__ import annotations

from tests.test_tracks import CFG, M, events, report
from watcher.judge.criterion import evaluate
from watcher.models import Certainty, CriterionState, MatchedItem, Reason

JULY = CFG.baseline_at.replace(year=2026, month=7)


def twice(title: str, day: str, summary: str = "", tier: str = "outlet") -> list[MatchedItem]:
    """One headline from two independent publishers."""
    return (report(title, day, "https://apnews.com/" + day, tier, summary or "AP reports.")
            + report(title, day, "https://www.reuters.com/" + day, tier, summary or "Reuters says so."))


def indicators(title: str, summary: str = "") -> dict[str, Certainty]:
    return {m.indicator: m.certainty for m in M.match(title, summary)}


# --- class 2: formalization is not a deal ------------------------------------------------------

def test_the_accession_signed_with_israel_and_the_us_named_counts_on_no_track() -> None:
    evs = events(twice("Kazakhstan and Israel sign joint declaration as Astana formally joins "
                       "Abraham Accords", "2026-04-02"))
    assert {e.indicator for e in evs} == {"signing_ceremony", "kz_israel_deal"}
    v = evaluate(CFG, evs, JULY)
    assert all(t.state is CriterionState.WARN and not t.candidates for t in v.tracks)
    deal = next(v.judgement(e) for e in evs if e.indicator == "kz_israel_deal")
    assert deal is not None and deal.reason is Reason.FORMALIZATION
    assert v.formalization is not None and v.formalization.stage is not None
    assert v.formalization.stage.id == "signed"
    # a real deal beside it still counts
    water = events(twice("Kazakhstan and Israel sign water technology agreement", "2026-04-20"))
    assert evaluate(CFG, evs + water, JULY).tracks[0].state is CriterionState.FOLLOW_UP


def test_the_accessions_papers_are_no_deal_in_any_language() -> None:
    for title in ("Kazakhstan, US sign memorandum on Abraham Accords accession",
                  "Kazakhstan and Israel sign accession agreement at White House",
                  "Казахстан и Израиль подписали документ о присоединении Астаны к Соглашениям Авраама",
                  "Qazaxıstan və İsrail İbrahim Sazişlərinə qoşulma bəyannaməsini imzalayıb",
                  "哈萨克斯坦与美国签署加入亚伯拉罕协议的声明",
                  "קזחסטן וישראל חתמו על הצהרת ההצטרפות להסכמי אברהם"):
        found = indicators(title)
        assert not {"kz_israel_deal", "kz_us_deal", "agreement_content"} & set(found), title

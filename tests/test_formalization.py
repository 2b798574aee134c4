"""The accession's progress line (issue 12, class 1 of the blind replay): a step is reached only
by a confirmed report of the act done, by the reports that report it, and a step reported out
of order needs stronger evidence. Pure."""

from __future__ import annotations

import pytest

from tests.test_tracks import CFG, decision, events, report
from watcher.judge.counting import judge_event
from watcher.judge.criterion import evaluate
from watcher.judge.formalization import stage_rule
from watcher.models import Event, MatchedItem, Reason

SIGNED = events(
    report(
        "Kazakhstan formally signs Abraham Accords at White House ceremony",
        "2026-04-02",
        "https://www.state.gov/kz",
        "official",
    )
)


def twice(title: str, day: str, summary: str = "") -> list[MatchedItem]:
    """One headline from two independent outlets (a wire and a paper)."""
    return report(
        title, day, "https://apnews.com/" + day, summary=summary or "AP reports."
    ) + report(title, day, "https://www.reuters.com/" + day, "wire", summary or "Reuters says so.")


def stage_of(evs: list[Event]) -> str | None:
    (ev,) = [e for e in evs if e.indicator == "ratification"]
    return judge_event(ev, CFG, (), stage_rule(CFG)).stage


@pytest.mark.parametrize(
    ("title", "stage"),
    [
        # the act done, by the body that did it
        ("Kazakh government submits Abraham Accords ratification bill to parliament", "submitted"),
        (
            "Законопроект о ратификации присоединения к Соглашениям Авраама внесен в Мажилис",
            "submitted",
        ),
        (
            "Top court clears way for Kazakhstan's Abraham Accords ratification vote",
            "constitutional_council",
        ),
        (
            "Конституциялық сот: Авраам келісімдеріне қосылу Ата Заңға сәйкес келеді",
            "constitutional_council",
        ),
        ("Мажилис ратифицировал присоединение Казахстана к Соглашениям Авраама", "mazhilis"),
        ("哈萨克斯坦议会下院批准加入《亚伯拉罕协议》", "mazhilis"),
        ("Mazhilis votes to ratify Kazakhstan's accession to the Abraham Accords", "mazhilis"),
        ("Kazak Senatosu İbrahim Anlaşmaları'na katılımı onayladı", "ratified"),
        ("Tokayev signs law on Kazakhstan's accession to Abraham Accords", "ratified"),
        ("Kazakhstan completes ratification of Abraham Accords accession", "ratified"),
        ("Казахстан завершил ратификацию присоединения к Соглашениям Авраама", "ratified"),
        # mentions: a prospect, a petition, a promise, a declaration's draft
        ("Tokayev: ratification of Abraham Accords accession will come in due time", None),
        ("Petition against Abraham Accords ratification gathers signatures in Kazakhstan", None),
        ("Kazakh government approved the draft declaration on joining the Abraham Accords", None),
        ("Kazakh Senate to ratify Abraham Accords accession next week, speaker says", None),
        ("Мажилис рассмотрит ратификацию присоединения Казахстана к Соглашениям Авраама", None),
        ("Kazakistan Senatosu İbrahim Anlaşmaları'nı onaylayacak", None),
        ("Kazakh senators call for Abraham Accords ratification vote", None),
    ],
)
def test_a_step_is_reached_only_by_a_report_of_the_act_done(title: str, stage: str | None) -> None:
    evs = events(twice(title, "2026-06-10"))
    if stage is None and not any(e.indicator == "ratification" for e in evs):
        return  # not even a ratification report: nothing to reach
    assert stage_of(evs) == stage


def test_a_mention_reaches_no_step_and_waits_for_nobody() -> None:
    evs = SIGNED + events(
        twice(
            "Tokayev: ratification of Abraham Accords accession will come in due time", "2026-06-10"
        ),
        twice(
            "Kazakh government approved the draft declaration on joining the Abraham Accords",
            "2026-06-12",
        ),
    )
    f = evaluate(CFG, evs, CFG.baseline_at.replace(year=2026, month=7)).formalization
    assert f is not None and f.stage is not None and f.stage.id == "signed" and f.pending == ()
    assert f.reached_by() == f"signed on 02 Apr 2026 ({f.stage.evidence[0].id}: an official source)"


def test_only_the_reports_of_the_act_corroborate_it() -> None:
    (ev,) = events(
        report(
            "Kazakh Senate ratifies Abraham Accords accession", "2026-06-10", "https://apnews.com/s"
        ),
        report(
            "Kazakh Senate debates Abraham Accords accession ratification",
            "2026-06-10",
            "https://www.reuters.com/s",
            "wire",
        ),
    )
    assert len(ev.items) == 2
    j = judge_event(ev, CFG, (), stage_rule(CFG))
    assert j.stage == "ratified" and j.sources == 1 and j.candidate


def test_a_step_out_of_order_needs_stronger_evidence() -> None:
    senate = twice("Kazakh Senate ratifies accession to Abraham Accords", "2026-06-10")
    late = SIGNED + events(senate)
    v = evaluate(CFG, late, CFG.baseline_at.replace(year=2026, month=7))
    f = v.formalization
    assert f is not None and f.stage is not None and f.stage.id == "signed"  # no Mazhilis vote seen
    (waiting,) = f.pending
    assert (
        waiting.reason is Reason.OUT_OF_ORDER
        and waiting.why_not == "a step out of order awaiting review"
    )
    assert waiting.stage == "ratified" and waiting.candidate
    # a third independent source, an official one, or an analyst's confirmation is enough
    third = events(
        senate
        + report(
            "Kazakh Senate ratifies accession to Abraham Accords",
            "2026-06-10",
            "https://tass.com/s",
            "wire",
            "TASS too.",
        )
    )
    official = events(
        senate
        + report(
            "Kazakh Senate ratifies accession to Abraham Accords",
            "2026-06-10",
            "https://www.akorda.kz/s",
            "official",
            "The President's office.",
        )
    )
    (ev,) = events(senate)
    ok = (decision("confirm", ev, "2026-06-11"),)
    for evs, decisions in ((third, ()), (official, ()), (events(senate), ok)):
        f = evaluate(
            CFG, SIGNED + evs, CFG.baseline_at.replace(year=2026, month=7), decisions=decisions
        ).formalization
        assert f is not None and f.stage is not None and f.stage.id == "ratified", decisions
    # once an earlier step of the ratification is seen (the bill), two sources are enough
    bill = events(
        twice(
            "Kazakh government submits Abraham Accords ratification bill to Mazhilis", "2026-05-05"
        )
    )
    mazhilis = events(
        twice("Мажилис ратифицировал присоединение Казахстана к Соглашениям Авраама", "2026-05-20")
    )
    f = evaluate(CFG, late + mazhilis, CFG.baseline_at.replace(year=2026, month=7)).formalization
    assert f is not None and f.stage is not None and f.stage.id == "signed" and len(f.pending) == 2
    f = evaluate(
        CFG, late + mazhilis + bill, CFG.baseline_at.replace(year=2026, month=7)
    ).formalization
    assert f is not None and f.stage is not None and f.stage.id == "ratified" and f.pending == ()
    assert [s.reached.isoformat() if s.reached else None for s in f.stages] == [
        "2025-11-06",
        "2026-04-02",
        "2026-05-05",
        None,
        "2026-05-20",
        "2026-06-10",
    ]

"""The second blind replay's classes of mistakes in what counted (issue 12, classes 9-11): a
proposal or a setback, the future in headline-ese, a visit or a review were read as the step
done. Each on invented headlines of its class in several languages: what must not count on any
track (expected, with its reason), and the act nearby that still must. Pure: the shipped rules,
matched, grouped and judged."""

from __future__ import annotations

from tests.test_counting_classes import JULY, indicators, twice
from tests.test_tracks import CFG, events
from watcher.judge.criterion import evaluate
from watcher.models import Certainty, CriterionState, Reason


def assert_counts_nowhere(titles: list[str], indicator: str) -> None:
    """Each headline matches `indicator` as expected; reported twice each, no track moves and
    no candidate waits; each event says why ('expected or denied')."""
    for title in titles:
        found = indicators(title)
        assert found.get(indicator) is Certainty.EXPECTED, (title, found)
    evs = events(*[twice(t, f"2026-03-{n + 2:02d}") for n, t in enumerate(titles)])
    v = evaluate(CFG, evs, JULY)
    assert all(t.state is CriterionState.WARN and not t.candidates for t in v.tracks), [
        (t.id, t.state) for t in v.tracks]
    for e in evs:
        j = v.judgement(e)
        assert j is not None and j.reason is Reason.UNCONFIRMED, (e.lead.title, j)


def assert_acts(titles: list[str], indicator: str) -> None:
    for title in titles:
        found = indicators(title)
        assert found.get(indicator) is Certainty.CONFIRMED, (title, found)


# --- class 9: a proposal or a setback is not progress --------------------------------------------

PROPOSALS_AND_SETBACKS = [
    "China circulates alternative draft on Gaza stabilization force at UN Security Council",
    "Франция распространила в Совбезе ООН проект резолюции о силах стабилизации в Газе",
    "US vetoes Security Council resolution on Gaza stabilization force",
    "Gaza ceasefire second phase collapses as mediators leave Cairo",
    "Board of Peace reconstruction plan for Gaza shelved",
    "Gaza truce talks end without agreement",
    "Rusya, Gazze istikrar gücü için alternatif karar tasarısı sundu",
    "مشروع قرار روسي بشأن قوة الاستقرار الدولية في غزة",
    "רוסיה הטילה וטו על ההחלטה על כוח הייצוב בעזה",
    "俄罗斯否决安理会关于加沙国际稳定部队的决议",
    "Qəzzada atəşkəsin ikinci mərhələsi uğursuz oldu",
    "Газа бойынша халықаралық тұрақтандыру күштері туралы қарар жобасы бұғатталды",
    "Fracasa la segunda fase del alto el fuego en Gaza",
    "G'azoda o't ochishni to'xtatish bo'yicha rezolyutsiya loyihasi muvaffaqiyatsiz tugadi",
    "آمریکا قطعنامه نیروی ثبات بین‌المللی در غزه را وتو کرد",
]
ADOPTED = [
    "UN Security Council adopts US draft resolution on Gaza stabilization force",
    "Совбез ООН принял проект резолюции о силах стабилизации в Газе",
    "安理会通过决议草案 支持在加沙部署国际稳定部队",
    "BM Güvenlik Konseyi Gazze istikrar gücü karar tasarısını kabul etti",
    "מועצת הביטחון אישרה את הצעת ההחלטה על כוח הייצוב בעזה",
]


def test_a_proposal_or_a_setback_counts_on_no_track_in_any_language() -> None:
    assert_counts_nowhere(PROPOSALS_AND_SETBACKS, "israel_palestine_progress")


def test_the_draft_adopted_is_the_step_and_counts() -> None:
    assert_acts(ADOPTED, "israel_palestine_progress")
    v = evaluate(CFG, events(twice(ADOPTED[0], "2026-03-02")), JULY)
    assert v.tracks[2].state is CriterionState.FOLLOW_UP
    # a draft law is the accession's bill, not a proposal: the cabinet's approval is its step
    assert indicators("Kazakh government approves draft law on joining Abraham Accords") == {
        "ratification": Certainty.CONFIRMED}


# --- class 10: the future in headline-ese and nearness -------------------------------------------

FUTURE_AND_NEAR = [
    ("Mauritania joins Abraham Accords next week, US official says", "new_signatory"),
    ("Мавритания присоединяется к Соглашениям Авраама на следующей неделе", "new_signatory"),
    ("Moritanya önümüzdeki hafta İbrahim Anlaşmaları'na katılıyor", "new_signatory"),
    ("אזרבייג'ן מצטרפת להסכמי אברהם בשבוע הבא", "new_signatory"),
    ("阿塞拜疆下周加入亚伯拉罕协议", "new_signatory"),
    ("أذربيجان تنضم إلى اتفاقيات إبراهيم الأسبوع المقبل", "new_signatory"),
    ("آذربایجان هفته آینده به پیمان ابراهیم می‌پیوندد", "new_signatory"),
    ("Azərbaycan gələn həftə İbrahim Sazişlərinə qoşulur", "new_signatory"),
    ("Azerbaiyán se une a los Acuerdos de Abraham la próxima semana", "new_signatory"),
    ("Ozarbayjon kelasi hafta Ibrohim kelishuvlariga qo'shilmoqda", "new_signatory"),
    ("Озарбайжон келаси ҳафта Иброҳим келишувларига қўшилмоқда", "new_signatory"),
    ("Azerbaijan's accession to the Abraham Accords 'a matter of weeks'", "new_signatory"),
    ("Kazakhstan and Israel close to signing water agreement", "kz_israel_deal"),
    ("Kazakh-Israeli water agreement nearly finalized", "kz_israel_deal"),
    ("Kazakhstan-US minerals deal nearly complete", "kz_us_deal"),
    ("Соглашение Казахстана и Израиля о водных технологиях на завершающей стадии",
     "kz_israel_deal"),
    ("Breakthrough near on Gaza ceasefire second phase", "israel_palestine_progress"),
]


def test_the_future_in_headline_ese_and_nearness_count_on_no_track() -> None:
    for indicator in dict.fromkeys(i for _, i in FUTURE_AND_NEAR):
        assert_counts_nowhere([t for t, i in FUTURE_AND_NEAR if i == indicator], indicator)


def test_the_act_reported_done_stays_confirmed_beside_a_date_to_come() -> None:
    assert_acts(["Azerbaijan becomes the fourth country to join the Abraham Accords",
                 "Azerbaijan becomes the latest country to join the Abraham Accords",
                 "Azərbaycan İbrahim Sazişlərinə qoşuldu", "阿塞拜疆加入亚伯拉罕协议"],
                "new_signatory")
    # a deal signed for a plant to open next year is signed (a far date is no cue)
    assert_acts(["Kazakhstan and Israel sign water deal for desalination plant to open next year"],
                "kz_israel_deal")

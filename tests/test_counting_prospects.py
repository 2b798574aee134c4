"""The second blind replay's classes of mistakes in what counted (issue 12, classes 9-11): a
proposal or a setback, the future in headline-ese, a visit or a review were read as the step
done. Each on invented headlines of its class in several languages: what must not count on any
track (expected, with its reason), and the act nearby that still must. Pure: the shipped rules,
matched, grouped and judged."""

from __future__ import annotations

import pytest

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


# --- class 9: a proposal or a setback is not progress --------------------------------------------

PROPOSALS_AND_SETBACKS = [(t, "israel_palestine_progress") for t in [
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
]]
ADOPTED = [(t, "israel_palestine_progress") for t in [
    "UN Security Council adopts US draft resolution on Gaza stabilization force",
    "Совбез ООН принял проект резолюции о силах стабилизации в Газе",
    "安理会通过决议草案 支持在加沙部署国际稳定部队",
    "BM Güvenlik Konseyi Gazze istikrar gücü karar tasarısını kabul etti",
    "מועצת הביטחון אישרה את הצעת ההחלטה על כוח הייצוב בעזה",
]]


def test_the_draft_adopted_is_the_step_and_counts() -> None:
    v = evaluate(CFG, events(twice(ADOPTED[0][0], "2026-03-02")), JULY)
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
    # a short clause beside the claim says when ("…: a matter of weeks")
    ("Azerbaijan's accession to the Abraham Accords: a matter of weeks", "new_signatory"),
    ("הצטרפות אזרבייג'ן להסכמי אברהם: עניין של חודשים", "new_signatory"),
    ("Kazakhstan and Israel close to signing water agreement", "kz_israel_deal"),
    ("Kazakh-Israeli water agreement nearly finalized", "kz_israel_deal"),
    ("Kazakhstan-US minerals deal nearly complete", "kz_us_deal"),
    ("Соглашение Казахстана и Израиля о водных технологиях на завершающей стадии",
     "kz_israel_deal"),
    ("Breakthrough near on Gaza ceasefire second phase", "israel_palestine_progress"),
]


JOINED_OR_SIGNED = [
    ("Azerbaijan becomes the fourth country to join the Abraham Accords", "new_signatory"),
    ("Azerbaijan becomes the latest country to join the Abraham Accords", "new_signatory"),
    ("Azərbaycan İbrahim Sazişlərinə qoşuldu", "new_signatory"),
    ("阿塞拜疆加入亚伯拉罕协议", "new_signatory"),
    # a signed deal's short tail is no doubt about it, nor is another state's prospect
    ("Kazakhstan and Israel sign water deal – more could follow", "kz_israel_deal"),
    ("Kazakhstan and Israel sign water deal; Uzbekistan could follow", "kz_israel_deal"),
    ("Kazakhstan and Israel sign water deal - Reuters", "kz_israel_deal"),
    # a deal signed for a plant to open next year is signed (a far date is no cue)
    ("Kazakhstan and Israel sign water deal for desalination plant to open next year",
     "kz_israel_deal"),
]


# --- class 11: a visit or a review that produces no signed text is not a deal --------------------

VISITS_AND_REVIEWS = [
    ("DFC delegation visits Kazakh lithium mine", "dfc_project"),
    ("Kazakh tungsten project under consideration at DFC, chief says after Astana trip",
     "dfc_project"),
    ("Делегация DFC посетила казахстанское месторождение лития", "dfc_project"),
    ("DFC heyeti Astana'yı ziyaret etti, Kazak projeleri inceleniyor", "dfc_project"),
    ("DFC nümayəndə heyəti Qazaxıstana səfər edib", "dfc_project"),
    ("DFC басшысы Астанаға сапармен келді", "dfc_project"),
    ("DFC rahbari Qozog'istonga tashrif buyurdi", "dfc_project"),
    ("DFC раҳбари Қозоғистонга ташриф буюрди", "dfc_project"),
    ("美国国际开发金融公司代表团访问哈萨克斯坦锂矿项目", "dfc_project"),
    ("هیئت DFC از پروژه لیتیوم قزاقستان بازدید کرد", "dfc_project"),
    ("La DFC visita Astaná y revisa proyectos kazajos", "dfc_project"),
    ("US commerce envoy reviews progress on Kazakhstan minerals deals", "kz_us_deal"),
    ("Kazakh-Israeli water agreement being prepared, ministry says", "kz_israel_deal"),
    ("משלחת ישראלית ביקרה בקזחסטן לבחינת הסכם מים", "kz_israel_deal"),
]


SIGNED_ON_A_VISIT = [
    ("DFC signs $100m loan for Kazakh lithium project", "dfc_project"),
    ("DFC chief visits Astana, signs $100m loan for lithium project", "dfc_project"),
    ("Глава DFC посетил Астану и подписал кредитное соглашение", "dfc_project"),
    ("Kazakhstan and Israel sign water deal during Tokayev's visit", "kz_israel_deal"),
    ("Тоқаев сапары барысында Қазақстан мен Израиль су келісіміне қол қойды", "kz_israel_deal"),
]


def test_a_visit_that_signs_counts() -> None:
    v = evaluate(CFG, events(twice("DFC chief visits Astana, signs $100m loan for lithium project",
                                   "2026-03-02")), JULY)
    assert v.tracks[0].state is CriterionState.FOLLOW_UP
    # a court that reviewed the accession and found it consistent has ruled
    assert indicators("Kazakhstan's Constitutional Court reviewed the Abraham Accords accession, "
                      "found it constitutional").get("ratification") is Certainty.CONFIRMED


# --- each class: what must count nowhere, and the act nearby that must stay confirmed ----------

NOT_THE_ACT = {"9 proposal or setback": PROPOSALS_AND_SETBACKS,
               "10 future or nearness": FUTURE_AND_NEAR,
               "11 visit or review": VISITS_AND_REVIEWS}
THE_ACT = {"9 adopted": ADOPTED, "10 joined or signed": JOINED_OR_SIGNED,
           "11 signed on a visit": SIGNED_ON_A_VISIT}


@pytest.mark.parametrize("cls", NOT_THE_ACT)
def test_each_class_counts_on_no_track_in_any_language(cls: str) -> None:
    pairs = NOT_THE_ACT[cls]
    for indicator in dict.fromkeys(i for _, i in pairs):
        assert_counts_nowhere([t for t, i in pairs if i == indicator], indicator)


@pytest.mark.parametrize("cls", THE_ACT)
def test_the_act_nearby_stays_confirmed(cls: str) -> None:
    for title, indicator in THE_ACT[cls]:
        found = indicators(title)
        assert found.get(indicator) is Certainty.CONFIRMED, (title, found)

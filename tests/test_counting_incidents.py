"""The fourth blind replay's classes of mistakes in what counted (issue 12, classes 14-16): a
state negotiating a move, a proposal presented, and an incident around a force were read as
the step done ("Scoop: Azerbaijan in talks to join Abraham Accords, officials say" flipped the
signatories track; "Clashes near Khan Younis test new Gaza stabilization force" counted as
diplomatic progress). Each on invented headlines of its class in several languages: what must
not count on any track, and the act nearby that still must. Pure: the shipped rules, matched,
grouped and judged."""

from __future__ import annotations

import pytest

from tests.test_counting_classes import indicators
from tests.test_counting_prospects import assert_counts_nowhere
from watcher.models import Certainty

# --- class 14: negotiating a move is not the move ------------------------------------------------

NEGOTIATING = [
    "Scoop: Azerbaijan in talks to join Abraham Accords, officials say",
    "Azerbaijan negotiates accession to Abraham Accords",
    "Azerbaijan negotiating Abraham Accords entry with Washington",
    "СМИ: Азербайджан договаривается о присоединении к Соглашениям Авраама",
    "Азербайджан ведёт переговоры о вступлении в Соглашения Авраама",
    "Azerbaycan İbrahim Anlaşmaları'na katılım için müzakere ediyor",
    "Azərbaycan İbrahim Sazişlərinə qoşulmaq üçün danışıqlar aparır",
    "Ozarbayjon Ibrohim kelishuvlariga qo'shilish bo'yicha muzokaralar olib bormoqda",
    "Озарбайжон Иброҳим келишувларига қўшилиш бўйича музокаралар олиб бормоқда",
    "آذربایجان درباره پیوستن به پیمان ابراهیم مذاکره می‌کند",
    "أذربيجان تتفاوض للانضمام إلى اتفاقيات أبراهام",
    "אזרבייג'ן מנהלת משא ומתן להצטרפות להסכמי אברהם",
    "阿塞拜疆正在商谈加入亚伯拉罕协议",
    "Azerbaiyán negocia su adhesión a los Acuerdos de Abraham",
]

# The act itself, beside the negotiation verbs' languages, still counts. (A joining headline that
# also names the talks before it, "joins … after months of negotiations", stays expected: talk
# nouns are expectations since issue 12's class 3, not prospects.)
JOINED = [
    "Azerbaijan joins the Abraham Accords, officials say",
    "Азербайджан присоединился к Соглашениям Авраама",
    "أذربيجان تنضم إلى اتفاقيات إبراهيم",
    "אזרבייג'ן הצטרפה להסכמי אברהם",
    "阿塞拜疆正式加入亚伯拉罕协议",
    "Azerbaiyán se une a los Acuerdos de Abraham",
]


def test_negotiating_a_move_counts_on_no_track_in_any_language() -> None:
    assert_counts_nowhere(NEGOTIATING, "new_signatory")





# --- class 15: a proposal presented is not the step ----------------------------------------------

PROPOSALS = [
    "Mediators present new proposal to unlock Gaza phase two",
    "Egypt tables plan for Gaza second phase",
    "US unveils plan for Gaza stabilization force deployment",
    "Посредники внесли план по второй фазе прекращения огня в Газе",
    "Arabulucular Gazze'de ikinci aşama için yeni plan sundu",
    "Vasitəçilər Qəzzada ikinci mərhələ üçün yeni plan təqdim etdi",
    "Vositachilar G'azoda ikkinchi bosqich uchun yangi reja taqdim etdi",
    "Воситачилар Ғазода иккинчи босқич учун янги режа тақдим этди",
    "میانجی‌ها طرح جدیدی برای مرحله دوم آتش‌بس غزه ارائه کردند",
    "الوسطاء يقدمون خطة جديدة لإطلاق المرحلة الثانية في غزة",
    "调解方提交加沙停火第二阶段新方案",
    "Los mediadores presentan un nuevo plan para la segunda fase en Gaza",
]

LAUNCHED = [
    "Gaza ceasefire phase two launched",
    "Second phase of Gaza ceasefire launched under mediators' new plan",
    "Security Council adopts plan presented by mediators for Gaza stabilization force",
    "Запущен второй этап перемирия в Газе",
    "Совбез ООН одобрил новый план по силам стабилизации в Газе",
]


def test_a_proposal_presented_counts_on_no_track_in_any_language() -> None:
    assert_counts_nowhere(PROPOSALS, "israel_palestine_progress")


# --- class 16: violence and operational setbacks are not diplomatic progress ----------------------

INCIDENTS = [
    "Clashes near Khan Younis test new Gaza stabilization force",
    "Stabilization force pauses patrols in northern Gaza after deadly attack",
    "Stabilization force troops withdraw from Rafah after clashes",
    "Столкновения у Хан-Юниса стали испытанием для сил стабилизации в Газе",
    "Силы стабилизации приостановили патрулирование в Газе после нападения",
    "Gazze istikrar gücü saldırının ardından devriyeleri durdurdu",
    "Qəzzada sabitləşdirmə qüvvələrinə hücum edildi",
    "G'azodagi barqarorlashtirish kuchlariga hujum qilindi",
    "Ғазодаги барқарорлаштириш кучларига ҳужум қилинди",
    "اشتباكات قرب خان يونس تختبر قوة الاستقرار في غزة",
    "כוח הייצוב בעזה השעה סיורים לאחר פיגוע קטלני",
    "加沙稳定部队遭袭后暂停巡逻",
    "La fuerza de estabilización suspende patrullas en Gaza tras un ataque mortal",
    "Газадағы тұрақтандыру күштеріне шабуыл жасалды",
]

DEPLOYED = [
    "Gaza stabilization force deploys",
    "International stabilization force deploys in Rafah despite attack",
    "Силы стабилизации развернуты в Газе",
    "قوة الاستقرار الدولية تنتشر في غزة",
    "加沙国际稳定部队开始部署",
    "Gazze istikrar gücü konuşlandırıldı",
]


def test_an_incident_around_the_force_counts_on_no_track_in_any_language() -> None:
    assert_counts_nowhere(INCIDENTS, "israel_palestine_progress")


# --- the step nearby, for every class ------------------------------------------------------------

NEARBY = [(t, "new_signatory") for t in JOINED] + [
    (t, "israel_palestine_progress") for t in LAUNCHED + DEPLOYED] + [
    # a rival suspending its dealings is a counter-move done, not an incident
    ("Iran suspends transport memorandum with Kazakhstan over Israel ties", "counter_move"),
    ("إيران تعلق العمل بمذكرة تفاهم للنقل مع كازاخستان احتجاجا على التطبيع مع إسرائيل",
     "counter_move")]


@pytest.mark.parametrize(("title", "indicator"), NEARBY)
def test_the_step_nearby_still_counts(title: str, indicator: str) -> None:
    found = indicators(title)
    assert found.get(indicator) is Certainty.CONFIRMED, found

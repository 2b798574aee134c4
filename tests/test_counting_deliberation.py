"""The third blind replay's classes of mistakes in what counted (issue 12, classes 12-13): a
state weighing, studying or debating a move was read as the move made ("Report: X weighing
Abraham Accords entry ahead of its leader's Washington trip" flipped the signatories track for
a year). Each on invented headlines of its class in several languages: what must not count on
any track, and the act nearby that still must. Pure: the shipped rules, matched, grouped and
judged."""

from __future__ import annotations

import pytest

from tests.test_counting_classes import indicators
from tests.test_counting_prospects import assert_counts_nowhere
from watcher.models import Certainty

# --- class 12: deliberation is not the act -------------------------------------------------------

DELIBERATION = [(t, "new_signatory") for t in [
    "Report: Azerbaijan weighing Abraham Accords entry ahead of Aliyev's Washington trip",
    "Azerbaijan weighing joining the Abraham Accords",
    "Saudi Arabia mulling Abraham Accords accession",
    "Azerbaijan contemplating Abraham Accords accession",
    "Azerbaijan deliberating on Abraham Accords membership",
    "Азербайджан обсуждает вступление в Соглашения Авраама",
    "Азербайджан взвешивает присоединение к Соглашениям Авраама",
    "Азербайджан думает о вступлении в Соглашения Авраама",
    "Баку задумался о присоединении к Соглашениям Авраама",
    "Узбекистан размышляет о вступлении в Соглашения Авраама",
    "Azerbaycan İbrahim Anlaşmaları'na katılmayı tartışıyor",
    "Azərbaycan İbrahim Sazişlərinə qoşulmağı düşünür",
    "Ozarbayjon Ibrohim kelishuvlariga qo'shilish masalasini muhokama qilmoqda",
    "Озарбайжон Иброҳим келишувларига қўшилишни муҳокама қилмоқда",
    "آذربایجان به پیوستن به پیمان ابراهیم فکر می‌کند",
    "أذربيجان تبحث الانضمام إلى اتفاقيات أبراهام",
    "أذربيجان تفكر في الانضمام إلى اتفاقيات إبراهيم",
    "السعودية تناقش الانضمام إلى اتفاقيات أبراهام",
    "אזרבייג'ן דנה בהצטרפות להסכמי אברהם",
    "阿塞拜疆权衡加入亚伯拉罕协议",
    "Azerbaiyán estudia unirse a los Acuerdos de Abraham",
    "Azerbaiyán sopesa sumarse a los Acuerdos de Abraham",
]]

JOINED_AFTER_WEIGHING = [(t, "new_signatory") for t in [
    "Azerbaijan joins the Abraham Accords",
    "Azerbaijan signs accession to the Abraham Accords",
    "После долгого рассмотрения Азербайджан присоединился к Соглашениям Авраама",
    "Azerbaijan joins the Abraham Accords after months of deliberation",
    "Azərbaycan uzun müzakirələrdən sonra İbrahim Sazişlərinə qoşuldu",
    "阿塞拜疆经过数月权衡后加入亚伯拉罕协议",
]]



# --- class 13: a step that remains frozen is no progress -----------------------------------------
# (A step done "without" a party, "Council adopts Gaza resolution without US support", is
# arguable in the conventions (counts: null): left as the act it reports.)

FROZEN = [(t, "israel_palestine_progress") for t in [
    "Gaza ceasefire partly restored, second phase remains frozen",
    "Gaza truce partly restored as second phase stays frozen",
    "Second phase of Gaza ceasefire remains frozen",
    "Перемирие в Газе частично восстановлено, второй этап заморожен",
    "Второй этап перемирия в Газе остается замороженным",
    "Gazze'de ateşkesin ikinci aşaması donduruldu",
    "Qəzzada atəşkəsin ikinci mərhələsi dondurulub",
    "G'azoda o't ochishni to'xtatishning ikkinchi bosqichi muzlatildi",
    "المرحلة الثانية من وقف إطلاق النار في غزة لا تزال مجمدة",
    "השלב השני של הפסקת האש בעזה נותר מוקפא",
    "加沙停火第二阶段仍处于冻结状态",
    "مرحله دوم آتش‌بس غزه همچنان متوقف است",
    "La segunda fase del alto el fuego en Gaza sigue congelada",
]]

LAUNCHED_AFTER_A_FREEZE = [(t, "israel_palestine_progress") for t in [
    "Second phase of Gaza ceasefire launched",
    "Frozen second phase of Gaza ceasefire finally launched",
    "Second phase of Gaza ceasefire launched after months frozen",
]]


# --- each class: what must count nowhere, and the act nearby that must stay confirmed ----------

NOT_THE_ACT = {"12 deliberation": DELIBERATION, "13 frozen": FROZEN}
THE_ACT = {"12 joined after deliberation": JOINED_AFTER_WEIGHING,
           "13 launched after a freeze": LAUNCHED_AFTER_A_FREEZE}


@pytest.mark.parametrize("cls", NOT_THE_ACT)
def test_each_class_counts_on_no_track_in_any_language(cls: str) -> None:
    assert_counts_nowhere([t for t, _ in NOT_THE_ACT[cls]], NOT_THE_ACT[cls][0][1])


@pytest.mark.parametrize("cls", THE_ACT)
def test_the_act_nearby_stays_confirmed(cls: str) -> None:
    for title, indicator in THE_ACT[cls]:
        found = indicators(title)
        assert found.get(indicator) is Certainty.CONFIRMED, (title, found)

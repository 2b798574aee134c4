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


def test_deliberation_counts_on_no_track_in_any_language() -> None:
    assert_counts_nowhere([t for t, _ in DELIBERATION], "new_signatory")


@pytest.mark.parametrize("title,indicator", JOINED_AFTER_WEIGHING)
def test_the_act_after_deliberation_stays_confirmed(title: str, indicator: str) -> None:
    found = indicators(title)
    assert found.get(indicator) is Certainty.CONFIRMED, (title, found)

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


@pytest.mark.parametrize("title", JOINED)
def test_joining_still_counts(title: str) -> None:
    assert indicators(title).get("new_signatory") is Certainty.CONFIRMED, indicators(title)


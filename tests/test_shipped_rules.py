"""The shipped indicators.yaml on the kinds of text the issue names: baseline re-reports in any
language match nothing; denials are reported as such and do not count as hits."""

from __future__ import annotations

import pytest

from tests.conftest import ROOT
from watcher.config import load_config
from watcher.judge.evaluate import hits
from watcher.judge.match import Matcher
from watcher.models import Certainty

CFG = load_config(ROOT / "indicators.yaml")
M = Matcher(CFG)
CONTRACT = {i.id for i in CFG.indicators if i.contract}


@pytest.mark.parametrize("title", [
    "Kazakhstan to join Abraham Accords, Trump says",
    "Kazakhstan becomes first Central Asian country to join Abraham Accords",
    "Казахстан присоединится к Соглашениям Авраама",
    "Қазақстан Ибраһим келісіміне қосылады",
    "ترامب يعلن انضمام كازاخستان إلى اتفاقيات إبراهيم",
    "קזחסטן תצטרף להסכמי אברהם, הודיע טראמפ",
])
def test_reports_of_the_baseline_match_no_indicator(title: str) -> None:
    assert M.match(title) == []


@pytest.mark.parametrize("title", [
    "Indonesia says it will not join the Abraham Accords",
    "Saudi Arabia won't join Abraham Accords without a Palestinian state",
    "Азербайджан не планирует присоединяться к Соглашениям Авраама",
])
def test_a_denial_is_denied_and_is_no_hit(title: str) -> None:
    matches = M.match(title)
    assert matches and all(m.certainty is Certainty.DENIED for m in matches)
    assert hits(matches, CONTRACT) == {}

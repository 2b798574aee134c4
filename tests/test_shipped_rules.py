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


# Each of the region's languages (issue 13) has examples of both kinds in the shipped rules, so
# `watcher check` runs them; told apart by the letters only that language uses among them.
LANGUAGES = {
    "zh": lambda t: any("\u4e00" <= ch <= "\u9fff" for ch in t),
    "fa": lambda t: any(ch in "پچژگی" for ch in t),
    "tr": lambda t: any(ch in "ışğİ" for ch in t) and "ə" not in t.lower(),
    "az": lambda t: "ə" in t.lower(),
    "uz": lambda t: any(s in t for s in ("oʻ", "o‘", "gʻ", "g‘", "ў", "ҳ")),
    "kk": lambda t: any(ch in "әіңғүұқөһ" for ch in t.lower()) and not any(ch in t for ch in "ўҳ"),
}


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_new_language_has_examples_that_match_and_that_do_not(lang: str) -> None:
    is_lang = LANGUAGES[lang]
    kinds = {"match": 0, "no_match": 0}
    for ind in CFG.indicators:
        if not ind.contract:
            continue
        for kind in kinds:
            kinds[kind] += sum(is_lang(ex.title) for ex in getattr(ind.examples, kind))
    assert kinds["match"] >= 5 and kinds["no_match"] >= 1, kinds


# Every contract indicator, in each of the languages (issue 13 item 5): a report that
# matches, so each language's terms are exercised by `watcher check` for each indicator.
EVERY_LANGUAGE = {
    **LANGUAGES,
    "ar": lambda t: any("\u0600" <= ch <= "\u06ff" for ch in t) and not LANGUAGES["fa"](t),
    "he": lambda t: any("\u0590" <= ch <= "\u05ff" for ch in t),
    "ru": lambda t: any("а" <= ch <= "я" for ch in t.lower()) and not any(
        LANGUAGES[lang](t) for lang in ("kk", "uz")),
    "en": lambda t: t.isascii(),
}


@pytest.mark.parametrize("indicator", [i.id for i in CFG.indicators if i.contract])
def test_every_contract_indicator_has_an_example_in_each_language(indicator: str) -> None:
    titles = [ex.title for ex in CFG.indicator(indicator).examples.match]
    missing = [lang for lang, is_lang in sorted(EVERY_LANGUAGE.items())
               if not any(is_lang(t) for t in titles)]
    assert not missing, f"{indicator}: no matching example in {missing}"


@pytest.mark.parametrize(
    ("title", "indicator"),
    [
        ("Trump urges Indonesia to join the Abraham Accords", "new_signatory"),
        ("Пакистан может присоединиться к Соглашениям Авраама", "new_signatory"),
        (
            "Suudi Arabistan, Filistin devleti şartıyla İbrahim Anlaşmaları'na katılabilir",
            "new_signatory",
        ),
        ("Azərbaycan İbrahim Sazişlərinə qoşula bilər", "new_signatory"),
        ("عربستان سعودی ممکن است به پیمان ابراهیم بپیوندد", "new_signatory"),
        ("沙特可能加入亚伯拉罕协议", "new_signatory"),
        ("O‘zbekiston Ibrohim kelishuvlariga qo‘shilishi mumkin", "new_signatory"),
        ("Өзбекстан Авраам келісімдеріне қосылуы мүмкін", "new_signatory"),
        ("السعودية قد تنضم إلى الاتفاقيات الإبراهيمية إذا قامت دولة فلسطينية", "new_signatory"),
        ("סעודיה עשויה להצטרף להסכמי אברהם", "new_signatory"),
        ("Arabia Saudí podría unirse a los Acuerdos de Abraham", "new_signatory"),
        ("Kazakhstan's Abraham Accords signing ceremony postponed to spring", "signing_ceremony"),
        ("Kazakhstan and Israel open to signing a visa waiver if talks succeed", "kz_israel_deal"),
    ],
)
def test_appeals_wishes_conditions_possibilities_and_delays_are_expected(
    title: str, indicator: str
) -> None:
    """Issue 13: a report that something may, should or will later happen is no event yet."""
    (match,) = [m for m in M.match(title) if m.indicator == indicator]
    assert match.certainty is Certainty.EXPECTED, match.cues


def test_a_plain_report_of_the_step_is_confirmed_in_any_language() -> None:
    for title in ["Azerbaijan joins the Abraham Accords", "阿塞拜疆加入亚伯拉罕协议",
                  "Azərbaycan İbrahim Sazişlərinə qoşuldu", "آذربایجان به پیمان ابراهیم پیوست"]:
        (match,) = [m for m in M.match(title) if m.indicator == "new_signatory"]
        assert match.certainty is Certainty.CONFIRMED, title

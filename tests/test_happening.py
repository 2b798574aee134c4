"""The happening's date from a report's text, relative to the report (issue 12)."""

from __future__ import annotations

from datetime import date

import pytest

from watcher.judge.happening import happened_on

REPORTED = date(2025, 12, 2)          # a Tuesday


@pytest.mark.parametrize(("title", "summary", "expected"), [
    # day and month, either order, every language the rules cover
    ("Kazakh and Israeli ministers met on November 6 to discuss water", "", date(2025, 11, 6)),
    ("Agreement signed on Nov. 6, 2025 in Astana", "", date(2025, 11, 6)),
    ("Deal reached on the 20th of November", "", date(2025, 11, 20)),
    ("Министры встретились 6 ноября", "", date(2025, 11, 6)),
    ("Меморандум подписан 6-го ноября", "", date(2025, 11, 6)),
    ("Министрлер 6 қарашада кездесті", "", date(2025, 11, 6)),
    ("Келісім қарашаның 20-сы күні жасалды", "", date(2025, 11, 20)),
    ("التقى الوزيران في 6 نوفمبر", "", date(2025, 11, 6)),
    ("وقع الاتفاق في 20 تشرين الثاني", "", date(2025, 11, 20)),
    ("השרים נפגשו ב-6 בנובמבר", "", date(2025, 11, 6)),
    ("Подписано 20.11.2025", "", date(2025, 11, 20)),
    ("Signed 2025-11-20", "", date(2025, 11, 20)),
    # relative to the report
    ("Kazakhstan and Israel sign deal", "The deal was signed yesterday in Astana.",
     date(2025, 12, 1)),
    ("Соглашение подписано вчера", "", date(2025, 12, 1)),
    ("Келісімге кеше қол қойылды", "", date(2025, 12, 1)),
    ("وقع الاتفاق أمس", "", date(2025, 12, 1)),
    ("ההסכם נחתם אתמול", "", date(2025, 12, 1)),
    ("Ministers met last Tuesday", "", date(2025, 11, 25)),
    ("Ministers met on Friday", "", date(2025, 11, 28)),
    ("Министры встретились в прошлую пятницу", "", date(2025, 11, 28)),
    ("Министры встретились в четверг", "", date(2025, 11, 27)),
    ("Министрлер сейсенбіде кездесті", "", date(2025, 12, 2)),
    ("التقى الوزيران يوم الخميس", "", date(2025, 11, 27)),
    ("השרים נפגשו ביום חמישי", "", date(2025, 11, 27)),
    # the title speaks first
    ("Ministers met on November 20", "Talks began on November 6.", date(2025, 11, 20)),
])
def test_a_dated_report_gives_its_happening(title: str, summary: str, expected: date) -> None:
    assert happened_on(title, summary, REPORTED) == expected


@pytest.mark.parametrize(("title", "summary"), [
    ("Kazakhstan and Israel sign water deal", "The two countries signed a memorandum."),
    ("Kazakhstan will sign the deal on December 10", ""),       # a plan, not a happening
    ("Relations have grown since November 6", ""),               # the edge of a span
    ("Kazakhstan and Israel sign water deal",                    # background
     "Kazakhstan, which announced on November 6 that it would join the Accords, signed a deal."),
    ("Отношения развиваются с 6 ноября", ""),
    ("Diplomatic ties date from 1992", ""),
    ("Kazakhstan signs 29 agreements worth $17 billion", ""),
    ("Uzbekistan may join the Accords", ""),
    ("Kazakhstan marks anniversary of March 8 1992 ties", ""),  # too long ago to be the news
])
def test_an_undated_report_gives_none(title: str, summary: str) -> None:
    assert happened_on(title, summary, REPORTED) is None


def test_a_day_and_month_without_a_year_is_the_latest_not_after_the_report() -> None:
    assert happened_on("Talks held on 30 December", "", date(2026, 1, 2)) == date(2025, 12, 30)
    assert happened_on("Talks held on 30 December", "", date(2025, 12, 31)) == date(2025, 12, 30)


def test_a_report_a_day_behind_the_place_it_happened_keeps_its_own_date() -> None:
    """A UTC report date can lag Astana's by a day: 'on December 3' read on 2 Dec is that day."""
    assert happened_on("Signed on December 3", "", REPORTED) == REPORTED

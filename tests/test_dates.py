"""Dates as official press pages print them (watcher.dates): each case is text → the instant."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from watcher.ingest.dates import check_format, check_language, month_of, read_date

ALMATY = ZoneInfo("Asia/Almaty")     # UTC+5 since March 2024

# (printed, language given or None, expected UTC instant or None)
CASES = [
    # Kazakh: nominative, inflected (locative, genitive), year first with жылғы, capitalised
    ("12 қараша 2025", None, datetime(2025, 11, 12, tzinfo=UTC)),
    ("12 қараша 2025 ж.", "kk", datetime(2025, 11, 12, tzinfo=UTC)),
    ("2025 жылғы 3 желтоқсанда", None, datetime(2025, 12, 3, tzinfo=UTC)),
    ("04 Желтоқсан 2025", None, datetime(2025, 12, 4, tzinfo=UTC)),
    ("1 қаңтар 2026", None, datetime(2026, 1, 1, tzinfo=UTC)),
    ("15 сәуір 2026", None, datetime(2026, 4, 15, tzinfo=UTC)),
    ("9 қазан 2026", None, datetime(2026, 10, 9, tzinfo=UTC)),
    # Russian: genitive (as dates are written), nominative, abbreviations, "г." and "года"
    ("12 ноября 2025", None, datetime(2025, 11, 12, tzinfo=UTC)),
    ("12 ноября 2025 г.", "ru", datetime(2025, 11, 12, tzinfo=UTC)),
    ("3 мая 2026 года", None, datetime(2026, 5, 3, tzinfo=UTC)),
    ("1 марта 2026", None, datetime(2026, 3, 1, tzinfo=UTC)),
    ("1 Март 2026", None, datetime(2026, 3, 1, tzinfo=UTC)),
    ("28 фев. 2026", None, datetime(2026, 2, 28, tzinfo=UTC)),
    ("31 декабря 2025", None, datetime(2025, 12, 31, tzinfo=UTC)),
    # English, both orders, abbreviations with a dot
    ("November 12, 2025", None, datetime(2025, 11, 12, tzinfo=UTC)),
    ("12 November 2025", "en", datetime(2025, 11, 12, tzinfo=UTC)),
    ("Nov. 3, 2025", None, datetime(2025, 11, 3, tzinfo=UTC)),
    ("Sept 30, 2026", None, datetime(2026, 9, 30, tzinfo=UTC)),
    # Hebrew, with the prefix ב ("in November")
    ("12 בנובמבר 2025", None, datetime(2025, 11, 12, tzinfo=UTC)),
    ("5 מרץ 2026", "he", datetime(2026, 3, 5, tzinfo=UTC)),
    # numeric: day first (gov.kz, gov.il), year first, ISO with and without offset
    ("12.11.2025", None, datetime(2025, 11, 12, tzinfo=UTC)),
    ("12/11/25", None, datetime(2025, 11, 12, tzinfo=UTC)),
    ("2025.11.12", None, datetime(2025, 11, 12, tzinfo=UTC)),
    ("2025-11-12", None, datetime(2025, 11, 12, tzinfo=UTC)),
    ("2025-11-12T10:00:00+05:00", None, datetime(2025, 11, 12, 5, tzinfo=UTC)),
    ("2025-11-12T10:00:00Z", None, datetime(2025, 11, 12, 10, tzinfo=UTC)),
    # no date there, or not a possible one
    ("сегодня", None, None),
    ("12 ноября", None, None),                 # no year: not guessed
    ("31.02.2025", None, None),
    ("12.11.1850", None, None),
    ("", None, None),
    ("Kazakhstan joins", None, None),
    ("12 ноября 2025", "en", None),            # the language given limits the month names
]


@pytest.mark.parametrize(("printed", "lang", "expected"), CASES,
                         ids=[c[0] or "empty" for c in CASES])
def test_read_date(printed: str, lang: str | None, expected: datetime | None) -> None:
    assert read_date(printed, lang=lang) == expected


def test_a_printed_time_is_read_in_the_page_zone_and_a_bare_date_keeps_its_day() -> None:
    # 14:30 in Astana is 09:30 UTC; a date alone stays that calendar day, whatever the zone.
    assert read_date("12 ноября 2025 г., 14:30", tz=ALMATY) == datetime(2025, 11, 12, 9, 30,
                                                                          tzinfo=UTC)
    assert read_date("04 Желтоқсан 2025 17:20", tz=ALMATY) == datetime(2025, 12, 4, 12, 20,
                                                                         tzinfo=UTC)
    assert read_date("12.11.2025 02:00", tz=ALMATY) == datetime(2025, 11, 11, 21, tzinfo=UTC)
    assert read_date("12 қараша 2025", tz=ALMATY) == datetime(2025, 11, 12, tzinfo=UTC)
    assert read_date("Nov. 3, 2025 2:30 pm") == datetime(2025, 11, 3, 14, 30, tzinfo=UTC)


@pytest.mark.parametrize(("printed", "fmt", "lang", "expected"), [
    ("12 ноября 2025 г.", "%d %B %Y г.", "ru", datetime(2025, 11, 12, tzinfo=UTC)),
    ("12 қараша 2025 ж.", "%d %B %Y ж.", "kk", datetime(2025, 11, 12, tzinfo=UTC)),
    ("Nov 12, 2025", "%b %d, %Y", "en", datetime(2025, 11, 12, tzinfo=UTC)),
    ("12.11.2025 | 14:30", "%d.%m.%Y | %H:%M", None, datetime(2025, 11, 12, 9, 30, tzinfo=UTC)),
    ("11/12/2025", "%m/%d/%Y", None, datetime(2025, 11, 12, tzinfo=UTC)),   # US order, pinned
    ("12 ноября 2025", "%d.%m.%Y", "ru", None),                            # another form: no date
])
def test_date_format_pins_one_form(printed: str, fmt: str, lang: str | None,
                                   expected: datetime | None) -> None:
    assert read_date(printed, date_format=fmt, lang=lang, tz=ALMATY) == expected


def test_month_names_in_every_form_a_page_uses() -> None:
    forms = ("қарашада", "қараша", "ноября", "ноябрь", "ноя", "nov", "בנובמבר")
    assert [month_of(w) for w in forms] == [11] * 7
    assert month_of("мая") == month_of("май") == 5
    assert month_of("марта") == month_of("мар.") == 3
    assert month_of("Казахстан") is None and month_of("Қазақстан") is None


def test_bad_formats_and_languages_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="unsupported directive.*%Q"):
        check_format("%d %Q %Y")
    with pytest.raises(ValueError, match="no day"):
        check_format("%B %Y")
    with pytest.raises(ValueError, match="unknown date language 'de'.*en, ru, kk, he"):
        check_language("de")
    assert check_format("%d %B %Y г.") == "%d %B %Y г."

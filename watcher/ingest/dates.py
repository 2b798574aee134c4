"""Dates as press pages print them → aware UTC datetimes, in the languages the watch reads.

Official pages without feeds print their dates as text: "12 қараша 2025" (Akorda, parlam.kz in
Kazakh), "12 ноября 2025 г., 14:30" (the same in Russian, month in the genitive), "November
12, 2025" (DFC), "12.11.2025" (gov.kz, gov.il). `read_date` understands those forms in English,
Russian, Kazakh and Hebrew without a format; `date_format` (strptime directives, month names
in the page's language) pins one form exactly. Pure: no clock, no locale, no I/O.

Why not dateparser: measured (1.5.0, this machine), it brings ~10 MB (its language data,
regex, pytz), spends 2.4 s loading languages on its first calls in each parse worker, then
~1.4 ms a date against ~25 µs here, and still misses the year-first Kazakh form "2025 жылғы
3 желтоқсанда". Forty-eight month names and a few patterns are cheaper to own and to test.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, tzinfo

# Month names by language, each month's forms in order (casefolded). A word matches a form
# exactly or, for the stems marked with a trailing "-", by prefix: Kazakh inflects month names
# ("қарашада", "қарашаның") and Russian uses the genitive ("ноября") and abbreviations.
MONTHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "en": (("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
           ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
           ("september", "sept", "sep"), ("october", "oct"), ("november", "nov"),
           ("december", "dec")),
    "ru": (("январ-", "янв"), ("феврал-", "фев"), ("март-", "мар"), ("апрел-", "апр"),
           ("май", "мая", "мае"), ("июн-",), ("июл-",), ("август-", "авг"),
           ("сентябр-", "сен", "сент"), ("октябр-", "окт"), ("ноябр-", "ноя"),
           ("декабр-", "дек")),
    "kk": (("қаңтар-",), ("ақпан-",), ("наурыз-",), ("сәуір-",), ("мамыр-",), ("маусым-",),
           ("шілде-",), ("тамыз-",), ("қыркүйек-",), ("қазан-",), ("қараша-",),
           ("желтоқсан-",)),
    "he": (("ינואר",), ("פברואר",), ("מרץ", "מרס"), ("אפריל",), ("מאי",), ("יוני",), ("יולי",),
           ("אוגוסט",), ("ספטמבר",), ("אוקטובר",), ("נובמבר",), ("דצמבר",)),
}
LANGUAGES = tuple(MONTHS)

_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?"
                  r"\s*(z|[+-]\d{2}:?\d{2})?)?")
_DAY_FIRST = re.compile(r"(?<!\d)(\d{1,2})[./-](\d{1,2})[./-](\d{4}|\d{2})(?!\d)")
_YEAR_FIRST = re.compile(r"(?<!\d)(\d{4})[./](\d{1,2})[./](\d{1,2})(?!\d)")
_TIME = re.compile(r"(?<!\d)(\d{1,2})[:.](\d{2})(?::(\d{2}))?(?!\d)(?:\s*(am|pm|a\.m\.|p\.m\.))?")
_TOKEN = re.compile(r"\d+|[^\W\d_]+")
_DIRECTIVE = re.compile(r"%(.)")
ALLOWED_DIRECTIVES = frozenset("dmbBYyHIMSpzj%")
MIN_YEAR, MAX_YEAR = 1900, 2200        # anything else on a press page is not its date


def read_date(text: str, *, date_format: str | None = None, lang: str | None = None,
              tz: tzinfo = UTC) -> datetime | None:
    """The date (and time, if printed) in `text` as aware UTC, or None if none is there.

    `lang` limits month names to one language (None: any known one). A time of day without
    an offset is read in `tz`; a date without a time is that day at 00:00 UTC, so the day
    shown in digests is the day the page printed whatever the zone."""
    clean = _normalise(text)
    if not clean:
        return None
    if date_format is not None:
        return _with_format(clean, date_format, lang, tz)
    return _iso(clean, tz) or _numeric(clean, tz) or _worded(clean, lang, tz)


def check_format(date_format: str) -> str:
    """Validate a date_format for config loading; ValueError says what is wrong."""
    bad = sorted({d for d in _DIRECTIVE.findall(date_format) if d not in ALLOWED_DIRECTIVES})
    if bad:
        raise ValueError(f"date_format {date_format!r}: unsupported directive(s) "
                         + ", ".join(f"%{d}" for d in bad)
                         + " (use %d %m %b %B %Y %y %H %I %M %S %p %z %j)")
    if not {"d", "j"} & set(_DIRECTIVE.findall(date_format)):
        raise ValueError(f"date_format {date_format!r} has no day (%d)")
    return date_format


def check_language(lang: str) -> str:
    """Validate a month-name language for config loading."""
    if lang not in MONTHS:
        raise ValueError(f"unknown date language {lang!r} (known: {', '.join(LANGUAGES)})")
    return lang


def month_of(word: str, lang: str | None = None) -> int | None:
    """1-12 for a month name or abbreviation in any form listed in MONTHS, else None."""
    word = word.casefold().rstrip(".")
    if word.startswith("ב") and len(word) > 3:        # Hebrew "בנובמבר": in November
        word = word[1:] if month_of(word[1:], "he") else word
    for code in (lang,) if lang else LANGUAGES:
        for number, forms in enumerate(MONTHS.get(code, ()), start=1):
            if any(_is_form(word, form) for form in forms):
                return number
    return None


def _is_form(word: str, form: str) -> bool:
    if form.endswith("-"):
        return word.startswith(form[:-1])
    return word == form


def _normalise(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(text.split())[:200]      # a date is short; the rest is not worth reading


def _utc(year: int, month: int, day: int, clock: tuple[int, int, int] | None,
         tz: tzinfo) -> datetime | None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None
    try:
        if clock is None:
            return datetime(year, month, day, tzinfo=UTC)
        return datetime(year, month, day, *clock, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _iso(text: str, tz: tzinfo) -> datetime | None:
    m = _ISO.search(text)
    if m is None:
        return None
    year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
    if m.group(4) is None:
        return _utc(year, month, day, None, tz)
    offset = m.group(7)
    zone = tz if offset is None else _offset(offset)
    clock = (int(m.group(4)), int(m.group(5)), int(m.group(6) or 0))
    return _utc(year, month, day, clock, zone) if zone is not None else None


def _offset(text: str) -> tzinfo | None:
    if text == "z":
        return UTC
    try:
        return datetime.strptime(text.replace(":", ""), "%z").tzinfo
    except ValueError:
        return None


def _numeric(text: str, tz: tzinfo) -> datetime | None:
    """12.11.2025, 12/11/25 (day first, as Kazakh and Israeli pages write), 2025.11.12."""
    m = _YEAR_FIRST.search(text)
    if m is not None:
        year, month, day = int(m.group(1)), int(m.group(2)), int(m.group(3))
        rest = text[:m.start()] + " " + text[m.end():]
    else:
        m = _DAY_FIRST.search(text)
        if m is None:
            return None
        day, month, year = int(m.group(1)), int(m.group(2)), _year(m.group(3))
        rest = text[:m.start()] + " " + text[m.end():]
    return _utc(year, month, day, _clock(rest), tz)


def _year(text: str) -> int:
    return int(text) + 2000 if len(text) == 2 else int(text)


def _clock(text: str) -> tuple[int, int, int] | None:
    """The time of day printed beside the date (14:30, 2:30 pm), if any."""
    m = _TIME.search(text)
    if m is None:
        return None
    hour, minute, second = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    half = (m.group(4) or "").replace(".", "")
    if half and 1 <= hour <= 12:
        hour = hour % 12 + (12 if half == "pm" else 0)
    if hour > 23 or minute > 59 or second > 59:
        return None
    return hour, minute, second


def _worded(text: str, lang: str | None, tz: tzinfo) -> datetime | None:
    """'12 ноября 2025 г.', 'November 12, 2025', '2025 жылғы 12 қарашада', '12 בנובמבר 2025'."""
    clock = _clock(text)
    bare = _TIME.sub(" ", text)
    tokens = _TOKEN.findall(bare)
    for i, token in enumerate(tokens):
        month = None if token.isdigit() else month_of(token, lang)
        if month is None:
            continue
        day = _day_beside(tokens, i)
        year = next((int(t) for t in tokens if t.isdigit() and len(t) == 4), None)
        if day is not None and year is not None:
            return _utc(year, month, day, clock, tz)
    return None


def _day_beside(tokens: list[str], i: int) -> int | None:
    """The day number just before the month word, else just after it (English order)."""
    for j in (i - 1, i + 1):
        if 0 <= j < len(tokens) and tokens[j].isdigit() and len(tokens[j]) <= 2:
            day = int(tokens[j])
            if 1 <= day <= 31:
                return day
    return None


def _with_format(text: str, date_format: str, lang: str | None, tz: tzinfo) -> datetime | None:
    """strptime with the page's month names: the name becomes its number, %B/%b become %m."""
    # The text is casefolded: so are the format's literals ("г."), never its directives.
    fmt = re.sub(r"%.|[^%]+", lambda m: m.group(0) if m.group(0).startswith("%")
                 else m.group(0).casefold(), " ".join(date_format.split()))
    if "%b" in fmt or "%B" in fmt:
        text = _months_as_numbers(text, lang)
        fmt = fmt.replace("%b", "%m").replace("%B", "%m")
    try:
        when = datetime.strptime(text, fmt)
    except ValueError:
        return None
    if not MIN_YEAR <= when.year <= MAX_YEAR:
        return None
    if when.tzinfo is not None:
        return when.astimezone(UTC)
    if not re.search(r"%[HIMS]", date_format):
        return when.replace(tzinfo=UTC)
    return when.replace(tzinfo=tz).astimezone(UTC)


def _months_as_numbers(text: str, lang: str | None) -> str:
    def number(m: re.Match[str]) -> str:
        month = month_of(m.group(0), lang)
        return str(month) if month else m.group(0)
    return re.sub(r"[^\W\d_]+\.?", number, text)

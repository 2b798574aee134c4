"""When did it happen? The date a report gives for its happening, relative to the report.

Pure. A report published on 2 Dec about a meeting "on November 6" is about 6 Nov: the
criterion's grace period and window are judged by that date, not by the report's (issue 12).
Recognised, in English, Russian, Kazakh, Arabic and Hebrew (the languages the rules cover):
  * a day and a month, either order, with or without a year: "On November 6", "Nov. 6, 2025",
    "6th of November", "6 ноября", "6-го ноября", "6 қарашада", "қарашаның 6-сы",
    "6 نوفمبر", "6 تشرين الثاني", "ב-6 בנובמבר"; numeric 06.11.2025 and 2025-11-06;
  * yesterday / today ("вчера", "накануне", "кеше", "أمس", "אתמול" …);
  * a weekday: "on Tuesday" (the latest Tuesday up to the report), "last Tuesday" (before
    it), "во вторник", "в прошлую пятницу", "сейсенбіде", "يوم الثلاثاء", "ביום שלישי".
A date that would lie after the report (a plan: "will sign on 10 December"), more than
MAX_LAG before it (background: "relations since 1992"), right after "since", "until",
"after" … (a time span's edge), or in a relative clause ("Kazakhstan, which joined on 6
November, …") is not the happening's date. The title speaks
first; the summary only when the title gives no date. Word lists are data (below), so another
language is a few entries.
"""

from __future__ import annotations

import functools
import re
from datetime import date, datetime, timedelta

from watcher.text import normalise, normalised_words, variants

MAX_LAG = timedelta(days=60)      # a report dating its happening further back is recalling it
SLACK = timedelta(days=1)         # a report's UTC date may be a day behind the place it happened

# Month names, exact words (Arabic and Hebrew also without attached proclitics).
_MONTH_WORDS: dict[str, int] = {
    **{w: n for n, ws in enumerate([
        ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
        ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
        ("october", "oct"), ("november", "nov"), ("december", "dec")], 1) for w in ws},
    **{w: n for n, ws in enumerate([
        ("يناير",), ("فبراير", "شباط"), ("مارس", "اذار"), ("ابريل", "نيسان"), ("مايو", "ايار"),
        ("يونيو", "يونيه", "حزيران"), ("يوليو", "يوليه", "تموز"), ("اغسطس", "اب"),
        ("سبتمبر", "ايلول"), ("اكتوبر",), ("نوفمبر",), ("ديسمبر",)], 1) for w in ws},
    **{w: n for n, ws in enumerate([
        ("ינואר",), ("פברואר",), ("מרץ", "מרס"), ("אפריל",), ("מאי",), ("יוני",), ("יולי",),
        ("אוגוסט",), ("ספטמבר",), ("אוקטובר",), ("נובמבר",), ("דצמבר",)], 1) for w in ws},
    "май": 5, "мая": 5, "мае": 5,
}
# Inflected languages: a month is a word beginning with its stem (ноября, ноябре; қарашада).
_MONTH_STEMS: tuple[tuple[str, int], ...] = tuple(
    (stem, n) for n, stems in enumerate([
        ("январ", "қаңтар"), ("феврал", "ақпан"), ("март", "наурыз"), ("апрел", "сәуір"),
        ("мамыр",), ("июн", "маусым"), ("июл", "шілде"), ("август", "тамыз"),
        ("сентябр", "қыркүйек"), ("октябр", "қазан"), ("ноябр", "қараша"),
        ("декабр", "желтоқсан")], 1) for stem in stems)
# Levantine Arabic names two months by a word and an ordinal: تشرين الثاني (November).
_TWO_WORD_MONTHS = {("تشرين", "الاول"): 10, ("تشرين", "الثاني"): 11,
                    ("كانون", "الاول"): 12, ("كانون", "الثاني"): 1}
# Short words between a day and its month, or after a day: 6-го ноября, 6th of, қарашаның 6-сы.
_DAY_SUFFIXES = frozenset(["of", "го", "е", "сы", "сі", "ы", "і", "ші", "шы", "st", "nd", "rd",
                           "th"])
_ORDINAL = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)$")
_YEAR_WORDS = frozenset(["года", "году", "г", "жылы", "жылғы", "ж", "عام", "لعام"])

# Days relative to the report: 0 today, 1 yesterday.
_RELATIVE: dict[str, int] = {
    "today": 0, "tonight": 0, "yesterday": 1, "сегодня": 0, "вчера": 1, "накануне": 1,
    "бүгін": 0, "кеше": 1, "اليوم": 0, "امس": 1, "البارحة": 1, "היום": 0, "אתמול": 1}

# Weekdays (Monday = 0). Exact words; stems for inflected forms; Arabic and Hebrew only after
# their word for "day" (الجمعة alone is also Friday prayers; שני alone is "second").
_WEEKDAY_WORDS: dict[str, int] = {
    **{w: n for n, w in enumerate(["monday", "tuesday", "wednesday", "thursday", "friday",
                                   "saturday", "sunday"])},
    "понедельник": 0, "вторник": 1, "среду": 2, "четверг": 3, "пятницу": 4, "субботу": 5,
    "воскресенье": 6}
_WEEKDAY_STEMS: tuple[tuple[str, int], ...] = (
    ("дүйсенбі", 0), ("сейсенбі", 1), ("сәрсенбі", 2), ("бейсенбі", 3), ("жұмада", 4),
    ("сенбі", 5), ("жексенбі", 6))
_DAY_WORDS = frozenset(["يوم", "יום"])
_AFTER_DAY_WORD: dict[str, int] = {
    "الاثنين": 0, "الثلاثاء": 1, "الاربعاء": 2, "الخميس": 3, "الجمعة": 4, "السبت": 5, "الاحد": 6,
    "שני": 0, "שלישי": 1, "רביעי": 2, "חמישי": 3, "שישי": 4, "שבת": 5, "ראשון": 6}
# "last Tuesday", "в прошлый вторник": strictly before the report's day.
_LAST = frozenset(["last", "прошлый", "прошлую", "прошлое", "өткен", "الماضي", "שעבר"])
# A date right after these is the edge of a span, not the happening: "since 6 November".
_EDGE_BEFORE = frozenset(["since", "from", "until", "till", "by", "before", "after", "с", "со",
                          "до", "после", "начиная", "منذ", "حتى", "قبل", "بعد", "מאז", "עד",
                          "לפני", "אחרי"])
_EDGE_AFTER = frozenset(["бері", "кейін", "дейін", "бастап"])      # Kazakh postpositions
# A date inside a relative clause is background: "Kazakhstan, which joined on 6 November, …".
_RELATIVE_CLAUSE = frozenset(["which", "who", "whose", "который", "которая", "которое",
                              "которые", "которого", "которой", "которым", "الذي", "التي", "אשר"])

_ISO = re.compile(r"\b(20\d\d)-(\d\d)-(\d\d)\b")
_DMY = re.compile(r"\b(\d{1,2})\.(\d{1,2})\.(20\d\d)\b")
_NUMERIC = re.compile(r"^d20\d{6}$")


def happened_on(title: str, summary: str, reported: datetime | date) -> date | None:
    """The date the report gives for its happening, if it gives one: the title's first, else
    the summary's first, that is not after the report and at most MAX_LAG before it."""
    found = dated_by(title, summary, reported)
    return found[0] if found is not None else None


def dated_by(title: str, summary: str, reported: datetime | date) -> tuple[date, str] | None:
    """happened_on, with the words that dated it ('on november 6 2025'), for `watcher explain`."""
    day = reported.date() if isinstance(reported, datetime) else reported
    for text in (title, summary):
        found = _dated(text, day) if text else None
        if found is not None:
            return found
    return None


@functools.lru_cache(maxsize=1 << 14)
def _dated(text: str, day: date) -> tuple[date, str] | None:
    ws = _words(text)
    for i in range(len(ws)):
        if not _may_date(ws[i]):
            continue
        found = _date_at(ws, i, day)
        if found is not None and _plausible(found, day) and not _edge(ws, i):
            return min(found, day), " ".join(ws[max(i - 1, 0): i + 3])
    return None


@functools.lru_cache(maxsize=1 << 16)
def _may_date(w: str) -> bool:
    """Whether a date can start at this word (most words: no), decided once per word."""
    if w[:1].isdigit() or _NUMERIC.match(w):
        return True
    forms = variants(w)
    words = (_RELATIVE, _WEEKDAY_WORDS, _MONTH_WORDS, _AFTER_DAY_WORD)
    if any(f in table for f in forms for table in words):
        return True
    if any(f == first for f in forms for first, _ in _TWO_WORD_MONTHS):
        return True
    return any(w.startswith(stem) for stem, _ in _MONTH_STEMS + _WEEKDAY_STEMS)


def _words(text: str) -> list[str]:
    """Normalised words, numeric dates made into one word each ("d20251106")."""
    norm = normalise(text)
    norm = _ISO.sub(lambda m: f" d{m[1]}{m[2]}{m[3]} ", norm)
    norm = _DMY.sub(lambda m: f" d{m[3]}{int(m[2]):02d}{int(m[1]):02d} ", norm)
    return normalised_words(norm)


def _plausible(found: date, day: date) -> bool:
    return day - MAX_LAG <= found <= day + SLACK


def _edge(ws: list[str], i: int) -> bool:
    before = ws[i - 1] if i else ""
    if before == "the" and i >= 2:
        before = ws[i - 2]
    after = ws[i + 1: i + 4]
    return (before in _EDGE_BEFORE or any(w in _EDGE_AFTER for w in after)
            or any(w in _RELATIVE_CLAUSE for w in ws[max(i - 5, 0): i]))


def _date_at(ws: list[str], i: int, day: date) -> date | None:
    """A date starting at word i, if one does."""
    w = ws[i]
    if _NUMERIC.match(w):
        return _safe(int(w[1:5]), int(w[5:7]), int(w[7:9]))
    back = next((_RELATIVE[f] for f in variants(w) if f in _RELATIVE), None)
    if back is not None:
        return day - timedelta(days=back)
    weekday = _weekday_at(ws, i)
    if weekday is not None:
        last = i > 0 and ws[i - 1] in _LAST or ws[i + 1: i + 2] and ws[i + 1] in _LAST
        return _latest(day, weekday, strictly_before=bool(last))
    return _day_month_at(ws, i, day)


def _weekday_at(ws: list[str], i: int) -> int | None:
    w = ws[i]
    if w in _WEEKDAY_WORDS:
        return _WEEKDAY_WORDS[w]
    for stem, n in _WEEKDAY_STEMS:
        if w.startswith(stem):
            return n
    if i > 0 and any(f in _DAY_WORDS for f in variants(ws[i - 1])):
        return next((_AFTER_DAY_WORD[f] for f in variants(w) if f in _AFTER_DAY_WORD), None)
    return None


def _latest(day: date, weekday: int, *, strictly_before: bool) -> date:
    back = (day.weekday() - weekday) % 7
    return day - timedelta(days=back or (7 if strictly_before else 0))


def _day_month_at(ws: list[str], i: int, day: date) -> date | None:
    """'6 November [2025]' or 'November 6[, 2025]' (and their other-language forms) at i."""
    number = _day_number(ws[i])
    if number is not None:                       # day first
        j = i + 1
        while j < len(ws) and j <= i + 2 and ws[j] in _DAY_SUFFIXES:
            j += 1
        month, width = _month_at(ws, j)
        if month is not None:
            return _with_year(number, month, _year_at(ws, j + width), day)
        return None
    month, width = _month_at(ws, i)
    if month is not None and i + width < len(ws):
        number = _day_number(ws[i + width])
        if number is not None:
            return _with_year(number, month, _year_at(ws, i + width + 1), day)
    return None


def _day_number(w: str) -> int | None:
    m = _ORDINAL.match(w)
    text = m.group(1) if m else w
    if text.isdigit() and len(text) <= 2 and 1 <= int(text) <= 31:
        return int(text)
    return None


def _month_at(ws: list[str], i: int) -> tuple[int | None, int]:
    """The month named at word i and how many words name it."""
    if i >= len(ws):
        return None, 0
    if i + 1 < len(ws):
        for f in variants(ws[i]):
            if (f, ws[i + 1]) in _TWO_WORD_MONTHS:
                return _TWO_WORD_MONTHS[(f, ws[i + 1])], 2
    for f in variants(ws[i]):
        if f in _MONTH_WORDS:
            return _MONTH_WORDS[f], 1
    w = ws[i]
    return next((n for stem, n in _MONTH_STEMS if w.startswith(stem)), None), 1


def _year_at(ws: list[str], j: int) -> int | None:
    """An explicit year right after the month or day (skipping 'of' / 'г.' words)."""
    for w in ws[j: j + 2]:
        if w.isdigit() and len(w) == 4 and 2000 <= int(w) <= 2100:
            return int(w)
        if w not in _YEAR_WORDS and w not in ("of",):
            return None
    return None


def _with_year(number: int, month: int, year: int | None, day: date) -> date | None:
    """Without a year, the latest such date not after the report (6 Nov read on 2 Jan: last
    year)."""
    if year is not None:
        return _safe(year, month, number)
    found = _safe(day.year, month, number)
    if found is not None and found > day + SLACK:
        found = _safe(day.year - 1, month, number)
    return found


def _safe(year: int, month: int, number: int) -> date | None:
    try:
        return date(year, month, number)
    except ValueError:
        return None

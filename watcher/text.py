"""Text normalisation shared by parsing and matching: one definition of a 'word'."""

from __future__ import annotations

import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]{0,2000}>")
# Inline tags vanish without a trace ("<em>Thu</em>." → "Thu."); others separate words.
_INLINE = re.compile(r"</?(a|b|i|u|em|strong|span|font|abbr|code|small|sub|sup|mark|q|cite|time)"
                     r"\b[^>]{0,2000}>", re.IGNORECASE)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
# Bidi overrides and zero-width characters can disguise text; they carry no meaning here.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d"
                                    "\u202e\u2066\u2067\u2068\u2069\ufeff\u00ad"), None)
_FOLD = str.maketrans({"ё": "е", "’": "'", "‘": "'"})


def strip_html(text: str) -> str:
    """HTML fragment → plain text: scripts dropped, tags removed, entities decoded, spaces folded."""
    text = _SCRIPT.sub(" ", text)
    text = _INLINE.sub("", text)
    text = _TAG.sub(" ", text)
    text = html.unescape(text).translate(_INVISIBLE)
    text = "".join(ch if unicodedata.category(ch)[0] != "C" or ch in "\t\n" else " " for ch in text)
    return _SPACE.sub(" ", text).strip()


def normalise(text: str) -> str:
    """Unicode NFKC, case-folded, invisible characters removed: the form every rule sees."""
    return unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold().translate(_FOLD)


def words(text: str) -> list[str]:
    """Normalised words in order, in any script (Latin, Cyrillic, Hebrew, Arabic...)."""
    return _WORD.findall(normalise(text))


def truncate(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis, for titles in mail subjects and tables."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip() + "…"

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
_INVISIBLE_RE = re.compile("[" + "".join(map(chr, _INVISIBLE)) + "]")
_FOLD = str.maketrans({"ё": "е", "’": "'", "‘": "'"})
_FOLD_RE = re.compile("[ё’‘]")


def strip_html(text: str) -> str:
    """HTML fragment → plain text: scripts dropped, tags removed, entities decoded, spaces folded."""
    text = _SCRIPT.sub(" ", text)
    text = _INLINE.sub("", text)
    text = _TAG.sub(" ", text)
    text = _drop_invisible(html.unescape(text))
    return _SPACE.sub(" ", _controls_to_spaces(text)).strip()


def _drop_invisible(text: str) -> str:
    """text.translate(_INVISIBLE), skipped when there is nothing to drop (the usual case)."""
    return text.translate(_INVISIBLE) if _INVISIBLE_RE.search(text) else text


def _controls_to_spaces(text: str) -> str:
    """Every control, format or unassigned character (category C) but tab and newline → space.

    Decided once per distinct character, not per character: a 10 KB summary has ~100."""
    bad = {ch for ch in set(text) if unicodedata.category(ch)[0] == "C"} - {"\t", "\n"}
    return text.translate(dict.fromkeys(map(ord, bad), " ")) if bad else text


def normalise(text: str) -> str:
    """Unicode NFKC, case-folded, invisible characters removed: the form every rule sees."""
    if text.isascii():                  # NFKC is the identity, casefold is lower, nothing to drop
        return text.lower()
    text = _drop_invisible(unicodedata.normalize("NFKC", text)).casefold()
    return text.translate(_FOLD) if _FOLD_RE.search(text) else text


def words(text: str) -> list[str]:
    """Normalised words in order, in any script (Latin, Cyrillic, Hebrew, Arabic...)."""
    return split_words(normalise(text))


def split_words(normalised: str) -> list[str]:
    """The words of text already normalised (see `normalise`)."""
    return _WORD.findall(normalised)


def truncate(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis, for titles in mail subjects and tables."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip() + "…"

"""Text normalisation shared by parsing and matching: one definition of a 'word'."""

from __future__ import annotations

import functools
import re
import unicodedata

_WORD = re.compile(r"\w+")
# Bidi overrides and zero-width characters can disguise text; they carry no meaning here.
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d"
                                    "\u202e\u2066\u2067\u2068\u2069\ufeff\u00ad"), None)
_INVISIBLE_RE = re.compile("[" + "".join(map(chr, _INVISIBLE)) + "]")
INVISIBLE = frozenset(map(chr, _INVISIBLE))
# Turkish endings written after an apostrophe (vowel harmony folded: ı is i): case, possessive,
# "with", plural, copula; and the English possessive s.
_TURKISH_ENDING = (r"(?:s|[iuüea]|y[iuüea]|n[iuüea]|[dt][ea]n?|[dt][ea]ki|n?[iuü]n|n[dt][ea]n?"
                   r"|y?l[ea]|l[ea]r\w*|d[iuü]r|s[iuü]|c[ea])\b")
_FOLD = str.maketrans({"ё": "е", "’": "'", "‘": "'",
                       # Uzbek writes oʻ, gʻ and the tutuq with modifier letters (ʻ ʼ), which \w
                       # takes for letters, or with quotes and backticks: one apostrophe for all
                       "ʻ": "'", "ʼ": "'", "`": "'",
                       # Turkish and Azerbaijani dotless ı: "I" case-folds to "i" in every other
                       # language, so ı is i (İ folds to i + a dot, and the dot is dropped below)
                       "ı": "i",
                       # Arabic: hamza-carrying and wasla alef → bare alef, alef maqsura → ya,
                       # Persian kaf/ya → Arabic (Iranian sources), tatweel (stretching) dropped;
                       # ta marbuta and the Persian, Kurdish and Urdu forms of heh → heh (Persian
                       # writes منطقه where Arabic writes منطقة, and Arabic sites drop the dots)
                       "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ک": "ك", "ی": "ي",
                       "ة": "ه", "ە": "ه", "ھ": "ه",
                       "\u0640": None})
# Uzbek oʻ and gʻ are letters: the apostrophe after o or g inside a word is dropped
# ("Oʻzbekiston", "O'zbekiston", "Ozbekiston" are one word), except before an English possessive
# ("Congo's") or a Turkish case ending after a name ("Boeing'e", "Tokyo'da", "Bloomberg'in"; ı is
# already i here). Other apostrophes separate words, as before ("Kazakhstan's", "İsrail'in").
_UZ_APOSTROPHE = re.compile(r"(?<=[og])'(?=\w)(?!" + _TURKISH_ENDING + r")")
# Scripts written without spaces between words (Chinese, Japanese kana): each character is a word,
# so a term written in them is a run of one-character words and matches anywhere in a text, as a
# substring, where other terms match at word boundaries.
_UNSPACED = ("\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
             "\U00020000-\U0002ffff")
_UNSPACED_RE = re.compile(f"[{_UNSPACED}]")
_WORD_UNSPACED = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+")
# Clause breaks: sentence punctuation, a spaced dash, and conjunctions that start a new claim
# ("Israel signs deal *as* Saudi Arabia rules out joining"): a certainty cue speaks for the
# words of its own clause only.
# Arabic ؛ ؟ and the ideographic full stop 。 are sentence punctuation too (Chinese ：；！？ fold to
# their ASCII forms under NFKC).
_BREAK = re.compile(r"[;:!?|•؛؟。]|\.(?=\s|$)|\s[-–—]\s|^[-–—]\s")
_CONJUNCTIONS = frozenset([
    "but", "while", "whereas", "although", "though", "however", "as", "after", "amid",
    "но", "а", "однако", "тогда", "пока", "после", "хотя", "бірақ", "ал",
    "لكن", "بينما", "فيما", "رغم", "אבל", "בעוד", "אף",
    # Turkish, Azerbaijani, Uzbek, Kazakh (Latin), Persian (ولی folded), Chinese
    "ama", "fakat", "amma", "lakin", "lekin", "biroq", "ammo", "biraq", "اما", "ولي", "但"])
# One-letter proclitics written attached to the next word: Arabic wa/fa (and), bi/li (in, to)
# and the article al-; Hebrew ve, she, ha, be, le, mi, ke.
_AR_CONJ, _AR_PREP, _AR_ARTICLE = "وف", "بل", "ال"
_HE_FIRST, _HE_SECOND = "וש", "הבלמכ"


def drop_invisible(text: str) -> str:
    """Bidi controls and zero-width characters removed (skipped when there are none, as usual)."""
    return _INVISIBLE_RE.sub("", text) if _INVISIBLE_RE.search(text) else text


def normalise(text: str) -> str:
    """The form every rule sees: Unicode NFKC, case-folded, invisible characters removed.

    Combining marks that survive composition are dropped (Arabic harakat, Hebrew niqqud, the
    dot Turkish İ leaves after case-folding), so a vowelled or dotted spelling stays one word
    and equals the plain one; Arabic letter variants are folded (see _FOLD).

    Every step is one pass in C (matching 100k items must take seconds, issue 6): ASCII text is
    already NFKC and has nothing to fold or drop but case; in other text a regular expression
    finds what to remove or fold (str.translate, a dict lookup per character, is ~40x slower)."""
    if text.isascii():
        text = text.lower()
        if "`" in text:
            text = text.replace("`", "'")
        return _uzbek_letters(text)
    text = unicodedata.normalize("NFKC", text)
    if _INVISIBLE_RE.search(text):
        text = _INVISIBLE_RE.sub("", text)
    text = text.casefold()
    if _FOLD_RE.search(text):                 # then a C scan per letter: cheaper than a Python
        for ch, folded in _FOLDED.items():    # call per hit (Arabic has many ة)
            if ch in text:
                text = text.replace(ch, folded)
    marks = _bmp_marks()
    if marks.search(text):
        text = marks.sub("", text)
    if _ASTRAL.search(text):
        text = _ASTRAL.sub(_drop_if_mark, text)
    return _uzbek_letters(text)


def _uzbek_letters(text: str) -> str:
    """Drop the apostrophe of Uzbek oʻ and gʻ (see _UZ_APOSTROPHE); most texts have neither."""
    return _UZ_APOSTROPHE.sub("", text) if "o'" in text or "g'" in text else text


# No folded letter is the source of another, so the order of replacing does not matter.
_FOLDED = {chr(k): "" if v is None else v if isinstance(v, str) else chr(v)
           for k, v in _FOLD.items()}
_FOLD_RE = re.compile("[" + re.escape("".join(_FOLDED)) + "]")
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _drop_if_mark(m: re.Match[str]) -> str:
    return "" if _is_mark(m.group()) else m.group()


@functools.cache
def _bmp_marks() -> re.Pattern[str]:
    """Every combining mark (Mn) from U+0300 to U+FFFF as one character class (built on first
    use, ~20 ms). Marks beyond the BMP are checked one by one (_ASTRAL): a class holding them
    would be scanned range by range for every character."""
    ranges: list[list[int]] = []
    for code in range(0x300, 0x10000):
        if unicodedata.category(chr(code)) == "Mn":
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    return re.compile("[" + "".join(re.escape(chr(a)) + ("-" + re.escape(chr(b)) if b > a else "")
                                    for a, b in ranges) + "]")


def _is_mark(ch: str) -> bool:
    return ch >= "\u0300" and unicodedata.category(ch) == "Mn"


def words(text: str) -> list[str]:
    """Normalised words in order, in any script (Latin, Cyrillic, Hebrew, Arabic...); in
    Chinese and Japanese, characters."""
    return normalised_words(normalise(text))


def normalised_words(norm: str, is_spaced: bool | None = None) -> list[str]:
    """The words of text already normalised (see normalise); `is_spaced`: spaced(norm), if known."""
    word = _WORD if (spaced(norm) if is_spaced is None else is_spaced) else _WORD_UNSPACED
    return word.findall(norm)


def spaced(norm: str) -> bool:
    """Normalised text with no character of a script written without spaces (the usual case,
    decided in one pass)."""
    return norm.isascii() or _UNSPACED_RE.search(norm) is None


def unspaced(word: str) -> bool:
    """A word of a script written without spaces: one Chinese character or Japanese kana."""
    return _UNSPACED_RE.match(word) is not None


def tokens(text: str) -> tuple[list[str], list[int]]:
    """Normalised words and, for each, the number of the clause it belongs to."""
    norm = normalise(text)
    return normalised_words(norm), clauses(norm)


def clauses(norm: str, is_spaced: bool | None = None) -> list[int]:
    """For each word of normalised text, the number of the clause it belongs to.

    A clause ends at a break between two words (see _BREAK) or before a conjunction. The gaps
    between words repeat (" ", ", ", ". "), so each is judged once (_GAPS)."""
    if is_spaced is None:
        is_spaced = spaced(norm)
    parts = (_SPLIT if is_spaced else _SPLIT_UNSPACED).split(norm)   # gap, word, ..., gap
    out: list[int] = []
    clause = 0
    previous = ""
    for k in range(1, len(parts), 2):
        word = parts[k]
        if out:
            gap = parts[k - 1]
            kind = _GAPS.get(gap)
            if kind is None:
                kind = _gap_kind(gap)
            if (kind == _BREAK_ALWAYS or (kind == _BREAK_UNLESS_ABBREVIATION and len(previous) != 1)
                    or word in _CONJUNCTIONS):
                clause += 1
        out.append(clause)
        previous = word
    return out


def gaps(norm: str, is_spaced: bool | None = None) -> list[str]:
    """For each word of normalised text, what stands between it and the word before (": ",
    " – "): which break opened its clause."""
    if is_spaced is None:
        is_spaced = spaced(norm)
    parts = (_SPLIT if is_spaced else _SPLIT_UNSPACED).split(norm)
    return [parts[k - 1] for k in range(1, len(parts), 2)]


_SPLIT = re.compile(r"(\w+)")
_SPLIT_UNSPACED = re.compile(f"({_WORD_UNSPACED.pattern})")
_NO_BREAK, _BREAK_ALWAYS, _BREAK_UNLESS_ABBREVIATION = 0, 1, 2
_GAPS: dict[str, int] = {" ": _NO_BREAK}


def _gap_kind(gap: str) -> int:
    # "U.S. signs" is one clause: a full stop after a one-letter word is an abbreviation.
    if _BREAK.search(gap) is None:
        kind = _NO_BREAK
    elif gap.startswith(".") and _BREAK.search(gap[1:]) is None:
        kind = _BREAK_UNLESS_ABBREVIATION
    else:
        kind = _BREAK_ALWAYS
    if len(gap) <= 8 and len(_GAPS) < 10_000:
        _GAPS[gap] = kind
    return kind


@functools.lru_cache(maxsize=1 << 16)
def variants(word: str) -> tuple[str, ...]:
    """A word and the same word without attached Arabic or Hebrew proclitics.

    Arabic and Hebrew write "and", "in", "to", "the" as letters glued to the next word
    (وكازاخستان, لإسرائيل, בישראל); a term written without them matches either form."""
    first = word[:1]
    if "\u0600" <= first <= "\u06ff":
        return _arabic_variants(word)
    if "\u0590" <= first <= "\u05ff":
        return _hebrew_variants(word)
    return (word,)


def _arabic_variants(word: str) -> tuple[str, ...]:
    forms = [word]
    if word[0] in _AR_CONJ and len(word) > 3:
        forms.append(word[1:])
    for f in list(forms):
        if f.startswith("لل") and len(f) > 3:          # li + al- is written lil-
            forms += ["ال" + f[2:], f[2:]]
        elif f[0] in _AR_PREP and len(f) > 3:
            forms.append(f[1:])
    for f in list(forms):
        if f.startswith(_AR_ARTICLE) and len(f) > 4:
            forms.append(f[2:])
    return tuple(dict.fromkeys(forms))


def _hebrew_variants(word: str) -> tuple[str, ...]:
    forms = [word]
    rest = word[1:] if word[0] in _HE_FIRST and len(word) > 3 else word
    if rest is not word:
        forms.append(rest)
    if rest[0] in _HE_SECOND and len(rest) > 3:
        forms.append(rest[1:])
    if word[0] in _HE_SECOND and len(word) > 3:
        forms.append(word[1:])
    return tuple(dict.fromkeys(forms))


def truncate(text: str, limit: int) -> str:
    """Cut at a word boundary with an ellipsis, for titles in mail subjects and tables."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0] if " " in text[: limit - 1] else text[: limit - 1]
    return cut.rstrip() + "…"

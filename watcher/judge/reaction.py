"""Is a report a reaction to a step ("Kazakhstan welcomes the adoption of the resolution") rather
than the report of the step? Decided from its headline. Pure.

A reaction names the happening it reacts to, so it matches that happening's rule, often from
an official source: alone it would count as the step (issue 12). It may corroborate the
happening it reacts to when grouped with a report of it, but alone it is no counting event.
The cues are data, one tuple per language; a trailing `*` is a prefix (the region's languages
inflect the verb: "құптады", "alqışlayıb", "memnuniyetle karşıladı"). A cue counts in the
headline's lead clause (after a short speaker label such as "Tokayev:"), so "UN adopts Gaza
resolution; Kazakhstan welcomes move" stays the report of the adoption.
"""

from __future__ import annotations

import functools
import re

from watcher.judge.events import headline
from watcher.text import normalise, normalised_words, variants

CUES: dict[str, tuple[str, ...]] = {
    "en": ("welcome", "welcomes", "welcomed", "welcoming", "hails", "hailed", "praises", "praised",
           "applauds", "applauded", "lauds", "lauded", "commends", "commended", "congratulates",
           "congratulated", "salutes", "saluted", "reacts to", "reacted to", "reaction to",
           "responds to", "responded to", "comments on", "commented on", "expresses satisfaction",
           "voices support for", "expresses support for"),
    "ru": ("приветству*", "приветствовал*", "высоко оценил*", "поздравил*", "положительно оценил*",
           "отреагировал*", "прокомментировал*", "комментирует", "с удовлетворением",
           "выразил* поддержку"),
    "kk": ("құптады", "құптайды", "құптаған", "қошемет*", "құттықтады", "жоғары бағала*",
           "оң баға берді", "пікір білдірді", "қолдау білдірді"),
    "tr": ("memnuniyetle karşila*", "memnuniyetini dile getir*", "olumlu karşila*", "tebrik*",
           "övdü", "selamla*", "alkişla*", "takdirle karşila*", "yorumladi", "destek verdi"),
    "az": ("alqişla*", "təbrik*", "müsbət qarşila*", "məmnunluqla qarşila*",
           "yüksək qiymətləndir*", "şərh ver*", "dəstək ifadə et*"),
    "uz": ("olqishla*", "mamnuniyat bilan*", "tabrikla*", "yuqori baholad*", "ijobiy baholad*",
           "олқишла*", "табрикла*", "мамнуният билан*", "юқори баҳолад*"),
    "fa": ("استقبال كرد*", "استقبال از", "خوشامد*", "تبريك*", "ستود", "ستايش*", "تمجيد*",
           "واكنش*"),
    "ar": ("ترحب", "رحب", "رحبت", "يرحب", "ترحيب*", "تشيد", "يشيد", "اشاد", "اشادت", "تثمن", "يثمن",
           "ثمن", "ثمنت", "تهنئ", "يهنئ"),
    "he": ("מברך", "מברכת", "בירך", "בירכה", "משבח", "משבחת", "שיבח", "שיבחה", "מקדם בברכה",
           "מקדמת בברכה", "הגיב", "הגיבה", "מגיב", "מגיבה"),
    "zh": ("欢迎", "歡迎", "赞赏", "讚賞", "祝贺", "祝賀", "称赞", "稱讚", "积极评价", "回应",
           "回應"),
    "es": ("celebra", "celebró", "acoge con satisfacción", "aplaude", "aplaudió", "felicita",
           "felicitó", "saluda", "saludó", "elogia", "elogió"),
}

# A lead clause that also does the act is its report ("Israel welcomes Kazakh delegation, sides
# sign memorandum"; "Security Council adopts resolution 2803 and welcomes the Board of Peace"):
# the welcome is the host's or the actor's own, not a reaction. Finite forms only: "Kazakhstan
# welcomes resolution adopted by the Council" is a reaction.
ACTS: tuple[str, ...] = (
    "sign", "signs", "signed", "ink", "inks", "inked", "adopts", "approves", "passes", "votes",
    "endorses", "подписал*", "подписан*", "принял", "приняла", "приняли", "утвердил", "утвердила",
    "одобрил", "одобрила", "қол қойды", "қол қойылды", "қабылдады", "бекітті", "imzaladi",
    "imzaladilar", "imzalandi", "imzalayib", "imzalanib", "kabul etti", "onayladi", "imzoladi",
    "imzolandi", "qabul qildi", "tasdiqladi", "имзолади", "qəbul etdi", "təsdiqlədi", "امضا كرد",
    "امضا كردند", "امضا شد", "تصويب كرد", "وقع", "وقعت", "وقعا", "يعتمد", "تعتمد", "يقر", "تقر",
    "يصادق", "חתמו", "חתם", "חתמה", "נחתם", "מאשרת", "מאשר", "签署", "签订", "簽署",
    "firmó", "firman", "firmaron", "aprueba", "aprobó")

_BREAKS = re.compile(r"\s*[|;]\s*|\s+[-–—]\s+")
_LABEL = re.compile(r"^\s*([^:]{1,40}?)\s*:\s*(?=\S)")    # "Tokayev: …", "Kazakh MFA: …"
_LABEL_WORDS = 3


_Cue = tuple[tuple[str, ...], bool, str]       # normalised words, last one a prefix, as written


@functools.cache
def _compiled(cues: tuple[str, ...]) -> tuple[_Cue, ...]:
    out = []
    for cue in cues:
        ws = tuple(normalised_words(normalise(cue.rstrip("*"))))
        if ws:
            out.append((ws, cue.endswith("*"), cue))
    return tuple(out)


@functools.lru_cache(maxsize=1 << 14)
def reaction_cue(title: str) -> str | None:
    """The cue that makes a headline a reaction to a step, or None."""
    ws = [variants(w) for w in normalised_words(normalise(_lead(headline(title))))]
    if _first(ws, _compiled(ACTS)) is not None:
        return None
    return _first(ws, _compiled(tuple(c for cues in CUES.values() for c in cues)))


def _first(ws: list[tuple[str, ...]], cues: tuple[_Cue, ...]) -> str | None:
    for cue, prefix, text in cues:
        for i in range(len(ws) - len(cue) + 1):
            if all(_same(ws[i + k], c, prefix and k == len(cue) - 1) for k, c in enumerate(cue)):
                return text
    return None


def _lead(title: str) -> str:
    """The headline's lead clause, past a short speaker label ("Tokayev: …", "Kazakh MFA: …")."""
    label = _LABEL.match(title)
    if label and len(label.group(1).split()) <= _LABEL_WORDS:
        title = title[label.end():]
    parts = [p for p in _BREAKS.split(title) if p.strip()]
    return parts[0] if parts else title


def _same(forms: tuple[str, ...], cue: str, prefix: bool) -> bool:
    return any(f.startswith(cue) if prefix else f == cue for f in forms)

"""The rule language over normalised text in any script; evidence and certainty."""

from __future__ import annotations

from hypothesis import given, settings, strategies as st

from tests.conftest import ROOT
from watcher.config import parse_config
from watcher.match import Matcher, _decide, _matches_at, compile_term
from watcher.text import words
from watcher.models import Certainty

CFG = parse_config((ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8"))
M = Matcher(CFG)


def ids(title: str, summary: str = "") -> set[str]:
    return {m.indicator for m in M.match(title, summary)}


def test_phrases_match_at_word_boundaries_only() -> None:
    assert "new_signatory" in ids("Azerbaijan joins the Abraham Accords")
    assert "new_signatory" not in ids("Azerbaijanis discuss Abrahams Accordsville")


def test_prefix_terms_tolerate_inflection_in_cyrillic() -> None:
    assert "new_signatory" in ids("Узбекистан присоединился к Соглашениям Авраама")
    assert "new_signatory" in ids("Азербайджану предложили присоединиться к Соглашениям Авраама")


def test_all_groups_must_each_hit_and_none_vetoes() -> None:
    assert "new_signatory" not in ids("Azerbaijan hosts a trade fair")
    assert "new_signatory" not in ids("Azerbaijan marks Abraham Accords anniversary")


def test_all_groups_may_hit_across_title_and_summary() -> None:
    assert "new_signatory" in ids("Azerbaijan joins the accord", "It becomes part of the Abraham Accords.")


def test_near_requires_terms_within_n_words() -> None:
    assert "kz_israel_deal" in ids("Kazakhstan and Israel sign water agreement")
    far = "Kazakhstan and Israel " + "talk " * 10 + "sign; later a separate " + "x " * 10 + "agreement"
    assert "kz_israel_deal" not in ids(far)


def test_evidence_names_terms_and_fields_and_title_weighs_more() -> None:
    (in_title,) = M.match("Protest in Almaty over accords")
    (in_summary,) = M.match("News of the day", "A protest was held in Almaty.")
    assert {(h.term, h.field) for h in in_title.hits} == {("Almaty", "title"), ("protest", "title")}
    assert {h.field for h in in_summary.hits} == {"summary"}
    assert in_title.strength > in_summary.strength
    assert "“protest” in title" in in_title.why()


def test_certainty_confirmed_expected_denied() -> None:
    def certainty(title: str) -> Certainty:
        (m,) = [m for m in M.match(title) if m.indicator == "new_signatory"]
        return m.certainty
    assert certainty("Azerbaijan joins the Abraham Accords") is Certainty.CONFIRMED
    assert certainty("Azerbaijan reportedly in talks to join the Abraham Accords") is Certainty.EXPECTED
    assert certainty("Indonesia says it will not join the Abraham Accords") is Certainty.DENIED
    assert certainty("Азербайджан не присоединится к Соглашениям Авраама") is Certainty.DENIED


def test_text_is_normalised_nfkc_casefold_and_invisible_chars() -> None:
    assert "new_signatory" in ids("AZERBAIJAN JOINS THE ＡＢＲＡＨＡＭ ACCORDS")
    assert "new_signatory" in ids("Azer\u200bbaijan joins the Abraham\u00ad Accords")


def test_compile_term_splits_like_the_text() -> None:
    assert compile_term("Jackson–Vanik").parts == (("jackson", False), ("vanik", False))
    assert compile_term("Казахстан*").parts == (("казахстан", True),)


@settings(max_examples=200, deadline=None)
@given(st.text(), st.text())
def test_matching_never_crashes_on_arbitrary_unicode(title: str, summary: str) -> None:
    M.match(title, summary)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(["Azerbaijan joins the Abraham Accords",
                        "Kazakhstan and Israel sign water agreement",
                        "Protest in Almaty over accords"]),
       st.text(alphabet=st.characters(categories=["Ll", "Zs"]), max_size=40))
def test_an_unrelated_sentence_never_removes_a_match(title: str, extra: str) -> None:
    before = ids(title)
    if any(w in extra for w in ("anniversary",)):
        return
    assert before <= ids(title, extra)


# --- the fast path (prefilter, memoised term index, rule gates) decides like a full scan ----

SHIPPED = Matcher(parse_config((ROOT / "indicators.yaml").read_text(encoding="utf-8")))
VOCAB = sorted({w for t in SHIPPED.index.exact for w in t.split()}
               | {p + "ский" for p in SHIPPED.index.prefix}
               | {p + "s" for p in SHIPPED.index.prefix}) + ["the", "of", "и", "in", "2025", "."]


def full_scan(m: Matcher, title: str, summary: str) -> list:  # type: ignore[type-arg]
    """The reference: every term tried at every word, every indicator decided."""
    fields = {"title": words(title), "summary": words(summary)}
    terms = [t for ts in m.index.exact.values() for t in ts]
    terms += [t for ts in m.index.prefix.values() for t in ts]
    found: dict = {}  # type: ignore[type-arg]
    for field, toks in fields.items():
        for i in range(len(toks)):
            for term in terms:
                if _matches_at(term, toks, i) and i not in found.get(term.text, {}).get(field, []):
                    found.setdefault(term.text, {}).setdefault(field, []).append(i)
    certainty, cues = m._certainty(found)
    out = [x for ind in m.indicators if (x := _decide(ind, found, fields, certainty, cues))]
    return sorted(out, key=lambda x: -x.strength)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(VOCAB), max_size=25), st.lists(st.sampled_from(VOCAB), max_size=40))
def test_fast_matcher_agrees_with_a_full_scan(title: list[str], summary: list[str]) -> None:
    t, s = " ".join(title), " ".join(summary)
    assert SHIPPED.match(t, s) == full_scan(SHIPPED, t, s)


def test_fast_matcher_agrees_on_each_shipped_example() -> None:
    examples = [(e.title, e.summary) for ind in SHIPPED.indicators
                for e in ind.examples.match + ind.examples.no_match]
    assert examples
    for t, s in examples:
        assert SHIPPED.match(t, s) == full_scan(SHIPPED, t, s)

"""The rule language over normalised text in any script; evidence and certainty."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from tests.rules import probe
from watcher.config import parse_config
from watcher.judge.match import Matcher
from watcher.judge.terms import compile_term
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
    assert "new_signatory" in ids(
        "Azerbaijan joins the accord", "It becomes part of the Abraham Accords."
    )


def test_near_requires_terms_within_n_words() -> None:
    assert "kz_israel_deal" in ids("Kazakhstan and Israel sign water agreement")
    far = (
        "Kazakhstan and Israel "
        + "talk " * 10
        + "sign; later a separate "
        + "x " * 10
        + "agreement"
    )
    assert "kz_israel_deal" not in ids(far)


def test_evidence_names_terms_and_fields_and_title_weighs_more() -> None:
    (in_title,) = M.match("Protest in Almaty over accords")
    (in_summary,) = M.match("News of the day", "A protest was held in Almaty.")
    assert {(h.term, h.field) for h in in_title.hits} == {("Almaty", "title"), ("protest", "title")}
    assert {h.field for h in in_summary.hits} == {"summary"}
    assert in_title.strength > in_summary.strength
    assert "“protest” in title" in in_title.why()


def test_why_puts_headline_evidence_first_and_stays_one_short_line() -> None:
    summary = "Rallies in Astana, Shymkent, Aktau and Atyrau followed the one in Almaty."
    (m,) = probe("""
        all: [[Almaty, Astana, Shymkent, Aktau, Atyrau, Karaganda], [protest]]
        """).match("Karaganda protest", summary)
    why = m.why()
    assert why.startswith(
        "“Karaganda” in title, “protest” in title"
    )  # the headline's own words lead
    assert why.count("“") == 5 and why.endswith("(+2 more)")  # five terms, then a count


def test_certainty_confirmed_expected_denied() -> None:
    def certainty(title: str) -> Certainty:
        (m,) = [m for m in M.match(title) if m.indicator == "new_signatory"]
        return m.certainty
    assert certainty("Azerbaijan joins the Abraham Accords") is Certainty.CONFIRMED
    assert (
        certainty("Azerbaijan reportedly in talks to join the Abraham Accords")
        is Certainty.EXPECTED
    )
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


# --- the rule language's later additions ----------------------------------------------------


def hit(m: object, title: str, summary: str = "") -> bool:
    return any(x.indicator == "probe" for x in m.match(title, summary))  # type: ignore[attr-defined]


def test_none_can_be_limited_to_the_title() -> None:
    m = probe("""
        all: [[Kazakhstan], [Israel]]
        any: [agreement]
        none: [{title: [opinion]}]
        """)
    assert not hit(m, "Opinion: Kazakhstan and Israel sign agreement")
    assert hit(m, "Kazakhstan and Israel sign agreement", "Read our opinion section.")


def test_an_all_group_can_be_required_in_the_title() -> None:
    m = probe("""
        all: [{title: [Kazakhstan]}, [Israel*]]
        """)
    assert hit(m, "Kazakhstan hosts Israeli minister")
    assert not hit(m, "Israeli minister travels", "He will visit Kazakhstan.")


def test_match_may_be_a_list_of_alternative_rules() -> None:
    m = probe("""
        - all: [[Kazakhstan], [ratifies, ratified]]
        - all: [[Мажилис], [ратифицировал]]
        """)
    assert hit(m, "Kazakhstan ratifies accession")
    assert hit(m, "Мажилис ратифицировал соглашение")
    assert not hit(m, "Kazakhstan discusses accession")


def test_the_strongest_alternative_gives_the_evidence() -> None:
    m = probe("""
        - any: [accord]
        - all: [[accord], [signed]]
        """)
    (match,) = m.match("Accord signed")
    assert {h.term for h in match.hits} == {"accord", "signed"}


def test_named_term_sets_are_used_as_dollar_names() -> None:
    m = probe("""
        all: [$KZ, [Israel, $HE_ISRAEL]]
        any: [$DEAL]
        """, top="""
        terms:
          KZ: [Kazakh*, Казахстан*]
          DEAL: [agreement, memorandum, $RU_DEAL]
          RU_DEAL: [соглашени*]
          HE_ISRAEL: [ישראל]
        """)
    assert hit(m, "Казахстан и ישראל подписали соглашение")
    assert hit(m, "Kazakhstan and Israel sign memorandum")
    assert not hit(m, "Kazakhstan signs memorandum with China")


def test_certainty_follows_the_clause_of_the_indicators_own_hits() -> None:
    m = probe("""
        all: [[Kazakhstan], [Israel]]
        any: [deal]
        """, top="""
        certainty: {denied: ["rules out"], expected: ["reportedly"]}
        """)
    (a,) = m.match("Kazakhstan and Israel sign water deal as Saudi Arabia rules out joining")
    assert a.certainty is Certainty.CONFIRMED
    (b,) = m.match("Kazakhstan rules out Israel deal")
    assert b.certainty is Certainty.DENIED
    (c,) = m.match("Kazakhstan and Israel sign deal",
                   "Separately, Uzbekistan is reportedly close to a decision.")
    assert c.certainty is Certainty.CONFIRMED
    (d,) = m.match("Water cooperation", "Kazakhstan and Israel reportedly reached a deal.")
    assert d.certainty is Certainty.EXPECTED


def test_one_word_sequence_counts_once_however_spelled() -> None:
    m = probe("""
        any: ["Jackson-Vanik", "Jackson–Vanik", "jackson vanik", "Jackson* Vanik"]
        """)
    (match,) = m.match("Jackson–Vanik repeal")
    assert match.strength == 2.0          # one spot in the title, not four terms


def test_arabic_diacritics_tatweel_and_attached_prefixes() -> None:
    m = probe("""
        all: [[كازاخستان], [إسرائيل]]
        """)
    assert hit(m, "كَازَاخْسْتَان وإسرائيل")              # vowelled
    assert hit(m, "كازاخــستان وإسرائيل")                 # tatweel
    assert hit(m, "وكازاخستان لاسرائيل")                  # wa-, li- and a bare alef
    assert not hit(m, "كازاخستان وروسيا")


def test_hebrew_prefixes_and_turkish_dotted_i() -> None:
    he = probe("""
        all: [[קזחסטן], [ישראל]]
        """)
    assert hit(he, "ולישראל ולקזחסטן הסכם")
    tr = probe("""
        any: [istanbul]
        """)
    assert hit(tr, "İSTANBUL zirvesi")


def test_near_can_be_limited_to_the_title() -> None:
    m = probe("""
        near: [{a: [Azerbaijan], b: [joins], within: 3, field: title}]
        """)
    assert hit(m, "Azerbaijan joins accords")
    assert not hit(m, "Regional news", "Azerbaijan joins accords")


def test_turkish_and_azerbaijani_dotless_i_is_one_letter_in_any_case() -> None:
    m = probe("""
        all: [[kazakistan*, qazaxıstan*], [anlaşma*, saziş*]]
        """)
    assert hit(m, "KAZAKİSTAN İBRAHİM ANLAŞMALARI'NA KATILDI")     # upper case: İ and I
    assert hit(m, "Kazakistan İbrahim Anlaşmaları'na katıldı")
    assert hit(m, "QAZAXISTAN İBRAHİM SAZİŞLƏRİNƏ QOŞULUR")
    assert hit(m, "Qazaxıstan İbrahim Sazişlərinə qoşulur")
    assert not hit(m, "Kazakistan ekonomisi büyüyor")


def test_uzbek_o_and_g_are_one_letter_however_the_apostrophe_is_written() -> None:
    m = probe("""
        all: [["o'zbekiston*"], ["qo'shil*"]]
        """)
    for text in ["Oʻzbekiston Ibrohim kelishuvlariga qoʻshildi",       # modifier letter ʻ
                 "O‘zbekiston Ibrohim kelishuvlariga qo‘shildi",       # quotation mark ‘
                 "O'zbekiston Ibrohim kelishuvlariga qo'shildi",       # ASCII
                 "O`zbekiston Ibrohim kelishuvlariga qo`shildi",       # backtick
                 "Ozbekiston Ibrohim kelishuvlariga qoshildi"]:        # none
        assert hit(m, text), text
    # an English possessive still separates ("Congo's" is "congo s"), other apostrophes too, and
    # so does a Turkish case ending after a name that ends in o or g ("Boeing'e" is "boeing e")
    en = probe("""
        all: [[congo, boeing], [kazakhstan, astana]]
        """)
    assert hit(en, "Congo's envoy meets Kazakhstan's minister")
    assert hit(en, "Air Astana'dan Boeing'e 15 uçak siparişi")
    assert hit(en, "Boeing'in Astana'daki ofisi")


def test_persian_letters_fold_to_the_arabic_ones_and_zwnj_joins() -> None:
    m = probe("""
        all: [["قزاقستان"], ["منطقه"], ["ميپيوندد"]]
        """)
    assert hit(m, "قزاقستان در منطقه به پیمان می\u200cپیوندد")       # ی, ZWNJ
    assert hit(m, "قزاقستان في المنطقة ميپيوندد")                      # ة is ه, attached ال
    assert not hit(m, "قزاقستان در منطقه")


def test_chinese_and_japanese_terms_match_as_substrings() -> None:
    m = probe("""
        all: [[哈萨克斯坦, カザフスタン], [以色列, イスラエル]]
        """)
    assert hit(m, "哈萨克斯坦与以色列签署水资源合作备忘录")           # no spaces, no boundaries
    assert hit(m, "DFC向哈萨克斯坦项目，以色列公司参与")                # Latin glued to Han
    assert hit(m, "カザフスタンとイスラエルが覚書に署名")
    assert not hit(m, "哈萨克斯坦与中国签署协议")
    dfc = probe("""
        all: [[dfc], [哈萨克斯坦]]
        """)
    assert hit(dfc, "美国DFC向哈萨克斯坦钨矿项目发出意向书")           # "dfc" is its own word


def test_near_counts_a_chinese_character_as_half_a_word() -> None:
    m = probe("""
        near: [{a: [沙特阿拉伯], b: [加入], within: 8}]
        """)
    assert hit(m, "沙特阿拉伯王国政府宣布将加入亚伯拉罕协议")        # 12 characters apart: 6 words
    assert not hit(m, "沙特阿拉伯王国政府本周在利雅得举行的会议上讨论了很多问题并表示可能会加入")


def test_a_chinese_full_stop_and_arabic_question_mark_end_a_clause() -> None:
    m = probe("""
        all: [[哈萨克斯坦], [以色列]]
        """, top="""
        certainty: {denied: [不会], expected: [可能]}
        """)
    (match,) = m.match("哈萨克斯坦与以色列签署协议。沙特可能跟进")
    assert match.certainty is Certainty.CONFIRMED
    (match,) = m.match("哈萨克斯坦可能与以色列签署协议")
    assert match.certainty is Certainty.EXPECTED
    ar = probe("""
        all: [[كازاخستان], [اسرائيل]]
        """, top="""
        certainty: {denied: [لن], expected: [قد]}
        """)
    (match,) = ar.match("هل توقع كازاخستان واسرائيل اتفاقية؟ السعودية قد تنضم")
    assert match.certainty is Certainty.CONFIRMED


def test_a_denial_inside_a_longer_expectation_is_that_expectation() -> None:
    m = probe("""
        all: [[oman], [accords]]
        """, top="""
        certainty: {denied: ["ruling out", исключает], expected: ["not ruling out", "не исключает"]}
        """)
    assert m.match("Oman not ruling out joining the accords")[0].certainty is Certainty.EXPECTED
    assert m.match("Oman ruling out joining the accords")[0].certainty is Certainty.DENIED
    (match,) = m.match("Oman не исключает accords")
    assert (match.certainty, match.cues) == (Certainty.EXPECTED, ("не исключает",))


def test_a_headline_that_makes_the_claim_decides_its_certainty_alone() -> None:
    m = probe("""
        all: [[kazakhstan], [israel]]
        """, top="""
        certainty: {denied: ["will not"], expected: ["expected to"]}
        """)
    (match,) = m.match(
        "Kazakhstan and Israel sign water deal", "The plant is expected to open in 2027."
    )
    assert match.certainty is Certainty.CONFIRMED
    # a headline that names only one side leaves the claim, and its cues, to the summary
    (match,) = m.match(
        "Kazakhstan water news", "Kazakhstan and Israel are expected to sign a deal."
    )
    assert match.certainty is Certainty.EXPECTED

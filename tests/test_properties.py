"""Property tests (hypothesis) of normalisation and matching with the shipped indicators."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.conftest import ROOT
from watcher.config import load_config
from watcher.judge.events import headline, salient, script_of, skeleton
from watcher.judge.match import Matcher
from watcher.judge.terms import Text
from watcher.text import normalise, tokens, variants, words

CFG = load_config(ROOT / "indicators.yaml")
M = Matcher(CFG)
EXAMPLES = [(ex.title, ex.summary) for ind in CFG.indicators for ex in ind.examples.match]
# Letters of the scripts the indicators use, digits, spaces and punctuation.
PROSE = st.text(alphabet=st.characters(categories=["L", "N", "Zs", "P", "M", "Cf"]), max_size=80)
EXAMPLES_ST = st.sampled_from(EXAMPLES)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_normalisation_never_crashes_and_is_stable(text: str) -> None:
    norm = normalise(text)
    assert words(norm) == words(text)                  # normalising twice changes no word
    ws, clauses = tokens(text)
    assert ws == words(text) and len(clauses) == len(ws)
    assert clauses == sorted(clauses)
    for w in ws:
        assert variants(w)[0] == w
        skeleton(w)
    salient(text), script_of(text), headline(text)


@settings(max_examples=150, deadline=None)
@given(st.text(), st.text())
def test_matching_with_the_shipped_rules_never_crashes(title: str, summary: str) -> None:
    for m in M.match(title, summary):
        assert m.strength > 0 and m.hits


def _unrelated(extra: str) -> bool:
    """No rule term or certainty cue of any indicator occurs in it."""
    return not M.index.find(Text.of(extra, extra))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(EXAMPLES_ST, PROSE)
def test_an_unrelated_sentence_never_removes_or_weakens_a_match(
    example: tuple[str, str], extra: str
) -> None:
    assume(_unrelated(extra))
    title, summary = example
    before = {m.indicator: m for m in M.match(title, summary)}
    for t, s in ((f"{title}. {extra}", summary), (title, f"{summary} {extra}".strip()),
                 (title, f"{extra}. {summary}")):
        after = {m.indicator: m for m in M.match(t, s)}
        assert set(before) <= set(after), (t, s)
        for ind, m in before.items():
            assert after[ind].certainty is m.certainty and after[ind].strength >= m.strength

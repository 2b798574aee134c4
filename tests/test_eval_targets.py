"""The issue's targets as a regression guard: the shipped rules on the devset and the held-out sets
(tests/fixtures/heldout*.jsonl; see tests/fixtures/HELDOUT.md for how they were made and used),
with summaries and with titles only."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT, SHARED
from watcher.config import load_config
from watcher.judge.evaluate import evaluate_matcher, load_labeled
from watcher.judge.match import Matcher

CFG = load_config(ROOT / "indicators.yaml")
M = Matcher(CFG)
CONTRACT = [i.id for i in CFG.indicators if i.contract]
SETS = [SHARED / "devset" / "headlines.jsonl"] + sorted(
    (ROOT / "tests" / "fixtures").glob("heldout*.jsonl")
)


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_targets_hold(path: Path) -> None:
    if not path.exists():
        pytest.skip(f"{path} is not available here")
    ev = evaluate_matcher(M, load_labeled(path), CONTRACT)
    p, r, _ = ev.prf()
    assert p >= 0.90 and r >= 0.85, f"{path.name}: micro P {p:.2f} R {r:.2f}"
    assert ev.none_flagged <= 0.05 * ev.none_total, (
        f"{path.name}: {ev.none_flagged}/{ev.none_total} 'none' flagged"
    )


@pytest.mark.parametrize("path", SETS, ids=lambda p: p.name)
def test_titles_only_targets_hold(path: Path) -> None:
    """Issue 13: half the shipped feeds (Google News searches) carry only the headline; with every
    summary blanked, recall stays at 0.75 or more at precision 0.90 or more."""
    if not path.exists():
        pytest.skip(f"{path} is not available here")
    ev = evaluate_matcher(M, load_labeled(path), CONTRACT, titles_only=True)
    p, r, _ = ev.prf()
    assert p >= 0.90 and r >= 0.75, f"{path.name} (titles only): micro P {p:.2f} R {r:.2f}"
    assert ev.none_flagged <= 0.05 * ev.none_total, (
        f"{path.name}: {ev.none_flagged}/{ev.none_total} 'none' flagged"
    )


def test_every_contract_indicator_has_english_and_russian_terms() -> None:
    for ind in CFG.indicators:
        if not ind.contract:
            continue
        terms = " ".join(t for rule in ind.rules for t in _all_terms(rule))
        assert any("a" <= ch <= "z" for ch in terms.lower()), ind.id
        assert any("а" <= ch <= "я" for ch in terms.lower()), ind.id


def test_every_contract_indicator_has_terms_in_the_regions_languages() -> None:
    """Issue 13: Chinese (Han), Turkish/Azerbaijani (ı ş ğ ə), Kazakh (ә і ң ғ ү ұ қ ө һ) and
    Uzbek Cyrillic (ў ҳ) terms in every contract indicator, through its named sets or its own."""
    scripts = {"zh": lambda t: any("\u4e00" <= ch <= "\u9fff" for ch in t),
               "tr/az": lambda t: any(ch in "ışğə" for ch in t),
               "kk": lambda t: any(ch in "әіңғүұқөһ" for ch in t),
               "uz": lambda t: any(ch in "ўҳ" for ch in t)}
    for ind in CFG.indicators:
        if ind.contract:
            terms = " ".join(t for rule in ind.rules for t in _all_terms(rule)).lower()
            assert all(has(terms) for has in scripts.values()), ind.id


def _all_terms(rule: object) -> list[str]:
    from watcher.judge.match import _rule_terms
    return _rule_terms(rule)  # type: ignore[arg-type]

"""Absence that knows its coverage: WARN / HIGH-WATER say how much of the watch was observed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from tests.conftest import ROOT, at
from watcher.config import parse_config
from watcher.judge.criterion import coverage_of, evaluate
from watcher.models import CriterionState
from watcher.store import FeedFailed, FeedPolled, Store

CFG = parse_config((ROOT / "tests" / "fixtures" / "mini.yaml").read_text(encoding="utf-8"))
WARN_DAY = at("2026-06-01")          # 207 days after the baseline, one feed configured


def cov(observed: int, items: int, failing: int = 0) -> object:
    return coverage_of(CFG, WARN_DAY, observed_days={"wire": observed, "not-configured": 999},
                       items=items, recent_items=items // 7, failing_now=failing)


def test_a_well_observed_absence_states_its_coverage() -> None:
    v = evaluate(CFG, [], WARN_DAY, cov(observed=190, items=3000))     # type: ignore[arg-type]
    assert v.state is CriterionState.WARN and not v.coverage.poor      # type: ignore[union-attr]
    s = v.sentence()
    assert s.startswith("WARN: no measurable follow-up 207 days after the baseline")
    assert "92% of feed-days observed since the baseline (1 feeds, 0 failing now)" in s
    assert "101 items a week" in s


def test_a_poorly_observed_absence_says_so_instead_of_claiming_it() -> None:
    v = evaluate(CFG, [], WARN_DAY, cov(observed=40, items=3000, failing=1))   # type: ignore[arg-type]
    assert v.state is CriterionState.WARN and v.coverage.poor                  # type: ignore[union-attr]
    s = v.sentence()
    assert s.startswith("WARN (coverage poor): no measurable follow-up seen in the 207 days")
    assert "only 19% of feed-days observed" in s and "1 failing now" in s
    assert "may be a gap in the watch" in s
    thin = evaluate(CFG, [], WARN_DAY, cov(observed=200, items=20))            # 0.7 items a week
    assert "coverage poor" in thin.sentence()
    late = at("2026-12-01")
    hw = evaluate(CFG, [], late, coverage_of(CFG, late, observed_days={"wire": 30}, items=50,
                                             recent_items=0, failing_now=0))
    assert hw.state is CriterionState.HIGH_WATER and hw.sentence().startswith(
        "HIGH-WATER (coverage poor)"
    )
    assert "high-water mark of the expansion" not in hw.sentence()


def test_polls_are_counted_per_feed_and_day(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    store.sync_feeds(CFG.feeds, at("2026-01-01"))
    day = at("2026-01-01T10:00")
    for n in range(3):                                    # three days polled, one of them failing
        t = day + timedelta(days=n)
        store.record_polls([FeedPolled("wire", 200, None, None, None, t, stored=2)], t)
    store.record_polls([FeedPolled("wire", 304, None, None, None, day)], day + timedelta(hours=1))
    store.record_failure(FeedFailed("wire", 503, "down", day), day + timedelta(days=5))
    assert store.observed_days(at("2025-12-01"), at("2026-02-01")) == {"wire": 3}
    assert store.observed_days(at("2026-01-02"), at("2026-02-01")) == {"wire": 2}
    store.close()

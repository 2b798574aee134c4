"""Retention: items that matched nothing go after WATCHER_KEEP_UNMATCHED; evidence stays."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.test_pipeline import NOW, context, serve_fixtures, write_config
from watcher.errors import ConfigError
from watcher.ingest.poll import poll
from watcher.service import judge, prune
from watcher.settings import load_settings


def test_unmatched_items_go_after_the_retention_and_evidence_stays(
        feed_server: Any, state_env: Path, tmp_path: Path) -> None:
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    try:
        asyncio.run(poll(ctx))
        stored = ctx.store.count_items()
        matched = {m.item_id for m in ctx.store.matched_items()}
        assert 0 < len(matched) < stored                  # the fixtures hold both kinds
        _, before = judge(ctx, NOW)
        assert prune(ctx, NOW + timedelta(days=399)) == 0   # default 400 days: nothing yet
        assert prune(ctx, NOW + timedelta(days=401)) == stored - len(matched)
        assert ctx.store.count_items() == len(matched)
        assert {m.item_id for m in ctx.store.matched_items()} == matched
        _, after = judge(ctx, NOW)
        assert after.state == before.state and after.sentence() == before.sentence()
    finally:
        ctx.store.close()


def test_zero_keeps_everything_and_a_bad_value_is_a_clear_error(
        feed_server: Any, state_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WATCHER_KEEP_UNMATCHED", "0")
    serve_fixtures(feed_server)
    ctx = context(write_config(tmp_path, feed_server))
    try:
        asyncio.run(poll(ctx))
        stored = ctx.store.count_items()
        assert prune(ctx, NOW + timedelta(days=5000)) == 0 and ctx.store.count_items() == stored
    finally:
        ctx.store.close()
    assert load_settings({"WATCHER_KEEP_UNMATCHED": "90d"}).keep_unmatched_days == 90
    with pytest.raises(
        ConfigError, match="WATCHER_KEEP_UNMATCHED: '3 months' is not a number of days"
    ):
        load_settings({"WATCHER_KEEP_UNMATCHED": "3 months"})

"""Rules follow edits: stored items are matched again by `watcher rematch` and on reload."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from tests.test_pipeline import context, serve_fixtures, write_config
from watcher.cli import main
from watcher.ingest.poll import poll
from watcher.scheduler import Service


def drop_rally_terms(config: Path) -> None:
    """Edit the backlash rule so the Almaty rally no longer matches it."""
    text = config.read_text(encoding="utf-8")
    config.write_text(text.replace("- rally", "- picket").replace("- митинг*", "- пикет*")
                      .replace("- протест*", "- забастовк*"), encoding="utf-8")


def totals(config: Path, capsys: pytest.CaptureFixture[str]) -> dict[str, int]:
    assert main(["status", "--json", "--config", str(config)]) == 0
    return {k: v["total"] for k, v in json.loads(capsys.readouterr().out)["indicators"].items()}


def test_rematch_applies_edited_rules_to_history(feed_server: Any, state_env: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    assert main(["poll", "--config", str(config)]) == 0
    capsys.readouterr()
    assert totals(config, capsys)["domestic_backlash"] == 1
    drop_rally_terms(config)
    assert "- picket" in config.read_text(encoding="utf-8")
    assert totals(config, capsys)["domestic_backlash"] == 1  # history still has the old match
    assert main(["rematch", "--since", "2099-01-01", "--config", str(config)]) == 0
    assert "rematched 0 stored item(s)" in capsys.readouterr().out
    assert main(["rematch", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "rematched 9 stored item(s)" in out and "1 item(s) matched differently" in out
    assert totals(config, capsys)["domestic_backlash"] == 0
    assert (
        main(["explain", "https://regional.example.ru/news/almaty-rally", "--config", str(config)])
        == 0
    )
    assert "matches no indicator" in capsys.readouterr().out


def test_reload_rematches_when_the_rules_changed(
    feed_server: Any, state_env: Path, tmp_path: Path
) -> None:
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server)
    ctx = context(config)
    asyncio.run(poll(ctx))

    def backlash() -> int:
        return sum(1 for m in ctx.store.matched_items() if m.match.indicator == "domestic_backlash")

    assert backlash() == 1
    service = Service(ctx, config)
    drop_rally_terms(config)
    assert service.reload()
    assert backlash() == 0
    ctx.store.close()


def test_rematch_since_reads_exactly_the_items_seen_since(
    feed_server: Any, state_env: Path, tmp_path: Path
) -> None:
    """`rematch --since` reads its window page by page along the seen_at index (issue 17):
    every item seen since the date once, none before it, however the pages fall (many items
    share one poll's moment)."""
    from datetime import timedelta

    from tests.test_pipeline import NOW
    from watcher.models import Item
    from watcher.service import rematch

    ctx = context(write_config(tmp_path, feed_server))
    days = [NOW - timedelta(days=d) for d in (9, 5, 5, 1)]
    ids: dict[int, list[int]] = {}
    for n, day in enumerate(days):
        items = [Item("wire", f"k{n}-{i}", f"Title {n} {i}", "", f"https://w.example/{n}/{i}",
                      day, "en") for i in range(23)]
        ids[n] = [s.id for s in ctx.store.add_items(items, day)]
    since = NOW - timedelta(days=6)
    for batch in (1, 7, 23, 1000):
        got = [t.id for t in ctx.store.item_texts(since, batch=batch)]
        assert sorted(got) == sorted(ids[1] + ids[2] + ids[3]) and len(set(got)) == len(got)
    assert [t.id for t in ctx.store.item_texts(batch=10)] == sorted(i for n in ids for i in ids[n])
    assert rematch(ctx, since).items == 69
    ctx.store.close()

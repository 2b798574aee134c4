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

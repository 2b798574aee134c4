"""`watcher replay`: archived feed files, each ingested on its own date, judged as of dates."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ON_POSTGRES, ROOT
from tests.test_pipeline import context
from watcher.cli import main

MINI = ROOT / "tests" / "fixtures" / "mini.yaml"


def rss(*items: tuple[str, str], host: str = "wire.example.com") -> str:
    body = "".join(
        f"<item><title>{t}</title>"
        f"<link>https://{host}/{t.lower().replace(' ', '-')}</link>"
        f"<pubDate>{d}</pubDate></item>"
        for t, d in items
    )
    return ("<?xml version='1.0'?><rss version='2.0'><channel><title>Wire</title>"
            f"{body}</channel></rss>")


@pytest.fixture
def archive(tmp_path: Path) -> Path:
    """Three weekly snapshots of one wire feed; the Kazakh–Israeli deal appears in the third,
    and an outlet (a feed the config does not know) reports it the next day."""
    folder = tmp_path / "archive"
    (folder / "wire").mkdir(parents=True)
    quiet = ("Kazakhstan wheat exports rise", "Mon, 05 Jan 2026 08:00:00 +0000")
    deal = (
        "Kazakhstan and Israel sign water technology agreement",
        "Mon, 02 Mar 2026 09:00:00 +0000",
    )
    (folder / "wire" / "2026-01-06.xml").write_text(rss(quiet), encoding="utf-8")
    (folder / "wire" / "2026-02-06.xml").write_text(rss(quiet), encoding="utf-8")
    (folder / "wire" / "2026-03-03T0600.xml").write_text(rss(deal, quiet), encoding="utf-8")
    (folder / "notes.txt").write_text("not a feed", encoding="utf-8")
    (folder / "outlet").mkdir()
    again = ("Israel, Kazakhstan sign water technology agreement",
             "Tue, 03 Mar 2026 10:00:00 +0000")
    (folder / "outlet" / "2026-03-04.xml").write_text(rss(again, host="outlet.example.org"),
                                                      encoding="utf-8")
    return folder


def test_replay_judges_each_date_from_what_was_seen_by_then(
        archive: Path, state_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["replay", str(archive), "--as-of", "2026-03-10", "--as-of", "2026-02-15",
                 "--as-of", "2026-03-03", "--config", str(MINI)])
    captured = capsys.readouterr()
    out = captured.out
    assert code == 0, out
    assert (
        "replayed 4 file(s) into a temporary database (deleted after): 3 new item(s), 2 match(es)"
        in out
    )
    feb, one, two = (out.split(f"as of {d}: ")[1].split("\nas of ")[0]
                     for d in ("2026-02-15", "2026-03-03", "2026-03-10"))
    assert feb.startswith("WATCHING")
    assert one.startswith("WATCHING")        # one source so far: a candidate, not follow-up
    assert two.startswith("FOLLOW-UP: measurable follow-up seen 02 Mar 2026")
    assert ", 2 independent source(s))" in two and "balance: momentum 1 event(s)" in two
    assert all("\n  coverage: " in part for part in (feb, one, two))    # whatever the state
    assert "feed folder(s) not in the config, read as outlets: outlet" in captured.err
    assert not (state_env / "watcher.db").exists()          # the live database was never touched


def test_replay_states_thin_coverage_of_an_absence(tmp_path: Path, state_env: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "a"
    folder.mkdir()
    (folder / "wire.2026-01-06.xml").write_text(
        rss(("Wheat exports rise", "Mon, 05 Jan 2026 08:00:00 +0000"))
    )
    assert main(["replay", str(folder), "--as-of", "2026-07-01", "--config", str(MINI)]) == 0
    assert "as of 2026-07-01: WARN (coverage poor)" in capsys.readouterr().out


def test_replay_can_keep_its_database_or_use_the_live_one(
        archive: Path, tmp_path: Path, state_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kept = tmp_path / "replay.db"
    assert (
        main(
            [
                "replay",
                str(archive),
                "--as-of",
                "2026-03-10",
                "--db",
                str(kept),
                "--config",
                str(MINI),
            ]
        )
        == 0
    )
    assert kept.exists() and not (state_env / "watcher.db").exists()
    assert (
        main(
            ["replay", str(archive), "--as-of", "2026-03-10", "--into-live", "--config", str(MINI)]
        )
        == 0
    )
    assert "into the live database" in capsys.readouterr().out
    assert ON_POSTGRES or (state_env / "watcher.db").exists()
    live = context(MINI)                  # the configured database, SQLite or PostgreSQL
    try:
        assert live.store.count_items() > 0
    finally:
        live.store.close()


def test_replay_of_a_folder_without_feeds_is_a_one_line_error(
        tmp_path: Path, state_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["replay", str(tmp_path), "--as-of", "2026-03-10", "--config", str(MINI)]) == 1
    assert "no feed files" in capsys.readouterr().err
    assert (
        main(["replay", str(tmp_path / "nope"), "--as-of", "2026-03-10", "--config", str(MINI)])
        == 1
    )

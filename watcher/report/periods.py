"""The digest's calendar: which weekly period a moment belongs to, and when the next one is."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from watcher.config import Config


def digest_slot(config: Config, now: datetime) -> datetime:
    """The latest scheduled digest time at or before now (in the digest's time zone)."""
    local = now.astimezone(config.digest.tz)
    day = local.date() - timedelta(days=(local.weekday() - config.digest.weekday) % 7)
    slot = datetime.combine(day, config.digest.at, tzinfo=config.digest.tz)
    if slot > local:
        slot -= timedelta(days=7)
    return slot.astimezone(UTC)


def next_digest_at(config: Config, now: datetime) -> datetime:
    """The next scheduled digest time after now (UTC); the slot a week on follows DST."""
    return digest_slot(config, now + timedelta(days=7))


def period_of(config: Config, now: datetime) -> str:
    """The digest period a moment belongs to, named by its ISO week ('2026-W48')."""
    year, week, _ = digest_slot(config, now).astimezone(config.digest.tz).isocalendar()
    return f"{year}-W{week:02d}"

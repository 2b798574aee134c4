"""Durations in indicators.yaml: '30m', '2h', '7d' for intervals, '6mo', '1y' for the criterion's
calendar spans. Kept as written in the models (errors and dumps show what the maintainer wrote)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w|mo|y)\s*$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_seconds(text: str) -> int:
    """'30m' → 1800; months and years are calendar spans and not allowed here."""
    m = _DURATION.match(str(text))
    if not m or m.group(2) in ("mo", "y"):
        raise ValueError(f"expected a duration like 30m, 2h, 1d, got {text!r}")
    return int(m.group(1)) * _SECONDS[m.group(2)]


def parse_months(text: str) -> int:
    """'6mo' → 6, '1y' → 12: the criterion counts calendar months from the baseline."""
    m = _DURATION.match(str(text))
    if not m or m.group(2) not in ("mo", "y"):
        raise ValueError(f"expected a span in months like 6mo or 1y, got {text!r}")
    return int(m.group(1)) * (12 if m.group(2) == "y" else 1)


def _check_duration(text: str) -> str:
    parse_seconds(text)
    return text


def duration(text: str) -> timedelta:
    """A validated Duration field as a timedelta."""
    return timedelta(seconds=parse_seconds(text))


# A duration like 30m, 2h or 7d, kept as written (errors and dumps show what the maintainer wrote).
Duration = Annotated[str, AfterValidator(_check_duration)]

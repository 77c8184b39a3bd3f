"""Core layer: where time comes from, so signatures and retries test at fixed instants."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """A source of the current time."""

    def now(self) -> float:
        """Return the current Unix time in seconds."""
        ...


class SystemClock:
    """The real wall clock."""

    def now(self) -> float:
        """Return the current Unix time in seconds."""
        return time.time()


@dataclass(slots=True)
class FixedClock:
    """A clock that stays where tests put it."""

    instant: float = field(default=1_700_000_000.0)

    def now(self) -> float:
        """Return the fixed instant."""
        return self.instant

    def advance(self, seconds: float) -> None:
        """Move the clock forward by ``seconds``."""
        self.instant += seconds


def iso(ts: float) -> str:
    """Format Unix time as an ISO 8601 UTC timestamp with a ``Z`` suffix, seconds precision."""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> float:
    """Parse an ISO 8601 timestamp (``Z`` or offset) into Unix time.

    Raise ValueError if it is malformed.
    """
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()

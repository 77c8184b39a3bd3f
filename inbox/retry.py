"""Inbox layer: when to try a failed activity again, and when to give up."""

from __future__ import annotations

# Delays after the 1st, 2nd, ... failed attempt; after the last one the activity is `failed`.
# About 14 hours in all: long enough to outlast a peer's outage or a restart of ours.
BACKOFF_SECONDS: tuple[float, ...] = (10, 30, 120, 600, 1800, 3600, 3 * 3600, 8 * 3600)
MAX_ATTEMPTS = len(BACKOFF_SECONDS) + 1


def next_attempt(attempts_so_far: int, *, now: float) -> float | None:
    """When to retry after `attempts_so_far` failed attempts, or None to give up."""
    if attempts_so_far >= len(BACKOFF_SECONDS):
        return None
    return now + BACKOFF_SECONDS[attempts_so_far]

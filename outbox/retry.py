"""Outbox layer: the retry policy of deliveries, as pure functions of an attempt's result.

Mastodon's delivery worker relies on Sidekiq's default retry schedule with `retry: 16`: after
the n-th retry (counting from 0) it waits ``n**4 + 15 + rand(10) * (n + 1)`` seconds. Sixteen
retries after the first attempt add up to a little over two days. We keep that schedule.

Transient failures (no answer, a timeout, 5xx, 408, 429) are retried on that schedule; a 429 or
503 with ``Retry-After`` is not retried before the server asked. Any other 4xx is final, and so
is a refusal by the SSRF guard or a domain block (nothing will change by trying again).
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from dataclasses import dataclass

MAX_RETRIES = 16
"""Retries after the first attempt, so a row is tried at most 17 times."""

MAX_RETRY_AFTER = 7 * 86_400.0
"""The longest `Retry-After` we honour; anything longer is treated as this."""

_TRANSIENT_4XX = frozenset({408, 429})

Jitter = Callable[[int], int]
"""Returns a random integer in [0, n) — `random.Random.randrange` fits; tests pass a fixed one."""


class Verdict(enum.Enum):
    """What an attempt's result means for its row."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Decision:
    """The verdict on one attempt, and when to try again for `RETRY`."""

    verdict: Verdict
    next_attempt_at: float | None = None
    reason: str | None = None


def backoff_seconds(retry_count: int, *, jitter: Jitter) -> float:
    """Seconds to wait before retry number `retry_count` (0 for the first retry).

    Sidekiq's schedule: ``retry_count**4 + 15 + jitter(10) * (retry_count + 1)``.
    """
    if retry_count < 0:
        raise ValueError("retry_count must be ≥ 0")
    return float(retry_count**4 + 15 + jitter(10) * (retry_count + 1))


def classify_status(status: int) -> Verdict:
    """What an HTTP status means: 2xx delivered, transient failures retried, other 4xx final.

    3xx (a POST is never redirected: the activity would go to an inbox nobody addressed) and
    other odd codes are retried, since they are usually a misconfiguration the remote side
    fixes. Unlike Mastodon, a 401 is final, as issue 5 asks: both signature schemes were
    already tried (double-knock) before a 401 reaches the queue.
    """
    if 200 <= status < 300:
        return Verdict.DELIVERED
    if status in _TRANSIENT_4XX or status >= 500:
        return Verdict.RETRY
    if 400 <= status < 500:
        return Verdict.FAILED
    return Verdict.RETRY


def decide(
    *,
    status: int | None,
    attempts: int,
    now: float,
    jitter: Jitter,
    retry_after: float | None = None,
    final: bool = False,
) -> Decision:
    """Decide a row's fate after its `attempts`-th attempt (counting this one).

    `status` is None when no answer came (network error, timeout); `final` marks a refusal that
    will never change (a blocked address). A transient failure after the last retry fails.
    """
    if final:
        return Decision(Verdict.FAILED, reason="refused")
    verdict = Verdict.RETRY if status is None else classify_status(status)
    if verdict is Verdict.DELIVERED:
        return Decision(Verdict.DELIVERED)
    if verdict is Verdict.FAILED:
        return Decision(Verdict.FAILED, reason=f"HTTP {status} is final")
    if attempts > MAX_RETRIES:
        return Decision(Verdict.FAILED, reason=f"gave up after {attempts} attempts")
    delay = backoff_seconds(attempts - 1, jitter=jitter)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(retry_after, MAX_RETRY_AFTER))
    return Decision(Verdict.RETRY, next_attempt_at=now + delay)


def system_jitter() -> Jitter:
    """A jitter source from a fresh, unseeded RNG (one per outbox, never shared globally)."""
    return random.Random().randrange

"""Tests of the delivery retry policy (pure functions)."""

from __future__ import annotations

import pytest

from outbox.retry import MAX_RETRIES, Verdict, backoff_seconds, classify_status, decide


def no_jitter(n: int) -> int:
    return 0


def max_jitter(n: int) -> int:
    return n - 1


def test_backoff_follows_sidekiq_schedule() -> None:
    # Given Sidekiq's formula n**4 + 15 + rand(10) * (n + 1)
    # When computed without and with the largest jitter
    # Then the values match the formula
    assert backoff_seconds(0, jitter=no_jitter) == 15
    assert backoff_seconds(1, jitter=no_jitter) == 16
    assert backoff_seconds(2, jitter=max_jitter) == 16 + 15 + 9 * 3
    assert backoff_seconds(10, jitter=no_jitter) == 10_015


def test_sixteen_retries_span_two_to_three_days() -> None:
    # Given every retry of one row
    # When their waits are summed
    # Then the whole schedule lasts between two and three days
    low = sum(backoff_seconds(n, jitter=no_jitter) for n in range(MAX_RETRIES))
    high = sum(backoff_seconds(n, jitter=max_jitter) for n in range(MAX_RETRIES))
    assert 2 * 86_400 <= low <= high <= 3 * 86_400


def test_backoff_rejects_negative_count() -> None:
    with pytest.raises(ValueError):
        backoff_seconds(-1, jitter=no_jitter)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.DELIVERED),
        (202, Verdict.DELIVERED),
        (204, Verdict.DELIVERED),
        (400, Verdict.FAILED),
        (401, Verdict.FAILED),
        (404, Verdict.FAILED),
        (410, Verdict.FAILED),
        (408, Verdict.RETRY),
        (429, Verdict.RETRY),
        (500, Verdict.RETRY),
        (502, Verdict.RETRY),
        (503, Verdict.RETRY),
        (302, Verdict.RETRY),
    ],
)
def test_classify_status(status: int, verdict: Verdict) -> None:
    assert classify_status(status) is verdict


def test_network_error_is_retried_on_schedule() -> None:
    # Given a first attempt with no answer at t=1000
    # When decided
    # Then the row is retried 15 s later
    decision = decide(status=None, attempts=1, now=1000.0, jitter=no_jitter)
    assert decision.verdict is Verdict.RETRY
    assert decision.next_attempt_at == 1015.0


def test_retry_after_is_honoured_when_longer() -> None:
    # Given a 429 asking for 600 s after the third attempt (schedule says 16 + 15 = 31 s)
    decision = decide(status=429, attempts=3, now=0.0, jitter=no_jitter, retry_after=600.0)
    # Then the next attempt is not before the server asked
    assert decision.next_attempt_at == 600.0
    # And a Retry-After shorter than the schedule does not shorten it
    short = decide(status=503, attempts=3, now=0.0, jitter=no_jitter, retry_after=1.0)
    assert short.next_attempt_at == 31.0


def test_absurd_retry_after_is_capped() -> None:
    decision = decide(status=429, attempts=1, now=0.0, jitter=no_jitter, retry_after=1e12)
    assert decision.next_attempt_at == 7 * 86_400


def test_gives_up_after_the_last_retry() -> None:
    # Given a row that failed its 17th attempt (the first plus 16 retries)
    decision = decide(status=500, attempts=MAX_RETRIES + 1, now=0.0, jitter=no_jitter)
    # Then it fails with a reason
    assert decision.verdict is Verdict.FAILED
    assert decision.reason is not None and "17 attempts" in decision.reason
    # While the 16th failure is still retried
    assert decide(status=500, attempts=MAX_RETRIES, now=0.0, jitter=no_jitter).verdict is (
        Verdict.RETRY
    )


def test_final_refusal_and_client_errors_fail_at_once() -> None:
    assert decide(status=None, attempts=1, now=0.0, jitter=no_jitter, final=True).verdict is (
        Verdict.FAILED
    )
    failed = decide(status=403, attempts=1, now=0.0, jitter=no_jitter)
    assert failed.verdict is Verdict.FAILED
    assert failed.reason == "HTTP 403 is final"

"""Waiting for an event with a time limit never loses a cancellation (Python 3.11's wait_for
does, when the event is set at the moment the waiter is cancelled)."""

from __future__ import annotations

import asyncio

import pytest

from fedsocial.waiting import wait_for_event


async def test_true_once_set_false_after_the_time() -> None:
    event = asyncio.Event()
    assert await wait_for_event(event, 0.01) is False
    event.set()
    assert await wait_for_event(event, 0.01) is True


async def test_a_cancellation_at_the_moment_the_event_is_set_propagates() -> None:
    # Given a waiter
    event = asyncio.Event()
    waiter = asyncio.create_task(wait_for_event(event, 10))
    await asyncio.sleep(0)
    # When the event is set and the waiter cancelled in the same turn (a server stopping while
    # work arrives)
    event.set()
    waiter.cancel()
    # Then the waiter ends cancelled, so the worker loop around it stops
    with pytest.raises(asyncio.CancelledError):
        await waiter

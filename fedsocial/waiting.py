"""Core layer: waiting for an event with a time limit, without ever losing a cancellation.

On Python 3.11, ``asyncio.wait_for`` returns normally when the task is cancelled at the moment
the awaited thing completes, so the cancellation is lost: a background worker woken by an event
just as the server stops would keep running and hang the shutdown. ``asyncio.timeout`` tells
its own cancellation from a caller's, so this module waits with it.
"""

from __future__ import annotations

import asyncio


async def wait_for_event(event: asyncio.Event, seconds: float) -> bool:
    """Return True once `event` is set, False after `seconds`; a cancellation of the
    caller always propagates."""
    try:
        async with asyncio.timeout(seconds):
            await event.wait()
    except TimeoutError:
        return False
    return True

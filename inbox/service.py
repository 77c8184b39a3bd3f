"""Inbox layer: the `Inbox` service: its receive path, its worker task, and `drain`.

One per application, at `app[appkeys.INBOX]`. The worker applies stored activities promptly:
the receive path wakes it after each grouped commit, and it also polls the table every second,
because the CLI (another process) stores local deliveries there too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import cast

from aiohttp import web

from fedsocial import appkeys
from fedsocial.waiting import wait_for_event
from inbox.receive import Receiver
from inbox.worker import Worker

log = logging.getLogger("fedsocial.inbox")

POLL_SECONDS = 1.0
# While requests pour in, the worker pauses this long between batches: answering peers comes
# first, and the backlog is applied at full speed as soon as the burst is over.
BURST_PAUSE = 0.03


class Inbox:
    """Receives activities (through `receiver`) and applies them (worker task and `drain`)."""

    def __init__(self, worker: Worker) -> None:
        self._worker = worker
        self._wakeup = asyncio.Event()
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        # Work the background worker did since the last `drain`, so that `drain` reports it:
        # callers loop until nothing happened, and an activity applied in the background may
        # have queued deliveries they still have to run.
        self._background_done = 0
        self.receiver: Receiver | None = None

    def attach(self, receiver: Receiver) -> None:
        """Give the inbox the receive path whose commits wake the worker."""
        self.receiver = receiver

    def wake(self) -> None:
        """Tell the worker that new activities are stored."""
        self._wakeup.set()

    def start_worker(self) -> None:
        """Start the background task that applies stored activities."""
        self._task = asyncio.create_task(self._run(), name="inbox-worker")

    async def stop_worker(self) -> None:
        """Stop the background task (an activity being applied is rolled back and kept)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drain(self) -> int:
        """Apply every stored activity that is due now; return how many were processed.

        The count includes what the background worker processed since the previous `drain`.
        """
        async with self._lock:
            total, self._background_done = self._background_done, 0
            while True:
                taken = await self._worker.apply_batch()
                if taken == 0:
                    return total
                total += taken

    async def _run(self) -> None:
        while True:
            self._wakeup.clear()
            try:
                async with self._lock:
                    taken = await self._worker.apply_batch()
                    self._background_done += taken
            except Exception:
                # The database may be busy or gone for a moment: keep the worker alive.
                log.exception("the inbox worker failed to apply a batch")
                taken = 0
            if taken:
                receiving = self.receiver is not None and self.receiver.writer.busy(within=0.05)
                await asyncio.sleep(BURST_PAUSE if receiving else 0)
                continue
            await wait_for_event(self._wakeup, POLL_SECONDS)


def inbox_of(app: web.Application) -> Inbox:
    """The application's inbox service."""
    return cast(Inbox, app[appkeys.INBOX])

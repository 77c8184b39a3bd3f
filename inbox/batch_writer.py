"""Inbox layer: groups the inserts of concurrent inbox requests into one transaction.

Each request hands its row to `write` and waits; a single task commits everything queued so
far in one transaction and then releases all the waiting requests. A request is answered only
after its row is committed (store, then answer), yet a busy inbox pays for one COMMIT per
batch instead of one per activity. Batches form by themselves: whatever arrives while a
commit runs goes into the next one, so a quiet inbox waits for no timer.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from fedsocial.clock import Clock
from fedsocial.errors import StorageError, StorageUnavailable
from fedsocial.storage import inbox_queue
from fedsocial.storage.database import Database
from fedsocial.storage.inbox_queue import NewActivity

log = logging.getLogger("fedsocial.inbox")

MAX_BATCH = inbox_queue.MAX_BATCH


class BatchWriter:
    """Commits queued inbox rows in batches; `write` returns once its row is committed."""

    def __init__(self, db: Database, clock: Clock, *, on_commit: Callable[[], None]) -> None:
        self._db = db
        self._clock = clock
        self._on_commit = on_commit
        self._queue: list[tuple[NewActivity, asyncio.Future[None]]] = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_commit = float("-inf")

    def start(self) -> None:
        """Start the committing task."""
        self._task = asyncio.create_task(self._run(), name="inbox-batch-writer")

    async def stop(self) -> None:
        """Commit what is queued, then stop the task; a request still waiting gets an error."""
        await self._flush()
        if self._task is not None:
            task, self._task = self._task, None
            task.cancel()
            await asyncio.wait([task])
        left, self._queue = self._queue, []
        self._fail(left, StorageUnavailable("the inbox stopped before the activity was stored"))

    def busy(self, *, within: float) -> bool:
        """True when rows were committed in the last `within` seconds (requests are arriving)."""
        return time.monotonic() - self._last_commit < within

    async def write(self, item: NewActivity) -> None:
        """Queue one row and return when it is committed; raise StorageError if it was not."""
        if self._task is None:
            raise StorageUnavailable("the inbox is not accepting activities (shutting down)")
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._queue.append((item, future))
        self._wakeup.set()
        await future

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            await self._flush()

    async def _flush(self) -> None:
        while self._queue:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
            try:
                await inbox_queue.store_batch(
                    self._db, [item for item, _ in batch], now=self._clock.now()
                )
            except StorageError as exc:
                # E.g. StorageUnavailable (another process held the lock too long, a full
                # disk): the senders get a 503 and retry, nothing was stored.
                log.warning("storing %d inbox activities failed: %s", len(batch), exc)
                self._fail(batch, exc)
                continue
            except asyncio.CancelledError:
                # Stopping mid-commit: the requests must still get an answer (a 503, so the
                # sender retries; if the rows did commit, the retry is a known duplicate).
                self._fail(
                    batch, StorageUnavailable("the inbox stopped before the activity was stored")
                )
                raise
            except Exception as exc:
                log.exception("storing %d inbox activities failed", len(batch))
                self._fail(batch, StorageError(f"could not store the activity: {exc}"))
                continue
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
            self._last_commit = time.monotonic()
            self._on_commit()

    @staticmethod
    def _fail(batch: list[tuple[NewActivity, asyncio.Future[None]]], exc: Exception) -> None:
        for _, future in batch:
            if not future.done():
                future.set_exception(exc)

"""Outbox layer: the delivery engine — take due rows, sign and POST, record what happened.

One `Deliverer` per application. A cycle (`run_due`) reads due rows in id order in batches,
hands them to `workers` coroutines through a `HostScheduler` (at most `per_host` requests to one
host:port at once), and writes outcomes back in batched transactions. Each activity's JSON is
read and encoded once per cycle, not once per inbox. Signing happens inside the poster at send
time, so every attempt carries a fresh Date.

Unavailable hosts (see `fedsocial.storage.host_health`) are skipped: their rows stay `pending`
with their attempts untouched, so a host that comes back gets its backlog. Once per
`PROBE_INTERVAL` the oldest due row of each unavailable host is tried as a probe; a 2xx makes
the host available again (so does `host_health.record_success`, e.g. when it sends us something).

With `serve --workers N` each process has a `Deliverer` for its own `Shard` of the hosts (see
`fedsocial.storage.shards`), so signing and sending spread over N cores and each host is still
delivered to by one process only.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from fedsocial.clock import Clock
from fedsocial.errors import BlockedAddress, FedsocialError
from fedsocial.federation.signing import SigningKey
from fedsocial.storage import deliveries, host_health
from fedsocial.storage.database import Database
from fedsocial.storage.deliveries import DeliveryRow, Outcome
from fedsocial.storage.shards import WHOLE, Shard
from fedsocial.waiting import wait_for_event
from outbox.delivery_ports import KeyFor, Poster
from outbox.retry import Jitter, Verdict, classify_status, decide
from outbox.scheduler import HostScheduler

log = logging.getLogger("fedsocial.outbox.delivery")

BATCH_SIZE = 500
FLUSH_EVERY = 200
# Outcomes are also written at least this often, so a crash (SIGKILL, power loss) can resend
# at most the deliveries answered in the last fraction of a second.
FLUSH_SECONDS = 0.1
# While a round waits on slow hosts, rows that became due since it started (new ones, retries)
# are taken in at least this often, so one slow host cannot hold back the others.
TOP_UP_SECONDS = 0.5
PROBE_INTERVAL = 86_400.0
EXCERPT_CHARS = 300


@dataclass(frozen=True, slots=True)
class Attempt:
    """The raw result of one POST, before the retry policy judges it."""

    status: int | None
    excerpt: str | None
    error: str | None
    retry_after: float | None = None
    final: bool = False


class Deliverer:
    """Runs the delivery queue of one database; `run_due` is safe to call from anywhere."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        poster: Poster,
        key_for: KeyFor,
        *,
        workers: int,
        per_host: int,
        jitter: Jitter,
        shard: Shard = WHOLE,
    ) -> None:
        self._db = db
        self._clock = clock
        self._poster = poster
        self._key_for = key_for
        self._workers = workers
        self._per_host = per_host
        self._jitter = jitter
        self._shard = shard
        # One cycle at a time: the background worker and an explicit drain never overlap,
        # so no row can be taken twice.
        self._cycle_lock = asyncio.Lock()
        self._last_probe: dict[str, float] = {}

    async def run_due(self) -> int:
        """Attempt every row due now (including rows queued meanwhile); return how many."""
        async with self._cycle_lock:
            return await _Cycle(self).run()

    async def _probes(self, unavailable: list[str], now: float) -> list[DeliveryRow]:
        rows: list[DeliveryRow] = []
        for host in unavailable:
            if now - self._last_probe.get(host, float("-inf")) < PROBE_INTERVAL:
                continue
            row = await deliveries.first_due_for_host(self._db, host, now=now)
            if row is not None:
                self._last_probe[host] = now
                rows.append(row)
        return rows

    async def _attempt(
        self, row: DeliveryRow, body: bytes | None, key: SigningKey | None
    ) -> Attempt:
        if body is None:
            return Attempt(None, None, "activity is no longer stored", final=True)
        if key is None:
            return Attempt(None, None, f"sender {row.sender} is not a local actor", final=True)
        try:
            answer = await self._poster.post(row.inbox, body, key=key)
        except BlockedAddress as exc:
            return Attempt(None, None, f"blocked: {exc.message}", final=True)
        except FedsocialError as exc:
            return Attempt(None, None, exc.message)
        except Exception as exc:
            # A bug in one request must not kill the worker; it is recorded and retried.
            log.exception("delivery %s to %s crashed", row.id, row.inbox)
            return Attempt(None, None, f"internal error: {type(exc).__name__}")
        return Attempt(
            answer.status,
            answer.excerpt[:EXCERPT_CHARS],
            None if 200 <= answer.status < 300 else f"HTTP {answer.status}",
            retry_after=answer.retry_after,
        )


class _Cycle:
    """One pass over the due rows: workers, scheduler, caches and buffered outcomes."""

    def __init__(self, deliverer: Deliverer) -> None:
        self._d = deliverer
        self._now = deliverer._clock.now()
        self._scheduler: HostScheduler[DeliveryRow] = HostScheduler(per_host=deliverer._per_host)
        self._changed = asyncio.Condition()
        self._version = 0
        self._cursor = 0
        self._exhausted = False
        self._refilling = False
        self._skip: list[str] = []
        # Rows due up to this time are loaded; a top-up loads those due after it.
        self._loaded_until = self._now
        self._bodies: dict[str, bytes | None] = {}
        self._keys: dict[str, SigningKey | None] = {}
        self._outcomes: list[Outcome] = []
        self._successes: set[str] = set()
        self._failures: set[str] = set()
        self._attempted = 0
        self._delivered = 0

    async def run(self) -> int:
        db = self._d._db
        shard = self._d._shard
        self._skip = [h for h in await host_health.unavailable_hosts(db) if shard.owns(h)]
        for row in await self._d._probes(self._skip, self._now):
            self._scheduler.add(row)
        stop = asyncio.Event()
        flusher = asyncio.create_task(self._flush_periodically(stop))
        try:
            # A TaskGroup, not gather: should a worker fail, the others are cancelled rather
            # than left running past the last flush, whose outcomes would then be lost.
            async with asyncio.TaskGroup() as workers:
                for _ in range(self._d._workers):
                    workers.create_task(self._worker())
        finally:
            # The flusher writes what is left and ends. Even when the server stops (this task
            # cancelled) that last write finishes first: a row that got a 2xx must never be
            # sent again after a restart, and the database closes right after this task.
            stop.set()
            try:
                await asyncio.shield(flusher)
            except asyncio.CancelledError:
                await flusher
                raise
        await self._record_health()
        if self._attempted:
            shard = self._d._shard
            log.info(
                "deliveries: %d attempted, %d delivered (hosts of shard %d of %d)",
                self._attempted,
                self._delivered,
                shard.index + 1,
                shard.count,
            )
        return self._attempted

    async def _worker(self) -> None:
        while True:
            seen = self._version
            row = self._scheduler.take()
            if row is None:
                if not self._exhausted and not self._refilling:
                    await self._refill()
                    continue
                # Idle workers stay while others run: a top-up may bring rows for them.
                if self._exhausted and self._scheduler.queued == 0 == self._scheduler.running:
                    return
                async with self._changed:
                    # Only sleep if nothing changed since we looked, or a wake-up is lost.
                    if self._version == seen:
                        await self._changed.wait()
                continue
            try:
                await self._deliver(row)
            finally:
                self._scheduler.done(row)
                await self._signal()

    async def _signal(self) -> None:
        async with self._changed:
            self._version += 1
            self._changed.notify_all()

    async def _refill(self) -> None:
        self._refilling = True
        try:
            rows = await deliveries.due(
                self._d._db,
                now=self._now,
                after_id=self._cursor,
                limit=BATCH_SIZE,
                skip_hosts=self._skip,
                shard=self._d._shard,
            )
            if len(rows) < BATCH_SIZE:
                self._exhausted = True
            if rows:
                self._cursor = rows[-1].id
            for row in rows:
                self._scheduler.add(row)
        finally:
            self._refilling = False
            await self._signal()

    async def _top_up(self) -> None:
        """Load the rows that became due since the last load (queued or retried meanwhile).

        A row taken in this round and not yet written back still has its old due time, at or
        before `_loaded_until`, so it is never loaded twice.
        """
        now = self._d._clock.now()
        if now <= self._loaded_until:
            return
        cursor, added = 0, 0
        while True:
            rows = await deliveries.due(
                self._d._db,
                now=now,
                due_after=self._loaded_until,
                after_id=cursor,
                limit=BATCH_SIZE,
                skip_hosts=self._skip,
                shard=self._d._shard,
            )
            for row in rows:
                self._scheduler.add(row)
            added += len(rows)
            if len(rows) < BATCH_SIZE:
                break
            cursor = rows[-1].id
        self._loaded_until = now
        if added:
            # A long round notices deleted activities, deleted actors and rotated keys too.
            self._bodies.clear()
            self._keys.clear()
            await self._signal()
        await self._record_health()

    async def _record_health(self) -> None:
        successes, failures = self._successes, self._failures
        self._successes, self._failures = set(), set()
        newly = await host_health.record_many(
            self._d._db, successes=successes, failures=failures, now=self._d._clock.now()
        )
        for host in sorted(newly):
            log.warning("host %s failed on 7 distinct days: marked unavailable", host)

    async def _body(self, activity_id: str) -> bytes | None:
        if activity_id not in self._bodies:
            text = await self._d._db.fetchval(
                "SELECT document FROM activities WHERE id = ?", (activity_id,)
            )
            self._bodies[activity_id] = None if text is None else str(text).encode()
        return self._bodies[activity_id]

    async def _key(self, sender: str) -> SigningKey | None:
        if sender not in self._keys:
            self._keys[sender] = await self._d._key_for(sender)
        return self._keys[sender]

    async def _deliver(self, row: DeliveryRow) -> None:
        try:
            body = await self._body(row.activity_id)
            key = await self._key(row.sender)
        except Exception as exc:
            # A stored key that no longer loads, or a failed read: this row is retried later,
            # and the round goes on for every other row.
            log.exception("delivery %s: loading its activity or signing key failed", row.id)
            attempt = Attempt(
                None, None, f"internal error loading the activity or signing key: {exc}"
            )
        else:
            attempt = await self._d._attempt(row, body, key)
        self._attempted += 1
        attempts = row.attempts + 1
        now = self._d._clock.now()
        decision = decide(
            status=attempt.status,
            attempts=attempts,
            now=now,
            jitter=self._d._jitter,
            retry_after=attempt.retry_after,
            final=attempt.final,
        )
        if decision.verdict is Verdict.DELIVERED:
            self._delivered += 1
            self._successes.add(row.host)
            state, next_at, error = deliveries.DELIVERED, row.next_attempt_at, None
        elif decision.verdict is Verdict.RETRY:
            self._failures.add(row.host)
            state, next_at, error = (
                deliveries.PENDING,
                decision.next_attempt_at or now,
                attempt.error,
            )
        else:
            transient = attempt.status is None or classify_status(attempt.status) is Verdict.RETRY
            if transient and not attempt.final:
                self._failures.add(row.host)
            state, next_at = deliveries.FAILED, row.next_attempt_at
            error = "; ".join(e for e in (attempt.error, decision.reason) if e)
        self._outcomes.append(
            Outcome(
                delivery_id=row.id,
                state=state,
                attempts=attempts,
                next_attempt_at=next_at,
                last_status=attempt.status,
                last_error=error,
                response_excerpt=attempt.excerpt,
            )
        )
        if len(self._outcomes) >= FLUSH_EVERY:
            try:
                await self._flush()
            except Exception:
                # Kept by _flush for the next one; this worker goes on delivering.
                log.exception("recording delivery outcomes failed")

    async def _flush_periodically(self, stop: asyncio.Event) -> None:
        """Write outcomes every FLUSH_SECONDS, and once more after `stop` is set; top up the
        round every TOP_UP_SECONDS once every row due at its start is loaded."""
        loop = asyncio.get_running_loop()
        next_top_up = loop.time() + TOP_UP_SECONDS
        while True:
            # Set before this flush starts, `stop` means every worker is done, so the flush
            # takes the last outcomes; set during a flush, the loop comes round once more.
            stopped = await wait_for_event(stop, FLUSH_SECONDS)
            try:
                await self._flush()
                if not stopped and self._exhausted and loop.time() >= next_top_up:
                    next_top_up = loop.time() + TOP_UP_SECONDS
                    await self._top_up()
            except Exception:
                log.exception("recording delivery outcomes failed")
            if stopped:
                return

    async def _flush(self) -> None:
        batch, self._outcomes = self._outcomes, []
        try:
            await deliveries.record(self._d._db, batch, now=self._d._clock.now())
        except BaseException:
            # Kept for the next flush: losing them would resend answered deliveries.
            self._outcomes[:0] = batch
            raise

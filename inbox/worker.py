"""Inbox layer: applies stored activities, a batch at a time, exactly once.

For each due activity: normalise it (JSON-LD, fast path first), route it, let the handler read
and collect its writes. Then one transaction commits the writes of the whole batch together
with each activity's new state, so a crash never leaves an activity half-applied or applied
without being marked. If that transaction fails, each activity is committed alone, so one bad
activity cannot block the others.

Outcomes: `applied`, `unsupported` (no handler), `rejected` (the activity breaks a rule: a 4xx
error from our tree), or, for anything else (a peer that does not answer, a bug), a retry with
backoff recorded on the row, and `failed` after the last attempt.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass
from typing import Any

from fedsocial.activity_json import as_list
from fedsocial.errors import ContextNotAllowed, FedsocialError, JsonLdError, ValidationError
from fedsocial.jsonld.loader import is_known_context
from fedsocial.jsonld.normalise import normalise
from fedsocial.storage import inbox_queue
from fedsocial.storage.inbox_queue import IncomingActivity
from fedsocial.storage.statements import Statement, run_statements
from inbox.context import Effects, Outcome, Received, Services
from inbox.recipients import record_recipients
from inbox.retry import next_attempt
from inbox.router import Router

log = logging.getLogger("fedsocial.inbox")

BATCH_SIZE = 64


@dataclass(frozen=True, slots=True)
class Settled:
    """One activity's result, ready to commit."""

    row: IncomingActivity
    state: str
    error: str | None
    effects: Effects


@dataclass(frozen=True, slots=True)
class Retry:
    """One activity that failed for a reason that may pass."""

    row: IncomingActivity
    error: str


def _readable(document: dict[str, Any]) -> dict[str, Any]:
    """The document in the shape handlers read. A context URL we do not ship (Funkwhale's
    `https://funkwhale.audio/ns` on every activity, a server's own schema) is left out and the
    rest read as written, as Mastodon reads plain JSON; only what it alone defines is lost."""
    try:
        return normalise(document)
    except ContextNotAllowed:
        context = document.get("@context")
        kept = [c for c in as_list(context) if not (isinstance(c, str) and not is_known_context(c))]
        if len(kept) == len(as_list(context)):
            raise  # refused for a context nested deeper: nothing to leave out here
        return normalise({**document, "@context": kept})


def _received(row: IncomingActivity) -> Received:
    return Received(
        seq=row.seq,
        activity_id=row.activity_id,
        type=row.type,
        actor=row.actor,
        signer=row.signer,
        inbox=row.inbox,
        document=_readable(row.document),
        received_at=row.received_at,
    )


class Worker:
    """Applies due activities through the router."""

    def __init__(self, services: Services, router: Router) -> None:
        self._services = services
        self._router = router

    async def apply_batch(self) -> int:
        """Apply one batch of due activities; return how many were taken (0: nothing due)."""
        services = self._services
        rows = await inbox_queue.due(services.db, now=services.clock.now(), limit=BATCH_SIZE)
        settled: list[Settled] = []
        retries: list[Retry] = []
        for row in rows:
            result = await self._apply(row)
            if isinstance(result, Retry):
                retries.append(result)
            else:
                settled.append(result)
        await self._commit(settled)
        for retry in retries:
            await self._retry(retry)
        return len(rows)

    async def _apply(self, row: IncomingActivity) -> Settled | Retry:
        effects = Effects()
        try:
            activity = _received(row)
            handler = await self._router.resolve(self._services.db, row.type, activity.document)
            if handler is None:
                return Settled(row, Outcome.UNSUPPORTED.value, None, effects)
            outcome = await handler(self._services, activity, effects)
            if outcome is not Outcome.UNSUPPORTED:
                record_recipients(self._services, activity, effects)
            return Settled(row, outcome.value, None, effects)
        except JsonLdError as exc:
            return self._rejected(row, exc)
        except FedsocialError as exc:
            if 400 <= exc.status < 500:
                return self._rejected(row, exc)
            return Retry(row, f"{exc.code}: {exc.message}")
        except RecursionError:
            # Nesting deep enough to exhaust the stack is the document's, not a passing fault:
            # every retry would fail the same way.
            return self._rejected(
                row, ValidationError("the activity is nested too deeply to be processed")
            )
        except Exception as exc:
            # A bug or an unexpected peer answer: keep the activity and try again later.
            log.exception("applying %s %s failed", row.type, row.activity_id)
            return Retry(row, f"{type(exc).__name__}: {exc}")

    def _rejected(self, row: IncomingActivity, exc: FedsocialError) -> Settled:
        log.info("rejected %s %s: %s", row.type, row.activity_id, exc.message)
        return Settled(row, "rejected", f"{exc.code}: {exc.message}", Effects())

    async def _commit(self, settled: list[Settled]) -> None:
        if not settled:
            return
        statements: list[Statement] = []
        for item in settled:
            statements.extend(item.effects)
            statements.append(
                inbox_queue.finished(item.row.seq, state=item.state, error=item.error)
            )
        try:
            await self._services.db.run_in_transaction(
                lambda conn: run_statements(conn, statements)
            )
        except sqlite3.Error:
            log.warning("committing %d inbox activities failed; trying one by one", len(settled))
            if len(settled) == 1:
                await self._retry(Retry(settled[0].row, "the database refused the writes"))
                return
            # Find the culprit: commit each alone.
            for item in settled:
                await self._commit([item])

    async def _retry(self, retry: Retry) -> None:
        now = self._services.clock.now()
        when = next_attempt(retry.row.attempts, now=now)
        if when is None:
            log.warning("giving up on %s: %s", retry.row.activity_id, retry.error)
            await inbox_queue.finish(
                self._services.db, retry.row.seq, state="failed", error=retry.error
            )
        else:
            await inbox_queue.retry_later(
                self._services.db, retry.row.seq, error=retry.error, next_attempt_at=when
            )

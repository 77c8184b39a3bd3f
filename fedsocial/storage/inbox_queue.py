"""Core layer: SQL for received activities: stored before we answer, applied by a worker.

Rows are deduplicated by activity id. States: pending → applied | unsupported | rejected |
dropped, or failed after too many attempts (kept with the error for inspection).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite

from fedsocial.storage.database import Database, Row
from fedsocial.storage.statements import Statement


@dataclass(frozen=True, slots=True)
class IncomingActivity:
    """A received activity as stored, before or after it was applied."""

    seq: int
    activity_id: str
    type: str
    actor: str
    signer: str | None
    inbox: str
    document: dict[str, Any]
    received_at: float
    state: str
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class NewActivity:
    """What the inbox stores for one received activity."""

    activity_id: str
    type: str
    actor: str
    signer: str | None
    inbox: str
    raw: str  # the JSON text as stored
    state: str = "pending"
    last_error: str | None = None


MAX_BATCH = 1000  # 9 parameters each, under SQLite's 32,766
_INSERT = (
    "INSERT INTO inbox_activities (activity_id, type, actor, signer, inbox, document,"
    " received_at, state, last_error) VALUES (?,?,?,?,?,?,?,?,?)"
)
# A known id is a duplicate, except over a `dropped` copy: that one was dropped for its inbox
# (its local recipient blocks the actor) and unverified, so a verified copy for another inbox
# (a server delivering to each personal inbox) must still be applied, not taken for a repeat.
_ON_CONFLICT = (
    " ON CONFLICT (activity_id) DO UPDATE SET type = excluded.type, actor = excluded.actor,"
    " signer = excluded.signer, inbox = excluded.inbox, document = excluded.document,"
    " received_at = excluded.received_at, state = excluded.state,"
    " last_error = excluded.last_error"
    " WHERE inbox_activities.state = 'dropped' AND excluded.state = 'pending'"
)


def _multi_insert(count: int) -> str:
    """One INSERT of `count` rows: a single statement step, where `executemany` takes one per
    row (and, in a busy process, a wait for the GIL after each)."""
    return _INSERT + ",(?,?,?,?,?,?,?,?,?)" * (count - 1) + _ON_CONFLICT


def _params(item: NewActivity, now: float) -> tuple[Any, ...]:
    return (
        item.activity_id,
        item.type,
        item.actor,
        item.signer,
        item.inbox,
        item.raw,
        now,
        item.state,
        item.last_error,
    )


async def store(db: Database, item: NewActivity, *, now: float) -> bool:
    """Store one received activity; return False if its id was already stored (a duplicate;
    a `dropped` copy is replaced by a `pending` one, which counts as stored)."""
    return await db.execute(_INSERT + _ON_CONFLICT, _params(item, now)) > 0


async def store_in(conn: aiosqlite.Connection, item: NewActivity, *, now: float) -> bool:
    """Store one activity inside the caller's open transaction; False if it was a duplicate."""
    cursor = await conn.execute(_INSERT + _ON_CONFLICT, _params(item, now))
    return cursor.rowcount > 0


async def store_many(db: Database, items: Sequence[NewActivity], *, now: float) -> list[bool]:
    """Store several activities in one transaction; for each, True if new, False if duplicate."""
    results: list[bool] = []
    async with db.transaction() as conn:
        for item in items:
            cursor = await conn.execute(_INSERT + _ON_CONFLICT, _params(item, now))
            results.append(cursor.rowcount > 0)
    return results


async def due(db: Database, *, now: float, limit: int = 100) -> list[IncomingActivity]:
    """Pending activities whose next attempt is due, oldest first.

    A row whose stored document can no longer be read (e.g. nested deeper than the parser
    goes, stored by a version that did not refuse it) is marked `rejected` with the reason
    instead: it could never be applied, and raising here would block every row behind it.
    """
    while True:
        rows = await db.fetchall(
            "SELECT * FROM inbox_activities WHERE state = 'pending' AND next_attempt_at <= ?"
            " ORDER BY seq LIMIT ?",
            (now, limit),
        )
        readable: list[IncomingActivity] = []
        for r in rows:
            try:
                readable.append(_from_row(r))
            except (ValueError, RecursionError) as exc:
                reason = f"validation_error: the stored document cannot be read: {exc}"
                await finish(db, r["seq"], state="rejected", error=reason)
        # An empty answer means "nothing due": not while unreadable rows hid readable ones.
        if readable or len(readable) == len(rows):
            return readable


def _from_row(r: Row) -> IncomingActivity:
    return IncomingActivity(
        seq=r["seq"],
        activity_id=r["activity_id"],
        type=r["type"],
        actor=r["actor"],
        signer=r["signer"],
        inbox=r["inbox"],
        document=json.loads(r["document"]),
        received_at=r["received_at"],
        state=r["state"],
        attempts=r["attempts"],
        last_error=r["last_error"],
    )


async def finish(db: Database, seq: int, *, state: str, error: str | None = None) -> None:
    """Record the final outcome of applying an activity."""
    await db.execute(
        "UPDATE inbox_activities SET state = ?, last_error = ?, attempts = attempts + 1"
        " WHERE seq = ?",
        (state, error, seq),
    )


async def retry_later(db: Database, seq: int, *, error: str, next_attempt_at: float) -> None:
    """Record a failed attempt and when to try again."""
    await db.execute(
        "UPDATE inbox_activities SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?"
        " WHERE seq = ?",
        (error, next_attempt_at, seq),
    )


async def count_by_state(db: Database) -> dict[str, int]:
    """How many stored activities are in each state."""
    rows = await db.fetchall("SELECT state, count(*) FROM inbox_activities GROUP BY state")
    return {r[0]: int(r[1]) for r in rows}


async def store_batch(db: Database, items: Sequence[NewActivity], *, now: float) -> None:
    """Store many activities in one transaction and one round trip; duplicates are ignored.

    The inbox answers 202 to a duplicate as to a new activity, so the caller needs no
    per-item result. At most `MAX_BATCH` items (SQLite's limit on bound parameters).
    """
    params = [value for item in items for value in _params(item, now)]
    await db.run_in_transaction(lambda conn: conn.execute(_multi_insert(len(items)), params))


async def get(db: Database, activity_id: str) -> IncomingActivity | None:
    """The stored activity with this id, in whatever state, or None."""
    row = await db.fetchone("SELECT * FROM inbox_activities WHERE activity_id = ?", (activity_id,))
    return None if row is None else _from_row(row)


async def has_pending(db: Database) -> bool:
    """True while some stored activity is still pending (due now or later)."""
    value = await db.fetchval("SELECT 1 FROM inbox_activities WHERE state = 'pending' LIMIT 1")
    return value is not None


def finished(seq: int, *, state: str, error: str | None = None) -> Statement:
    """The statement recording the final outcome of applying a pending activity."""
    return Statement(
        "UPDATE inbox_activities SET state = ?, last_error = ?, attempts = attempts + 1"
        " WHERE seq = ? AND state = 'pending'",
        (state, error, seq),
    )


def add_item(actor_name: str, activity_id: str, *, actor_id: str, sender: str) -> Statement:
    """The statement recording that a local actor (`actor_name`, whose id is `actor_id`)
    received an activity of `sender` (its C2S inbox), unless that actor blocks the sender."""
    return Statement(
        "INSERT OR IGNORE INTO inbox_items (actor_name, activity_id) SELECT ?, ?"
        " WHERE EXISTS (SELECT 1 FROM local_actors WHERE name = ?)"
        " AND NOT EXISTS (SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?)",
        (actor_name, activity_id, actor_name, actor_id, sender),
    )


def add_items_for_followers(author: str, activity_id: str, *, local_actor_prefix: str) -> Statement:
    """The statement recording an activity as received by every local follower of `author`."""
    return Statement(
        "INSERT OR IGNORE INTO inbox_items (actor_name, activity_id)"
        " SELECT substr(follower, ?), ? FROM follows WHERE followee = ? AND state = 'accepted'"
        " AND substr(follower, 1, ?) = ?",
        (
            len(local_actor_prefix) + 1,
            activity_id,
            author,
            len(local_actor_prefix),
            local_actor_prefix,
        ),
    )


async def count_items(db: Database, actor_name: str) -> int:
    """How many activities a local actor received."""
    value = await db.fetchval(
        "SELECT count(*) FROM inbox_items WHERE actor_name = ?", (actor_name,)
    )
    return int(value or 0)


async def list_items(
    db: Database, actor_name: str, *, limit: int, offset: int
) -> list[dict[str, Any]]:
    """The activities a local actor received, newest first, as stored JSON documents."""
    rows = await db.fetchall(
        "SELECT a.document FROM inbox_items i JOIN inbox_activities a"
        " ON a.activity_id = i.activity_id WHERE i.actor_name = ?"
        " ORDER BY i.seq DESC LIMIT ? OFFSET ?",
        (actor_name, limit, offset),
    )
    return [json.loads(r[0]) for r in rows]

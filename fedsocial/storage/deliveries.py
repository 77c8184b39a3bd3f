"""Core layer: SQL for the delivery queue, one row per (activity, inbox).

A row is `pending` until an attempt gets a 2xx (`delivered`) or a final failure (`failed`).
Workers read due rows in id order in batches and write outcomes back in batched transactions,
so the hot path does not pay one database round trip per delivery.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiosqlite

from fedsocial.storage.database import Database, Row
from fedsocial.storage.shards import SQL_FUNCTION, WHOLE, Shard

PENDING = "pending"
DELIVERED = "delivered"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class DeliveryRow:
    """One queued delivery as stored."""

    id: int
    activity_id: str
    sender: str
    inbox: str
    host: str
    state: str
    attempts: int
    next_attempt_at: float
    last_status: int | None
    last_error: str | None
    response_excerpt: str | None
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class NewDelivery:
    """One inbox to deliver an activity to; `host` is the inbox's host[:port], lowercase."""

    inbox: str
    host: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt of a delivery ended with, to be written back to its row."""

    delivery_id: int
    state: str
    attempts: int
    next_attempt_at: float
    last_status: int | None
    last_error: str | None
    response_excerpt: str | None


def _from_row(row: Row) -> DeliveryRow:
    return DeliveryRow(
        id=row["id"],
        activity_id=row["activity_id"],
        sender=row["sender"],
        inbox=row["inbox"],
        host=row["host"],
        state=row["state"],
        attempts=row["attempts"],
        next_attempt_at=row["next_attempt_at"],
        last_status=row["last_status"],
        last_error=row["last_error"],
        response_excerpt=row["response_excerpt"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


_DEFAULT_PORTS = {"http": ":80", "https": ":443"}


def canonical_inbox(inbox: str) -> str:
    """`inbox` with its scheme and host lowercase and a default port dropped: the same inbox
    spelled differently (``HTTPS://Example.com:443/inbox``) is one delivery, not two.

    The path and query are kept as they are: they name the resource, case and all.
    """
    parts = urlsplit(inbox)
    scheme = parts.scheme.lower()
    netloc = parts.netloc.lower()
    default = _DEFAULT_PORTS.get(scheme)
    if default is not None and netloc.endswith(default):
        netloc = netloc.removesuffix(default)
    return urlunsplit((scheme, netloc, parts.path, parts.query, parts.fragment))


async def enqueue_in(
    conn: aiosqlite.Connection,
    activity_id: str,
    sender: str,
    targets: Iterable[NewDelivery],
    *,
    now: float,
) -> None:
    """Queue one delivery per target inside an open transaction; an existing pair is kept.

    Inboxes are stored as `canonical_inbox` spells them, and keyed on that URL's host[:port].
    """
    rows = []
    for target in targets:
        inbox = canonical_inbox(target.inbox)
        rows.append((activity_id, sender, inbox, urlsplit(inbox).netloc, now, now, now))
    await conn.executemany(
        "INSERT OR IGNORE INTO deliveries (activity_id, sender, inbox, host, state, attempts,"
        " next_attempt_at, created_at, updated_at) VALUES (?,?,?,?,'pending',0,?,?,?)",
        rows,
    )


async def enqueue(
    db: Database, activity_id: str, sender: str, targets: Iterable[NewDelivery], *, now: float
) -> None:
    """Queue one delivery per target in its own transaction."""
    async with db.transaction() as conn:
        await enqueue_in(conn, activity_id, sender, targets, now=now)


async def due(
    db: Database,
    *,
    now: float,
    after_id: int = 0,
    limit: int = 500,
    skip_hosts: Sequence[str] = (),
    shard: Shard = WHOLE,
    due_after: float | None = None,
) -> list[DeliveryRow]:
    """Pending rows due at `now` with an id above `after_id`, in id order, hosts skipped; only
    rows of hosts that `shard` owns and, with `due_after`, only rows due after that time."""
    skip = ",".join("?" * len(skip_hosts))
    where_skip = f" AND host NOT IN ({skip})" if skip_hosts else ""
    where_shard = "" if shard.whole else f" AND {SQL_FUNCTION}(host, ?) = ?"
    where_after = "" if due_after is None else " AND next_attempt_at > ?"
    rows = await db.fetchall(
        "SELECT * FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ?"
        f"{where_after} AND id > ?{where_skip}{where_shard} ORDER BY id LIMIT ?",
        (
            now,
            *(() if due_after is None else (due_after,)),
            after_id,
            *skip_hosts,
            *(() if shard.whole else (shard.count, shard.index)),
            limit,
        ),
    )
    return [_from_row(r) for r in rows]


async def first_due_for_host(db: Database, host: str, *, now: float) -> DeliveryRow | None:
    """The oldest due pending row of one host (used to probe an unavailable host)."""
    row = await db.fetchone(
        "SELECT * FROM deliveries WHERE state = 'pending' AND host = ? AND next_attempt_at <= ?"
        " ORDER BY id LIMIT 1",
        (host, now),
    )
    return None if row is None else _from_row(row)


async def record(db: Database, outcomes: Sequence[Outcome], *, now: float) -> None:
    """Write several attempts' outcomes back in one transaction.

    A row already `delivered` is never changed again, so a late duplicate outcome cannot
    turn a success back into a retry.
    """
    if not outcomes:
        return
    await db.executemany(
        "UPDATE deliveries SET state = ?, attempts = ?, next_attempt_at = ?, last_status = ?,"
        " last_error = ?, response_excerpt = ?, updated_at = ?"
        " WHERE id = ? AND state != 'delivered'",
        [
            (
                o.state,
                o.attempts,
                o.next_attempt_at,
                o.last_status,
                o.last_error,
                o.response_excerpt,
                now,
                o.delivery_id,
            )
            for o in outcomes
        ],
    )


async def get(db: Database, delivery_id: int) -> DeliveryRow | None:
    """One row by id, or None."""
    row = await db.fetchone("SELECT * FROM deliveries WHERE id = ?", (delivery_id,))
    return None if row is None else _from_row(row)


async def list_rows(
    db: Database, *, state: str | None = None, activity_id: str | None = None, limit: int = 200
) -> list[DeliveryRow]:
    """Rows newest first, optionally of one state and/or one activity."""
    clauses: list[str] = []
    params: list[Any] = []
    if state is not None:
        clauses.append("state = ?")
        params.append(state)
    if activity_id is not None:
        clauses.append("activity_id = ?")
        params.append(activity_id)
    where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = await db.fetchall(
        f"SELECT * FROM deliveries{where} ORDER BY id DESC LIMIT ?", (*params, limit)
    )
    return [_from_row(r) for r in rows]


async def count_by_state(db: Database) -> dict[str, int]:
    """How many rows are in each state."""
    rows = await db.fetchall("SELECT state, count(*) FROM deliveries GROUP BY state")
    return {r[0]: int(r[1]) for r in rows}


async def follower_inboxes(db: Database, followee: str) -> list[tuple[str, str | None, str | None]]:
    """Accepted followers of `followee` it does not block, as (follower id, inbox, shared inbox).

    Inboxes come from the remote actor cache; both are None for a follower not cached (a local
    one, or a remote one to resolve). One query, so 10,000 followers cost one round trip.
    """
    rows = await db.fetchall(
        "SELECT f.follower, ra.inbox, ra.shared_inbox FROM follows f"
        " LEFT JOIN remote_actors ra ON ra.id = f.follower AND ra.deleted_at IS NULL"
        " WHERE f.followee = ? AND f.state = 'accepted' AND NOT EXISTS (SELECT 1 FROM blocks b"
        " WHERE b.blocker = f.followee AND b.blocked = f.follower) ORDER BY f.rowid",
        (followee,),
    )
    return [(r[0], r[1], r[2]) for r in rows]

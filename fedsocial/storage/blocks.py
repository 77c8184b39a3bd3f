"""Core layer: SQL for actor blocks, in both directions (we block them, they block us).

The inbox writes through `Statement`s (run in its own batched transaction); the outbox through
`add`/`remove` on an open connection. Both use the same SQL.
"""

from __future__ import annotations

import aiosqlite

from fedsocial.storage.database import Database
from fedsocial.storage.statements import Statement


def block(blocker: str, blocked: str, *, activity_id: str | None, now: float) -> Statement:
    """The statement recording that `blocker` blocks `blocked` (once)."""
    return Statement(
        "INSERT OR IGNORE INTO blocks (blocker, blocked, activity_id, created_at) VALUES (?,?,?,?)",
        (blocker, blocked, activity_id, now),
    )


def unblock(blocker: str, blocked: str) -> Statement:
    """The statement removing a block."""
    return Statement("DELETE FROM blocks WHERE blocker = ? AND blocked = ?", (blocker, blocked))


def unblock_by_activity(blocker: str, activity_id: str) -> Statement:
    """The statement removing the block a Block activity made."""
    return Statement(
        "DELETE FROM blocks WHERE blocker = ? AND activity_id = ?", (blocker, activity_id)
    )


def remove_all_of(actor: str) -> Statement:
    """The statement removing every block in which `actor` takes part (the actor was deleted)."""
    return Statement("DELETE FROM blocks WHERE blocker = ? OR blocked = ?", (actor, actor))


async def add(
    conn: aiosqlite.Connection, blocker: str, blocked: str, *, activity_id: str | None, now: float
) -> bool:
    """Record that `blocker` blocks `blocked`; return False if it was already recorded."""
    statement = block(blocker, blocked, activity_id=activity_id, now=now)
    cursor = await conn.execute(statement.sql, statement.params)
    return cursor.rowcount > 0


async def remove(conn: aiosqlite.Connection, blocker: str, blocked: str) -> bool:
    """Remove a block; return False if there was none."""
    statement = unblock(blocker, blocked)
    cursor = await conn.execute(statement.sql, statement.params)
    return cursor.rowcount > 0


async def is_blocked(db: Database, blocker: str, blocked: str) -> bool:
    """True when `blocker` blocks `blocked`."""
    value = await db.fetchval(
        "SELECT 1 FROM blocks WHERE blocker = ? AND blocked = ?", (blocker, blocked)
    )
    return value is not None


async def all_pairs(db: Database, *, blockers_prefix: str) -> list[tuple[str, str]]:
    """Every (blocker, blocked) pair whose blocker id starts with `blockers_prefix` (ours)."""
    rows = await db.fetchall(
        "SELECT blocker, blocked FROM blocks WHERE substr(blocker, 1, ?) = ?",
        (len(blockers_prefix), blockers_prefix),
    )
    return [(r[0], r[1]) for r in rows]

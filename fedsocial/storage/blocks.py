"""Core layer: SQL for actor blocks, in both directions (we block them, they block us)."""

from __future__ import annotations

import aiosqlite

from fedsocial.storage.database import Database


async def add(
    conn: aiosqlite.Connection, blocker: str, blocked: str, *, activity_id: str | None, now: float
) -> bool:
    """Record that `blocker` blocks `blocked`; return False if it was already recorded."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO blocks (blocker, blocked, activity_id, created_at) VALUES (?,?,?,?)",
        (blocker, blocked, activity_id, now),
    )
    return cursor.rowcount > 0


async def remove(conn: aiosqlite.Connection, blocker: str, blocked: str) -> bool:
    """Remove a block; return False if there was none."""
    cursor = await conn.execute(
        "DELETE FROM blocks WHERE blocker = ? AND blocked = ?", (blocker, blocked)
    )
    return cursor.rowcount > 0


async def remove_all_of(conn: aiosqlite.Connection, actor: str) -> int:
    """Remove every block in which `actor` takes part (the actor was deleted)."""
    cursor = await conn.execute(
        "DELETE FROM blocks WHERE blocker = ? OR blocked = ?", (actor, actor)
    )
    return cursor.rowcount


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


async def remove_by_activity(conn: aiosqlite.Connection, blocker: str, activity_id: str) -> bool:
    """Remove the block a Block activity made; return False if there was none."""
    cursor = await conn.execute(
        "DELETE FROM blocks WHERE blocker = ? AND activity_id = ?", (blocker, activity_id)
    )
    return cursor.rowcount > 0

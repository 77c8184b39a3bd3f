"""Core layer: SQL for featured (pinned) objects of actors, changed by Add/Remove activities."""

from __future__ import annotations

import aiosqlite

from fedsocial.storage.database import Database


async def add(conn: aiosqlite.Connection, actor: str, object_id: str, *, now: float) -> bool:
    """Pin an object to an actor's featured collection; False if it was already there."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO featured (actor, object_id, created_at) VALUES (?,?,?)",
        (actor, object_id, now),
    )
    return cursor.rowcount > 0


async def remove(conn: aiosqlite.Connection, actor: str, object_id: str) -> bool:
    """Unpin an object; False if it was not pinned."""
    cursor = await conn.execute(
        "DELETE FROM featured WHERE actor = ? AND object_id = ?", (actor, object_id)
    )
    return cursor.rowcount > 0


async def remove_all_of(conn: aiosqlite.Connection, actor: str) -> int:
    """Unpin everything of an actor (the actor was deleted)."""
    cursor = await conn.execute("DELETE FROM featured WHERE actor = ?", (actor,))
    return cursor.rowcount


async def list_of(db: Database, actor: str) -> list[str]:
    """An actor's featured object ids, newest first."""
    rows = await db.fetchall(
        "SELECT object_id FROM featured WHERE actor = ? ORDER BY created_at DESC, rowid DESC",
        (actor,),
    )
    return [r[0] for r in rows]

"""Core layer: SQL for shares (Announce, "boosts") of objects, one per actor and object.

Writes take an open connection (inside a transaction the caller owns); reads take the Database.
"""

from __future__ import annotations

import aiosqlite

from fedsocial.storage.database import Database


async def add(
    conn: aiosqlite.Connection, actor: str, object_id: str, *, activity_id: str, now: float
) -> bool:
    """Record a share; return False when the actor already shared the object."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO shares (activity_id, actor, object_id, created_at) VALUES (?,?,?,?)",
        (activity_id, actor, object_id, now),
    )
    return cursor.rowcount > 0


async def remove_by_activity(conn: aiosqlite.Connection, actor: str, activity_id: str) -> int:
    """Remove the share an actor made with this Announce; return how many went."""
    cursor = await conn.execute(
        "DELETE FROM shares WHERE activity_id = ? AND actor = ?", (activity_id, actor)
    )
    return cursor.rowcount


async def remove_by_object(conn: aiosqlite.Connection, actor: str, object_id: str) -> int:
    """Remove an actor's share of an object (an Undo naming only the object)."""
    cursor = await conn.execute(
        "DELETE FROM shares WHERE actor = ? AND object_id = ?", (actor, object_id)
    )
    return cursor.rowcount


async def remove_all_by(conn: aiosqlite.Connection, actor: str) -> int:
    """Remove every share an actor made (the actor was deleted)."""
    cursor = await conn.execute("DELETE FROM shares WHERE actor = ?", (actor,))
    return cursor.rowcount


async def object_of(db: Database, activity_id: str) -> str | None:
    """The object an Announce shared, if we recorded it."""
    value = await db.fetchval("SELECT object_id FROM shares WHERE activity_id = ?", (activity_id,))
    return None if value is None else str(value)


async def count_shares(db: Database, object_id: str) -> int:
    """How many shares an object has (the ``totalItems`` of its ``shares`` collection)."""
    value = await db.fetchval("SELECT count(*) FROM shares WHERE object_id = ?", (object_id,))
    return int(value or 0)


async def list_shares(db: Database, object_id: str, *, limit: int, offset: int) -> list[str]:
    """Ids of the Announce activities of an object, newest first."""
    rows = await db.fetchall(
        "SELECT activity_id FROM shares WHERE object_id = ?"
        " ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
        (object_id, limit, offset),
    )
    return [r[0] for r in rows]

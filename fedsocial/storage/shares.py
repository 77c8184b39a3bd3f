"""Core layer: SQL for shares (Announce, "boosts") of objects, one per actor and object.

Writes are `Statement`s the caller runs in its own transaction; reads take the Database.
"""

from __future__ import annotations

from fedsocial.storage.database import Database
from fedsocial.storage.statements import Statement


def add(actor: str, object_id: str, *, activity_id: str, now: float) -> Statement:
    """Record a share (nothing changes when the actor already shared the object)."""
    return Statement(
        "INSERT OR IGNORE INTO shares (activity_id, actor, object_id, created_at) VALUES (?,?,?,?)",
        (activity_id, actor, object_id, now),
    )


def remove_by_activity(actor: str, activity_id: str) -> Statement:
    """Remove the share an actor made with this Announce."""
    return Statement("DELETE FROM shares WHERE activity_id = ? AND actor = ?", (activity_id, actor))


def remove_by_object(actor: str, object_id: str) -> Statement:
    """Remove an actor's share of an object (an Undo naming only the object)."""
    return Statement("DELETE FROM shares WHERE actor = ? AND object_id = ?", (actor, object_id))


def remove_all_by(actor: str) -> Statement:
    """Remove every share an actor made (the actor was deleted)."""
    return Statement("DELETE FROM shares WHERE actor = ?", (actor,))


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

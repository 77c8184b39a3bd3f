"""Core layer: SQL for featured (pinned) objects of actors, changed by Add/Remove activities."""

from __future__ import annotations

from fedsocial.storage.database import Database
from fedsocial.storage.statements import Statement


def add(actor: str, object_id: str, *, now: float) -> Statement:
    """Pin an object to an actor's featured collection (once)."""
    return Statement(
        "INSERT OR IGNORE INTO featured (actor, object_id, created_at) VALUES (?,?,?)",
        (actor, object_id, now),
    )


def remove(actor: str, object_id: str) -> Statement:
    """Unpin an object."""
    return Statement("DELETE FROM featured WHERE actor = ? AND object_id = ?", (actor, object_id))


def remove_all_of(actor: str) -> Statement:
    """Unpin everything of an actor (the actor was deleted)."""
    return Statement("DELETE FROM featured WHERE actor = ?", (actor,))


async def list_of(db: Database, actor: str) -> list[str]:
    """An actor's featured object ids, newest first."""
    rows = await db.fetchall(
        "SELECT object_id FROM featured WHERE actor = ? ORDER BY created_at DESC, rowid DESC",
        (actor,),
    )
    return [r[0] for r in rows]

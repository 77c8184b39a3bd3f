"""Core layer: SQL for reactions to objects: likes, and emoji reactions (Misskey, Pleroma).

A plain Like is kind ``like``; an EmojiReact, or a Like carrying ``content`` (Misskey), is kind
``emoji`` with the emoji as ``content``. Writes are `Statement`s the caller runs in its own
transaction (see `fedsocial.storage.statements`); reads take the Database.
"""

from __future__ import annotations

from fedsocial.storage.database import Database
from fedsocial.storage.statements import Statement

LIKE = "like"
EMOJI = "emoji"


def add(
    actor: str, object_id: str, *, kind: str, content: str, activity_id: str, now: float
) -> Statement:
    """Record a reaction (nothing changes if it, or its activity, was already recorded)."""
    return Statement(
        "INSERT OR IGNORE INTO reactions (actor, object_id, kind, content, activity_id,"
        " created_at) VALUES (?,?,?,?,?,?)",
        (actor, object_id, kind, content, activity_id, now),
    )


def remove_by_activity(actor: str, activity_id: str) -> Statement:
    """Remove the reaction an actor made with this activity."""
    return Statement(
        "DELETE FROM reactions WHERE activity_id = ? AND actor = ?", (activity_id, actor)
    )


def remove_by_object(actor: str, object_id: str, *, kind: str) -> Statement:
    """Remove an actor's reactions of one kind to an object (an Undo naming only the object)."""
    return Statement(
        "DELETE FROM reactions WHERE actor = ? AND object_id = ? AND kind = ?",
        (actor, object_id, kind),
    )


def remove_all_by(actor: str) -> Statement:
    """Remove every reaction an actor made (the actor was deleted)."""
    return Statement("DELETE FROM reactions WHERE actor = ?", (actor,))


async def count_likes(db: Database, object_id: str) -> int:
    """How many likes an object has (the ``totalItems`` of its ``likes`` collection)."""
    value = await db.fetchval(
        "SELECT count(*) FROM reactions WHERE object_id = ? AND kind = 'like'", (object_id,)
    )
    return int(value or 0)


async def list_likes(db: Database, object_id: str, *, limit: int, offset: int) -> list[str]:
    """Ids of the Like activities of an object, newest first."""
    rows = await db.fetchall(
        "SELECT activity_id FROM reactions WHERE object_id = ? AND kind = 'like'"
        " ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
        (object_id, limit, offset),
    )
    return [r[0] for r in rows]


async def count_emoji(db: Database, object_id: str) -> dict[str, int]:
    """Emoji reactions to an object, counted per emoji."""
    rows = await db.fetchall(
        "SELECT content, count(*) FROM reactions WHERE object_id = ? AND kind = 'emoji'"
        " GROUP BY content ORDER BY content",
        (object_id,),
    )
    return {r[0]: int(r[1]) for r in rows}

"""Core layer: SQL for reactions to objects: likes, and emoji reactions (Misskey, Pleroma).

A plain Like is kind ``like``; an EmojiReact, or a Like carrying ``content`` (Misskey), is kind
``emoji`` with the emoji as ``content``. Writes take an open connection (inside a transaction
the caller owns); reads take the Database.
"""

from __future__ import annotations

import aiosqlite

from fedsocial.storage.database import Database

LIKE = "like"
EMOJI = "emoji"


async def add(
    conn: aiosqlite.Connection,
    actor: str,
    object_id: str,
    *,
    kind: str,
    content: str,
    activity_id: str,
    now: float,
) -> bool:
    """Record a reaction; return False when it (or its activity) was already recorded."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO reactions (actor, object_id, kind, content, activity_id,"
        " created_at) VALUES (?,?,?,?,?,?)",
        (actor, object_id, kind, content, activity_id, now),
    )
    return cursor.rowcount > 0


async def remove_by_activity(conn: aiosqlite.Connection, actor: str, activity_id: str) -> int:
    """Remove the reaction an actor made with this activity; return how many went."""
    cursor = await conn.execute(
        "DELETE FROM reactions WHERE activity_id = ? AND actor = ?", (activity_id, actor)
    )
    return cursor.rowcount


async def remove_by_object(
    conn: aiosqlite.Connection, actor: str, object_id: str, *, kind: str
) -> int:
    """Remove an actor's reactions of one kind to an object (an Undo naming only the object)."""
    cursor = await conn.execute(
        "DELETE FROM reactions WHERE actor = ? AND object_id = ? AND kind = ?",
        (actor, object_id, kind),
    )
    return cursor.rowcount


async def remove_all_by(conn: aiosqlite.Connection, actor: str) -> int:
    """Remove every reaction an actor made (the actor was deleted)."""
    cursor = await conn.execute("DELETE FROM reactions WHERE actor = ?", (actor,))
    return cursor.rowcount


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


async def list_likers(db: Database, object_id: str) -> list[str]:
    """Actors who liked an object, oldest first."""
    rows = await db.fetchall(
        "SELECT actor FROM reactions WHERE object_id = ? AND kind = 'like' ORDER BY rowid",
        (object_id,),
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

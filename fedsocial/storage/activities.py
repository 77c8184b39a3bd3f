"""Core layer: SQL for activities we store (ours, for the outbox, and received ones we keep)."""

from __future__ import annotations

import json
from typing import Any

import aiosqlite

from fedsocial.storage.database import Database

# A Create or Update embeds its object: once the object is deleted it leaves the outbox.
_NOT_OF_DELETED = (
    " AND NOT (type IN ('Create', 'Update') AND EXISTS (SELECT 1 FROM objects o"
    " WHERE o.id = activities.object_id AND o.deleted_at IS NOT NULL))"
)


async def count_public_by(db: Database, actor: str) -> int:
    """How many public or unlisted local activities an actor has published (a Create or Update
    of an object since deleted not counted)."""
    value = await db.fetchval(
        "SELECT count(*) FROM activities WHERE actor = ? AND local = 1"
        " AND visibility IN ('public', 'unlisted')" + _NOT_OF_DELETED,
        (actor,),
    )
    return int(value or 0)


async def list_public_by(
    db: Database, actor: str, *, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Public or unlisted local activities of an actor, newest first, as JSON documents; a
    Create or Update of an object since deleted is left out (its text must not stay served)."""
    rows = await db.fetchall(
        "SELECT document FROM activities WHERE actor = ? AND local = 1"
        " AND visibility IN ('public', 'unlisted')"
        + _NOT_OF_DELETED
        + " ORDER BY seq DESC LIMIT ? OFFSET ?",
        (actor, limit, offset),
    )
    return [json.loads(r[0]) for r in rows]


async def count_local_posts(db: Database) -> int:
    """How many live objects local actors have posted (for NodeInfo)."""
    value = await db.fetchval("SELECT count(*) FROM objects WHERE local = 1 AND deleted_at IS NULL")
    return int(value or 0)


async def list_featured(db: Database, actor: str) -> list[str]:
    """The ids of an actor's featured (pinned) objects, newest first."""
    rows = await db.fetchall(
        "SELECT object_id FROM featured WHERE actor = ? ORDER BY created_at DESC, rowid DESC",
        (actor,),
    )
    return [r[0] for r in rows]


async def insert_in(
    conn: aiosqlite.Connection,
    document: dict[str, Any],
    *,
    actor: str,
    object_id: str | None,
    visibility: str,
    published: float,
    local: bool = True,
) -> bool:
    """Store an activity inside an open transaction; return False if its id was already stored."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO activities (id, actor, type, object_id, local, visibility,"
        " document, published) VALUES (?,?,?,?,?,?,?,?)",
        (
            document["id"],
            actor,
            str(document.get("type", "")),
            object_id,
            int(local),
            visibility,
            json.dumps(document, ensure_ascii=False),
            published,
        ),
    )
    return cursor.rowcount > 0


async def get(db: Database, activity_id: str) -> dict[str, Any] | None:
    """The stored document of an activity, or None."""
    value = await db.fetchval("SELECT document FROM activities WHERE id = ?", (activity_id,))
    return None if value is None else dict(json.loads(value))


async def get_row(db: Database, activity_id: str) -> tuple[dict[str, Any], str, str] | None:
    """An activity's document, its actor and its visibility, or None."""
    row = await db.fetchone(
        "SELECT document, actor, visibility FROM activities WHERE id = ?", (activity_id,)
    )
    return None if row is None else (dict(json.loads(row[0])), row[1], row[2])


async def find_local(
    db: Database, actor: str, activity_type: str, object_id: str
) -> dict[str, Any] | None:
    """The newest local activity of this type by `actor` about `object_id` (to undo it)."""
    value = await db.fetchval(
        "SELECT document FROM activities WHERE actor = ? AND type = ? AND object_id = ?"
        " AND local = 1 ORDER BY seq DESC LIMIT 1",
        (actor, activity_type, object_id),
    )
    return None if value is None else dict(json.loads(value))


async def delete(db: Database, activity_id: str) -> bool:
    """Remove a stored activity (one of ours that was undone); return False if unknown."""
    return await db.execute("DELETE FROM activities WHERE id = ?", (activity_id,)) > 0

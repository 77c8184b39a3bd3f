"""Core layer: SQL for activities we forward as received (inbox forwarding, ActivityPub §7.1.2).

A forwarded activity is kept in `activities` (``local = 0``) with the exact JSON text we
received, so the delivery queue, which reads bodies from there, sends it byte for byte: its LD
signature and integrity proof stay intact.
"""

from __future__ import annotations

import aiosqlite

from fedsocial.storage.database import Database


async def received_text(db: Database, activity_id: str) -> str | None:
    """The JSON text of a received activity exactly as its body arrived, or None."""
    value = await db.fetchval(
        "SELECT document FROM inbox_activities WHERE activity_id = ?", (activity_id,)
    )
    return None if value is None else str(value)


async def insert_forwarded_in(
    conn: aiosqlite.Connection,
    activity_id: str,
    raw: str,
    *,
    actor: str,
    activity_type: str,
    published: float,
) -> bool:
    """Keep a received activity's text for forwarding; False if that id was already stored
    (we forwarded it before, or it is one of ours)."""
    cursor = await conn.execute(
        "INSERT OR IGNORE INTO activities (id, actor, type, object_id, local, visibility,"
        " document, published) VALUES (?,?,?,NULL,0,'direct',?,?)",
        (activity_id, actor, activity_type, raw, published),
    )
    return cursor.rowcount > 0

"""Core layer: SQL for activities we store (ours, for the outbox, and received ones we keep)."""

from __future__ import annotations

import json
from typing import Any

from fedsocial.storage.database import Database


async def count_public_by(db: Database, actor: str) -> int:
    """How many public or unlisted local activities an actor has published."""
    value = await db.fetchval(
        "SELECT count(*) FROM activities WHERE actor = ? AND local = 1"
        " AND visibility IN ('public', 'unlisted')",
        (actor,),
    )
    return int(value or 0)


async def list_public_by(
    db: Database, actor: str, *, limit: int, offset: int
) -> list[dict[str, Any]]:
    """Public or unlisted local activities of an actor, newest first, as JSON documents."""
    rows = await db.fetchall(
        "SELECT document FROM activities WHERE actor = ? AND local = 1"
        " AND visibility IN ('public', 'unlisted') ORDER BY seq DESC LIMIT ? OFFSET ?",
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

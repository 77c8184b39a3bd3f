"""Core layer: SQL for home timelines: what each local actor sees (posts, boosts, mentions)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fedsocial.storage.database import Database
from fedsocial.storage.statements import Statement

_INSERT = (
    "INSERT OR IGNORE INTO timeline (actor_name, object_id, boosted_by, activity_id, created_at)"
)
# A timeline never shows a deleted object: a Create that comes again after its post was deleted
# (a relay, a retry under a new id) must not put the Tombstone back on timelines. An object we
# have not stored (a remote post a local actor boosts) may be listed.
_NOT_DELETED = " AND NOT EXISTS (SELECT 1 FROM objects WHERE id = ? AND deleted_at IS NOT NULL)"


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    """One timeline line: an object, who boosted it (if a boost), and the object as stored."""

    seq: int
    object_id: str
    boosted_by: str | None
    activity_id: str | None
    created_at: float
    document: dict[str, Any] | None


def add(
    actor_name: str,
    object_id: str,
    *,
    boosted_by: str | None,
    activity_id: str,
    now: float,
    unless_listed: bool = False,
) -> Statement:
    """Put an object that is not deleted on one local actor's timeline (if that actor exists).

    With `unless_listed`, nothing is added when the timeline already has a line for the object
    (the post itself or a boost of it): a boost then does not show the same post twice.
    """
    sql = (
        f"{_INSERT} SELECT ?,?,?,?,? WHERE EXISTS"
        f" (SELECT 1 FROM local_actors WHERE name = ? AND kind = 'user'){_NOT_DELETED}"
    )
    params: tuple[object, ...] = (
        *(actor_name, object_id, boosted_by, activity_id, now, actor_name),
        object_id,
    )
    if unless_listed:
        sql += " AND NOT EXISTS (SELECT 1 FROM timeline WHERE actor_name = ? AND object_id = ?)"
        params += (actor_name, object_id)
    return Statement(sql, params)


def add_for_followers(
    author: str,
    object_id: str,
    *,
    local_actor_prefix: str,
    boosted_by: str | None,
    activity_id: str,
    now: float,
) -> Statement:
    """Put an object that is not deleted on the timeline of every local actor following `author`,
    except those who block the object's writer (a boost must not bring back a blocked post).

    Local followers are those whose id starts with `local_actor_prefix` (``base/users/``).
    """
    return Statement(
        f"{_INSERT} SELECT substr(follower, ?), ?, ?, ?, ? FROM follows"
        f" WHERE followee = ? AND state = 'accepted' AND substr(follower, 1, ?) = ?{_NOT_DELETED}"
        " AND NOT EXISTS (SELECT 1 FROM blocks JOIN objects ON objects.id = ?"
        " WHERE blocks.blocker = follows.follower AND blocks.blocked = objects.attributed_to)",
        (
            len(local_actor_prefix) + 1,
            object_id,
            boosted_by,
            activity_id,
            now,
            author,
            len(local_actor_prefix),
            local_actor_prefix,
            object_id,
            object_id,
        ),
    )


def remove_boost(booster: str, object_id: str) -> Statement:
    """Take a boost off every timeline (it was undone)."""
    return Statement(
        "DELETE FROM timeline WHERE boosted_by = ? AND object_id = ?", (booster, object_id)
    )


def remove_all_by(actor: str) -> Statement:
    """Take everything an actor wrote or boosted off every timeline (the actor was deleted)."""
    return Statement(
        "DELETE FROM timeline WHERE boosted_by = ?"
        " OR object_id IN (SELECT id FROM objects WHERE attributed_to = ?)",
        (actor, actor),
    )


def remove_author_for(actor_name: str, author: str) -> Statement:
    """Take an author's posts and boosts off one local actor's timeline (after a block)."""
    return Statement(
        "DELETE FROM timeline WHERE actor_name = ? AND (boosted_by = ?"
        " OR object_id IN (SELECT id FROM objects WHERE attributed_to = ?))",
        (actor_name, author, author),
    )


async def list_for(db: Database, actor_name: str, *, limit: int = 50) -> list[TimelineEntry]:
    """A local actor's home timeline, newest first, with each object as stored."""
    rows = await db.fetchall(
        "SELECT t.seq, t.object_id, t.boosted_by, t.activity_id, t.created_at, o.document"
        " FROM timeline t LEFT JOIN objects o ON o.id = t.object_id"
        " WHERE t.actor_name = ? ORDER BY t.seq DESC LIMIT ?",
        (actor_name, limit),
    )
    return [
        TimelineEntry(
            seq=r[0],
            object_id=r[1],
            boosted_by=r[2],
            activity_id=r[3],
            created_at=r[4],
            document=None if r[5] is None else json.loads(r[5]),
        )
        for r in rows
    ]

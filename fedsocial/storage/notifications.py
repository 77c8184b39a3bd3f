"""Core layer: SQL for what local actors are told about (follows, likes, boosts, mentions ...)."""

from __future__ import annotations

from dataclasses import dataclass

from fedsocial.storage.database import Database
from fedsocial.storage.statements import Statement

KINDS = frozenset(
    {"follow", "follow_request", "like", "boost", "mention", "reply", "reaction", "move"}
)
# Kinds about a post itself: one notification per post and actor.
ONCE_PER_OBJECT = frozenset({"mention", "reply"})


@dataclass(frozen=True, slots=True)
class Notification:
    """One notification of a local actor."""

    seq: int
    kind: str
    from_actor: str
    object_id: str | None
    activity_id: str | None
    created_at: float


def add(
    actor_name: str,
    kind: str,
    *,
    from_actor: str,
    object_id: str | None,
    activity_id: str,
    now: float,
) -> Statement:
    """Notify a local actor (only if it exists and was not already notified of this).

    Nothing is said about a deleted object, and a post mentions or answers an actor once,
    whatever activity brought it (a Create that comes again under another id notifies nobody).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    sql = (
        "INSERT OR IGNORE INTO notifications (actor_name, kind, from_actor, object_id,"
        " activity_id, created_at) SELECT ?,?,?,?,?,?"
        " WHERE EXISTS (SELECT 1 FROM local_actors WHERE name = ? AND kind = 'user')"
    )
    params: tuple[object, ...] = (actor_name, kind, from_actor, object_id, activity_id, now)
    params += (actor_name,)
    if object_id is not None:
        sql += " AND NOT EXISTS (SELECT 1 FROM objects WHERE id = ? AND deleted_at IS NOT NULL)"
        params += (object_id,)
    if object_id is not None and kind in ONCE_PER_OBJECT:
        sql += (
            " AND NOT EXISTS (SELECT 1 FROM notifications"
            " WHERE object_id = ? AND actor_name = ? AND kind = ?)"
        )
        params += (object_id, actor_name, kind)
    return Statement(sql, params)


def remove_for_activity(activity_id: str, *, from_actor: str) -> Statement:
    """Withdraw the notifications an activity of `from_actor` caused (it was undone); those
    of another actor's activity with that id stay (only its own actor may undo it)."""
    return Statement(
        "DELETE FROM notifications WHERE activity_id = ? AND from_actor = ?",
        (activity_id, from_actor),
    )


def remove_from(from_actor: str) -> Statement:
    """Withdraw every notification caused by an actor (the actor was deleted)."""
    return Statement("DELETE FROM notifications WHERE from_actor = ?", (from_actor,))


def remove_from_for(actor_name: str, from_actor: str) -> Statement:
    """Withdraw one local actor's notifications caused by an actor (the local actor blocked it)."""
    return Statement(
        "DELETE FROM notifications WHERE actor_name = ? AND from_actor = ?",
        (actor_name, from_actor),
    )


async def list_for(db: Database, actor_name: str, *, limit: int = 50) -> list[Notification]:
    """A local actor's notifications, newest first."""
    rows = await db.fetchall(
        "SELECT seq, kind, from_actor, object_id, activity_id, created_at FROM notifications"
        " WHERE actor_name = ? ORDER BY seq DESC LIMIT ?",
        (actor_name, limit),
    )
    return [
        Notification(
            seq=r[0],
            kind=r[1],
            from_actor=r[2],
            object_id=r[3],
            activity_id=r[4],
            created_at=r[5],
        )
        for r in rows
    ]

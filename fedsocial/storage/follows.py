"""Core layer: SQL for follow relationships (in both directions, local and remote)."""

from __future__ import annotations

import aiosqlite

from fedsocial.storage.database import Database
from fedsocial.storage.statements import Statement


async def upsert(
    db: Database, follower: str, followee: str, *, activity_id: str | None, state: str, now: float
) -> None:
    """Record that `follower` follows (or asked to follow) `followee`."""
    await db.execute(
        "INSERT INTO follows (follower, followee, activity_id, state, created_at)"
        " VALUES (?,?,?,?,?) ON CONFLICT (follower, followee) DO UPDATE SET"
        " activity_id = excluded.activity_id, state = excluded.state",
        (follower, followee, activity_id, state, now),
    )


async def set_state(db: Database, follower: str, followee: str, state: str) -> bool:
    """Change the state of an existing follow; return False if there is none."""
    changed = await db.execute(
        "UPDATE follows SET state = ? WHERE follower = ? AND followee = ?",
        (state, follower, followee),
    )
    return changed > 0


async def delete(db: Database, follower: str, followee: str) -> bool:
    """Remove a follow; return False if there was none."""
    changed = await db.execute(
        "DELETE FROM follows WHERE follower = ? AND followee = ?", (follower, followee)
    )
    return changed > 0


async def get_state(db: Database, follower: str, followee: str) -> str | None:
    """Return 'pending', 'accepted', or None when there is no follow."""
    value = await db.fetchval(
        "SELECT state FROM follows WHERE follower = ? AND followee = ?", (follower, followee)
    )
    return None if value is None else str(value)


async def get_activity_id(db: Database, follower: str, followee: str) -> str | None:
    """Return the id of the Follow activity behind a follow, if known."""
    value = await db.fetchval(
        "SELECT activity_id FROM follows WHERE follower = ? AND followee = ?",
        (follower, followee),
    )
    return None if value is None else str(value)


async def count_followers(db: Database, followee: str) -> int:
    """How many accepted followers an actor has."""
    value = await db.fetchval(
        "SELECT count(*) FROM follows WHERE followee = ? AND state = 'accepted'", (followee,)
    )
    return int(value or 0)


async def list_followers(db: Database, followee: str, *, limit: int, offset: int) -> list[str]:
    """Accepted followers of an actor, newest first."""
    rows = await db.fetchall(
        "SELECT follower FROM follows WHERE followee = ? AND state = 'accepted'"
        " ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
        (followee, limit, offset),
    )
    return [r[0] for r in rows]


async def count_following(db: Database, follower: str) -> int:
    """How many actors an actor follows (accepted)."""
    value = await db.fetchval(
        "SELECT count(*) FROM follows WHERE follower = ? AND state = 'accepted'", (follower,)
    )
    return int(value or 0)


async def list_following(db: Database, follower: str, *, limit: int, offset: int) -> list[str]:
    """Actors an actor follows (accepted), newest first."""
    rows = await db.fetchall(
        "SELECT followee FROM follows WHERE follower = ? AND state = 'accepted'"
        " ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
        (follower, limit, offset),
    )
    return [r[0] for r in rows]


async def list_pending_for(db: Database, followee: str) -> list[tuple[str, str | None]]:
    """Follow requests waiting for `followee`'s approval: (follower, activity id), oldest first."""
    rows = await db.fetchall(
        "SELECT follower, activity_id FROM follows WHERE followee = ? AND state = 'pending'"
        " ORDER BY created_at, rowid",
        (followee,),
    )
    return [(r[0], r[1]) for r in rows]


async def delete_all_of(db: Database, actor: str) -> int:
    """Remove every follow in which `actor` takes part; return how many went."""
    return await db.execute(
        "DELETE FROM follows WHERE follower = ? OR followee = ?", (actor, actor)
    )


async def upsert_in(
    conn: aiosqlite.Connection,
    follower: str,
    followee: str,
    *,
    activity_id: str | None,
    state: str,
    now: float,
) -> None:
    """`upsert` inside a transaction the caller owns (the inbox commits many at once)."""
    await conn.execute(
        "INSERT INTO follows (follower, followee, activity_id, state, created_at)"
        " VALUES (?,?,?,?,?) ON CONFLICT (follower, followee) DO UPDATE SET"
        " activity_id = excluded.activity_id, state = excluded.state",
        (follower, followee, activity_id, state, now),
    )


async def delete_in(conn: aiosqlite.Connection, follower: str, followee: str) -> bool:
    """`delete` inside a transaction the caller owns."""
    cursor = await conn.execute(
        "DELETE FROM follows WHERE follower = ? AND followee = ?", (follower, followee)
    )
    return cursor.rowcount > 0


def upsert_statement(
    follower: str, followee: str, *, activity_id: str | None, state: str, now: float
) -> Statement:
    """`upsert` as a statement, to run among other writes in one round trip."""
    return Statement(
        "INSERT INTO follows (follower, followee, activity_id, state, created_at)"
        " VALUES (?,?,?,?,?) ON CONFLICT (follower, followee) DO UPDATE SET"
        " activity_id = excluded.activity_id, state = excluded.state",
        (follower, followee, activity_id, state, now),
    )


def set_state_statement(follower: str, followee: str, *, state: str) -> Statement:
    """`set_state` as a statement."""
    return Statement(
        "UPDATE follows SET state = ? WHERE follower = ? AND followee = ?",
        (state, follower, followee),
    )


def delete_statement(follower: str, followee: str) -> Statement:
    """`delete` as a statement."""
    return Statement(
        "DELETE FROM follows WHERE follower = ? AND followee = ?", (follower, followee)
    )


def delete_all_of_statement(actor: str) -> Statement:
    """`delete_all_of` as a statement."""
    return Statement("DELETE FROM follows WHERE follower = ? OR followee = ?", (actor, actor))


async def local_followers(db: Database, followee: str, *, local_actor_prefix: str) -> list[str]:
    """Ids of the local actors (ids starting with the prefix) following `followee`."""
    rows = await db.fetchall(
        "SELECT follower FROM follows WHERE followee = ? AND state = 'accepted'"
        " AND substr(follower, 1, ?) = ?",
        (followee, len(local_actor_prefix), local_actor_prefix),
    )
    return [r[0] for r in rows]


async def find_by_activity(db: Database, activity_id: str) -> tuple[str, str] | None:
    """The (follower, followee) a Follow activity created, if we recorded it."""
    row = await db.fetchone(
        "SELECT follower, followee FROM follows WHERE activity_id = ?", (activity_id,)
    )
    return None if row is None else (row[0], row[1])

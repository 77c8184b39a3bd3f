"""Core layer: SQL for objects (notes, articles, ...), ours and remote, with edit history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiosqlite

from fedsocial.storage.database import Database, Row
from fedsocial.storage.statements import Statement


@dataclass(frozen=True, slots=True)
class ObjectRow:
    """An object as stored; `document` is the (sanitised) JSON we serve or show."""

    id: str
    type: str
    attributed_to: str | None
    local: bool
    visibility: str
    in_reply_to: str | None
    conversation: str | None
    document: dict[str, Any]
    published: float | None
    updated: float | None
    deleted_at: float | None

    @property
    def deleted(self) -> bool:
        """True once the object has been replaced by a Tombstone."""
        return self.deleted_at is not None


def _from_row(row: Row) -> ObjectRow:
    return ObjectRow(
        id=row["id"],
        type=row["type"],
        attributed_to=row["attributed_to"],
        local=bool(row["local"]),
        visibility=row["visibility"],
        in_reply_to=row["in_reply_to"],
        conversation=row["conversation"],
        document=json.loads(row["document"]),
        published=row["published"],
        updated=row["updated"],
        deleted_at=row["deleted_at"],
    )


_UPSERT = (
    "INSERT INTO objects (id, type, attributed_to, local, visibility, in_reply_to,"
    " conversation, document, published, updated, deleted_at, created_at)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,NULL,?) ON CONFLICT (id) DO UPDATE SET"
    " type = excluded.type, visibility = excluded.visibility,"
    " in_reply_to = excluded.in_reply_to, conversation = excluded.conversation,"
    " document = excluded.document, updated = excluded.updated"
)


def _upsert_params(obj: ObjectRow, *, now: float) -> tuple[Any, ...]:
    return (
        obj.id,
        obj.type,
        obj.attributed_to,
        int(obj.local),
        obj.visibility,
        obj.in_reply_to,
        obj.conversation,
        json.dumps(obj.document, ensure_ascii=False),
        obj.published,
        obj.updated,
        now,
    )


async def upsert(db: Database, obj: ObjectRow, *, now: float) -> bool:
    """Store an object, or replace it keeping the old version in the edit history.

    Returns False (and changes nothing) when a stored version is at least as new
    (`updated`, else `published`), so replays and out-of-order Updates are harmless.
    """
    async with db.transaction() as conn:
        return await upsert_in(conn, obj, now=now)


async def upsert_in(conn: aiosqlite.Connection, obj: ObjectRow, *, now: float) -> bool:
    """`upsert` inside a transaction the caller owns (the inbox commits many at once)."""
    cursor = await conn.execute(
        "SELECT document, coalesce(updated, published), deleted_at FROM objects WHERE id = ?",
        (obj.id,),
    )
    existing = await cursor.fetchone()
    if existing is not None:
        if existing[2] is not None:
            return False  # deleted objects stay deleted
        stored_at = existing[1] or 0.0
        incoming_at = obj.updated or obj.published or 0.0
        if incoming_at <= stored_at:
            return False
        await conn.execute(
            "INSERT INTO object_edits (object_id, document, replaced_at) VALUES (?,?,?)",
            (obj.id, existing[0], now),
        )
    await conn.execute(
        _UPSERT,
        _upsert_params(obj, now=now),
    )
    return True


async def get(db: Database, object_id: str) -> ObjectRow | None:
    """Return the object with this id (deleted ones too, check `deleted`), or None."""
    row = await db.fetchone("SELECT * FROM objects WHERE id = ?", (object_id,))
    return None if row is None else _from_row(row)


async def tombstone(db: Database, object_id: str, *, deleted_at: float) -> bool:
    """Replace an object by a Tombstone; return False if it was unknown or already deleted."""
    async with db.transaction() as conn:
        return await tombstone_in(conn, object_id, deleted_at=deleted_at)


async def tombstone_in(conn: aiosqlite.Connection, object_id: str, *, deleted_at: float) -> bool:
    """`tombstone` inside a transaction the caller owns."""
    cursor = await conn.execute(
        "SELECT type FROM objects WHERE id = ? AND deleted_at IS NULL", (object_id,)
    )
    row = await cursor.fetchone()
    if row is None:
        return False
    document = {"id": object_id, "type": "Tombstone", "formerType": row[0]}
    await conn.execute(
        "UPDATE objects SET deleted_at = ?, document = ? WHERE id = ?",
        (deleted_at, json.dumps(document), object_id),
    )
    await conn.execute("DELETE FROM timeline WHERE object_id = ?", (object_id,))
    return True


async def edits(db: Database, object_id: str) -> list[dict[str, Any]]:
    """Earlier versions of an object, oldest first."""
    rows = await db.fetchall(
        "SELECT document FROM object_edits WHERE object_id = ? ORDER BY seq", (object_id,)
    )
    return [json.loads(r[0]) for r in rows]


async def delete_by_author(db: Database, author: str) -> int:
    """Remove every object an actor wrote (when the actor is deleted); return how many."""
    return await db.execute("DELETE FROM objects WHERE attributed_to = ?", (author,))


def upsert_statements(obj: ObjectRow, *, now: float) -> list[Statement]:
    """`upsert` as statements: keep the old version in the history, then replace it.

    Both do nothing when a stored version is at least as new, or deleted, so the pair can run
    among other writes in one round trip (the inbox commits a batch of activities this way).
    """
    incoming_at = obj.updated or obj.published or 0.0
    return [
        Statement(
            "INSERT INTO object_edits (object_id, document, replaced_at)"
            " SELECT id, document, ? FROM objects WHERE id = ? AND deleted_at IS NULL"
            " AND coalesce(updated, published, 0) < ?",
            (now, obj.id, incoming_at),
        ),
        Statement(
            _UPSERT + " WHERE objects.deleted_at IS NULL"
            " AND coalesce(objects.updated, objects.published, 0) < ?",
            (*_upsert_params(obj, now=now), incoming_at),
        ),
    ]


def merge_document_statement(object_id: str, changes: dict[str, Any]) -> Statement:
    """Set top-level fields of a live object's document in place, keeping its dates and making
    no edit history: for a poll's new counts, which are not an edit. `changes` holds no None."""
    return Statement(
        "UPDATE objects SET document = json_patch(document, ?) WHERE id = ? AND deleted_at IS NULL",
        (json.dumps(changes, ensure_ascii=False), object_id),
    )


def tombstone_statements(object_id: str, *, deleted_at: float) -> list[Statement]:
    """`tombstone` as statements (nothing happens to an unknown or already deleted object)."""
    return [
        Statement(
            "DELETE FROM timeline WHERE object_id = ? AND EXISTS"
            " (SELECT 1 FROM objects WHERE id = ? AND deleted_at IS NULL)",
            (object_id, object_id),
        ),
        Statement(
            "UPDATE objects SET deleted_at = ?,"
            " document = json_object('id', id, 'type', 'Tombstone', 'formerType', type)"
            " WHERE id = ? AND deleted_at IS NULL",
            (deleted_at, object_id),
        ),
    ]


def tombstone_unknown_statement(object_id: str, *, author: str, deleted_at: float) -> Statement:
    """Store a Tombstone for an object deleted before we saw it (a Delete that overtook its
    Create): the Create, when it comes, finds it deleted and stores nothing. An object we have
    is left alone (`tombstone_statements` is for those)."""
    return Statement(
        "INSERT INTO objects (id, type, attributed_to, local, visibility, document, deleted_at,"
        " created_at) VALUES (?, 'Tombstone', ?, 0, 'direct',"
        " json_object('id', ?, 'type', 'Tombstone'), ?, ?) ON CONFLICT (id) DO NOTHING",
        (object_id, author, object_id, deleted_at, deleted_at),
    )


async def early_tombstones(db: Database, *, since: float) -> dict[str, float]:
    """Objects deleted before we saw them (`tombstone_unknown_statement`), since `since`: id to
    deletion time."""
    rows = await db.fetchall(
        "SELECT id, deleted_at FROM objects WHERE type = 'Tombstone' AND local = 0"
        " AND deleted_at >= ?",
        (since,),
    )
    return {str(r[0]): float(r[1]) for r in rows}


async def forget_early_tombstones(db: Database, *, before: float) -> None:
    """Remove the objects deleted before we saw them whose deletion is older than `before`."""
    await db.execute(
        "DELETE FROM objects WHERE type = 'Tombstone' AND local = 0 AND deleted_at < ?", (before,)
    )


def delete_by_author_statement(author: str) -> Statement:
    """`delete_by_author` as a statement."""
    return Statement("DELETE FROM objects WHERE attributed_to = ?", (author,))


async def count_replies(db: Database, object_id: str) -> int:
    """How many live objects reply to this one."""
    value = await db.fetchval(
        "SELECT count(*) FROM objects WHERE in_reply_to = ? AND deleted_at IS NULL", (object_id,)
    )
    return int(value or 0)


async def list_replies(db: Database, object_id: str, *, limit: int, offset: int) -> list[str]:
    """Ids of live public or unlisted replies to an object, oldest first."""
    rows = await db.fetchall(
        "SELECT id FROM objects WHERE in_reply_to = ? AND deleted_at IS NULL"
        " AND visibility IN ('public', 'unlisted') ORDER BY published, id LIMIT ? OFFSET ?",
        (object_id, limit, offset),
    )
    return [r[0] for r in rows]


# A live, public post of ours carrying a Hashtag tag that names the tag: by its href (we write
# it from the normalised name, so this also matches case-folded non-ASCII letters) or by its
# name (ASCII case folded), for a tag whose href was written differently.
_TAGGED = (
    " FROM objects o WHERE o.local = 1 AND o.visibility = 'public' AND o.deleted_at IS NULL"
    " AND EXISTS (SELECT 1 FROM json_each(o.document, '$.tag') t"
    " WHERE t.type = 'object' AND json_extract(t.value, '$.type') = 'Hashtag'"
    " AND (json_extract(t.value, '$.href') = ?"
    " OR lower(json_extract(t.value, '$.name')) = '#' || ?))"
)


async def count_local_public_tagged(db: Database, *, href: str, name: str) -> int:
    """How many of our live public posts carry the hashtag with this `href` or this `name`
    (the normalised tag, without `#`)."""
    value = await db.fetchval(f"SELECT count(*){_TAGGED}", (href, name))
    return int(value or 0)


async def list_local_public_tagged(
    db: Database, *, href: str, name: str, limit: int, offset: int
) -> list[ObjectRow]:
    """Our live public posts with that hashtag (as `count_local_public_tagged`), newest first."""
    rows = await db.fetchall(
        f"SELECT o.*{_TAGGED} ORDER BY o.published DESC, o.id DESC LIMIT ? OFFSET ?",
        (href, name, limit, offset),
    )
    return [_from_row(r) for r in rows]

"""Core layer: SQL for cached remote actors and their public keys.

An actor and the keys its document lists are written together, in one transaction, so the key
cache never names an owner whose document we do not hold (key documents fetched on their own
are the exception: their owner is confirmed first, see ``federation.key_resolver``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fedsocial.storage.database import Database, Row


@dataclass(frozen=True, slots=True)
class RemoteActorRow:
    """A remote actor as cached: the fields we route by, and the whole document."""

    id: str
    type: str
    preferred_username: str | None
    domain: str
    inbox: str
    shared_inbox: str | None
    followers: str | None
    url: str | None
    document: dict[str, Any]
    moved_to: str | None
    fetched_at: float
    deleted_at: float | None = None


@dataclass(frozen=True, slots=True)
class RemoteKeyRow:
    """A remote public key: PEM text (``kind="pem"``) or a multibase value (``"multikey"``)."""

    key_id: str
    owner: str
    kind: str
    material: str
    fetched_at: float


_ACTOR_COLUMNS = (
    "id, type, preferred_username, domain, inbox, shared_inbox, followers, url, document,"
    " moved_to, fetched_at, deleted_at"
)


def _actor(row: Row) -> RemoteActorRow:
    return RemoteActorRow(
        id=row["id"],
        type=row["type"],
        preferred_username=row["preferred_username"],
        domain=row["domain"],
        inbox=row["inbox"],
        shared_inbox=row["shared_inbox"],
        followers=row["followers"],
        url=row["url"],
        document=json.loads(row["document"]),
        moved_to=row["moved_to"],
        fetched_at=row["fetched_at"],
        deleted_at=row["deleted_at"],
    )


def _key(row: Row) -> RemoteKeyRow:
    return RemoteKeyRow(
        key_id=row["key_id"],
        owner=row["owner"],
        kind=row["kind"],
        material=row["material"],
        fetched_at=row["fetched_at"],
    )


async def get(db: Database, actor_id: str) -> RemoteActorRow | None:
    """The cached actor with this id, deleted or not, or None."""
    row = await db.fetchone(f"SELECT {_ACTOR_COLUMNS} FROM remote_actors WHERE id = ?", (actor_id,))
    return None if row is None else _actor(row)


async def find_by_handle(db: Database, username: str, domain: str) -> RemoteActorRow | None:
    """The most recently fetched actor with this preferredUsername on ``domain``, or None."""
    row = await db.fetchone(
        f"SELECT {_ACTOR_COLUMNS} FROM remote_actors"
        " WHERE lower(preferred_username) = lower(?) AND domain = ? ORDER BY fetched_at DESC",
        (username, domain),
    )
    return None if row is None else _actor(row)


async def save(db: Database, actor: RemoteActorRow, keys: Sequence[RemoteKeyRow]) -> None:
    """Insert or replace an actor and replace the keys it owns, in one transaction."""
    async with db.transaction() as conn:
        await conn.execute(
            f"INSERT OR REPLACE INTO remote_actors ({_ACTOR_COLUMNS})"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                actor.id,
                actor.type,
                actor.preferred_username,
                actor.domain,
                actor.inbox,
                actor.shared_inbox,
                actor.followers,
                actor.url,
                json.dumps(actor.document, ensure_ascii=False),
                actor.moved_to,
                actor.fetched_at,
                actor.deleted_at,
            ),
        )
        await conn.execute("DELETE FROM remote_keys WHERE owner = ?", (actor.id,))
        await conn.executemany(
            "INSERT OR REPLACE INTO remote_keys (key_id, owner, kind, material, fetched_at)"
            " VALUES (?,?,?,?,?)",
            [(k.key_id, k.owner, k.kind, k.material, k.fetched_at) for k in keys],
        )


async def mark_deleted(db: Database, actor_id: str, *, domain: str, now: float) -> None:
    """Record that an actor is gone and forget its keys; a stub row is kept if none existed."""
    async with db.transaction() as conn:
        cursor = await conn.execute(
            "UPDATE remote_actors SET deleted_at = coalesce(deleted_at, ?) WHERE id = ?",
            (now, actor_id),
        )
        if cursor.rowcount == 0:
            await conn.execute(
                "INSERT INTO remote_actors (id, type, domain, inbox, document, fetched_at,"
                " deleted_at) VALUES (?, 'Tombstone', ?, '', '{}', ?, ?)",
                (actor_id, domain, now, now),
            )
        await conn.execute("DELETE FROM remote_keys WHERE owner = ?", (actor_id,))


async def set_moved_to(db: Database, actor_id: str, target: str | None) -> bool:
    """Record where an actor moved; return False when the actor is not cached."""
    changed = await db.execute(
        "UPDATE remote_actors SET moved_to = ? WHERE id = ?", (target, actor_id)
    )
    return changed > 0


async def get_key(db: Database, key_id: str) -> RemoteKeyRow | None:
    """The cached public key with this id, or None."""
    row = await db.fetchone(
        "SELECT key_id, owner, kind, material, fetched_at FROM remote_keys WHERE key_id = ?",
        (key_id,),
    )
    return None if row is None else _key(row)


async def save_key(db: Database, key: RemoteKeyRow) -> None:
    """Insert or replace one public key (a key document confirmed by its owner)."""
    await db.execute(
        "INSERT OR REPLACE INTO remote_keys (key_id, owner, kind, material, fetched_at)"
        " VALUES (?,?,?,?,?)",
        (key.key_id, key.owner, key.kind, key.material, key.fetched_at),
    )

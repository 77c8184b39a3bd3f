"""Core layer: SQL for local actors (our users and the instance actor)."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from fedsocial.activity_json import check_sendable_text
from fedsocial.errors import Conflict
from fedsocial.storage.database import Database, Row


@dataclass(frozen=True, slots=True)
class LocalActorRow:
    """A local actor as stored, keys still as PEM text."""

    name: str
    kind: str
    type: str
    display_name: str
    summary: str
    manually_approves: bool
    discoverable: bool
    rsa_private_pem: str
    rsa_public_pem: str
    ed25519_private_pem: str
    also_known_as: tuple[str, ...]
    moved_to: str | None
    created_at: float
    updated_at: float


def _from_row(row: Row) -> LocalActorRow:
    return LocalActorRow(
        name=row["name"],
        kind=row["kind"],
        type=row["type"],
        display_name=row["display_name"],
        summary=row["summary"],
        manually_approves=bool(row["manually_approves"]),
        discoverable=bool(row["discoverable"]),
        rsa_private_pem=row["rsa_private_pem"],
        rsa_public_pem=row["rsa_public_pem"],
        ed25519_private_pem=row["ed25519_private_pem"],
        also_known_as=tuple(json.loads(row["also_known_as"])),
        moved_to=row["moved_to"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _check_text(field: str, value: str | None) -> None:
    if value is not None:
        check_sendable_text(value, what=field)


async def insert(db: Database, actor: LocalActorRow) -> None:
    """Store a new local actor; raise Conflict if the name is taken, ValidationError if its
    display name or summary is not storable text."""
    _check_text("display name", actor.display_name)
    _check_text("summary", actor.summary)
    try:
        await db.execute(
            "INSERT INTO local_actors (name, kind, type, display_name, summary, manually_approves,"
            " discoverable, rsa_private_pem, rsa_public_pem, ed25519_private_pem, also_known_as,"
            " moved_to, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                actor.name,
                actor.kind,
                actor.type,
                actor.display_name,
                actor.summary,
                int(actor.manually_approves),
                int(actor.discoverable),
                actor.rsa_private_pem,
                actor.rsa_public_pem,
                actor.ed25519_private_pem,
                json.dumps(list(actor.also_known_as)),
                actor.moved_to,
                actor.created_at,
                actor.updated_at,
            ),
        )
    except sqlite3.IntegrityError as exc:
        raise Conflict(f"an actor named {actor.name!r} already exists") from exc


async def get(db: Database, name: str) -> LocalActorRow | None:
    """Return the local actor with this name, or None."""
    row = await db.fetchone("SELECT * FROM local_actors WHERE name = ?", (name,))
    return None if row is None else _from_row(row)


async def list_users(db: Database) -> list[LocalActorRow]:
    """Return every local user actor (not the instance actor), oldest first."""
    rows = await db.fetchall(
        "SELECT * FROM local_actors WHERE kind = 'user' ORDER BY created_at, name"
    )
    return [_from_row(r) for r in rows]


async def count_users(db: Database) -> int:
    """Return how many local user actors exist."""
    return int(await db.fetchval("SELECT count(*) FROM local_actors WHERE kind = 'user'") or 0)


async def update_profile(
    db: Database,
    name: str,
    *,
    display_name: str | None,
    summary: str | None,
    also_known_as: tuple[str, ...] | None = None,
    moved_to: str | None = None,
    updated_at: float,
) -> None:
    """Change the given profile fields of a local actor (None leaves a field as it is); raise
    ValidationError, changing nothing, if the display name or summary is not storable text."""
    _check_text("display name", display_name)
    _check_text("summary", summary)
    await db.execute(
        "UPDATE local_actors SET display_name = coalesce(?, display_name),"
        " summary = coalesce(?, summary), also_known_as = coalesce(?, also_known_as),"
        " moved_to = coalesce(?, moved_to), updated_at = ? WHERE name = ?",
        (
            display_name,
            summary,
            None if also_known_as is None else json.dumps(list(also_known_as)),
            moved_to,
            updated_at,
            name,
        ),
    )

"""Core layer: SQL for the relays our instance actor subscribes to.

One row per relay, keyed by the URL the admin gave; `inbox` is where we POST. States:
``pending`` (our Follow is out) → ``accepted`` | ``rejected`` (the relay answered).
"""

from __future__ import annotations

from dataclasses import dataclass

from fedsocial.storage.database import Database, Row
from fedsocial.storage.statements import Statement

PENDING = "pending"
ACCEPTED = "accepted"
REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class RelayRow:
    """One relay subscription as stored."""

    url: str
    inbox: str
    state: str
    follow_activity_id: str
    created_at: float


def _from_row(row: Row) -> RelayRow:
    return RelayRow(
        url=row["url"],
        inbox=row["inbox"],
        state=row["state"],
        follow_activity_id=row["follow_activity_id"],
        created_at=row["created_at"],
    )


async def upsert(
    db: Database, url: str, *, inbox: str, follow_activity_id: str, now: float
) -> None:
    """Record a (new or renewed) subscription to `url` as pending on `follow_activity_id`."""
    await db.execute(
        "INSERT INTO relays (url, inbox, state, follow_activity_id, created_at)"
        " VALUES (?,?,'pending',?,?) ON CONFLICT (url) DO UPDATE SET inbox = excluded.inbox,"
        " state = 'pending', follow_activity_id = excluded.follow_activity_id",
        (url, inbox, follow_activity_id, now),
    )


async def get(db: Database, url: str) -> RelayRow | None:
    """The relay stored under `url`, or None."""
    row = await db.fetchone("SELECT * FROM relays WHERE url = ?", (url,))
    return None if row is None else _from_row(row)


async def by_follow_activity(db: Database, activity_id: str) -> RelayRow | None:
    """The relay whose subscription is the Follow `activity_id`, or None."""
    row = await db.fetchone("SELECT * FROM relays WHERE follow_activity_id = ?", (activity_id,))
    return None if row is None else _from_row(row)


async def list_all(db: Database) -> list[RelayRow]:
    """Every relay, oldest subscription first."""
    rows = await db.fetchall("SELECT * FROM relays ORDER BY created_at, url")
    return [_from_row(r) for r in rows]


async def accepted_inboxes(db: Database) -> list[str]:
    """The inboxes of relays that accepted our subscription."""
    rows = await db.fetchall("SELECT inbox FROM relays WHERE state = 'accepted' ORDER BY url")
    return [str(r[0]) for r in rows]


async def remove(db: Database, url: str) -> bool:
    """Forget a relay; False if it was not there."""
    return await db.execute("DELETE FROM relays WHERE url = ?", (url,)) > 0


def set_state_statement(url: str, state: str) -> Statement:
    """The statement settling a relay subscription as `state` (accepted or rejected)."""
    return Statement("UPDATE relays SET state = ? WHERE url = ?", (state, url))

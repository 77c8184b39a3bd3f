"""Core layer: SQL for how reachable each remote host is (the `hosts` table's health columns).

Like Mastodon's delivery failure tracker: every UTC day with a failed delivery to a host is
remembered; a success clears the list. A host with failures on `UNAVAILABLE_AFTER_DAYS` distinct
days and no success since is marked unavailable, and the delivery queue skips it until it
answers again (a probe or an incoming activity, see `record_success`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass

from fedsocial.storage.database import Database

UNAVAILABLE_AFTER_DAYS = 7
_SECONDS_PER_DAY = 86_400


@dataclass(frozen=True, slots=True)
class HostHealth:
    """The health of one host as stored."""

    host: str
    failure_days: tuple[int, ...]
    unavailable: bool
    last_success_at: float | None


def day_of(ts: float) -> int:
    """The UTC day number (days since the epoch) of a Unix time."""
    return int(ts // _SECONDS_PER_DAY)


async def get(db: Database, host: str) -> HostHealth:
    """The health of a host; an unknown host is healthy."""
    row = await db.fetchone(
        "SELECT failure_days, unavailable, last_success_at FROM hosts WHERE host = ?", (host,)
    )
    if row is None:
        return HostHealth(host, (), False, None)
    return HostHealth(host, tuple(json.loads(row[0])), bool(row[1]), row[2])


async def unavailable_hosts(db: Database) -> list[str]:
    """Every host currently marked unavailable."""
    rows = await db.fetchall("SELECT host FROM hosts WHERE unavailable = 1 ORDER BY host")
    return [r[0] for r in rows]


async def record_success(db: Database, host: str, *, now: float) -> None:
    """A host answered: forget its failure days and make it available again."""
    await record_many(db, successes=[host], failures=[], now=now)


async def record_failure(db: Database, host: str, *, now: float) -> bool:
    """A delivery to a host failed today; return True if that made the host unavailable."""
    return host in await record_many(db, successes=[], failures=[host], now=now)


async def record_many(
    db: Database, *, successes: Iterable[str], failures: Iterable[str], now: float
) -> set[str]:
    """Record one batch of per-host results in one transaction; return hosts newly unavailable.

    A host with both a success and a failure in the batch counts as answering (success wins),
    as Mastodon's tracker does when any delivery to it goes through.
    """
    ok = set(successes)
    bad = set(failures) - ok
    today = day_of(now)
    newly: set[str] = set()
    if not ok and not bad:
        return newly
    async with db.transaction() as conn:
        for host in ok:
            await conn.execute(
                "INSERT INTO hosts (host, failure_days, unavailable, last_success_at)"
                " VALUES (?, '[]', 0, ?) ON CONFLICT (host) DO UPDATE SET failure_days = '[]',"
                " unavailable = 0, last_success_at = excluded.last_success_at",
                (host, now),
            )
        for host in bad:
            cursor = await conn.execute(
                "SELECT failure_days, unavailable FROM hosts WHERE host = ?", (host,)
            )
            row = await cursor.fetchone()
            days = set(json.loads(row[0])) if row is not None else set()
            was_unavailable = bool(row[1]) if row is not None else False
            days.add(today)
            unavailable = was_unavailable or len(days) >= UNAVAILABLE_AFTER_DAYS
            if unavailable and not was_unavailable:
                newly.add(host)
            await conn.execute(
                "INSERT INTO hosts (host, failure_days, unavailable) VALUES (?,?,?)"
                " ON CONFLICT (host) DO UPDATE SET failure_days = excluded.failure_days,"
                " unavailable = excluded.unavailable",
                (host, json.dumps(sorted(days)), int(unavailable)),
            )
    return newly

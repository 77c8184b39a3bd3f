"""Core layer: SQL for reports (Flag activities) kept for the admin."""

from __future__ import annotations

import json
from dataclasses import dataclass

from fedsocial.storage.database import Database
from fedsocial.storage.statements import Statement


@dataclass(frozen=True, slots=True)
class Report:
    """One report: who reported which actors or objects, and why."""

    activity_id: str
    reporter: str
    targets: tuple[str, ...]
    content: str
    created_at: float


def add(
    activity_id: str,
    reporter: str,
    *,
    targets: list[str],
    content: str,
    now: float,
) -> Statement:
    """Store a report (nothing changes when this Flag was already stored)."""
    return Statement(
        "INSERT OR IGNORE INTO reports (activity_id, reporter, targets, content, created_at)"
        " VALUES (?,?,?,?,?)",
        (activity_id, reporter, json.dumps(targets), content, now),
    )


async def list_all(db: Database, *, limit: int = 100) -> list[Report]:
    """The most recent reports, newest first."""
    rows = await db.fetchall(
        "SELECT activity_id, reporter, targets, content, created_at FROM reports"
        " ORDER BY seq DESC LIMIT ?",
        (limit,),
    )
    return [
        Report(
            activity_id=r[0],
            reporter=r[1],
            targets=tuple(json.loads(r[2])),
            content=r[3],
            created_at=r[4],
        )
        for r in rows
    ]

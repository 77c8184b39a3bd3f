"""Core layer: SQL for instance-wide domain blocks made with `fedsocial domain block`."""

from __future__ import annotations

from fedsocial.storage.database import Database


async def add(db: Database, domain: str, *, now: float) -> bool:
    """Block a domain; return False if it was already blocked."""
    changed = await db.execute(
        "INSERT OR IGNORE INTO domain_blocks (domain, created_at) VALUES (?, ?)", (domain, now)
    )
    return changed > 0


async def remove(db: Database, domain: str) -> bool:
    """Unblock a domain; return False if it was not blocked."""
    return await db.execute("DELETE FROM domain_blocks WHERE domain = ?", (domain,)) > 0


async def list_all(db: Database) -> list[str]:
    """Every blocked domain, alphabetically."""
    rows = await db.fetchall("SELECT domain FROM domain_blocks ORDER BY domain")
    return [r[0] for r in rows]

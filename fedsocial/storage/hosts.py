"""Core layer: SQL for the signature scheme each remote host accepted (the ``hosts`` table).

Only the ``signature_scheme`` column is written here; the delivery code owns the health columns
of the same rows, so writes touch one column and create the row when it is missing.
"""

from __future__ import annotations

from fedsocial.storage.database import Database

SCHEMES = ("cavage", "rfc9421")


async def get_signature_scheme(db: Database, host: str) -> str | None:
    """The scheme last known to work with ``host`` ("cavage" or "rfc9421"), or None."""
    value = await db.fetchval("SELECT signature_scheme FROM hosts WHERE host = ?", (host,))
    return value if value in SCHEMES else None


async def set_signature_scheme(db: Database, host: str, scheme: str) -> None:
    """Remember that ``host`` accepted ``scheme``; raise ValueError for an unknown scheme."""
    if scheme not in SCHEMES:
        raise ValueError(f"unknown signature scheme {scheme!r}")
    await db.execute(
        "INSERT INTO hosts (host, signature_scheme) VALUES (?, ?)"
        " ON CONFLICT (host) DO UPDATE SET signature_scheme = excluded.signature_scheme",
        (host, scheme),
    )

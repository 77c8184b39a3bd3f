"""Core layer: the set of blocked domains, from the config and the database, checked per host.

A block covers the domain and all its subdomains. The set is re-read from the database at
most every few seconds, so a `fedsocial domain block` in another process takes effect soon.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fedsocial.clock import Clock
from fedsocial.storage import domain_blocks
from fedsocial.storage.database import Database

REFRESH_SECONDS = 2.0


def normalise_domain(value: str) -> str:
    """Lowercase a domain or URL down to its host (without port or trailing dot)."""
    text = value.strip().lower()
    if "://" in text:
        text = urlsplit(text).hostname or ""
    return text.split(":")[0].rstrip(".")


class DomainBlocks:
    """Answers "is this host blocked?" quickly, from config and database blocks."""

    def __init__(self, db: Database, clock: Clock, *, configured: tuple[str, ...]) -> None:
        self._db = db
        self._clock = clock
        self._configured = frozenset(normalise_domain(d) for d in configured)
        self._blocked: frozenset[str] = self._configured
        self._loaded_at = float("-inf")

    async def refresh(self) -> None:
        """Re-read the blocks stored in the database now."""
        stored = await domain_blocks.list_all(self._db)
        self._blocked = self._configured | frozenset(stored)
        self._loaded_at = self._clock.now()

    async def is_blocked(self, host_or_url: str) -> bool:
        """True when the host (or the host of the URL) or a parent domain is blocked."""
        if self._clock.now() - self._loaded_at > REFRESH_SECONDS:
            await self.refresh()
        blocked = self._blocked
        if not blocked:
            # The usual case on the inbox hot path: nothing is blocked, nothing to parse.
            return False
        parts = normalise_domain(host_or_url).split(".")
        return any(".".join(parts[i:]) in blocked for i in range(len(parts)))

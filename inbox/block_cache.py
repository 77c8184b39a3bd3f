"""Inbox layer: which remote actors our local actors block, kept in memory for the fast path.

Re-read from the database at most every few seconds, so a block made by the CLI in another
process takes effect soon, and at once after `invalidate`. Freshness is measured with the
monotonic clock, not the injected Clock: it is about this process's cache, not about the
domain's time (a test's FixedClock would otherwise keep the cache forever).
"""

from __future__ import annotations

import time

from fedsocial.storage import blocks
from fedsocial.storage.database import Database

REFRESH_SECONDS = 2.0


class BlockCache:
    """Answers "does this local actor block that actor?" without a query per request."""

    def __init__(self, db: Database, *, local_actor_prefix: str) -> None:
        self._db = db
        self._prefix = local_actor_prefix
        self._pairs: frozenset[tuple[str, str]] = frozenset()
        self._loaded_at = float("-inf")

    def invalidate(self) -> None:
        """Make the next question re-read the database."""
        self._loaded_at = float("-inf")

    async def blocks(self, local_actor: str, actor: str) -> bool:
        """True when the local actor (by id) blocks `actor` (by id)."""
        if time.monotonic() - self._loaded_at > REFRESH_SECONDS:
            self._pairs = frozenset(await blocks.all_pairs(self._db, blockers_prefix=self._prefix))
            self._loaded_at = time.monotonic()
        return (local_actor, actor) in self._pairs

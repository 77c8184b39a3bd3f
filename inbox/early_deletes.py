"""Inbox layer: posts deleted before we saw them (a Delete that overtook its Create), or lately.

Mastodon remembers such a Delete for six hours, so that the Create, when it comes, is dropped
instead of bringing the post back. So do we: in the database (a Tombstone row, see
`objects.tombstone_unknown_statement`, which survives a restart) and here, in memory, so that
each Create is checked against a dict rather than with a database read (a read per Create cost
the inbox benchmark about a fifth of its apply speed). Posts we had and saw deleted are
remembered here too (in memory only), so that their Create, coming again, does not show them.
Older memories are dropped, in memory as they expire and in the database when the inbox starts.
"""

from __future__ import annotations

from fedsocial.storage import objects
from fedsocial.storage.database import Database

REMEMBER_SECONDS = 6 * 3600.0
MAX_REMEMBERED = 100_000  # a flood of Deletes of unknown ids must not grow memory without end


class EarlyDeletes:
    """Ids of posts deleted before they arrived, with when; oldest first."""

    def __init__(self, deleted: dict[str, float] | None = None) -> None:
        self._deleted: dict[str, float] = dict(sorted((deleted or {}).items(), key=lambda i: i[1]))

    @classmethod
    async def load(cls, db: Database, *, now: float) -> EarlyDeletes:
        """The early deletes of the last REMEMBER_SECONDS stored in `db`; older ones are removed."""
        since = now - REMEMBER_SECONDS
        await objects.forget_early_tombstones(db, before=since)
        return cls(await objects.early_tombstones(db, since=since))

    def add(self, object_id: str, *, at: float) -> None:
        """Remember that `object_id` was deleted at `at` (before we had it, or after)."""
        self._deleted.pop(object_id, None)
        self._deleted[object_id] = at
        self._forget(now=at)

    def deleted(self, object_id: str, *, now: float) -> bool:
        """True when `object_id` was deleted less than REMEMBER_SECONDS ago (see `add`)."""
        at = self._deleted.get(object_id)
        return at is not None and now - at < REMEMBER_SECONDS

    def __len__(self) -> int:
        return len(self._deleted)

    def _forget(self, *, now: float) -> None:
        # Insertion order is time order, so the expired and the excess are at the front.
        for object_id, at in list(self._deleted.items()):
            if now - at < REMEMBER_SECONDS and len(self._deleted) <= MAX_REMEMBERED:
                break
            del self._deleted[object_id]

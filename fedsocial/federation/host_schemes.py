"""Core layer: which HTTP signature scheme each remote host accepted, remembered per host.

Double-knocking costs a second request, so once a host has answered a scheme we start with
that one. The answer lives in the ``hosts`` table (it survives restarts and is shared with CLI
processes) and in memory, so the hot path reads no database after the first request to a host.
"""

from __future__ import annotations

from fedsocial.storage import hosts
from fedsocial.storage.database import Database

CAVAGE = "cavage"
RFC9421 = "rfc9421"


class HostSchemes:
    """Per-host memory of the signature scheme that worked, backed by the database."""

    def __init__(self, db: Database | None, *, rfc9421_first: bool) -> None:
        self._db = db
        self._rfc9421_first = rfc9421_first
        self._known: dict[str, str | None] = {}

    async def remembered(self, host: str) -> str | None:
        """The scheme remembered for ``host``, or None when it never answered one."""
        if host not in self._known:
            self._known[host] = (
                await hosts.get_signature_scheme(self._db, host) if self._db else None
            )
        return self._known[host]

    async def order(self, host: str) -> tuple[str, str]:
        """The two schemes in the order to try them for ``host``.

        The remembered one first; else RFC 9421 when ``rfc9421_first`` is configured; else cavage.
        """
        first = await self.remembered(host) or (RFC9421 if self._rfc9421_first else CAVAGE)
        return (first, CAVAGE if first == RFC9421 else RFC9421)

    async def remember(self, host: str, scheme: str) -> None:
        """Record that ``host`` accepted ``scheme``; writes only when the answer changed."""
        if await self.remembered(host) == scheme:
            return
        self._known[host] = scheme
        if self._db is not None:
            await hosts.set_signature_scheme(self._db, host, scheme)

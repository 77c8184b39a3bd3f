"""Inbox layer: the host and origin of actor ids, worked out once per actor.

Splitting URLs is among the larger costs of the receive fast path, and a busy inbox hears from
the same actors again and again, so each actor's host (for domain blocks) and origin (for the
same-origin rule) are kept; the cache is bounded and simply emptied when full.
"""

from __future__ import annotations

from fedsocial.activity_json import origin, same_origin
from fedsocial.federation.domain_blocks import normalise_domain

LIMIT = 10_000


class Origins:
    """Remembers `(host, origin)` of actor ids; one per application."""

    __slots__ = ("_limit", "_seen")

    def __init__(self, *, limit: int = LIMIT) -> None:
        self._seen: dict[str, tuple[str, str]] = {}
        self._limit = limit

    def of(self, actor: str) -> tuple[str, str]:
        """The host and origin of an actor id; raise ValidationError if it is not a URL."""
        found = self._seen.get(actor)
        if found is None:
            # `origin` first: it refuses what is not a URL with ValidationError (400), where
            # `normalise_domain` would let urlsplit's ValueError escape (a 500).
            actor_origin = origin(actor)
            found = (normalise_domain(actor), actor_origin)
            if len(self._seen) >= self._limit:
                self._seen.clear()
            self._seen[actor] = found
        return found

    def same_origin(self, iri: str, actor: str) -> bool:
        """True when `iri` lives on the actor's origin (exactly as `same_origin` decides)."""
        actor_origin = self.of(actor)[1]
        boundary = iri[len(actor_origin) : len(actor_origin) + 1]
        # Fast path: the origin as a prefix, ending where the authority ends.
        if iri.startswith(actor_origin) and boundary in ("", "/", "#", "?"):
            return True
        return same_origin(iri, actor)

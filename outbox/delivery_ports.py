"""Outbox layer: what the delivery engine needs from outside — a signing POST and keys.

The federation layer's `HttpClient` is the `Poster`; the outbox service looks keys up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from fedsocial.federation.signing import SigningKey


class PostAnswer(Protocol):
    """What an HTTP POST answered (the federation layer's `PostResult` fits)."""

    @property
    def status(self) -> int:
        """The HTTP status code."""
        ...

    @property
    def excerpt(self) -> str:
        """The start of the response body."""
        ...

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked us to wait, if it said."""
        ...


class Poster(Protocol):
    """Signs and POSTs a body to a URL (the federation layer's `HttpClient` fits)."""

    async def post(self, url: str, body: bytes, *, key: SigningKey) -> PostAnswer:
        """POST `body`, signed by `key` at call time; raise FetchError when no answer came."""
        ...


KeyFor = Callable[[str], Awaitable[SigningKey | None]]
"""Returns the signing key of a local actor id, or None when the actor no longer exists."""

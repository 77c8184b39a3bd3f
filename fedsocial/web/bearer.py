"""Core layer: C2S bearer tokens (`fedsocial token create`) on a request, and who they let in."""

from __future__ import annotations

from aiohttp import web

from fedsocial.errors import Forbidden, Unauthorized
from fedsocial.storage import tokens
from fedsocial.storage.database import Database


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer …` header (the scheme in any case), or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def require_token_of(request: web.Request, db: Database, name: str, *, to: str) -> None:
    """Return only when the request carries a live token of the local actor `name`.

    Raises Unauthorized (401, with a challenge) without a token or with an unknown or revoked
    one, and Forbidden (403) with another actor's token; `to` says what the token is for.
    """
    token = bearer_token(request)
    if token is None:
        raise Unauthorized(f"a bearer token is required to {to}")
    owner = await tokens.actor_for(db, token)
    if owner is None:
        raise Unauthorized("unknown or revoked token")
    if owner != name:
        raise Forbidden(f"this token does not belong to {name}")

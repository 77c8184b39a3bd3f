"""Inbox layer: the client-to-server read of an actor's inbox (`GET /users/{name}/inbox`).

Only the actor itself may read it, with `Authorization: Bearer <token>` (tokens from
`fedsocial token create`). The answer is a paged OrderedCollection, newest first.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedsocial import appkeys
from fedsocial.paging import PageRequest
from fedsocial.storage import inbox_queue, tokens
from fedsocial.web.collections import collection_response

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="fedsocial"'}


def bearer_token(request: web.Request) -> str | None:
    """The token of an `Authorization: Bearer …` header, or None."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


async def inbox_collection(request: web.Request) -> web.StreamResponse:
    """GET /users/{name}/inbox: what the actor received, for the actor's own token only."""
    name = request.match_info["name"]
    db = request.app[appkeys.DB]
    token = bearer_token(request)
    owner = None if token is None else await tokens.actor_for(db, token)
    if owner is None or owner != name:
        raise web.HTTPUnauthorized(reason="Unauthorized", headers=_CHALLENGE)

    async def items(page: PageRequest) -> list[Any]:
        listed = await inbox_queue.list_items(db, name, limit=page.size, offset=page.offset)
        for item in listed:
            item.pop("@context", None)  # the page's context covers them
        return listed

    response = await collection_response(
        request,
        request.app[appkeys.URLS].inbox(name),
        total=await inbox_queue.count_items(db, name),
        items=items,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response

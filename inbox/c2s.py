"""Inbox layer: the client-to-server read of an actor's inbox (`GET /users/{name}/inbox`).

Only the actor itself may read it, with `Authorization: Bearer <token>` (tokens from
`fedsocial token create`): 401 without a live token, 403 with another actor's. The answer
is a paged OrderedCollection, newest first.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fedsocial import appkeys
from fedsocial.paging import PageRequest
from fedsocial.sanitize import HtmlSanitizer
from fedsocial.storage import inbox_queue
from fedsocial.web.bearer import require_token_of
from fedsocial.web.collections import collection_response
from inbox.incoming_objects import sanitised_document


def _shown(activity: dict[str, Any], sanitizer: HtmlSanitizer) -> dict[str, Any]:
    """A received activity as its owner reads it: its HTML, and that of the object it embeds
    (and of a Create a group's Announce embeds), sanitised as the stored posts are."""
    shown = sanitised_document(activity, sanitizer)
    inner = shown.get("object")
    if isinstance(inner, dict):
        shown["object"] = inner = sanitised_document(inner, sanitizer)
        if isinstance(inner.get("object"), dict):
            inner["object"] = sanitised_document(inner["object"], sanitizer)
    return shown


async def inbox_collection(request: web.Request) -> web.StreamResponse:
    """GET /users/{name}/inbox: what the actor received, for the actor's own token only."""
    name = request.match_info["name"]
    db = request.app[appkeys.DB]
    await require_token_of(request, db, name, to="read an inbox")

    sanitizer = HtmlSanitizer()

    async def items(page: PageRequest) -> list[Any]:
        listed = await inbox_queue.list_items(db, name, limit=page.size, offset=page.offset)
        # Stored as received (hostile HTML included); the page's context covers them.
        return [_shown(item, sanitizer) for item in listed]

    response = await collection_response(
        request,
        request.app[appkeys.URLS].inbox(name),
        total=await inbox_queue.count_items(db, name),
        items=items,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response

"""Outbox layer: HTTP routes for our objects, their collections, our activities, and C2S posting.

- GET `/users/{name}/statuses/{id}` (and its `url`, `/@{name}/{id}`): the object as
  ActivityStreams JSON (HTML for a browser); 410 with the Tombstone once deleted.
  Followers-only and direct objects are answered only to their author and audience, known
  from the verified signature of the GET (secure-mode middleware); anyone else gets 404, as
  on Mastodon, so their existence does not leak.
- `…/statuses/{id}/likes|shares|replies`: collections with `totalItems` (paged).
- GET `/users/{name}/activities/{id}`: one of our activities, same visibility rule.
- POST `/users/{name}/outbox`: client-to-server with a bearer token (ActivityPub §6).
- GET `/tags/{tag}`: the hashtag page our posts link to (see `outbox.tags`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from html import escape
from typing import Any

from aiohttp import web

from fedsocial import appkeys
from fedsocial.activity_json import get_id, get_ids
from fedsocial.clock import iso
from fedsocial.errors import NotFound
from fedsocial.federation.secure_mode import request_signature
from fedsocial.storage import activities, follows, objects, reactions, shares
from fedsocial.storage.objects import ObjectRow
from fedsocial.web.collections import collection_response
from fedsocial.web.negotiation import activity_response, wants_html
from outbox.c2s import c2s_post_handler
from outbox.publish import ACTIVITY_CONTEXT
from outbox.tags import tag_handler

Counter = Callable[[Any, str], Awaitable[int]]
Lister = Callable[[Any, str, int, int], Awaitable[list[Any]]]


async def may_see(
    request: web.Request, *, author: str, visibility: str, document: dict[str, Any]
) -> bool:
    """True when whoever signed the request may see something of this visibility."""
    if visibility in ("public", "unlisted"):
        return True
    signature = request_signature(request)
    viewer = signature.owner if signature is not None else None
    if viewer is None:
        return False
    if viewer == author:
        return True
    addressed = set(get_ids(document.get("to"))) | set(get_ids(document.get("cc")))
    if viewer in addressed:
        return True
    if visibility == "followers":
        state = await follows.get_state(request.app[appkeys.DB], viewer, author)
        return state == "accepted"
    return False


async def _object_for(request: web.Request) -> ObjectRow:
    urls = request.app[appkeys.URLS]
    name = request.match_info["name"]
    object_id = urls.status(name, request.match_info["status_id"])
    row = await objects.get(request.app[appkeys.DB], object_id)
    if row is None or not row.local or row.attributed_to != urls.actor(name):
        raise NotFound(f"no status {object_id}")
    if row.deleted:
        return row
    if not await may_see(
        request, author=row.attributed_to, visibility=row.visibility, document=row.document
    ):
        raise NotFound(f"no status {object_id}")
    return row


def _object_html(row: ObjectRow) -> str:
    doc = row.document
    content = doc.get("content") if isinstance(doc.get("content"), str) else ""
    summary = doc.get("summary") if isinstance(doc.get("summary"), str) else ""
    # `content` is HTML we rendered ourselves from escaped text, so it is safe to embed.
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(row.attributed_to or '')}</title>"
        f'<link rel="alternate" type="application/activity+json" href="{escape(row.id)}">'
        "</head><body><article>"
        + (f"<p><strong>{escape(summary)}</strong></p>" if summary else "")
        + f"{content}</article></body></html>\n"
    )


async def object_handler(request: web.Request) -> web.StreamResponse:
    """GET of one of our objects (Tombstone with 410 when deleted)."""
    row = await _object_for(request)
    if row.deleted:
        tombstone = {"@context": ACTIVITY_CONTEXT[0], **row.document}
        tombstone.setdefault("deleted", iso(row.deleted_at or 0.0))
        return activity_response(request, tombstone, status=410)
    if wants_html(request):
        return web.Response(
            text=_object_html(row), content_type="text/html", headers={"Vary": "Accept"}
        )
    return activity_response(request, {"@context": ACTIVITY_CONTEXT, **row.document})


def _object_collection(suffix: str, count: Counter, items: Lister) -> Any:
    async def handler(request: web.Request) -> web.StreamResponse:
        row = await _object_for(request)
        if row.deleted:
            raise NotFound(f"{row.id} was deleted")
        db = request.app[appkeys.DB]
        return await collection_response(
            request,
            f"{row.id}/{suffix}",
            total=await count(db, row.id),
            items=lambda page: items(db, row.id, page.size, page.offset),
        )

    return handler


async def _list_likes(db: Any, object_id: str, limit: int, offset: int) -> list[Any]:
    return list(await reactions.list_likes(db, object_id, limit=limit, offset=offset))


async def _list_shares(db: Any, object_id: str, limit: int, offset: int) -> list[Any]:
    return list(await shares.list_shares(db, object_id, limit=limit, offset=offset))


async def _list_replies(db: Any, object_id: str, limit: int, offset: int) -> list[Any]:
    return list(await objects.list_replies(db, object_id, limit=limit, offset=offset))


async def _count_public_replies(db: Any, object_id: str) -> int:
    value = await db.fetchval(
        "SELECT count(*) FROM objects WHERE in_reply_to = ? AND deleted_at IS NULL"
        " AND visibility IN ('public', 'unlisted')",
        (object_id,),
    )
    return int(value or 0)


async def activity_handler(request: web.Request) -> web.StreamResponse:
    """GET of one of our activities, with the same visibility rule as objects."""
    urls = request.app[appkeys.URLS]
    name = request.match_info["name"]
    activity_id = urls.activity(name, request.match_info["activity_id"])
    found = await activities.get_row(request.app[appkeys.DB], activity_id)
    if found is None or found[1] != urls.actor(name):
        raise NotFound(f"no activity {activity_id}")
    document, actor, visibility = found
    if not await may_see(request, author=actor, visibility=visibility, document=document):
        raise NotFound(f"no activity {activity_id}")
    if document.get("type") in ("Create", "Update"):
        # The Create/Update embeds the object: once it is deleted, its text must not stay
        # readable here (Mastodon answers 404 for a deleted status's activity too).
        row = await objects.get(request.app[appkeys.DB], get_id(document.get("object")) or "")
        if row is not None and row.deleted:
            raise NotFound(f"the object of {activity_id} was deleted")
    return activity_response(request, document)


def setup_routes(app: web.Application) -> None:
    """Register the object, activity and C2S outbox routes on `app`."""
    base = "/users/{name}/statuses/{status_id}"
    app.router.add_get(base, object_handler)
    # The object's `url` (Mastodon's shape): where other servers send people to read it.
    app.router.add_get("/@{name}/{status_id}", object_handler)
    app.router.add_get(
        f"{base}/likes", _object_collection("likes", reactions.count_likes, _list_likes)
    )
    app.router.add_get(
        f"{base}/shares", _object_collection("shares", shares.count_shares, _list_shares)
    )
    app.router.add_get(
        f"{base}/replies", _object_collection("replies", _count_public_replies, _list_replies)
    )
    app.router.add_get("/users/{name}/activities/{activity_id}", activity_handler)
    app.router.add_post("/users/{name}/outbox", c2s_post_handler)
    app.router.add_get("/tags/{tag}", tag_handler)

"""Outbox layer: client-to-server posting, `POST /users/{name}/outbox` (ActivityPub §6).

The client authenticates with `Authorization: Bearer <token>` (`fedsocial token create`). It
sends an activity, or a bare object that we wrap in a Create. Every activity goes through the
same high-level action the CLI uses, so the same rules apply (ids are ours, addressing follows
the visibility, mentions are resolved); the answer is 201 with the new activity's id in
`Location`.
"""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any

from aiohttp import web

from actors.local import LocalActor
from fedsocial import appkeys
from fedsocial.activity_json import first_str, get_id, get_ids, holds_lone_surrogate, is_public
from fedsocial.errors import BadRequest, Forbidden, InvalidJson, NotFound
from fedsocial.storage import activities
from fedsocial.web.bearer import require_token_of
from outbox.addressing import visibility_of
from outbox.compose import NoteDraft
from outbox.service import outbox_of

OBJECT_TYPES = frozenset({"Note", "Article", "Page", "Question"})
_TAG = re.compile(r"<[^>]*>")
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_PARAGRAPH = re.compile(r"</p>\s*<p[^>]*>", re.IGNORECASE)


async def _authorised_actor(request: web.Request) -> LocalActor:
    name = request.match_info["name"]
    await require_token_of(request, request.app[appkeys.DB], name, to="post to an outbox")
    return await outbox_of(request.app).local_actors.require(name)


def plain_text(obj: dict[str, Any]) -> str:
    """The text of a C2S object: `source.content` when plain text, else `content` untagged."""
    source = obj.get("source")
    if isinstance(source, dict) and isinstance(source.get("content"), str):
        return str(source["content"])
    content = first_str(obj.get("content")) or ""
    # A paragraph break stays one (a blank line), or the paragraphs would merge into one.
    text = _BREAK.sub("\n", _PARAGRAPH.sub("\n\n", content))
    return unescape(_TAG.sub("", text)).strip()


async def _read_json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    try:
        document = json.loads(raw)
    except ValueError as exc:
        raise InvalidJson("the body is not JSON") from exc
    except RecursionError as exc:
        # Valid JSON can nest deeper than the parser recurses: the client's fault, not ours.
        raise InvalidJson("the body is JSON nested too deeply") from exc
    if not isinstance(document, dict):
        raise InvalidJson("the body must be a JSON object")
    if holds_lone_surrogate(document, raw=raw):
        # Not text: it could be neither stored nor signed (was a 403 "proof_error").
        raise InvalidJson("the body escapes a lone UTF-16 surrogate (not text)")
    return document


def _check_authorship(request: web.Request, actor: LocalActor, document: dict[str, Any]) -> None:
    """Refuse an activity (or its embedded object) that claims another author: the token's
    actor is the only one a client can act as, and silently re-attributing would publish
    something the client did not ask for."""
    actor_id = request.app[appkeys.URLS].actor(actor.name)
    obj = document.get("object")
    claims = [("actor", document.get("actor"))]
    if isinstance(obj, dict) and obj.get("type") in OBJECT_TYPES:
        claims.append(("attributedTo", obj.get("attributedTo")))
    for field, value in claims:
        if value is not None and get_ids(value) != [actor_id]:
            raise Forbidden(f"{field} must be {actor_id}, the token's actor (or left out)")


async def c2s_post_handler(request: web.Request) -> web.StreamResponse:
    """POST /users/{name}/outbox: publish what the client sent; 201 + Location."""
    actor = await _authorised_actor(request)
    document = await _read_json(request)
    kind = document.get("type")
    if not isinstance(kind, str):
        raise BadRequest("the activity needs a type, as one string")
    if kind in OBJECT_TYPES:
        document = {"type": "Create", "object": document}  # §6.2.1: a bare object is wrapped
        kind = "Create"
    _check_authorship(request, actor, document)
    outbox = outbox_of(request.app)
    target = get_id(document.get("object"))
    obj = document.get("object")
    if kind == "Create":
        if not isinstance(obj, dict) or obj.get("type") not in OBJECT_TYPES:
            raise BadRequest("Create needs an embedded Note, Article, Page or Question")
        activity_id = await _create(request, actor, obj)
    elif kind == "Update" and isinstance(obj, dict) and target is not None:
        activity_id = await outbox.edit(actor, target, plain_text(obj))
    elif target is None:
        raise BadRequest(f"{kind} needs an object")
    elif kind == "Delete":
        activity_id = await outbox.delete(actor, target)
    elif kind == "Follow":
        activity_id = await outbox.follow(actor, target)
    elif kind == "Like":
        activity_id = await outbox.like(actor, target)
    elif kind == "Announce":
        activity_id = await outbox.boost(actor, target)
    elif kind == "Block":
        activity_id = await outbox.block(actor, target)
    elif kind == "Undo":
        activity_id = await _undo(request, actor, document)
    else:
        raise BadRequest(f"activities of type {kind!r} are not supported here")
    return web.Response(
        status=201,
        headers={"Location": activity_id, "Content-Type": "application/json"},
        body=json.dumps({"id": activity_id}).encode(),
    )


async def _create(request: web.Request, actor: LocalActor, obj: dict[str, Any]) -> str:
    outbox = outbox_of(request.app)
    urls = request.app[appkeys.URLS]
    followers = urls.followers(actor.name)
    addressing = {"to": obj.get("to"), "cc": obj.get("cc")}
    visibility = visibility_of(addressing, followers_urls=(followers,))
    language = None
    if isinstance(obj.get("contentMap"), dict) and obj["contentMap"]:
        language = str(next(iter(obj["contentMap"])))
    summary = first_str(obj.get("summary"))
    draft = NoteDraft(
        text=plain_text(obj),
        visibility=visibility,
        content_warning=summary or None,
        language=language,
        in_reply_to=get_id(obj.get("inReplyTo")),
    )
    audience = [
        iri
        for iri in (*get_ids(obj.get("to")), *get_ids(obj.get("cc")))
        if not is_public(iri) and iri != followers
    ]
    for iri in audience:
        # Anything else would be copied into the note's to/cc and sent to every recipient.
        if not iri.startswith(("https://", "http://")):
            raise BadRequest(f"to/cc may only name actors by URL (or Public): {iri[:100]!r}")
    object_id = await outbox.post(actor, draft, audience=audience)
    found = await activities.find_local(outbox.db, urls.actor(actor.name), "Create", object_id)
    if found is None:  # pragma: no cover - post() always stores its Create
        raise NotFound("the new post's Create was not stored")
    return str(found["id"])


async def _undo(request: web.Request, actor: LocalActor, document: dict[str, Any]) -> str:
    outbox = outbox_of(request.app)
    obj = document.get("object")
    undone_id = get_id(obj)
    original: dict[str, Any] | None = obj if isinstance(obj, dict) else None
    if undone_id is not None and (original is None or "type" not in original):
        original = await activities.get(outbox.db, undone_id)
    if original is None:
        raise BadRequest("Undo needs the activity to undo (embedded or one of ours by id)")
    kind = original.get("type")
    target = get_id(original.get("object"))
    if target is None:
        raise BadRequest("the activity to undo has no object")
    if kind == "Like":
        return await outbox.unlike(actor, target)
    if kind == "Announce":
        return await outbox.unboost(actor, target)
    if kind == "Follow":
        return await outbox.unfollow(actor, target)
    if kind == "Block":
        return await outbox.unblock(actor, target)
    raise BadRequest(f"cannot undo a {kind!r}")

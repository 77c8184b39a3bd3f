"""Outbox layer: pure builders for the objects and activities we send, shaped like Mastodon's.

Every builder takes the ids it needs (minting ids and reading the clock is the caller's job) and
returns a new ``dict`` without ``@context``: the publisher wraps the outermost document. Nothing
here does I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fedsocial.activity_json import AS_PUBLIC, get_id, unique
from outbox.addressing import Visibility, address, boost_addressing
from outbox.text import (
    ResolvedMention,
    extract_entities,
    normalize_hashtag,
    render_text,
    tag_url,
)

__all__ = [
    "NoteDraft",
    "build_accept",
    "build_announce",
    "build_block",
    "build_create",
    "build_delete",
    "build_follow",
    "build_like",
    "build_move",
    "build_note",
    "build_reject",
    "build_tombstone",
    "build_undo",
    "build_update",
]

JsonObject = dict[str, Any]


@dataclass(frozen=True, slots=True)
class NoteDraft:
    """What a person wrote, before it becomes a Note.

    ``text`` is plain text (mentions, hashtags and URLs are found in it); ``content_warning`` is
    the summary shown before the text (empty or ``None`` means none); ``language`` is a BCP 47
    tag or ``None``; ``in_reply_to`` the replied object's id and ``in_reply_to_author`` its
    author's actor id; ``mentions`` the accounts the text mentions that were resolved;
    ``conversation`` the thread's context IRI, when known.
    """

    text: str
    visibility: Visibility = Visibility.PUBLIC
    content_warning: str | None = None
    language: str | None = None
    in_reply_to: str | None = None
    in_reply_to_author: str | None = None
    mentions: tuple[ResolvedMention, ...] = ()
    conversation: str | None = None


def _recipients(draft: NoteDraft, *, actor_id: str) -> list[str]:
    """The actor ids a draft addresses: its mentions, plus the replied-to author unless the post
    is direct (a direct post reaches only the people it names) or the author is ourselves."""
    ids = [mention.actor_id for mention in draft.mentions]
    author = draft.in_reply_to_author
    if author and author != actor_id and draft.visibility is not Visibility.DIRECT:
        ids.append(author)
    return unique(ids)


def _tags(draft: NoteDraft, *, tag_base_url: str) -> list[JsonObject]:
    """One Mention tag per mentioned account (in draft order, named as first written), then one
    Hashtag tag per distinct tag in the text."""
    tags: list[JsonObject] = []
    mentioned: set[str] = set()
    for mention in draft.mentions:
        # `@bob` and `@bob@our.domain` are one account: one tag, as on Mastodon.
        if mention.actor_id not in mentioned:
            mentioned.add(mention.actor_id)
            name = f"@{mention.handle.lstrip('@')}"
            tags.append({"type": "Mention", "href": mention.actor_id, "name": name})
    seen: set[str] = set()
    for entity in extract_entities(draft.text):
        if entity.kind != "hashtag":
            continue
        normalized = normalize_hashtag(entity.value)
        if normalized in seen:
            continue
        seen.add(normalized)
        tags.append(
            {
                "type": "Hashtag",
                "href": tag_url(tag_base_url, normalized),
                "name": f"#{entity.value}",
            }
        )
    return tags


def build_note(
    draft: NoteDraft,
    *,
    object_id: str,
    actor_id: str,
    followers_url: str,
    published: str,
    url: str,
    tag_base_url: str,
) -> JsonObject:
    """Return a Mastodon-shaped Note for ``draft``.

    ``content`` is the text rendered as Mastodon does (see :func:`outbox.text.render_text`,
    with ``draft.mentions`` as the resolved mentions); ``contentMap`` holds it under the language
    when one is given. ``summary`` is the content warning (``None`` when absent) and
    ``sensitive`` is true exactly when there is one. ``to``/``cc`` follow the visibility (see
    :func:`outbox.addressing.address`); the replied-to author is cc'd unless the post is direct.
    ``tag`` lists Mention tags then Hashtag tags (``name`` as written, ``href`` lowercased).
    ``conversation`` and ``context`` are set when the draft has a conversation. ``replies`` is
    left to the caller.
    """
    mentions_by_handle = {mention.handle.lstrip("@"): mention for mention in draft.mentions}
    content = render_text(draft.text, mentions=mentions_by_handle, tag_base_url=tag_base_url)
    addressing = address(
        draft.visibility,
        followers_url=followers_url,
        mentions=_recipients(draft, actor_id=actor_id),
    )
    summary = draft.content_warning.strip() if draft.content_warning else ""
    note: JsonObject = {
        "id": object_id,
        "type": "Note",
        "summary": summary or None,
        "inReplyTo": draft.in_reply_to,
        "published": published,
        "url": url,
        "attributedTo": actor_id,
        **addressing.as_json(),
        "sensitive": bool(summary),
    }
    if draft.conversation:
        note["conversation"] = draft.conversation
        note["context"] = draft.conversation
    note["content"] = content
    if draft.language:
        note["contentMap"] = {draft.language: content}
    note["attachment"] = []
    note["tag"] = _tags(draft, tag_base_url=tag_base_url)
    return note


# --- activities ---------------------------------------------------------------------------------


def _addressing_of(obj: Mapping[str, Any]) -> JsonObject:
    """Copy ``to``/``cc`` of an object as lists (absent ones stay absent)."""
    copied: JsonObject = {}
    for key in ("to", "cc"):
        if key in obj:
            value = obj[key]
            copied[key] = list(value) if isinstance(value, list | tuple) else [value]
    return copied


def build_create(obj: Mapping[str, Any], *, activity_id: str, actor_id: str) -> JsonObject:
    """Return a Create of ``obj`` (embedded as a copy), with ``published``, ``to`` and ``cc``
    copied from the object, as Mastodon does."""
    activity: JsonObject = {"id": activity_id, "type": "Create", "actor": actor_id}
    if "published" in obj:
        activity["published"] = obj["published"]
    activity.update(_addressing_of(obj))
    activity["object"] = dict(obj)
    return activity


def build_update(
    obj: Mapping[str, Any],
    *,
    activity_id: str,
    actor_id: str,
    updated: str,
    to: Sequence[str] | None = None,
    cc: Sequence[str] | None = None,
) -> JsonObject:
    """Return an Update embedding a copy of ``obj`` with ``updated`` set, published at ``updated``.

    ``to``/``cc`` default to the object's own; an object without any (an actor document) is
    addressed to Public, as Mastodon does for profile updates.
    """
    addressing = _addressing_of(obj)
    if to is not None:
        addressing["to"] = list(to)
    if cc is not None:
        addressing["cc"] = list(cc)
    if not addressing:
        addressing = {"to": [AS_PUBLIC]}
    return {
        "id": activity_id,
        "type": "Update",
        "actor": actor_id,
        "published": updated,
        **addressing,
        "object": {**obj, "updated": updated},
    }


def build_tombstone(object_id: str, *, deleted: str, former_type: str) -> JsonObject:
    """Return the Tombstone served at a deleted object's id (answer it with 410 Gone)."""
    return {"id": object_id, "type": "Tombstone", "formerType": former_type, "deleted": deleted}


def build_delete(
    object_id: str,
    *,
    activity_id: str,
    actor_id: str,
    to: Sequence[str],
    cc: Sequence[str] = (),
) -> JsonObject:
    """Return a Delete of ``object_id``; the object is a bare Tombstone ``{id, type}``. For an
    actor deleting itself pass the actor id as ``object_id``."""
    activity: JsonObject = {
        "id": activity_id,
        "type": "Delete",
        "actor": actor_id,
        "to": list(to),
    }
    if cc:
        activity["cc"] = list(cc)
    activity["object"] = {"id": object_id, "type": "Tombstone"}
    return activity


def build_follow(target: str, *, activity_id: str, actor_id: str) -> JsonObject:
    """Return a Follow of the actor ``target``."""
    return {"id": activity_id, "type": "Follow", "actor": actor_id, "object": target}


def _embedded(activity: Mapping[str, Any]) -> JsonObject:
    """The short form of an activity embedded in another: id, type, actor and object id."""
    embedded: JsonObject = {
        key: activity[key] for key in ("id", "type", "actor") if key in activity
    }
    obj = activity.get("object")
    object_id = get_id(obj)
    if object_id is not None:
        embedded["object"] = object_id
    elif obj is not None:
        embedded["object"] = obj
    return embedded


def build_undo(activity: Mapping[str, Any], *, activity_id: str, actor_id: str) -> JsonObject:
    """Return an Undo of one of our earlier activities (Follow, Like, Announce, Block), embedded
    in short form (id, type, actor, object id); ``to``/``cc`` are copied from it when present."""
    undo: JsonObject = {"id": activity_id, "type": "Undo", "actor": actor_id}
    undo.update(_addressing_of(activity))
    undo["object"] = _embedded(activity)
    return undo


def build_like(object_id: str, *, activity_id: str, actor_id: str) -> JsonObject:
    """Return a Like (favourite) of ``object_id``."""
    return {"id": activity_id, "type": "Like", "actor": actor_id, "object": object_id}


def build_announce(
    object_id: str,
    *,
    activity_id: str,
    actor_id: str,
    object_author: str,
    visibility: Visibility,
    followers_url: str,
    published: str,
) -> JsonObject:
    """Return an Announce (boost) of ``object_id``, addressed by ``visibility`` with the boosted
    author cc'd (see :func:`outbox.addressing.boost_addressing`). Raises :class:`ValueError` for
    a direct visibility."""
    addressing = boost_addressing(
        visibility, followers_url=followers_url, object_author=object_author
    )
    return {
        "id": activity_id,
        "type": "Announce",
        "actor": actor_id,
        "published": published,
        **addressing.as_json(),
        "object": object_id,
    }


def _answer(
    kind: str, follow_activity: Mapping[str, Any], *, activity_id: str, actor_id: str
) -> JsonObject:
    return {
        "id": activity_id,
        "type": kind,
        "actor": actor_id,
        "object": _embedded(follow_activity),
    }


def build_accept(
    follow_activity: Mapping[str, Any], *, activity_id: str, actor_id: str
) -> JsonObject:
    """Return an Accept of a received Follow, which is embedded in short form (id, type, actor,
    object) so the follower can match it even if it cannot dereference the Follow's id."""
    return _answer("Accept", follow_activity, activity_id=activity_id, actor_id=actor_id)


def build_reject(
    follow_activity: Mapping[str, Any], *, activity_id: str, actor_id: str
) -> JsonObject:
    """Return a Reject of a received Follow (embedded like :func:`build_accept`); also how we
    tell a follower it was removed."""
    return _answer("Reject", follow_activity, activity_id=activity_id, actor_id=actor_id)


def build_block(target: str, *, activity_id: str, actor_id: str) -> JsonObject:
    """Return a Block of the actor ``target``."""
    return {"id": activity_id, "type": "Block", "actor": actor_id, "object": target}


def build_move(actor_id: str, target: str, *, activity_id: str, followers_url: str) -> JsonObject:
    """Return a Move of the account ``actor_id`` to ``target``, sent to our followers. The
    target must already list ``actor_id`` in its ``alsoKnownAs`` for servers to accept it."""
    return {
        "id": activity_id,
        "type": "Move",
        "actor": actor_id,
        "to": [followers_url],
        "object": actor_id,
        "target": target,
    }

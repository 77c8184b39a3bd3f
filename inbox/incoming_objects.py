"""Inbox layer: turning a received object (Note, Article, Page, Question, ...) into a stored row.

Only what we show is changed: `content`, every `contentMap` value and `summary` are sanitised to
Mastodon's allowlist; the rest of the document (attachments, tags, inReplyTo, sensitive, poll
options) is kept as the sender wrote it, so `fedsocial show` can display it.
"""

from __future__ import annotations

import contextlib
from typing import Any

from fedsocial.activity_json import as_list, first_str, get_id, get_ids
from fedsocial.clock import parse_iso
from fedsocial.errors import ValidationError
from fedsocial.sanitize import HtmlSanitizer
from fedsocial.storage.objects import ObjectRow
from fedsocial.urls import Urls
from outbox.addressing import visibility_of

# Types Mastodon shows as statuses; anything else is stored and shown as a link.
STATUS_TYPES = frozenset({"Note", "Article", "Page", "Question"})
ACTOR_TYPES = frozenset({"Person", "Service", "Group", "Application", "Organization"})


def attributed_actor(obj: dict[str, Any], *, prefer: str | None = None) -> str | None:
    """The actor an object is attributed to: `prefer` (the sender) when `attributedTo` names it
    among others (PeerTube and Mobilizon also name a channel or group), else the first actor.
    An embedded item counts unless its `type` says it is no actor."""
    found: list[str] = []
    for item in as_list(obj.get("attributedTo")):
        if isinstance(item, dict):
            kind = first_str(item.get("type"))
            if kind is not None and kind not in ACTOR_TYPES:
                continue
        ident = get_id(item)
        if ident is not None:
            if ident == prefer:
                return ident
            found.append(ident)
    return found[0] if found else None


def _timestamp(value: Any) -> float | None:
    if not isinstance(value, str):
        return None
    with contextlib.suppress(ValueError):
        return parse_iso(value)
    return None


def sanitised_document(obj: dict[str, Any], sanitizer: HtmlSanitizer) -> dict[str, Any]:
    """A copy of `obj` whose HTML fields are sanitised (the stored and shown form)."""
    doc = dict(obj)
    for key in ("content", "summary"):
        if isinstance(doc.get(key), str):
            doc[key] = sanitizer.sanitize(doc[key])
    for key in ("contentMap", "summaryMap"):
        value = doc.get(key)
        if isinstance(value, dict):
            doc[key] = {
                str(lang): sanitizer.sanitize(text) if isinstance(text, str) else ""
                for lang, text in value.items()
            }
    doc.pop("@context", None)
    return doc


def object_row(
    obj: dict[str, Any], *, sanitizer: HtmlSanitizer, urls: Urls, sender: str | None = None
) -> ObjectRow:
    """The row to store for a received object; raise ValidationError when it has no id/type.
    Its author is `sender` when `attributedTo` names it (see :func:`attributed_actor`)."""
    object_id = get_id(obj)
    object_type = first_str(obj.get("type"))
    if object_id is None or object_type is None:
        raise ValidationError("the object has no id or no type")
    doc = sanitised_document(obj, sanitizer)
    published = _timestamp(obj.get("published"))
    return ObjectRow(
        id=object_id,
        type=object_type,
        attributed_to=attributed_actor(obj, prefer=sender),
        local=urls.is_local(object_id),
        visibility=visibility_of(obj).value,
        in_reply_to=get_id(obj.get("inReplyTo")),
        conversation=first_str(obj.get("conversation")) or first_str(obj.get("context")),
        document=doc,
        published=published,
        updated=_timestamp(obj.get("updated")),
        deleted_at=None,
    )


def mentioned(obj: dict[str, Any]) -> list[str]:
    """Ids of the actors an object mentions (its Mention tags), in order, once each."""
    # A dict keeps the order and checks "seen" in O(1): a peer can send 100,000 tags.
    found: dict[str, None] = {}
    for tag in as_list(obj.get("tag")):
        if isinstance(tag, dict) and first_str(tag.get("type")) == "Mention":
            href = first_str(tag.get("href"))
            if href:
                found[href] = None
    return list(found)


def addressed(doc: dict[str, Any]) -> list[str]:
    """Every id in to, cc, bto, bcc and audience, in order, once each."""
    found: dict[str, None] = {}
    for key in ("to", "cc", "bto", "bcc", "audience"):
        found.update(dict.fromkeys(get_ids(doc.get(key))))
    return list(found)

"""Inbox layer: Create and Update of posts (Note, Article, Page, Question, and unknown types).

Origin rules (DESIGN.md §4): the object must live on the actor's origin and be attributed to
the actor. An object given by id only is fetched from its id; an Update of an object we do not
have is ignored, and of someone else's object refused.
"""

from __future__ import annotations

from typing import Any

from fedsocial.activity_json import as_list
from fedsocial.errors import ValidationError
from fedsocial.storage import objects
from fedsocial.storage.objects import ObjectRow
from inbox.context import Effects, Outcome, Received, Services
from inbox.handlers.common import embedded, object_id, require_same_origin
from inbox.incoming_objects import object_row
from inbox.local_audience import show_post
from inbox.reply_forwarding import forward_reply
from inbox.router import Router


async def _the_object(services: Services, activity: Received) -> dict[str, Any]:
    """The activity's object, fetched from its id when only the id was sent."""
    ident = object_id(activity)
    require_same_origin(activity, ident, "object")
    obj = embedded(activity)
    if obj is None:
        obj = await services.http_client.fetch_json(ident)
        if obj.get("id") != ident:
            raise ValidationError(f"fetching {ident} gave a document with another id")
    return obj


# What a poll's Update may change without being an edit (Mastodon's implicit update).
_POLL_OPTIONS = ("oneOf", "anyOf")
_POLL_STATE = ("votersCount", "closed", "endTime")


def _option_names(value: Any) -> list[Any]:
    return [item.get("name") for item in as_list(value) if isinstance(item, dict)]


def _poll_counts(stored: ObjectRow, new: ObjectRow) -> dict[str, Any]:
    """The new counts (and end) of a poll whose Update is no newer edit, as Mastodon reads them
    when `updated` did not move; nothing when it is not a poll or its options changed."""
    if stored.type != "Question" or new.type != "Question":
        return {}
    changes: dict[str, Any] = {}
    for key in _POLL_OPTIONS:
        old_options, new_options = stored.document.get(key), new.document.get(key)
        if _option_names(old_options) != _option_names(new_options):
            return {}  # a changed poll without a newer `updated` is not believed
        if isinstance(new_options, list):
            changes[key] = new_options
    for key in _POLL_STATE:
        if new.document.get(key) is not None:
            changes[key] = new.document[key]
    return changes


def _version(row: ObjectRow) -> float:
    """When this version was written, as `objects.upsert_statements` compares them."""
    return row.updated or row.published or 0.0


def _check_author(activity: Received, author: str | None) -> None:
    if author != activity.actor:
        raise ValidationError(f"{activity.actor} is not the author of the object ({author})")


async def on_create(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Store a new post, sanitised, and show it to the local actors it concerns."""
    obj = await _the_object(services, activity)
    row = object_row(obj, sanitizer=services.sanitizer, urls=services.urls, sender=activity.actor)
    _check_author(activity, row.attributed_to)
    if services.early_deletes.deleted(row.id, now=services.clock.now()):
        return Outcome.APPLIED  # its Delete came first: shown to nobody
    effects.extend(objects.upsert_statements(row, now=services.clock.now()))
    await show_post(services, effects, row, obj, activity=activity)
    await forward_reply(services, activity, in_reply_to=row.in_reply_to)
    return Outcome.APPLIED


async def on_update(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Replace a stored post by a newer version (the old one goes to the edit history); an
    Update of a poll that is no newer version still refreshes its counts, as Mastodon does."""
    obj = await _the_object(services, activity)
    row = object_row(obj, sanitizer=services.sanitizer, urls=services.urls, sender=activity.actor)
    _check_author(activity, row.attributed_to)
    stored = await objects.get(services.db, row.id)
    if stored is None:
        return Outcome.APPLIED  # an edit of something we never saw: nothing to replace
    if stored.attributed_to != activity.actor:
        raise ValidationError(f"{activity.actor} cannot update {row.id} of {stored.attributed_to}")
    if _version(row) > _version(stored):
        effects.extend(objects.upsert_statements(row, now=services.clock.now()))
    elif counts := _poll_counts(stored, row):
        # Not an edit: Mastodon sends a poll's new counts without moving `updated`.
        effects.add(objects.merge_document_statement(row.id, counts))
    await forward_reply(services, activity, in_reply_to=row.in_reply_to)
    return Outcome.APPLIED


def register(router: Router) -> None:
    """Register Create and Update of every object type (actors' Updates have their own)."""
    router.register("Create", on_create)
    router.register("Update", on_update)

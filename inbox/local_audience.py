"""Inbox layer: who among our local actors sees a received object, and what they are told.

Posts land on the home timeline of the author's local followers (unless direct), and of every
local actor they mention; mentioned actors get a `mention` notification, and the author of a
local post being replied to gets a `reply` notification instead. A local actor who blocks
the author is told nothing and sees nothing of it.
"""

from __future__ import annotations

from typing import Any

from fedsocial.errors import Forbidden
from fedsocial.storage import blocks, notifications, objects, timeline
from fedsocial.storage.objects import ObjectRow
from fedsocial.urls import INSTANCE_ACTOR_NAME
from inbox.context import Effects, Received, Services
from inbox.incoming_objects import addressed, mentioned


def local_user_name(services: Services, iri: str | None) -> str | None:
    """The local user actor an IRI names (not the instance actor), or None."""
    if iri is None:
        return None
    name = services.urls.local_actor_name(iri)
    return None if name == INSTANCE_ACTOR_NAME else name


async def local_author_of(services: Services, object_id: str) -> str | None:
    """The local user who wrote a local object, or None (read from the objects table)."""
    if not services.urls.is_local(object_id):
        return None
    stored = await objects.get(services.db, object_id)
    if stored is None:
        return None
    return local_user_name(services, stored.attributed_to)


async def blocks_actor(services: Services, name: str, actor: str) -> bool:
    """True when the local user `name` blocks `actor`."""
    return await blocks.is_blocked(services.db, services.urls.actor(name), actor)


async def refuse_if_author_blocks(services: Services, object_id: str, actor: str) -> str | None:
    """The local author of `object_id` (or None); Forbidden when that author blocks `actor`.

    Deliveries to the shared inbox name no recipient, so the receive path cannot drop them on
    the target's block: the handler refuses them, as Mastodon does for blocked interactions.
    """
    author = await local_author_of(services, object_id)
    if author is not None and await blocks_actor(services, author, actor):
        raise Forbidden(f"{author} blocks {actor}")
    return author


async def show_post(
    services: Services,
    effects: Effects,
    row: ObjectRow,
    obj: dict[str, Any],
    *,
    activity: Received,
) -> None:
    """Queue the timeline lines and notifications a newly received post causes."""
    author = row.attributed_to or activity.actor
    now = services.clock.now()
    if row.visibility != "direct":
        effects.add(
            timeline.add_for_followers(
                author,
                row.id,
                local_actor_prefix=services.local_actor_prefix,
                boosted_by=None,
                activity_id=activity.activity_id,
                now=now,
            )
        )
    replied_to = None
    if row.in_reply_to is not None:
        replied_to = await local_author_of(services, row.in_reply_to)
        if replied_to is not None and await blocks_actor(services, replied_to, author):
            replied_to = None
    if (
        replied_to is not None
        and row.in_reply_to is not None
        and author != services.urls.actor(replied_to)
    ):
        effects.add(
            notifications.add(
                replied_to,
                "reply",
                from_actor=author,
                object_id=row.id,
                activity_id=activity.activity_id,
                now=now,
            )
        )
    names = {local_user_name(services, iri) for iri in mentioned(obj) + addressed(obj)}
    for name in sorted(n for n in names if n is not None):
        if services.urls.actor(name) == author or await blocks_actor(services, name, author):
            continue
        effects.add(
            timeline.add(
                name,
                row.id,
                boosted_by=None,
                activity_id=activity.activity_id,
                now=now,
            )
        )
        if name != replied_to:
            effects.add(
                notifications.add(
                    name,
                    "mention",
                    from_actor=author,
                    object_id=row.id,
                    activity_id=activity.activity_id,
                    now=now,
                )
            )

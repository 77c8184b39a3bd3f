"""Inbox layer: Delete of a post (it becomes a Tombstone) or of an actor (all of it goes)."""

from __future__ import annotations

from fedsocial.errors import ValidationError
from fedsocial.storage import (
    blocks,
    featured,
    follows,
    notifications,
    objects,
    reactions,
    shares,
    timeline,
)
from inbox.context import Effects, Outcome, Received, Services
from inbox.handlers.common import object_id, require_same_origin
from inbox.reply_forwarding import forward_reply
from inbox.router import Router


async def on_delete(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Tombstone the actor's own object, or remove everything of an actor deleting itself."""
    target = object_id(activity)
    if target == activity.actor:
        return await _delete_actor(services, activity, effects)
    require_same_origin(activity, target, "deleted object")
    stored = await objects.get(services.db, target)
    if stored is None:
        # The Delete may have overtaken its Create: remember the object as deleted, so that the
        # Create does not bring it back (Mastodon's `delete_arrived_first?`).
        now = services.clock.now()
        effects.add(
            objects.tombstone_unknown_statement(target, author=activity.actor, deleted_at=now)
        )
        services.early_deletes.add(target, at=now)
        return Outcome.APPLIED
    if stored.deleted:
        return Outcome.APPLIED  # already gone
    if stored.attributed_to != activity.actor:
        raise ValidationError(f"{activity.actor} cannot delete {target} of {stored.attributed_to}")
    now = services.clock.now()
    effects.extend(objects.tombstone_statements(target, deleted_at=now))
    # A Create of it that comes again (a retry, a relay, a forward) must not show it again.
    services.early_deletes.add(target, at=now)
    await forward_reply(services, activity, in_reply_to=stored.in_reply_to)
    return Outcome.APPLIED


async def _delete_actor(services: Services, activity: Received, effects: Effects) -> Outcome:
    actor = activity.actor
    if services.urls.is_local(actor):
        return Outcome.APPLIED  # our own actors are deleted by us, not by an activity
    await services.remote_actors.mark_deleted(actor)
    effects.add(follows.delete_all_of_statement(actor))
    effects.add(timeline.remove_all_by(actor))
    effects.add(objects.delete_by_author_statement(actor))
    effects.add(reactions.remove_all_by(actor))
    effects.add(shares.remove_all_by(actor))
    effects.add(notifications.remove_from(actor))
    effects.add(blocks.remove_all_of(actor))
    effects.add(featured.remove_all_of(actor))
    return Outcome.APPLIED


def register(router: Router) -> None:
    """Register Delete."""
    router.register("Delete", on_delete)

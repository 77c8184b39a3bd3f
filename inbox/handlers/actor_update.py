"""Inbox layer: Update of an actor (new name, bio, keys, alsoKnownAs): refresh our copy."""

from __future__ import annotations

from fedsocial.errors import ValidationError
from inbox.context import Effects, Outcome, Received, Services
from inbox.handlers.common import embedded, object_id
from inbox.incoming_objects import ACTOR_TYPES
from inbox.router import Router


async def on_update_actor(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Store the actor's new document; only the actor itself may update it."""
    target = object_id(activity)
    if target != activity.actor:
        raise ValidationError(f"{activity.actor} cannot update the actor {target}")
    if services.urls.is_local(target):
        return Outcome.APPLIED  # our own profile changes are already stored
    document = embedded(activity)
    if document is None:
        await services.remote_actors.get(target, refresh=True)
    else:
        await services.remote_actors.store(document)
    return Outcome.APPLIED


def register(router: Router) -> None:
    """Register Update of every actor type."""
    for actor_type in sorted(ACTOR_TYPES):
        router.register("Update", on_update_actor, object_type=actor_type)

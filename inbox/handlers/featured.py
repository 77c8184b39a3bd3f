"""Inbox layer: Add and Remove of posts to an actor's featured (pinned) collection."""

from __future__ import annotations

from fedsocial.activity_json import get_id
from fedsocial.errors import ValidationError
from fedsocial.storage import featured
from inbox.context import Effects, Outcome, Received, Services
from inbox.handlers.common import object_id, require_same_origin
from inbox.router import Router


async def _check_target(services: Services, activity: Received) -> None:
    """The target must be the actor's featured collection (as its document says, if known)."""
    target = get_id(activity.document.get("target"))
    if target is None:
        raise ValidationError(f"{activity.type} without a target")
    require_same_origin(activity, target, "collection")
    known = await services.remote_actors.cached(activity.actor)
    declared = get_id(known.document.get("featured")) if known is not None else None
    if declared is not None and declared != target:
        raise ValidationError(f"{target} is not the featured collection of {activity.actor}")


async def on_add(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Pin one of the actor's own posts."""
    await _check_target(services, activity)
    pinned = object_id(activity)
    require_same_origin(activity, pinned, "pinned object")
    effects.add(featured.add(activity.actor, pinned, now=services.clock.now()))
    return Outcome.APPLIED


async def on_remove(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Unpin a post."""
    await _check_target(services, activity)
    effects.add(featured.remove(activity.actor, object_id(activity)))
    return Outcome.APPLIED


def register(router: Router) -> None:
    """Register Add and Remove."""
    router.register("Add", on_add)
    router.register("Remove", on_remove)

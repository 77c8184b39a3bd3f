"""Inbox layer: an Undo whose undone activity we cannot identify by type.

It happens when the Undo names the activity by id only and we never stored that activity
(received before, or lost). Whatever the actor made with that id is removed.
"""

from __future__ import annotations

from fedsocial.storage import blocks, notifications, reactions, shares
from inbox.context import Effects, Outcome, Received, Services
from inbox.handlers.common import object_id, undone_actor_matches
from inbox.router import Router


async def on_undo_unknown(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Remove the reaction, share or block the actor made with the undone activity's id."""
    undone_actor_matches(activity)
    undone = object_id(activity)
    effects.add(reactions.remove_by_activity(activity.actor, undone))
    effects.add(shares.remove_by_activity(activity.actor, undone))
    effects.add(blocks.unblock_by_activity(activity.actor, undone))
    effects.add(notifications.remove_for_activity(undone, from_actor=activity.actor))
    return Outcome.APPLIED


def register(router: Router) -> None:
    """Register the fallback Undo."""
    router.register("Undo", on_undo_unknown)

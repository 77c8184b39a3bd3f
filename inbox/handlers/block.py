"""Inbox layer: Block and Undo{Block} of a local actor by a remote one.

The blocker stops seeing us, so follows are dropped both ways (as Mastodon does), and the
blocker's posts leave the blocked actor's timeline.
"""

from __future__ import annotations

from fedsocial.activity_json import get_id
from fedsocial.errors import ValidationError
from fedsocial.storage import blocks, follows, timeline
from inbox.context import Effects, Outcome, Received, Services
from inbox.handlers.common import embedded, object_id, undone_actor_matches
from inbox.local_audience import local_user_name
from inbox.router import Router


async def on_block(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Record the block and drop the follows between blocker and blocked."""
    named = object_id(activity)
    name = local_user_name(services, named)
    if name is None or await services.local_actors.get(name) is None:
        # Kept, it would bind an account made later under that name.
        raise ValidationError(f"Block of {named}, which is not a local actor")
    # The actor's own id, not the IRI as named (it may carry a fragment, like a key id).
    target = services.urls.actor(name)
    now = services.clock.now()
    blocker = activity.actor
    effects.add(blocks.block(blocker, target, activity_id=activity.activity_id, now=now))
    effects.add(follows.delete_statement(blocker, target))
    effects.add(follows.delete_statement(target, blocker))
    effects.add(timeline.remove_author_for(name, blocker))
    return Outcome.APPLIED


async def on_undo_block(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Remove the block (follows stay dropped, as after a real unblock)."""
    undone_actor_matches(activity)
    inner = embedded(activity)
    target = get_id(inner.get("object")) if inner is not None else None
    name = local_user_name(services, target)
    if name is not None:
        target = services.urls.actor(name)  # as on_block recorded it
    if target is None:
        effects.add(blocks.unblock_by_activity(activity.actor, object_id(activity)))
    else:
        effects.add(blocks.unblock(activity.actor, target))
    return Outcome.APPLIED


def register(router: Router) -> None:
    """Register the block family."""
    router.register("Block", on_block)
    router.register("Undo", on_undo_block, object_type="Block")

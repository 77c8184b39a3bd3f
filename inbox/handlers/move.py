"""Inbox layer: Move of an account to a new one (Mastodon's account migration).

We record `movedTo` on the old actor. When the target lists the old actor in `alsoKnownAs`
(the proof that both belong to the same person), each local follower of the old actor follows
the target through the outbox, drops the old follow, and is notified; a follower that is the
target itself, or that is blocked by it or blocks it, keeps its old follow (as on Mastodon).
"""

from __future__ import annotations

from fedsocial.activity_json import get_id, get_ids
from fedsocial.errors import Forbidden, ValidationError
from fedsocial.storage import follows, notifications
from inbox.context import Effects, Outcome, Received, Services
from inbox.handlers.common import object_id
from inbox.local_audience import local_user_name
from inbox.router import Router


async def on_move(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Record the move; move local follows when the target confirms it with alsoKnownAs."""
    old = object_id(activity)
    if old != activity.actor:
        raise ValidationError(f"{activity.actor} cannot move {old}")
    target = get_id(activity.document.get("target"))
    if target is None or target == old:
        raise ValidationError("a Move needs a target other than the moved actor")
    new = await services.remote_actors.get(target, refresh=True)
    if old not in get_ids(new.document.get("alsoKnownAs")):
        raise ValidationError(f"{target} does not list {old} in alsoKnownAs")
    await services.remote_actors.set_moved_to(old, target)
    now = services.clock.now()
    for follower in await follows.local_followers(
        services.db, old, local_actor_prefix=services.local_actor_prefix
    ):
        name = local_user_name(services, follower)
        local = None if name is None else await services.local_actors.get(name)
        if local is None or follower == target:
            continue  # the new account itself followed the old one: nothing to move
        try:
            await services.outbox.follow(local, target)
        except Forbidden:
            continue  # a block between them: the old follow stays, as on Mastodon
        effects.add(follows.delete_statement(follower, old))
        effects.add(
            notifications.add(
                local.name,
                "move",
                from_actor=old,
                object_id=target,
                activity_id=activity.activity_id,
                now=now,
            )
        )
    return Outcome.APPLIED


def register(router: Router) -> None:
    """Register Move."""
    router.register("Move", on_move)

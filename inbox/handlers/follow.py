"""Inbox layer: Follow, Undo{Follow}, and Accept/Reject of the follows we sent."""

from __future__ import annotations

from fedsocial.activity_json import get_id
from fedsocial.errors import ValidationError
from fedsocial.storage import blocks, follows, inbox_queue, notifications
from inbox.context import Effects, Outcome, Received, Services
from inbox.handlers.common import embedded, object_id, undone_actor_matches
from inbox.handlers.relay import settle_relay
from inbox.local_audience import local_user_name
from inbox.router import Router


async def on_follow(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Record a follower of a local actor; Accept it, or keep it pending for manual approval.

    A follow that is already accepted is accepted again (the follower may have lost our
    Accept); a follower the local actor blocks is rejected, and so is any follow of an actor
    that moved away (as Mastodon does: the followers belong to the new account now).
    """
    named = object_id(activity)
    name = local_user_name(services, named)
    actor = None if name is None else await services.local_actors.get(name)
    if actor is None:
        raise ValidationError(f"Follow of {named}, which is not a local actor")
    # The actor's own id, not the IRI as named (it may carry a fragment, like a key id).
    target = services.urls.actor(actor.name)
    follower = activity.actor
    if actor.row.moved_to is not None or await blocks.is_blocked(services.db, target, follower):
        await services.outbox.reject_follow(actor, activity.document)
        return Outcome.APPLIED
    current = await follows.get_state(services.db, follower, target)
    now = services.clock.now()
    if actor.row.manually_approves and current != "accepted":
        effects.add(
            follows.upsert_statement(
                follower,
                target,
                activity_id=activity.activity_id,
                state="pending",
                now=now,
            )
        )
        kind = "follow_request"
    else:
        await services.outbox.accept_follow(actor, activity.document)
        effects.add(
            follows.upsert_statement(
                follower,
                target,
                activity_id=activity.activity_id,
                state="accepted",
                now=now,
            )
        )
        kind = "follow"
    if current is None:
        effects.add(
            notifications.add(
                actor.name,
                kind,
                from_actor=follower,
                object_id=None,
                activity_id=activity.activity_id,
                now=now,
            )
        )
    return Outcome.APPLIED


async def on_undo_follow(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Remove a follow of a local actor (the follower unfollowed or withdrew the request)."""
    undone_actor_matches(activity)
    inner = embedded(activity)
    followee = get_id(inner.get("object")) if inner is not None else None
    name = local_user_name(services, followee)
    if name is not None:
        followee = services.urls.actor(name)  # as on_follow recorded it
    if followee is None:
        found = await follows.find_by_activity(services.db, object_id(activity))
        if found is None:
            found = await _received_follow(services, object_id(activity))
        if found is None or found[0] != activity.actor:
            return Outcome.APPLIED  # nothing of theirs to undo: already gone
        followee = found[1]
    effects.add(follows.delete_statement(activity.actor, followee))
    effects.add(notifications.remove_for_activity(object_id(activity), from_actor=activity.actor))
    return Outcome.APPLIED


async def _received_follow(services: Services, follow_id: str) -> tuple[str, str] | None:
    """The (follower, local followee) of a Follow we received with this id: a later Follow
    of the same pair replaces the id on the follow, yet an Undo of the first one still means
    "unfollow" (an embedded Follow is honoured whatever its id, too)."""
    stored = await inbox_queue.get(services.db, follow_id)
    if stored is None or stored.type != "Follow":
        return None
    name = local_user_name(services, get_id(stored.document.get("object")))
    return None if name is None else (stored.actor, services.urls.actor(name))


async def _settled_follow(services: Services, activity: Received) -> tuple[str, str] | None:
    """The (local follower, followee) of the follow an Accept/Reject answers, checked."""
    inner = embedded(activity)
    pair: tuple[str, str] | None = None
    if inner is not None and get_id(inner.get("actor")) and get_id(inner.get("object")):
        pair = (str(get_id(inner.get("actor"))), str(get_id(inner.get("object"))))
    else:
        pair = await follows.find_by_activity(services.db, object_id(activity))
    if pair is None:
        return None
    follower, followee = pair
    if followee != activity.actor:
        raise ValidationError(f"{activity.actor} cannot answer a follow of {followee}")
    if not services.urls.is_local(follower):
        raise ValidationError(f"the answered follow is not ours ({follower})")
    return pair


async def on_accept_follow(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Settle a follow we sent as accepted (ignored when we have no such follow)."""
    if await settle_relay(services, activity, effects, accepted=True):
        return Outcome.APPLIED
    pair = await _settled_follow(services, activity)
    if pair is not None:
        effects.add(follows.set_state_statement(pair[0], pair[1], state="accepted"))
    return Outcome.APPLIED


async def on_reject_follow(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Drop a follow we sent (or had) because the followee refused or removed it."""
    if await settle_relay(services, activity, effects, accepted=False):
        return Outcome.APPLIED
    pair = await _settled_follow(services, activity)
    if pair is not None:
        effects.add(follows.delete_statement(pair[0], pair[1]))
    return Outcome.APPLIED


def register(router: Router) -> None:
    """Register the follow family."""
    router.register("Follow", on_follow)
    router.register("Undo", on_undo_follow, object_type="Follow")
    # An Accept/Reject naming the Follow by id alone is still about a follow we sent.
    for object_type in ("Follow", "*"):
        router.register("Accept", on_accept_follow, object_type=object_type)
        router.register("Reject", on_reject_follow, object_type=object_type)

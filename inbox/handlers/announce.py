"""Inbox layer: Announce (boosts) and Undo{Announce}.

The announced object is trusted as embedded only when it lives on the announcer's origin;
otherwise (or when only its id is given) it is fetched from its own id, unless we already
have it. The boost reaches the timelines of the announcer's local followers, and the author
of a local post is notified (unless they block the announcer: then the boost is refused).
"""

from __future__ import annotations

from typing import Any

from fedsocial.activity_json import first_str, get_id, same_origin
from fedsocial.errors import ValidationError
from fedsocial.storage import notifications, objects, shares, timeline
from inbox.context import Effects, Outcome, Received, Services
from inbox.handlers.common import embedded, object_id, undone_actor_matches
from inbox.handlers.relay import is_subscribed_relay
from inbox.incoming_objects import object_row
from inbox.local_audience import local_user_name, refuse_if_author_blocks
from inbox.router import Router
from outbox.addressing import visibility_of

# Activities a group (Lemmy, FEP-1b12) announces besides Create: a boost of none of them is a
# post to show, and the inner activity is not the group's to vouch for.
_OTHER_ACTIVITIES = frozenset(
    {
        "Accept", "Add", "Announce", "Block", "Delete", "Dislike", "EmojiReact", "Flag",
        "Follow", "Like", "Lock", "Move", "Reject", "Remove", "Undo", "Update",
    }
)  # fmt: skip

# What Mastodon lets anyone boost (`Status#distributable?`); other posts only their author.
_BOOSTABLE = frozenset({"public", "unlisted"})


def _check_boostable(ident: str, *, author: str | None, visibility: str, actor: str) -> None:
    """Refuse a boost of a followers-only or direct post by anyone but its author (Mastodon's
    `announceable?`): it would show the post to the booster's followers."""
    if visibility not in _BOOSTABLE and author != actor:
        raise ValidationError(f"{actor} cannot boost the {visibility} post {ident} of {author}")


def boosted(announce: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    """The id of the post an Announce boosts, and the post when it is embedded. A group's
    Announce of a member's Create (Lemmy, FEP-1b12) boosts the Create's object."""
    obj = announce.get("object")
    if isinstance(obj, dict) and first_str(obj.get("type")) == "Create":
        obj = obj.get("object")
    return get_id(obj), obj if isinstance(obj, dict) else None


async def _announced(
    services: Services, activity: Received, ident: str, obj: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The announced object to store, or None when we already have it (then checked to be
    boostable by this actor)."""
    stored = await objects.get(services.db, ident)
    if stored is not None and stored.deleted:
        # Mastodon finds nothing to boost either: the boost would show a Tombstone.
        raise ValidationError(f"the announced {ident} was deleted")
    if stored is not None:
        _check_boostable(
            ident, author=stored.attributed_to, visibility=stored.visibility, actor=activity.actor
        )
        return None
    if obj is not None and same_origin(ident, activity.actor):
        return obj
    fetched = await services.http_client.fetch_json(ident)
    if fetched.get("id") != ident:
        raise ValidationError(f"fetching {ident} gave a document with another id")
    return fetched


async def on_announce(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Record a boost, storing the boosted post first when it is new to us. A group's boost
    of another activity than a Create (a vote, an edit, a removal) is not supported."""
    object_id(activity)  # refuses an Announce of nothing
    inner = embedded(activity)
    if inner is not None and first_str(inner.get("type")) in _OTHER_ACTIVITIES:
        return Outcome.UNSUPPORTED
    ident, embedded_post = boosted(activity.document)
    if ident is None:
        raise ValidationError(f"the Create announced by {activity.activity_id} has no object")
    author = await refuse_if_author_blocks(services, ident, activity.actor)
    now = services.clock.now()
    obj = await _announced(services, activity, ident, embedded_post)
    if obj is not None:
        row = object_row(obj, sanitizer=services.sanitizer, urls=services.urls)
        if row.attributed_to is None or not same_origin(row.id, row.attributed_to):
            raise ValidationError(f"the announced {ident} is not on its author's origin")
        _check_boostable(
            ident, author=row.attributed_to, visibility=row.visibility, actor=activity.actor
        )
        effects.extend(objects.upsert_statements(row, now=now))
    if await is_subscribed_relay(services, activity.actor):
        return Outcome.APPLIED  # a relay brings posts; it does not boost them (Mastodon)
    effects.add(shares.add(activity.actor, ident, activity_id=activity.activity_id, now=now))
    if visibility_of(activity.document).value != "direct":
        effects.add(
            timeline.add_for_followers(
                activity.actor,
                ident,
                local_actor_prefix=services.local_actor_prefix,
                boosted_by=activity.actor,
                activity_id=activity.activity_id,
                now=now,
            )
        )
    if author is not None and local_user_name(services, activity.actor) != author:
        effects.add(
            notifications.add(
                author,
                "boost",
                from_actor=activity.actor,
                object_id=ident,
                activity_id=activity.activity_id,
                now=now,
            )
        )
    return Outcome.APPLIED


async def on_undo_announce(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Remove a boost and take it off the timelines."""
    undone_actor_matches(activity)
    undone = object_id(activity)
    inner = embedded(activity)
    post = boosted(inner)[0] if inner is not None else None
    if post is None:
        post = await shares.object_of(services.db, undone)
    effects.add(shares.remove_by_activity(activity.actor, undone))
    if post is not None:
        effects.add(shares.remove_by_object(activity.actor, post))
        effects.add(timeline.remove_boost(activity.actor, post))
    effects.add(notifications.remove_for_activity(undone, from_actor=activity.actor))
    return Outcome.APPLIED


def register(router: Router) -> None:
    """Register the boost family."""
    router.register("Announce", on_announce)
    router.register("Undo", on_undo_announce, object_type="Announce")

"""Inbox layer: Like and EmojiReact (Misskey and Pleroma reactions) and their Undo.

A Like with `content` (Misskey's `_misskey_reaction`) is a reaction with that emoji, as is an
EmojiReact; a plain Like is a like. The author of a local object is notified; one who blocks
the actor refuses the like.
"""

from __future__ import annotations

from fedsocial.activity_json import first_str, get_id
from fedsocial.storage import notifications, reactions
from inbox.context import Effects, Outcome, Received, Services
from inbox.handlers.common import embedded, object_id, undone_actor_matches
from inbox.local_audience import refuse_if_author_blocks
from inbox.router import Router


def _emoji(activity: Received) -> str | None:
    doc = activity.document
    text = first_str(doc.get("content")) or first_str(doc.get("_misskey_reaction"))
    return text.strip() if text and text.strip() else None


async def on_like(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Record a like (or a reaction when it carries an emoji) and notify a local author."""
    target = object_id(activity)
    emoji = _emoji(activity)
    if activity.type == "EmojiReact" and emoji is None:
        return Outcome.UNSUPPORTED  # a reaction without its emoji says nothing
    kind = reactions.LIKE if emoji is None else reactions.EMOJI
    author = await refuse_if_author_blocks(services, target, activity.actor)
    now = services.clock.now()
    effects.add(
        reactions.add(
            activity.actor,
            target,
            kind=kind,
            content=emoji or "",
            activity_id=activity.activity_id,
            now=now,
        )
    )
    if author is not None and services.urls.actor(author) != activity.actor:
        effects.add(
            notifications.add(
                author,
                "like" if kind == reactions.LIKE else "reaction",
                from_actor=activity.actor,
                object_id=target,
                activity_id=activity.activity_id,
                now=now,
            )
        )
    return Outcome.APPLIED


async def on_undo_reaction(services: Services, activity: Received, effects: Effects) -> Outcome:
    """Remove the like or reaction the undone activity made."""
    undone_actor_matches(activity)
    undone = object_id(activity)
    effects.add(reactions.remove_by_activity(activity.actor, undone))
    inner = embedded(activity)
    liked = get_id(inner.get("object")) if inner is not None else None
    if liked is not None and inner is not None:
        # Some servers undo with a fresh id for the Like: match by actor and object too.
        content = first_str(inner.get("content")) or first_str(inner.get("_misskey_reaction"))
        is_like = first_str(inner.get("type")) == "Like" and not content
        kind = reactions.LIKE if is_like else reactions.EMOJI
        effects.add(reactions.remove_by_object(activity.actor, liked, kind=kind))
    effects.add(notifications.remove_for_activity(undone, from_actor=activity.actor))
    return Outcome.APPLIED


def register(router: Router) -> None:
    """Register the reaction family."""
    for kind in ("Like", "EmojiReact"):
        router.register(kind, on_like)
        router.register("Undo", on_undo_reaction, object_type=kind)

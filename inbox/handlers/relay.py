"""Inbox layer: a relay's answer to our subscription (Accept or Reject of our Follow of Public).

Relays answer the instance actor's Follow at its inbox. The answer is recognised by the id of
the Follow it names (embedded or bare), which we stored with the relay; it must come from the
relay's own origin. What relays send afterwards: an Announce by a relay we subscribe to brings
its post (fetched from its own id, stored like any post) but is not a boost — no share, no
timeline entry, no notification — as in Mastodon (`return if requested_through_relay?`), which
also keeps a relay that announces our own posts back to us from notifying their authors; a
Create the relay forwards is accepted at receive time on its author's LD signature or integrity
proof, then stored like any post.
"""

from __future__ import annotations

from fedsocial.activity_json import get_id, same_origin
from fedsocial.errors import ValidationError
from fedsocial.storage import relays
from inbox.context import Effects, Received, Services


async def is_subscribed_relay(services: Services, actor: str) -> bool:
    """True when `actor` is a relay that accepted our subscription: its inbox (Mastodon matches
    relays by inbox) is one of theirs. Errors from our tree when the actor cannot be read."""
    inboxes = [i for i in await relays.accepted_inboxes(services.db) if same_origin(i, actor)]
    if not inboxes:
        return False  # no relay on the actor's server: no need to look the actor up
    remote = await services.remote_actors.get(actor)
    return remote.inbox in inboxes


async def settle_relay(
    services: Services, activity: Received, effects: Effects, *, accepted: bool
) -> bool:
    """Settle our relay subscription that this Accept/Reject answers; return False when it
    answers no relay Follow of ours (the caller handles it as an ordinary follow). Raises
    ValidationError when the answer does not come from the relay's origin."""
    answered = get_id(activity.document.get("object"))
    if answered is None or not services.urls.is_local(answered):
        return False
    row = await relays.by_follow_activity(services.db, answered)
    if row is None:
        return False
    if not same_origin(activity.actor, row.inbox):
        raise ValidationError(f"{activity.actor} cannot answer our subscription to {row.url}")
    state = relays.ACCEPTED if accepted else relays.REJECTED
    effects.add(relays.set_state_statement(row.url, state))
    return True

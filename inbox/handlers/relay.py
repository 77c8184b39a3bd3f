"""Inbox layer: a relay's answer to our subscription (Accept or Reject of our Follow of Public).

Relays answer the instance actor's Follow at its inbox. The answer is recognised by the id of
the Follow it names (embedded or bare), which we stored with the relay; it must come from the
relay's own origin. What relays send afterwards needs nothing special here: an Announce of a
post from elsewhere is handled like any boost (the post is fetched from its own id), and a
Create the relay forwards is accepted at receive time on its author's LD signature or integrity
proof, then stored like any post.
"""

from __future__ import annotations

from fedsocial.activity_json import get_id, same_origin
from fedsocial.errors import ValidationError
from fedsocial.storage import relays
from inbox.context import Effects, Received, Services


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

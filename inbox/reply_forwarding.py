"""Inbox layer: forward replies to our posts to our followers (ActivityPub §7.1.2).

When a remote Create, Update or Delete concerns a reply to one of our objects and addresses
the followers collection of that object's (local) author, the author's followers would never
see it: the replier's server cannot list them. So the author forwards it through the outbox,
unchanged — the exact JSON text we received — signed over HTTP by the author. The receivers
accept it on the LD signature or integrity proof it carries (see `inbox.forwarding`), so an
activity without either is not forwarded (as Mastodon: `@json['signature'].present?`): nobody
could accept it from us. Each activity is forwarded at most once (the outbox keeps it by id),
so a retried handler is safe.
"""

from __future__ import annotations

import json
import logging

from fedsocial.activity_json import get_ids
from fedsocial.storage import forwards, objects
from inbox.context import Received, Services
from outbox.forwarding import already_served_hosts

log = logging.getLogger("fedsocial.inbox")

ADDRESS_FIELDS = ("to", "cc", "audience")


async def forward_reply(services: Services, activity: Received, *, in_reply_to: str | None) -> bool:
    """Forward `activity` to the followers of the local author of `in_reply_to` when the rules
    above hold; return True when it was queued now (False: not a case for forwarding, or
    already forwarded)."""
    urls = services.urls
    if in_reply_to is None or not urls.is_local(in_reply_to) or urls.is_local(activity.actor):
        return False
    parent = await objects.get(services.db, in_reply_to)
    if parent is None or not parent.local or parent.attributed_to is None:
        return False
    name = urls.local_actor_name(parent.attributed_to)
    if name is None:
        return False
    addressed = [iri for field in ADDRESS_FIELDS for iri in get_ids(activity.document.get(field))]
    if urls.followers(name) not in addressed:
        return False
    author = await services.local_actors.get(name)
    raw = await forwards.received_text(services.db, activity.activity_id)
    if author is None or raw is None or not _carries_own_proof(raw):
        return False
    result = await services.outbox.forward(
        author,
        raw,
        activity.activity_id,
        activity_actor=activity.actor,
        activity_type=activity.type,
        skip_hosts=already_served_hosts(activity.actor, addressed, urls),
    )
    if result.new:
        log.info(
            "forwarding %s %s to %d inboxes of %s's followers",
            activity.type,
            activity.activity_id,
            len(result.inboxes),
            name,
        )
    return result.new


def _carries_own_proof(raw: str) -> bool:
    """True when the activity as received holds an LD signature or an integrity proof (read from
    the text: normalisation may rename a `proof` whose context the sender left out)."""
    document = json.loads(raw)
    return isinstance(document, dict) and any(
        isinstance(document.get(key), dict) for key in ("signature", "proof")
    )

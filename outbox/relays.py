"""Outbox layer: subscribe the instance to relays (LitePub / Mastodon ActivityRelay), and leave.

A subscription is the instance actor's ``Follow`` of the Public collection, POSTed to the
relay's inbox, as Mastodon does. The relay answers with Accept or Reject at our instance
actor's inbox (`inbox.handlers.relay` settles the row); once accepted, it gets our public posts
(`outbox.recipients.goes_to_relays`) and sends us what others post. Leaving sends
``Undo{Follow}`` and forgets the relay.

The URL given is the relay's inbox (``https://relay.example/inbox``); any other URL is taken
for the relay's actor document, which is fetched for its inbox.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from fedsocial.activity_json import AS_PUBLIC
from fedsocial.errors import NotFound, ValidationError
from fedsocial.storage import relays
from fedsocial.storage.relays import RelayRow
from outbox import compose
from outbox.service import Outbox


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
    except ValueError as exc:  # "http://[x": an IPv6 host never closed
        raise ValidationError(f"a relay URL must be an absolute http(s) URL, not {url!r}") from exc
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValidationError(f"a relay URL must be an absolute http(s) URL, not {url!r}")


async def relay_inbox(outbox: Outbox, url: str) -> str:
    """The inbox to POST to for relay `url`: the URL itself when its path ends in ``/inbox``,
    else the inbox of the actor document at `url` (fetched; errors from our tree on failure)."""
    _check_url(url)
    if urlsplit(url).path.rstrip("/").endswith("/inbox"):
        return url
    actor = await outbox.remote_actors.get(url)
    return actor.inbox


async def subscribe(outbox: Outbox, url: str) -> RelayRow:
    """Follow relay `url` with the instance actor; return its (pending) row.

    Subscribing again to a known relay sends a new Follow and makes it pending again.
    """
    inbox = await relay_inbox(outbox, url)
    instance = await outbox.local_actors.instance_actor()
    actor_id = outbox.urls.actor(instance.name)
    follow = compose.build_follow(
        AS_PUBLIC, activity_id=outbox.activity_id(instance), actor_id=actor_id
    )
    await relays.upsert(
        outbox.db, url, inbox=inbox, follow_activity_id=follow["id"], now=outbox.clock.now()
    )
    await outbox.send(instance, follow, inboxes=[inbox])
    row = await relays.get(outbox.db, url)
    assert row is not None  # just written
    return row


async def unsubscribe(outbox: Outbox, url: str) -> RelayRow:
    """Leave relay `url`: send Undo{Follow} to its inbox and forget it; NotFound if unknown."""
    row = await relays.get(outbox.db, url)
    if row is None:
        raise NotFound(f"no relay {url!r}")
    instance = await outbox.local_actors.instance_actor()
    actor_id = outbox.urls.actor(instance.name)
    original = {
        "id": row.follow_activity_id,
        "type": "Follow",
        "actor": actor_id,
        "object": AS_PUBLIC,
    }
    undo = compose.build_undo(original, activity_id=outbox.activity_id(instance), actor_id=actor_id)
    await relays.remove(outbox.db, url)
    await outbox.send(instance, undo, inboxes=[row.inbox])
    return row

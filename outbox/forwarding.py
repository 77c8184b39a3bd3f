"""Outbox layer: forward a received activity, unchanged, to a local actor's followers.

ActivityPub §7.1.2 (inbox forwarding): a reply to one of our posts that addresses our actor's
followers collection cannot reach those followers from its author's server, so we pass it on.
The body goes out exactly as it came in — the same bytes — because its LD signature or
integrity proof is what lets the followers' servers accept it; our HTTP signature only says who
carried it. Followers are reached once per server (shared inbox); the activity author's server
and the servers the activity was addressed to directly already have it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from fedsocial.activity_json import is_public
from fedsocial.clock import Clock
from fedsocial.storage import deliveries, forwards
from fedsocial.storage.database import Database
from fedsocial.storage.deliveries import NewDelivery
from fedsocial.urls import Urls
from outbox.recipients import RecipientResolver, inbox_host


@dataclass(frozen=True, slots=True)
class Forwarded:
    """What forwarding did: whether the activity was new to us, and the inboxes queued."""

    new: bool
    inboxes: tuple[str, ...]


def already_served_hosts(actor: str, addressed: Iterable[str], urls: Urls) -> set[str]:
    """Hosts that have the activity without us: its actor's, and those of actors it names
    directly (a collection of another server cannot be expanded by the sender, so those do
    not count; nor do Public and our own ids)."""
    hosts = set()
    for iri in [actor, *addressed]:
        if iri != actor and (
            is_public(iri) or urls.is_local(iri) or iri.rstrip("/").endswith("/followers")
        ):
            continue
        try:
            hosts.add(inbox_host(iri))
        except ValueError:  # "http://[x": names no host, so no server has the activity there
            continue
    return hosts


class Forwarder:
    """Queues forwarded activities in the ordinary delivery queue."""

    def __init__(
        self, db: Database, urls: Urls, clock: Clock, *, resolver: RecipientResolver
    ) -> None:
        self._db = db
        self._urls = urls
        self._clock = clock
        self._resolver = resolver

    async def forward(
        self,
        sender: str,
        raw: str,
        *,
        activity_id: str,
        actor: str,
        activity_type: str,
        followers_of: str,
        skip_hosts: Iterable[str] = (),
    ) -> Forwarded:
        """Queue `raw` (the activity's JSON text as received) from local actor `sender` to the
        remote followers of local actor `followers_of`, once per shared inbox, skipping
        `skip_hosts`. An activity forwarded before is not queued again (`new` is False)."""
        collection = f"{followers_of}/followers"
        recipients = await self._resolver.resolve(sender, {"id": activity_id, "cc": [collection]})
        skip = {host.lower() for host in skip_hosts}
        targets = [
            NewDelivery(inbox, inbox_host(inbox))
            for inbox in recipients.remote_inboxes
            if inbox_host(inbox) not in skip
        ]
        now = self._clock.now()
        async with self._db.transaction() as conn:
            new = await forwards.insert_forwarded_in(
                conn, activity_id, raw, actor=actor, activity_type=activity_type, published=now
            )
            if new:
                await deliveries.enqueue_in(conn, activity_id, sender, targets, now=now)
        return Forwarded(new, tuple(t.inbox for t in targets) if new else ())

"""Outbox layer: who receives an activity — local inboxes and deduplicated remote inboxes.

Recipients come from ``to``/``cc``/``bto``/``bcc``/``audience`` plus any extra ids the caller
names. The Public collection and the sender are dropped. The sender's followers collection is
expanded to its followers (another local actor's is not); remote followers are reached through
their server's shared inbox where they have one. Local recipients are applied in-process (their
inbox URL is returned, the caller stores the activity for the inbox worker), remote ones
resolved through the remote actor service. A recipient that cannot be resolved is logged and
skipped: one dead account must not stop the others from getting the post. Nothing is queued to a
domain the instance blocks; that is logged at INFO (domain and activity id) so an admin can see
why a delivery is missing.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from fedsocial.activity_json import get_id, get_ids, is_public
from fedsocial.errors import FedsocialError
from fedsocial.federation.domain_blocks import normalise_domain
from fedsocial.storage import blocks, deliveries, relays
from fedsocial.storage.database import Database
from fedsocial.urls import Urls
from outbox.addressing import dedupe_inboxes, delivery_targets

log = logging.getLogger("fedsocial.outbox.recipients")

ADDRESS_FIELDS = ("to", "cc", "bto", "bcc", "audience")
# What relays get from us, as Mastodon sends them: public posts, their edits and deletions.
RELAYED_TYPES = frozenset({"Create", "Update", "Delete"})
RELAY_SKIPPED_OBJECTS = frozenset({"Person", "Service", "Group", "Application", "Organization"})


class RemoteActorLike(Protocol):
    """What the outbox reads of a remote actor (the actors layer's `RemoteActor` fits)."""

    @property
    def id(self) -> str:
        """The actor's id."""
        ...

    @property
    def inbox(self) -> str:
        """The actor's personal inbox."""
        ...

    @property
    def shared_inbox(self) -> str | None:
        """The server's shared inbox, if it has one."""
        ...

    @property
    def preferred_username(self) -> str | None:
        """The user part of the actor's handle, if it has one."""
        ...

    @property
    def domain(self) -> str:
        """The host part of the actor's handle."""
        ...

    @property
    def url(self) -> str | None:
        """The actor's profile page, if it names one."""
        ...


class DomainBlockList(Protocol):
    """Instance-wide domain blocks (core's `DomainBlocks` fits)."""

    async def is_blocked(self, host_or_url: str) -> bool:
        """True when the host of `host_or_url`, or a parent domain, is blocked."""
        ...


class ActorDirectory(Protocol):
    """Resolves remote actors (the actors layer's `RemoteActors` fits)."""

    async def get(self, actor_id: str) -> RemoteActorLike:
        """The actor with this id, fetched or cached; raise a FedsocialError if unusable."""
        ...

    async def by_handle(self, handle: str) -> RemoteActorLike:
        """The actor behind `@user@host`, found by WebFinger."""
        ...


@dataclass(frozen=True, slots=True)
class Recipients:
    """Where one activity goes: local actors' inbox URLs and remote inboxes, each once."""

    local_inboxes: tuple[str, ...]
    remote_inboxes: tuple[str, ...]


def inbox_host(inbox: str) -> str:
    """The host[:port] an inbox lives on, lowercase: what per-host limits and health key on."""
    return urlsplit(inbox).netloc.lower()


def goes_to_relays(activity: dict[str, Any]) -> bool:
    """True for a public (Public in ``to``) Create, Update or Delete of a post, which the relays
    we subscribe to receive too. An actor's own Update or Delete is not relayed."""
    obj = activity.get("object")
    if isinstance(obj, dict) and obj.get("type") in RELAY_SKIPPED_OBJECTS:
        return False
    return activity.get("type") in RELAYED_TYPES and any(
        is_public(iri) for iri in get_ids(activity.get("to"))
    )


def addressed_ids(activity: dict[str, Any], *, extra: Sequence[str] = ()) -> list[str]:
    """Every id an activity is addressed to, in order, plus `extra`.

    An embedded object's own addressing is not read: a boosted note carries its author's
    audience, not ours.
    """
    ids: list[str] = []
    for field in ADDRESS_FIELDS:
        ids.extend(get_ids(activity.get(field)))
    ids.extend(extra)
    return ids


class RecipientResolver:
    """Turns an activity's addressing into local and remote inboxes."""

    def __init__(
        self,
        db: Database,
        urls: Urls,
        remote_actors: ActorDirectory,
        *,
        domain_blocks: DomainBlockList | None = None,
    ) -> None:
        self._db = db
        self._urls = urls
        self._remote = remote_actors
        self._domain_blocks = domain_blocks

    async def resolve(
        self, sender: str, activity: dict[str, Any], *, extra: Sequence[str] = ()
    ) -> Recipients:
        """Compute the recipients of `activity` sent by local actor `sender`.

        Nothing goes to a blocked domain: such an actor is not even looked up, such an inbox
        is left out, and one INFO line per domain names it with the activity id.
        """
        targets = delivery_targets(addressed_ids(activity, extra=extra), (), exclude={sender})
        local: dict[str, None] = {}
        remote: list[tuple[str, str | None]] = []
        blocked: dict[str, None] = {}
        for iri in targets:
            if await blocks.is_blocked(self._db, sender, iri):
                continue  # a block stops delivery to that actor, whatever the addressing says
            if self._urls.is_local(iri):
                await self._local_target(iri, sender, local, remote, blocked)
            else:
                found = await self._remote_actor(iri, blocked)
                if found is not None:
                    remote.append(found)
        local.pop(self._urls.inbox(self._urls.local_actor_name(sender) or ""), None)
        if goes_to_relays(activity):
            remote.extend((inbox, None) for inbox in await relays.accepted_inboxes(self._db))
        inboxes = [
            inbox
            for inbox in dedupe_inboxes(remote)
            if not await self._blocked(inbox, blocked) and not self._on_this_server(inbox)
        ]
        for domain in blocked:
            # Without this line an admin sees no delivery row and cannot tell why.
            log.info(
                "not queueing %s to %s: the domain is blocked",
                get_id(activity.get("id")) or "an activity",
                domain,
            )
        return Recipients(tuple(local), tuple(inboxes))

    def _on_this_server(self, inbox: str) -> bool:
        """True for an inbox URL on this instance: a remote actor document may name one, but
        local recipients are reached in-process, never by POSTing to ourselves."""
        if inbox_host(inbox) != inbox_host(self._urls.base):
            return False
        log.info("not delivering to %s: the inbox is on this server", inbox)
        return True

    async def _blocked(self, url: str, blocked: dict[str, None]) -> bool:
        """True (and the host noted in `blocked`) when `url` is on a blocked domain."""
        if self._domain_blocks is None or not await self._domain_blocks.is_blocked(url):
            return False
        blocked.setdefault(normalise_domain(url), None)
        return True

    async def _local_target(
        self,
        iri: str,
        sender: str,
        local: dict[str, None],
        remote: list[tuple[str, str | None]],
        blocked: dict[str, None],
    ) -> None:
        name = self._followers_owner(iri)
        if name is not None:
            # Only the sender's own followers: naming another local actor's followers
            # collection must not reach people who chose to follow someone else.
            if self._urls.actor(name) == sender:
                await self._expand_followers(sender, local, remote, blocked)
            else:
                log.info("not delivering to %s: not the sender's followers", iri)
            return
        name = self._urls.local_actor_name(iri)
        if name is not None:
            local.setdefault(self._urls.inbox(name), None)

    def _followers_owner(self, iri: str) -> str | None:
        if not iri.endswith("/followers"):
            return None
        name = self._urls.local_actor_name(iri[: -len("/followers")])
        return name if name is not None and iri == self._urls.followers(name) else None

    async def _expand_followers(
        self,
        followee: str,
        local: dict[str, None],
        remote: list[tuple[str, str | None]],
        blocked: dict[str, None],
    ) -> None:
        for follower, inbox, shared in await deliveries.follower_inboxes(self._db, followee):
            if inbox is not None:
                remote.append((inbox, shared))
            elif self._urls.is_local(follower):
                name = self._urls.local_actor_name(follower)
                if name is not None:
                    local.setdefault(self._urls.inbox(name), None)
            else:
                found = await self._remote_actor(follower, blocked)
                if found is not None:
                    remote.append(found)

    async def _remote_actor(
        self, iri: str, blocked: dict[str, None]
    ) -> tuple[str, str | None] | None:
        if await self._blocked(iri, blocked):
            return None  # not fetched: the HTTP client would refuse the domain anyway
        try:
            actor = await self._remote.get(iri)
        except FedsocialError as exc:
            # Another server's collection, a deleted account, a dead host: skip, do not fail.
            log.info("not delivering to %s: %s", iri, exc.message)
            return None
        return actor.inbox, actor.shared_inbox

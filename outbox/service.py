"""Outbox layer: the `Outbox` service — publish activities of local actors and deliver them.

`Outbox` works in the server (with a poster, it delivers; a background task polls the queue at
least every second, wakes at once when something is queued here, and within a tenth of a second
when another process commits to the database) and in a CLI process
(without a poster: it only stores and queues, and the running server delivers). The
high-level actions (post, follow, like, …) live in `outbox.actions`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, cast

from aiohttp import web

from actors.local import LocalActor, LocalActors
from fedsocial import appkeys
from fedsocial.activity_json import get_id
from fedsocial.clock import Clock, iso
from fedsocial.config import Config
from fedsocial.federation.signing import SigningKey
from fedsocial.storage import blocks, follows
from fedsocial.storage.database import Database
from fedsocial.storage.shards import WHOLE, Shard
from fedsocial.urls import Urls
from fedsocial.waiting import wait_for_event
from outbox import compose
from outbox.actions import OutboxActions
from outbox.delivery import Deliverer
from outbox.delivery_ports import Poster
from outbox.forwarding import Forwarded, Forwarder
from outbox.publish import DocumentSigner, Publisher
from outbox.recipients import ActorDirectory, DomainBlockList, RecipientResolver
from outbox.retry import Jitter, system_jitter
from outbox.signing import sign_activity

log = logging.getLogger("fedsocial.outbox")

POLL_SECONDS = 1.0
# How often the worker asks SQLite whether another process committed (a cheap PRAGMA).
CHANGE_CHECK_SECONDS = 0.1
ObjectFetcher = Callable[[str], Awaitable[dict[str, Any]]]


def outbox_of(app: web.Application) -> Outbox:
    """The application's outbox service."""
    return cast(Outbox, app[appkeys.OUTBOX])


class Outbox(OutboxActions):
    """Publishes local actors' activities and runs their delivery queue."""

    def __init__(
        self,
        db: Database,
        urls: Urls,
        clock: Clock,
        *,
        config: Config,
        remote_actors: ActorDirectory,
        local_actors: LocalActors,
        poster: Poster | None = None,
        fetch_object: ObjectFetcher | None = None,
        jitter: Jitter | None = None,
        domain_blocks: DomainBlockList | None = None,
        delivery_shard: Shard = WHOLE,
    ) -> None:
        self.db = db
        self.urls = urls
        self.clock = clock
        self.config = config
        self.remote_actors = remote_actors
        self.local_actors = local_actors
        self.fetch_object = fetch_object
        self._wake = asyncio.Event()
        self._background_attempted = 0
        # Instance-wide domain blocks keep both published and forwarded activities from
        # being queued to a blocked domain.
        self._publisher = Publisher(
            db,
            urls,
            clock,
            remote_actors=remote_actors,
            domain_blocks=domain_blocks,
            on_queued=self._wake.set,
        )
        self._forwarder = Forwarder(
            db,
            urls,
            clock,
            resolver=RecipientResolver(db, urls, remote_actors, domain_blocks=domain_blocks),
        )
        self._deliverer = (
            None
            if poster is None
            else Deliverer(
                db,
                clock,
                poster,
                self._key_for,
                workers=config.federation.delivery_workers,
                per_host=config.federation.delivery_per_host,
                jitter=jitter or system_jitter(),
                shard=delivery_shard,
            )
        )

    def new_id(self) -> str:
        """A fresh, roughly time-ordered id for a status or an activity (Snowflake-like)."""
        return str((int(self.clock.now() * 1000) << 16) | secrets.randbits(16))

    def activity_id(self, actor: LocalActor) -> str:
        """A fresh activity id of `actor`: /users/{name}/activities/{id}."""
        return self.urls.activity(actor.name, self.new_id())

    async def send(
        self,
        actor: LocalActor,
        activity: dict[str, Any],
        *,
        extra_recipients: Sequence[str] = (),
        inboxes: Sequence[str] = (),
    ) -> None:
        """Store `activity` (with @context) by `actor` and queue it for every recipient.

        Recipients come from to/cc/bto/bcc/audience plus `extra_recipients`; Public and the
        actor are dropped, followers collections expanded, local recipients queued for the
        inbox worker without HTTP, remote ones get one delivery row per (shared) inbox, and so
        do the explicit remote `inboxes` (a relay's). It is signed once, before it is stored
        (see `outbox.signing`).
        """
        await self._publisher.send(
            self.urls.actor(actor.name),
            activity,
            extra_recipients=extra_recipients,
            inboxes=inboxes,
            signer=self._signer_for(actor),
        )

    def _signer_for(self, actor: LocalActor) -> DocumentSigner:
        created = iso(self.clock.now())
        return lambda document, visibility: sign_activity(
            document, actor, self.urls, created=created, visibility=visibility
        )

    async def forward(
        self,
        actor: LocalActor,
        raw_body: bytes | str,
        activity_id: str,
        *,
        activity_actor: str,
        activity_type: str,
        skip_hosts: Iterable[str] = (),
    ) -> Forwarded:
        """Forward a received activity, byte for byte, to `actor`'s remote followers (one POST
        per shared inbox, HTTP-signed by `actor`), skipping `skip_hosts`; once per activity id.

        `raw_body` is the activity's JSON exactly as received (UTF-8), so the proofs it carries
        still hold at the followers' servers (see `outbox.forwarding`).
        """
        raw = raw_body.decode("utf-8") if isinstance(raw_body, bytes) else raw_body
        actor_id = self.urls.actor(actor.name)
        result = await self._forwarder.forward(
            actor_id,
            raw,
            activity_id=activity_id,
            actor=activity_actor,
            activity_type=activity_type,
            followers_of=actor_id,
            skip_hosts=skip_hosts,
        )
        if result.inboxes:
            self._wake.set()
        return result

    async def accept_follow(self, actor: LocalActor, follow: dict[str, Any]) -> None:
        """Accept a received Follow of `actor`: record it accepted and send the Accept back."""
        follower = get_id(follow.get("actor"))
        if follower is None:
            return
        await follows.upsert(
            self.db,
            follower,
            self.urls.actor(actor.name),
            activity_id=get_id(follow.get("id")),
            state="accepted",
            now=self.clock.now(),
        )
        accept = compose.build_accept(
            follow, activity_id=self.activity_id(actor), actor_id=self.urls.actor(actor.name)
        )
        await self.send(actor, accept, extra_recipients=[follower])

    async def reject_follow(self, actor: LocalActor, follow: dict[str, Any]) -> None:
        """Reject a received Follow of `actor` (or remove a follower): forget it, send Reject."""
        follower = get_id(follow.get("actor"))
        if follower is None:
            return
        await follows.delete(self.db, follower, self.urls.actor(actor.name))
        reject = compose.build_reject(
            follow, activity_id=self.activity_id(actor), actor_id=self.urls.actor(actor.name)
        )
        # A follower we block is left out of every audience, yet must hear the Reject (its
        # request would stay pending on its server for ever): name its inbox directly.
        inboxes: list[str] = []
        blocked = await blocks.is_blocked(self.db, self.urls.actor(actor.name), follower)
        if blocked and not self.urls.is_local(follower):
            known = await self.remote_actors.get(follower)
            inboxes.append(known.shared_inbox or known.inbox)
        await self.send(actor, reject, extra_recipients=[follower], inboxes=inboxes)

    async def drain(self) -> int:
        """Deliver every row due now; return how many were attempted (0 without a poster).

        The count includes what the background worker attempted since the previous `drain`,
        so a caller looping until no work is left does not stop while the worker was busy.
        """
        if self._deliverer is None:
            return 0
        attempted = await self._deliverer.run_due()
        background, self._background_attempted = self._background_attempted, 0
        return attempted + background

    async def run_forever(self) -> None:
        """The background worker: deliver what is due, then wait for new work or a second.

        New work is something queued in this process, or a commit by another process (the CLI,
        another `serve --workers` process), noticed within `CHANGE_CHECK_SECONDS`.
        """
        while True:
            version = None
            try:
                # Read before the round, so a commit made while it runs still wakes the next.
                version = await self.db.data_version()
                if self._deliverer is not None:
                    self._background_attempted += await self._deliverer.run_due()
            except Exception:
                # The worker must outlive a database hiccup; the next round retries.
                log.exception("delivery round failed")
            await self._wait_for_work(version)
            self._wake.clear()

    async def _wait_for_work(self, version: int | None) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + POLL_SECONDS
        while (left := deadline - loop.time()) > 0:
            if await wait_for_event(self._wake, min(left, CHANGE_CHECK_SECONDS)):
                return
            try:
                if version is not None and await self.db.data_version() != version:
                    return
            except Exception:
                log.exception("checking the database for new deliveries failed")
                return

    async def _key_for(self, sender: str) -> SigningKey | None:
        name = self.urls.local_actor_name(sender)
        if name is None:
            return None
        actor = await self.local_actors.get(name)
        return None if actor is None else actor.signing_key(self.urls)

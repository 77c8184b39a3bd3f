"""Actors layer: remote actors, fetched, validated and cached (and ours, in the same shape).

``RemoteActors.get`` answers from the ``remote_actors`` cache while it is younger than a day,
else fetches the actor with a signed GET and validates it (``federation.actor_documents``: the
id on the origin fetched, an actor type, an inbox, a key). A 410 or a Tombstone marks the actor
deleted and raises ``Gone``. Local actor ids are answered from our own database, without HTTP,
so callers (the outbox addressing a mixed audience) need not tell the two apart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web

from actors.documents import actor_document
from actors.local import LocalActors
from actors.webfinger_client import lookup, parse_handle
from fedsocial import appkeys
from fedsocial.clock import Clock
from fedsocial.config import Config
from fedsocial.errors import BlockedAddress, FetchError, Gone, NotFound, ValidationError
from fedsocial.federation.actor_documents import authority, is_tombstone, parse_actor
from fedsocial.federation.http_client import HttpClient
from fedsocial.federation.key_resolver import KeyResolver
from fedsocial.storage import remote_actors as store
from fedsocial.storage.database import Database
from fedsocial.storage.remote_actors import RemoteActorRow
from fedsocial.urls import Urls

log = logging.getLogger("fedsocial.actors.remote")

REFRESH_AGE = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class RemoteActor:
    """An actor as we route to it; ``document`` is the whole document as last fetched."""

    id: str
    type: str
    preferred_username: str | None
    domain: str
    inbox: str
    shared_inbox: str | None
    followers: str | None
    url: str | None
    document: dict[str, Any]
    moved_to: str | None
    deleted: bool = False

    @classmethod
    def from_row(cls, row: RemoteActorRow) -> RemoteActor:
        """The actor a cache row describes."""
        return cls(
            id=row.id,
            type=row.type,
            preferred_username=row.preferred_username,
            domain=row.domain,
            inbox=row.inbox,
            shared_inbox=row.shared_inbox,
            followers=row.followers,
            url=row.url,
            document=row.document,
            moved_to=row.moved_to,
            deleted=row.deleted_at is not None,
        )


class RemoteActors:
    """Fetches, validates and caches actors by id or handle (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        config: Config,
        clock: Clock,
        *,
        http: HttpClient,
        keys: KeyResolver,
        local: LocalActors,
    ) -> None:
        self._db = db
        self._config = config
        self._clock = clock
        self._urls = Urls(config.base_url)
        self._http = http
        self._keys = keys
        self._local = local

    async def get(self, actor_id: str, *, refresh: bool = False) -> RemoteActor:
        """The actor with this id: cached if fresh (and not ``refresh``), else fetched.

        Raises ``Gone`` for a deleted actor, ``NotFound`` for an unknown one, ValidationError
        for an unusable document, ``FetchError``/``BlockedAddress`` when it cannot be fetched
        (a stale cached copy is returned instead when there is one and ``refresh`` is off).
        """
        if self._urls.is_local(actor_id):
            return await self._local_actor(actor_id)
        row = await store.get(self._db, actor_id)
        if row is not None and not refresh:
            if row.deleted_at is not None:
                raise Gone(f"actor {actor_id} was deleted")
            if self._clock.now() - row.fetched_at < REFRESH_AGE:
                return RemoteActor.from_row(row)
        try:
            return await self._fetch(actor_id)
        except FetchError as exc:
            if row is None or row.deleted_at is not None or refresh:
                raise
            if isinstance(exc, BlockedAddress):
                raise
            log.info("using the stale copy of %s: %s", actor_id, exc)
            return RemoteActor.from_row(row)

    async def cached(self, actor_id: str) -> RemoteActor | None:
        """The actor as cached (possibly stale or deleted), or None; never uses the network."""
        if self._urls.is_local(actor_id):
            try:
                return await self._local_actor(actor_id)
            except NotFound:
                return None
        row = await store.get(self._db, actor_id)
        return None if row is None else RemoteActor.from_row(row)

    async def by_handle(self, handle: str) -> RemoteActor:
        """The actor a ``@user@host`` handle names, found with WebFinger over https (http when
        ``federation.allow_http``); a fresh cached actor with that handle is used directly.

        Raises ValidationError for a malformed handle, NotFound, Gone and fetch errors as ``get``.
        """
        user, host = parse_handle(handle)
        if host == self._config.instance.domain:
            return await self.get(self._urls.actor(user.lower()))
        row = await store.find_by_handle(self._db, user, host)
        fresh = row is not None and self._clock.now() - row.fetched_at < REFRESH_AGE
        if row is not None and row.deleted_at is None and fresh:
            return RemoteActor.from_row(row)
        scheme = "http" if self._config.federation.allow_http else "https"
        actor_id = await lookup(self._http, user, host, scheme=scheme)
        actor = await self.get(actor_id, refresh=row is not None and row.id == actor_id)
        await self._confirm_handle(actor, f"{user}@{host}", host, scheme=scheme)
        return actor

    async def _confirm_handle(
        self, actor: RemoteActor, handle: str, host: str, *, scheme: str
    ) -> None:
        """Refuse an actor that a WebFinger answer from ``host`` named on another domain,
        unless that domain's own WebFinger for the actor's username points back to it (as
        Mastodon checks): else any host could pass someone else's account off as its own.
        """
        if actor.domain == host or self._urls.is_local(actor.id):
            return
        username = actor.preferred_username
        confirmed = None
        if username:
            try:
                confirmed = await lookup(self._http, username, actor.domain, scheme=scheme)
            except (NotFound, FetchError) as exc:
                log.info("WebFinger of %s@%s failed: %s", username, actor.domain, exc)
        if confirmed != actor.id:
            raise ValidationError(
                f"WebFinger for {handle} names {actor.id}, which {actor.domain} does not confirm"
            )

    async def store(self, document: dict[str, Any]) -> RemoteActor:
        """Validate and cache an actor document that arrived embedded (e.g. in Update{Person}).

        The caller has checked that the document comes from its own origin. Its keys replace
        the ones cached for the actor. Raises ValidationError for an unusable or local document.
        """
        actor_id = document.get("id")
        if isinstance(actor_id, str) and self._urls.is_local(actor_id):
            raise ValidationError("a local actor cannot be stored as a remote one")
        row, keys = parse_actor(document, now=self._clock.now())
        await store.save(self._db, row, keys)
        self._keys.forget_owner(row.id)
        return RemoteActor.from_row(row)

    async def mark_deleted(self, actor_id: str) -> None:
        """Record that a remote actor is gone; its keys are forgotten."""
        if self._urls.is_local(actor_id):
            raise ValidationError("a local actor cannot be marked deleted from outside")
        await store.mark_deleted(
            self._db, actor_id, domain=authority(actor_id), now=self._clock.now()
        )
        self._keys.forget_owner(actor_id)

    async def set_moved_to(self, actor_id: str, target: str | None) -> None:
        """Record that a cached remote actor moved to ``target`` (None to clear)."""
        await store.set_moved_to(self._db, actor_id, target)

    async def _fetch(self, url: str) -> RemoteActor:
        try:
            document = await self._http.fetch_json(url)
        except Gone:
            await self.mark_deleted(url)
            raise
        if is_tombstone(document):
            await self.mark_deleted(url)
            raise Gone(f"actor {url} is a Tombstone")
        row, keys = parse_actor(document, now=self._clock.now(), fetched_from=url)
        await store.save(self._db, row, keys)
        self._keys.forget_owner(row.id)
        return RemoteActor.from_row(row)

    async def _local_actor(self, actor_id: str) -> RemoteActor:
        name = self._urls.local_actor_name(actor_id)
        # Fresh: a Move to a local account is checked against the aliases it has now.
        actor = await self._local.get(name, fresh=True) if name else None
        if actor is None:
            raise NotFound(f"no local actor {actor_id}")
        document = actor_document(actor, self._urls)
        return RemoteActor(
            id=document["id"],
            type=document["type"],
            preferred_username=document["preferredUsername"],
            domain=self._config.instance.domain,
            inbox=document["inbox"],
            shared_inbox=self._urls.shared_inbox,
            followers=document["followers"],
            url=document["url"],
            document=document,
            moved_to=actor.row.moved_to,
        )


def remote_actors(app: web.Application) -> RemoteActors:
    """The application's remote actor service."""
    return cast(RemoteActors, app[appkeys.REMOTE_ACTORS])

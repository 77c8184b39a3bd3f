"""Inbox layer: the receive fast path of `POST /users/{name}/inbox` and `POST /inbox`.

In order, each step cheaper than the next (DESIGN.md §2): size cap (413, from Content-Length
before reading, and while reading) → content type (415) → JSON and required fields (400) →
the local actor exists (404) → blocked domain or actor (202, stored as `dropped`) → HTTP
signature (401 with the reason) → key owner is the actor, unless the document proves itself
(forwarding) (401 `not_owner`) → the activity id is on the actor's origin (400) → stored,
deduplicated by id, in a grouped transaction → 202. No JSON-LD processing, no HTML sanitising
and no fetch happen here when the key is cached: the worker does the rest.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from aiohttp import web

from actors.local import LocalActors
from fedsocial.config import Config
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.verify import VerifiedSignature
from fedsocial.errors import (
    BadRequest,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    SignatureError,
    ValidationError,
)
from fedsocial.federation.domain_blocks import DomainBlocks
from fedsocial.federation.key_resolver import KeyResolver
from fedsocial.storage.inbox_queue import NewActivity
from fedsocial.urls import INSTANCE_ACTOR_NAME, Urls
from inbox.batch_writer import BatchWriter
from inbox.block_cache import BlockCache
from inbox.forwarding import proven_by_actor
from inbox.origins import Origins
from inbox.request_checks import Envelope, check_content_type, parse_activity

log = logging.getLogger("fedsocial.inbox")

MAX_BODY = 1024 * 1024
BODY_SECONDS = 30.0
_CHUNK = 64 * 1024


async def read_capped(request: web.Request, *, limit: int = MAX_BODY) -> bytes:
    """Read the body, refusing (413) as soon as it is known to exceed `limit` bytes, and (408)
    when it has not all come within BODY_SECONDS."""
    seconds = BODY_SECONDS
    try:
        async with asyncio.timeout(seconds):
            return await _read_capped(request, limit=limit)
    except TimeoutError as exc:
        # A peer that declares a body and stalls must not hold a connection and a handler
        # forever (aiohttp has no body timeout of its own).
        raise RequestTimeout(f"the body did not arrive within {seconds:g} s") from exc


async def _read_capped(request: web.Request, *, limit: int) -> bytes:
    declared = request.content_length
    if declared is not None:
        if declared > limit:
            raise PayloadTooLarge(f"the body is {declared} bytes; the limit is {limit}")
        if declared == 0:
            return b""
        try:
            return await request.content.readexactly(declared)
        except asyncio.IncompleteReadError as exc:
            raise BadRequest(
                f"the body ended after {len(exc.partial)} of {declared} declared bytes"
            ) from exc
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


@dataclass(frozen=True, slots=True)
class Receiver:
    """Checks and stores incoming activities; one per application."""

    config: Config
    urls: Urls
    local_actors: LocalActors
    domain_blocks: DomainBlocks
    key_resolver: KeyResolver
    actor_blocks: BlockCache
    writer: BatchWriter
    origins: Origins

    async def personal(self, request: web.Request) -> web.Response:
        """POST /users/{name}/inbox."""
        return await self._receive(request, request.match_info["name"])

    async def instance(self, request: web.Request) -> web.Response:
        """POST /actor/inbox (the instance actor's inbox, used by relays)."""
        return await self._receive(request, INSTANCE_ACTOR_NAME)

    async def shared(self, request: web.Request) -> web.Response:
        """POST /inbox."""
        return await self._receive(request, None)

    async def _receive(self, request: web.Request, name: str | None) -> web.Response:
        if request.content_length is not None and request.content_length > MAX_BODY:
            raise PayloadTooLarge(f"the body is {request.content_length} bytes; limit {MAX_BODY}")
        check_content_type(request.content_type)
        body = await read_capped(request)
        envelope = parse_activity(body)
        inbox = self.urls.shared_inbox
        if name is not None:
            if await self.local_actors.get(name) is None:
                raise NotFound(f"no local actor named {name!r}")
            inbox = self.urls.inbox(name)
        dropped = await self._blocked(envelope, name)
        if dropped is not None:
            return await self._store(envelope, inbox, signer=None, dropped=dropped)
        parts = HttpRequestParts(
            request.method, self.config.base_url + request.path_qs, request.headers, body
        )
        try:
            verified = await self.key_resolver.verify_request(parts)
        except SignatureError as exc:
            if exc.reason == "key_fetch_failed" and _deletes_itself(envelope):
                # A deleted actor's key is gone with it; Mastodon drops these quietly too.
                reason = "Delete of an actor whose key cannot be fetched"
                return await self._store(envelope, inbox, signer=None, dropped=reason)
            raise
        await self._check_owner(envelope, verified)
        if not self.origins.same_origin(envelope.activity_id, envelope.actor):
            raise ValidationError(
                f"activity id {envelope.activity_id} is not on the origin of {envelope.actor}"
            )
        return await self._store(envelope, inbox, signer=verified.owner, dropped=None)

    async def _blocked(self, envelope: Envelope, name: str | None) -> str | None:
        """Why the activity is dropped unseen, or None."""
        host, _ = self.origins.of(envelope.actor)
        if await self.domain_blocks.is_blocked(host):
            return "blocked domain"
        if name is not None and await self.actor_blocks.blocks(
            self.urls.actor(name), envelope.actor
        ):
            return "blocked actor"
        return None

    async def _check_owner(self, envelope: Envelope, verified: VerifiedSignature) -> None:
        if verified.owner == envelope.actor:
            return
        # Forwarded activities: the document must prove itself (FEP-8b32 or LD signature).
        if await proven_by_actor(
            envelope.document, envelope.actor, self._key_owner, signed_at=verified.created
        ):
            return
        raise SignatureError(
            "not_owner", f"the key {verified.key_id} does not belong to {envelope.actor}"
        )

    async def _key_owner(self, key_id: str) -> tuple[str, object]:
        resolved = await self.key_resolver.resolve(key_id)
        return resolved.owner, resolved.public_key

    async def _store(
        self, envelope: Envelope, inbox: str, *, signer: str | None, dropped: str | None
    ) -> web.Response:
        if dropped is not None:
            log.info("dropped %s %s: %s", envelope.type, envelope.activity_id, dropped)
        await self.writer.write(
            NewActivity(
                activity_id=envelope.activity_id,
                type=envelope.type,
                actor=envelope.actor,
                signer=signer,
                inbox=inbox,
                raw=envelope.raw,
                state="pending" if dropped is None else "dropped",
                last_error=dropped,
            )
        )
        return web.Response(status=202)


def _deletes_itself(envelope: Envelope) -> bool:
    obj = envelope.document.get("object")
    target = obj.get("id") if isinstance(obj, dict) else obj
    return envelope.type == "Delete" and target == envelope.actor

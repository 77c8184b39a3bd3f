"""Test helper: a loopback "remote server" that receives deliveries and verifies every signature.

It plays any number of remote actors (documents built here with real RSA keys, so the outbox's
real remote actor service can store them) and answers POSTs with a status tests choose.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from fedsocial.clock import Clock
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import PublicKey, generate_rsa_key, public_key_to_pem
from fedsocial.crypto.verify import verify_request
from fedsocial.errors import SignatureError
from tests.harness import serve_on_loopback

_SHARED_PEM = public_key_to_pem(generate_rsa_key().public_key())


@dataclass
class Received:
    """One POST the sink got."""

    path: str
    body: dict[str, Any]
    signature_ok: bool
    key_id: str | None
    date: str | None


@dataclass
class Sink:
    """A loopback server; `answer` decides each POST's status and headers."""

    clock: Clock
    keys: Callable[[str], PublicKey | None]
    received: list[Received] = field(default_factory=list)
    status: int = 202
    headers: dict[str, str] = field(default_factory=dict)
    runner: web.AppRunner | None = None
    port: int = 0
    # When set, each POST is recorded, then held until the event is set (a slow peer).
    hold: asyncio.Event | None = None
    # Set once a POST has arrived, for tests that act while a delivery is in flight.
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def base(self) -> str:
        """The sink's base URL."""
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> Sink:
        """Start listening on a free loopback port."""
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._post)
        self.runner, self.port = await serve_on_loopback(app)
        return self

    async def stop(self) -> None:
        """Stop listening."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def _post(self, request: web.Request) -> web.Response:
        body = await request.read()
        parts = HttpRequestParts("POST", self.base + request.path_qs, request.headers, body)
        try:
            verified = verify_request(parts, self.keys, now=self.clock.now())
            ok, key_id = True, verified.key_id
        except SignatureError:
            ok, key_id = False, None
        self.received.append(
            Received(request.path, json.loads(body), ok, key_id, request.headers.get("Date"))
        )
        self.arrived.set()
        if self.hold is not None:
            await self.hold.wait()
        return web.Response(status=self.status, text="sink says hi", headers=self.headers)

    def actor_document(self, name: str, *, shared_inbox: bool) -> dict[str, Any]:
        """An actor document for `name` on this sink (its key is never used to sign)."""
        actor_id = f"{self.base}/users/{name}"
        doc: dict[str, Any] = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor_id,
            "type": "Person",
            "preferredUsername": name,
            "inbox": f"{actor_id}/inbox",
            "outbox": f"{actor_id}/outbox",
            "followers": f"{actor_id}/followers",
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": _SHARED_PEM,
            },
        }
        if shared_inbox:
            doc["endpoints"] = {"sharedInbox": f"{self.base}/inbox"}
        return doc

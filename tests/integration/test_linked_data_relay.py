"""Relays (issue 6 point 6) against a small loopback relay written here, and live instances.

`LoopbackRelay` behaves like a LitePub / Mastodon ActivityRelay: it answers a Follow of Public
with an Accept signed by its actor, forwards the raw body of each Create it gets to its other
subscribers (the author's LD signature travels inside), and can Announce a post from
elsewhere. Its outgoing POSTs are queued and sent on `flush()`, so tests stay deterministic.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from actors.local import ensure_instance_actor
from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.crypto.cavage import sign_cavage
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import generate_rsa_key, public_key_to_pem
from fedsocial.crypto.ld_signature import verify_ld
from fedsocial.errors import ValidationError
from fedsocial.storage import inbox_queue, objects, relays
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.relays import subscribe
from outbox.service import outbox_of
from tests.cli_helpers import run_cli, write_cli_config
from tests.conftest import StartInstance
from tests.harness import Instance, drain, serve_on_loopback

AS = "application/activity+json"
AS_PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


class LoopbackRelay:
    """A relay on a loopback port: one actor, one inbox, a list of subscribers' inboxes."""

    def __init__(self) -> None:
        self.key = generate_rsa_key()
        self.base = ""
        self.subscribers: dict[str, str] = {}  # follower actor id -> its inbox
        self.received: list[dict[str, Any]] = []
        self._outgoing: list[tuple[str, bytes]] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._count = 0

    @property
    def actor_id(self) -> str:
        return f"{self.base}/actor"

    @property
    def inbox(self) -> str:
        return f"{self.base}/inbox"

    async def start(self) -> LoopbackRelay:
        app = web.Application()
        app.router.add_get("/actor", self._actor)
        app.router.add_post("/inbox", self._post)
        self._runner, port = await serve_on_loopback(app)
        self.base = f"http://127.0.0.1:{port}"
        self._session = aiohttp.ClientSession()
        return self

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    def _new_id(self) -> str:
        self._count += 1
        return f"{self.base}/activities/{self._count}"

    async def _actor(self, request: web.Request) -> web.Response:
        document = {
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": self.actor_id,
            "type": "Application",
            "preferredUsername": "relay",
            "inbox": self.inbox,
            "outbox": f"{self.base}/outbox",
            "followers": f"{self.base}/followers",
            "following": f"{self.base}/following",
            "publicKey": {
                "id": f"{self.actor_id}#main-key",
                "owner": self.actor_id,
                "publicKeyPem": public_key_to_pem(self.key.public_key()),
            },
        }
        return web.Response(body=json.dumps(document).encode(), content_type=AS)

    async def _post(self, request: web.Request) -> web.Response:
        assert "Signature" in request.headers  # subscribers sign what they send
        body = await request.read()
        activity = json.loads(body)
        self.received.append(activity)
        kind, sender = activity.get("type"), activity.get("actor")
        if kind == "Follow" and activity.get("object") == AS_PUBLIC:
            inbox = await self._inbox_of(sender)
            self.subscribers[sender] = inbox
            accept = {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": self._new_id(),
                "type": "Accept",
                "actor": self.actor_id,
                "object": activity,
            }
            self._outgoing.append((inbox, json.dumps(accept).encode()))
        elif kind == "Undo":
            self.subscribers.pop(sender, None)
        elif kind == "Create":
            # Relay the body as received: the author's signatures inside must keep holding.
            origin = str(sender).split("/users/", 1)[0]
            for follower, inbox in self.subscribers.items():
                if not follower.startswith(origin):
                    self._outgoing.append((inbox, body))
        return web.Response(status=202)

    async def _inbox_of(self, actor_id: str) -> str:
        assert self._session is not None
        async with self._session.get(actor_id, headers={"Accept": AS}) as resp:
            document = await resp.json(content_type=None)
        return str(document["inbox"])

    def announce(self, object_id: str) -> None:
        """Queue an Announce of `object_id` to every subscriber."""
        announce = {
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": self._new_id(),
            "type": "Announce",
            "actor": self.actor_id,
            "object": object_id,
            "to": [f"{self.base}/followers"],
            "cc": [AS_PUBLIC],
        }
        body = json.dumps(announce).encode()
        self._outgoing.extend((inbox, body) for inbox in self.subscribers.values())

    async def flush(self) -> list[int]:
        """POST every queued activity, signed by the relay actor; return the statuses."""
        assert self._session is not None
        statuses = []
        outgoing, self._outgoing = self._outgoing, []
        for url, body in outgoing:
            headers = {"Content-Type": AS}
            parts = HttpRequestParts("POST", url, headers, body)
            headers.update(
                sign_cavage(
                    parts,
                    key_id=f"{self.actor_id}#main-key",
                    private_key=self.key,
                    now=time.time(),
                )
            )
            async with self._session.post(url, data=body, headers=headers) as resp:
                statuses.append(resp.status)
        return statuses


@pytest.fixture
async def relay() -> AsyncIterator[LoopbackRelay]:
    server = await LoopbackRelay().start()
    yield server
    await server.stop()


async def _settle(relay: LoopbackRelay, *instances: Instance) -> None:
    """Deliver everything: instances to the relay, the relay's answers back, until quiet."""
    await drain(*instances)
    while await relay.flush():
        await drain(*instances)


async def test_relay_subscription_relayed_posts_and_our_posts_to_the_relay(
    start_instance: StartInstance, relay: LoopbackRelay, tmp_path: Path
) -> None:
    # Given alpha (alice) and beta (bob), and a relay
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    assert alpha.app is not None and beta.app is not None
    await alpha.add_actor("alice")
    bob_id = await beta.add_actor("bob")
    bob = await local_actors(beta.app).require("bob")
    config = write_cli_config(alpha, tmp_path)
    # When alpha's admin adds the relay from the CLI, and the server delivers the Follow
    code, out, err = await run_cli("--config", str(config), "relay", "add", relay.inbox)
    assert code == 0, err
    assert out.split("\t")[:2] == [relay.inbox, "pending"]
    await _settle(relay, alpha, beta)
    # Then the relay got the instance actor's Follow of Public, and its Accept settled the row
    follow = relay.received[0]
    assert follow["type"] == "Follow" and follow["object"] == AS_PUBLIC
    assert follow["actor"] == f"{alpha.base}/actor"
    code, out, err = await run_cli("--config", str(config), "relay", "list", "--json")
    assert code == 0, err
    assert [(r["url"], r["state"]) for r in json.loads(out)] == [(relay.inbox, "accepted")]

    # When bob posts publicly (beta is not subscribed) and the relay announces that post
    n1 = await outbox_of(beta.app).post(bob, NoteDraft(text="first", visibility=Visibility.PUBLIC))
    await drain(alpha, beta)
    relay.announce(n1)
    await _settle(relay, alpha, beta)
    # Then alpha fetched it from its own id and stored it: `fedsocial show` has it
    stored = await objects.get(alpha.db, n1)
    assert stored is not None and stored.attributed_to == bob_id
    code, out, err = await run_cli("--config", str(config), "show", n1, "--json")
    assert code == 0, err
    assert json.loads(out)["id"] == n1

    # When beta subscribes too, and bob posts publicly again
    await ensure_instance_actor(beta.db, beta.app[appkeys.CLOCK])
    await subscribe(outbox_of(beta.app), relay.inbox)
    await _settle(relay, alpha, beta)
    assert (await relays.get(beta.db, relay.inbox)) is not None
    n2 = await outbox_of(beta.app).post(bob, NoteDraft(text="second", visibility=Visibility.PUBLIC))
    await _settle(relay, alpha, beta)
    # Then beta delivered the LD-signed Create to the relay, which forwarded it to alpha:
    # HTTP-signed by the relay, accepted on bob's own signature, stored as a federated post
    create = next(a for a in relay.received if a.get("type") == "Create")
    verify_ld(create, bob.rsa_key.public_key())
    received = await inbox_queue.get(alpha.db, create["id"])
    assert received is not None and received.signer == relay.actor_id
    assert received.state == "applied"
    assert await objects.get(alpha.db, n2) is not None

    # When alice posts publicly, and privately
    alice = await local_actors(alpha.app).require("alice")
    public = await outbox_of(alpha.app).post(
        alice, NoteDraft(text="hi", visibility=Visibility.PUBLIC)
    )
    await outbox_of(alpha.app).post(alice, NoteDraft(text="psst", visibility=Visibility.FOLLOWERS))
    await _settle(relay, alpha, beta)
    # Then only the public one reached the relay, LD-signed by alice
    from_alice = [a for a in relay.received if a.get("actor") == alpha.actor_id("alice")]
    assert [a["object"]["id"] for a in from_alice if a["type"] == "Create"] == [public]
    verify_ld(from_alice[-1], alice.rsa_key.public_key())

    # When the admin removes the relay
    code, _, err = await run_cli("--config", str(config), "relay", "remove", relay.inbox)
    assert code == 0, err
    await _settle(relay, alpha, beta)
    # Then the relay got the Undo and alpha no longer lists it
    assert relay.received[-1]["type"] == "Undo"
    assert f"{alpha.base}/actor" not in relay.subscribers
    code, out, _ = await run_cli("--config", str(config), "relay", "list", "--json")
    assert json.loads(out) == []


async def test_relay_answers_are_checked(
    start_instance: StartInstance, relay: LoopbackRelay
) -> None:
    # Given alpha subscribed to the relay, and a relay that rejects
    alpha = await start_instance("alpha")
    assert alpha.app is not None
    row = await subscribe(outbox_of(alpha.app), f"{relay.actor_id}")
    # (the actor URL was given: its inbox was found in the actor document)
    assert row.inbox == relay.inbox
    await drain(alpha)
    relay._outgoing.clear()  # it never answers the Follow; it rejects instead
    reject = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": f"{relay.base}/activities/reject",
        "type": "Reject",
        "actor": relay.actor_id,
        "object": row.follow_activity_id,
    }
    relay._outgoing.append((f"{alpha.base}/actor/inbox", json.dumps(reject).encode()))
    # When the Reject arrives
    assert await relay.flush() == [202]
    await drain(alpha)
    # Then the subscription is rejected
    settled = await relays.get(alpha.db, row.url)
    assert settled is not None and settled.state == relays.REJECTED
    # And a bad relay URL is refused clearly
    with pytest.raises(ValidationError, match="absolute http"):
        await subscribe(outbox_of(alpha.app), "relay.example/inbox")

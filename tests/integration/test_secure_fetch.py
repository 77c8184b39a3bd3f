"""Secure mode between two live instances: signed GETs both ways, real HTTP, real signatures."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from actors.remote import remote_actors
from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.crypto.cavage import sign_cavage
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import generate_rsa_key
from fedsocial.federation.http_client import ACCEPT_ACTIVITY
from fedsocial.federation.setup import http_client
from fedsocial.storage import remote_actors as remote_store
from tests.conftest import StartInstance
from tests.harness import Instance

SECURE = {"instance": {"secure_mode": True}}


async def _pair(start_instance: StartInstance) -> tuple[Instance, Instance]:
    alpha = await start_instance("alpha", **SECURE)
    beta = await start_instance("beta", **SECURE)
    await alpha.add_actor("alice")
    await beta.add_actor("bob")
    return alpha, beta


async def _plain_get(url: str, *, accept: str = ACCEPT_ACTIVITY, **headers: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Accept": accept, **headers}) as response,
    ):
        return response.status, await response.text()


async def test_each_instance_fetches_and_verifies_the_others_actor(
    start_instance: StartInstance,
) -> None:
    # Given alpha and beta, both in secure mode
    alpha, beta = await _pair(start_instance)
    assert alpha.app is not None and beta.app is not None

    # When each fetches the other's actor with a signed GET, at the same time
    bob, alice = await asyncio.wait_for(
        asyncio.gather(
            remote_actors(alpha.app).get(beta.actor_id("bob")),
            remote_actors(beta.app).get(alpha.actor_id("alice")),
        ),
        timeout=10,
    )

    # Then both succeed (no deadlock), with validated actors
    assert bob.id == beta.actor_id("bob") and bob.inbox == f"{beta.actor_id('bob')}/inbox"
    assert alice.preferred_username == "alice" and alice.domain == alpha.domain
    # And each side verified the other's instance actor: its key is now cached there
    assert await remote_store.get_key(beta.db, f"{alpha.base}/actor#main-key") is not None
    assert await remote_store.get_key(alpha.db, f"{beta.base}/actor#main-key") is not None


async def test_signed_fetch_of_a_collection_and_by_a_named_actor(
    start_instance: StartInstance,
) -> None:
    # Given two secure instances
    alpha, beta = await _pair(start_instance)
    assert alpha.app is not None
    alice = await local_actors(alpha.app).require("alice")

    # When alpha fetches beta's followers collection signed by alice
    urls = alpha.app[appkeys.URLS]
    followers = await http_client(alpha.app).fetch_json(
        f"{beta.actor_id('bob')}/followers", key=alice.signing_key(urls)
    )

    # Then beta answers it
    assert followers["type"] == "OrderedCollection"


async def test_unsigned_reads_are_refused_but_discovery_stays_open(
    start_instance: StartInstance,
) -> None:
    # Given a secure instance with an actor
    alpha, _beta = await _pair(start_instance)

    # When anonymous clients read an actor's JSON, its collection, then the open endpoints
    actor_status, actor_body = await _plain_get(alpha.actor_id("alice"))
    outbox_status, _ = await _plain_get(f"{alpha.actor_id('alice')}/outbox")
    instance_status, _ = await _plain_get(f"{alpha.base}/actor")
    webfinger_status, _ = await _plain_get(
        f"{alpha.base}/.well-known/webfinger?resource=acct:alice@{alpha.domain}",
        accept="application/jrd+json",
    )
    nodeinfo_status, _ = await _plain_get(f"{alpha.base}/nodeinfo/2.1", accept="application/json")
    html_status, html = await _plain_get(alpha.actor_id("alice"), accept="text/html")

    # Then the ActivityPub reads get 401 with a reason; the instance actor, WebFinger,
    # NodeInfo and the HTML profile are served
    assert (actor_status, outbox_status) == (401, 401)
    assert '"reason": "missing"' in actor_body
    assert (instance_status, webfinger_status, nodeinfo_status) == (200, 200, 200)
    assert html_status == 200 and "alice" in html


async def test_a_forged_signature_is_refused(start_instance: StartInstance) -> None:
    # Given a secure instance, and a request signed with a key that is not alpha's instance key
    alpha, beta = await _pair(start_instance)
    url = alpha.actor_id("alice")
    parts = HttpRequestParts("GET", url, {"Accept": ACCEPT_ACTIVITY})
    forged = sign_cavage(
        parts,
        key_id=f"{beta.base}/actor#main-key",
        private_key=generate_rsa_key(),
        now=time.time(),
    )

    # When it is sent
    status, body = await _plain_get(url, **forged)

    # Then it is refused as invalid
    assert status == 401
    assert '"reason": "invalid"' in body


@pytest.mark.parametrize("path", ["/users/alice", "/users/alice/followers"])
async def test_without_secure_mode_reads_stay_anonymous(
    start_instance: StartInstance, path: str
) -> None:
    # Given an instance with secure mode off
    alpha = await start_instance("alpha")
    await alpha.add_actor("alice")

    # When an unsigned client reads
    status, _ = await _plain_get(alpha.base + path)

    # Then it is served
    assert status == 200

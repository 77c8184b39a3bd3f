"""Hostile signatures at a live inbox: replays, borrowed hosts, unsigned parameters, odd bytes.

Each test signs a real request with a loopback peer's key, bends one thing a hostile peer or a
replaying eavesdropper could bend, and POSTs it to a live instance over loopback HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from fedsocial.crypto.algorithms import RSA_V1_5_SHA256, sign_bytes
from fedsocial.crypto.cavage import format_http_date, sign_cavage, signing_string
from fedsocial.crypto.digests import digest_header
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import generate_rsa_key
from fedsocial.crypto.verify import parse_signatures, verify_signature
from fedsocial.storage import inbox_queue, remote_actors
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import AS_PUBLIC, Peer, PeerActor
from tests.harness import Instance, serve_on_loopback

HOUR = 3600.0
NOW = 1_700_000_000.0


@pytest.fixture
async def alpha(start_instance: StartInstance) -> Instance:
    instance = await start_instance("alpha")
    await instance.add_actor("alice")
    return instance


def follow(actor: PeerActor, alpha: Instance, n: int = 1) -> bytes:
    activity = {
        "id": f"{actor.id}/follows/{n}",
        "type": "Follow",
        "actor": actor.id,
        "object": alpha.actor_id("alice"),
        "to": [AS_PUBLIC],
    }
    return json.dumps(activity).encode()


def signed(actor: PeerActor, url: str, body: bytes, *, at: float, **kwargs: Any) -> dict[str, str]:
    headers = {"Content-Type": "application/activity+json"}
    parts = HttpRequestParts("POST", url, headers, body)
    headers.update(sign_cavage(parts, key_id=actor.key_id, private_key=actor.key, now=at, **kwargs))
    return headers


async def send(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        return response.status, await response.text()


async def test_a_request_signed_for_another_host_is_refused(alpha: Instance, peer: Peer) -> None:
    # Given a POST the peer signed for another server's shared inbox (Host signed)
    bob = peer.add_actor("bob")
    body = follow(bob, alpha)
    headers = signed(bob, "https://elsewhere.example/inbox", body, at=time.time())
    assert headers["Host"] == "elsewhere.example"
    # When an eavesdropper there replays it, byte for byte, to our shared inbox
    status, text = await send(f"{alpha.base}/inbox", body, headers)
    # Then it is refused: the signed Host names another server
    assert status == 401, text
    assert "host" in text.lower()
    assert await inbox_queue.get(alpha.db, json.loads(body)["id"]) is None


@pytest.mark.parametrize("host", ["local.example:443", "LOCAL.example", "local.example:0443"])
def test_a_host_with_its_default_port_or_in_capitals_still_verifies(host: str) -> None:
    # Given a signer that wrote our Host with the default port or in capitals, as some do
    key = generate_rsa_key()
    url = "https://local.example/inbox"
    headers = {"Content-Type": "application/activity+json", "Host": host}
    parts = HttpRequestParts("POST", url, headers, b"{}")
    parts = parts.with_headers(
        sign_cavage(parts, key_id="https://r.example/k", private_key=key, now=NOW)
    )
    # When it is verified
    verified = verify_signature(parts, parse_signatures(parts)[0], key.public_key(), now=NOW)
    # Then it passes: that is still this server
    assert verified.key_id == "https://r.example/k"


@pytest.mark.parametrize("extra", ["expires=nan", f"expires={int(time.time()) + 6 * 3600}"])
async def test_an_unsigned_expires_does_not_stretch_the_window(
    alpha: Instance, peer: Peer, extra: str
) -> None:
    # Given a request signed two hours ago (Date signed, expires not)
    bob = peer.add_actor("bob")
    body = follow(bob, alpha)
    headers = signed(bob, f"{alpha.base}/inbox", body, at=time.time() - 2 * HOUR)
    # When a replayer adds an expires parameter the signature does not cover
    headers["Signature"] += f",{extra}"
    status, text = await send(f"{alpha.base}/inbox", body, headers)
    # Then the request is still too old (or, for nan, not readable)
    assert status == 401, text
    assert "stale" in text or "expired" in text or "finite" in text


async def test_an_unsigned_created_does_not_move_the_start(alpha: Instance, peer: Peer) -> None:
    # Given an hs2019 request signed two hours ago with the Date header, not (created)
    bob = peer.add_actor("bob")
    body = follow(bob, alpha)
    headers = signed(bob, f"{alpha.base}/inbox", body, at=time.time() - 2 * HOUR)
    headers["Signature"] = headers["Signature"].replace('"rsa-sha256"', '"hs2019"')
    # When a replayer adds a fresh created parameter that the signature does not cover
    headers["Signature"] += f",created={int(time.time())}"
    status, text = await send(f"{alpha.base}/inbox", body, headers)
    # Then the Date decides, and it is too old
    assert status == 401, text
    assert "stale" in text or "expired" in text


async def test_a_signed_nan_created_is_refused(alpha: Instance, peer: Peer) -> None:
    # Given an hs2019 request whose signed (created) and (expires) are "nan", which compares
    # false with every instant
    bob = peer.add_actor("bob")
    body = follow(bob, alpha)
    url = f"{alpha.base}/inbox"
    headers = {
        "Content-Type": "application/activity+json",
        "Host": alpha.domain,
        "Digest": digest_header(body),
    }
    names = ["(request-target)", "host", "digest", "(created)", "(expires)"]
    parts = HttpRequestParts("POST", url, headers, body)
    text, _ = signing_string(parts, names, created="nan", expires="nan")
    signature = base64.b64encode(sign_bytes(bob.key, RSA_V1_5_SHA256, text.encode())).decode()
    headers["Signature"] = (
        f'keyId="{bob.key_id}",algorithm="hs2019",created=nan,expires=nan,'
        f'headers="{" ".join(names)}",signature="{signature}"'
    )
    # When it is posted
    status, answer = await send(url, body, headers)
    # Then it is refused as unreadable, not accepted forever
    assert status == 401, answer
    assert "finite" in answer


async def raw_post(alpha: Instance, head: bytes, body: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", alpha.port)
    writer.write(head + body)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(65536), 10)
    writer.close()
    await writer.wait_closed()
    return answer


async def test_a_signed_header_that_is_not_utf8_is_a_401(alpha: Instance, peer: Peer) -> None:
    # Given a signed POST whose signed header list names a header carrying a byte that is not
    # UTF-8 (aiohttp hands it on as a surrogate escape)
    bob = peer.add_actor("bob")
    body = follow(bob, alpha)
    headers = signed(bob, f"{alpha.base}/inbox", body, at=time.time())
    headers["Signature"] = headers["Signature"].replace('digest"', 'digest x-odd"')
    lines = b"".join(f"{k}: {v}\r\n".encode() for k, v in headers.items())
    head = (
        b"POST /inbox HTTP/1.1\r\n"
        + lines
        + b"X-Odd: caf\xe9\r\n"
        + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
    )
    # When it is posted
    answer = await raw_post(alpha, head, body)
    # Then the answer is a 401 with a reason, not a 500
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]


async def redirector(to: str) -> tuple[web.AppRunner, str]:
    """A server whose every GET redirects to ``to`` (an open redirect on an honest host)."""

    async def answer(request: web.Request) -> web.Response:
        raise web.HTTPFound(to)

    return await answering(answer)


async def answering(
    answer: Callable[[web.Request], Awaitable[web.Response]],
) -> tuple[web.AppRunner, str]:
    app = web.Application()
    app.router.add_get("/{path:.*}", answer)
    runner, port = await serve_on_loopback(app)
    return runner, f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("served", ["actor", "tombstone", "gone"])
async def test_a_key_behind_a_redirect_to_another_host_is_not_trusted(
    alpha: Instance, peer: Peer, served: str
) -> None:
    # Given an honest host that redirects to the attacker's server, which serves a document
    # claiming the id of an actor of the honest host (with the attacker's key, or a Tombstone),
    # or answers 410 Gone
    mallory = peer.add_actor("mallory")
    gone, gone_base = await answering(_gone)
    target = f"{gone_base}/forged" if served == "gone" else peer.url("/forged")
    runner, honest = await redirector(target)
    try:
        victim = f"{honest}/users/victim"
        forged = mallory.document() | {"id": victim, "inbox": f"{victim}/inbox"}
        forged["publicKey"] |= {"id": f"{victim}#main-key", "owner": victim}
        if served == "tombstone":
            forged = {"id": victim, "type": "Tombstone"}
        peer.documents[peer.url("/forged")] = forged
        activity = {
            "id": f"{victim}/follows/1",
            "type": "Follow",
            "actor": victim,
            "object": alpha.actor_id("alice"),
        }
        body = json.dumps(activity).encode()
        headers = peer.signed_headers(
            mallory, f"{alpha.base}/inbox", body, key_id=f"{victim}#main-key"
        )
        # When the attacker posts as the victim, naming the victim's key
        status, text = await send(f"{alpha.base}/inbox", body, headers)
        # Then the key is not trusted, and nothing is recorded about the victim
        assert status == 401, text
        assert await remote_actors.get(alpha.db, victim) is None
    finally:
        await runner.cleanup()
        await gone.cleanup()


async def _gone(_request: web.Request) -> web.Response:
    return web.Response(status=410)


async def test_a_request_with_many_signatures_fetches_no_key(alpha: Instance) -> None:
    # Given a key server that counts the key fetches it is asked for
    fetched: list[str] = []

    async def count(request: web.Request) -> web.Response:
        fetched.append(request.path)
        return web.Response(status=404)

    runner, keys = await answering(count)
    try:
        # When a POST carries 40 RFC 9421 signatures, each naming another key on that server
        body = b'{"id": "https://x.example/1", "type": "Follow", "actor": "https://x.example/u"}'
        created = int(time.time())
        inputs = ", ".join(
            f'l{i}=("@method" "@target-uri" "content-digest");created={created};keyid="{keys}/k{i}"'
            for i in range(40)
        )
        signatures = ", ".join(f"l{i}=:AAAA:" for i in range(40))
        headers = {
            "Content-Type": "application/activity+json",
            "Signature-Input": inputs,
            "Signature": signatures,
        }
        status, text = await send(f"{alpha.base}/inbox", body, headers)
        # Then it is refused at once, without fetching a key per signature
        assert status == 401, text
        assert "signatures" in text
        assert fetched == []
    finally:
        await runner.cleanup()


@pytest.mark.parametrize(
    "key_id",
    [b"http://127.0.0.1:9/caf\xe9#key", b"http://" + b"a" * 300 + b".example/key"],
    ids=["not-utf8", "host-label-over-63"],
)
async def test_an_unusable_key_id_is_a_401(alpha: Instance, key_id: bytes) -> None:
    # Given a signed-looking POST whose keyId holds a byte that is not UTF-8, or names a host
    # no resolver accepts (a label over 63 characters)
    body = b'{"id": "http://127.0.0.1:9/1", "type": "Follow", "actor": "http://127.0.0.1:9/u"}'
    signature = (
        b'keyId="' + key_id + b'",algorithm="rsa-sha256",'
        b'headers="(request-target) host date digest",signature="AAAA"'
    )
    head = (
        b"POST /inbox HTTP/1.1\r\nHost: "
        + alpha.domain.encode()
        + b"\r\nContent-Type: application/activity+json\r\nDate: "
        + format_http_date(time.time()).encode()
        + b"\r\nDigest: "
        + digest_header(body).encode()
        + b"\r\nSignature: "
        + signature
        + f"\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
    )
    # When it is posted
    answer = await raw_post(alpha, head, body)
    # Then the answer is a 401 with the reason, not a 500
    assert answer.startswith(b"HTTP/1.1 401"), answer[:300]

"""RSA signatures made in the HTTP client's signing threads: same bytes, verified, closed."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fedsocial.clock import FixedClock
from fedsocial.crypto.cavage import format_http_date, sign_cavage
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import generate_ed25519_key
from fedsocial.crypto.verify import verify_request
from fedsocial.errors import SignatureError
from fedsocial.federation.outgoing_signatures import prepare_cavage, rsa_sha256
from fedsocial.federation.signing import SigningKey
from tests.unit.federation.conftest import OpenServices, request_parts

AiohttpServer = Any
RESULTS = web.AppKey("results", list[tuple[str, str]])

SIGNER_PREFIX = "fedsocial-sign"


async def _verifying_peer(aiohttp_server: AiohttpServer, key: SigningKey, clock: FixedClock) -> Any:
    """A peer that verifies every request's signature; logs (path, "ok" or the failure reason)."""
    results: list[tuple[str, str]] = []

    async def handler(request: web.Request) -> web.Response:
        parts = request_parts(request, await request.read())
        try:
            verify_request(parts, lambda _key_id: key.private_key.public_key(), now=clock.now())
        except SignatureError as exc:
            results.append((request.path, exc.reason))
            return web.Response(status=401)
        results.append((request.path, "ok"))
        return web.Response(status=202)

    app = web.Application()
    app[RESULTS] = results
    app.router.add_route("*", "/{tail:.*}", handler)
    return await aiohttp_server(app)


def test_prepared_cavage_signs_the_same_bytes_as_sign_cavage(signing_key: SigningKey) -> None:
    # Given a POST with a body and a GET with an Accept header, at one instant
    now = 1_700_000_000.0
    requests = [
        ("POST", "https://remote.example/users/a/inbox", {"Content-Type": "x"}, b'{"a": 1}'),
        ("GET", "https://remote.example/users/a?page=2", {"Accept": "application/json"}, b""),
    ]
    for method, url, headers, body in requests:
        # When they are signed in two steps (prepare on the loop, RSA in a thread)
        prepared = prepare_cavage(method, url, headers, body, key_id=signing_key.key_id, now=now)
        assert isinstance(signing_key.private_key, RSAPrivateKey)
        two_steps = prepared.headers(rsa_sha256(signing_key.private_key, prepared.signing_string))

        # Then the headers are exactly sign_cavage's (RSASSA-PKCS1-v1_5 is deterministic)
        parts = HttpRequestParts(method, url, headers, body)
        expected = sign_cavage(
            parts, key_id=signing_key.key_id, private_key=signing_key.private_key, now=now
        )
        assert two_steps == expected
        assert two_steps["Date"] == format_http_date(now)


async def test_concurrent_posts_signed_in_threads_all_verify_with_fresh_dates(
    open_services: OpenServices,
    signing_key: SigningKey,
    clock: FixedClock,
    aiohttp_server: AiohttpServer,
) -> None:
    # Given a verifying peer and a client
    peer = await _verifying_peer(aiohttp_server, signing_key, clock)
    client = (await open_services()).http
    body = json.dumps({"type": "Create", "id": "https://local.test/a/1"}).encode()

    # When 24 activities are posted at once, then one more a minute later
    base = f"http://127.0.0.1:{peer.port}"
    results = await asyncio.gather(
        *(client.post(f"{base}/users/u{n}/inbox", body, key=signing_key) for n in range(24))
    )
    clock.advance(60)
    later = await client.post(f"{base}/inbox", body, key=signing_key)

    # Then every signature made in the signing threads verified, each for its own inbox
    assert [r.status for r in results] == [202] * 24
    assert later.status == 202
    assert sorted(peer.app[RESULTS]) == sorted(
        [(f"/users/u{n}/inbox", "ok") for n in range(24)] + [("/inbox", "ok")]
    )


async def test_ed25519_keys_are_signed_on_the_loop_and_verify(
    open_services: OpenServices, clock: FixedClock, aiohttp_server: AiohttpServer
) -> None:
    # Given an Ed25519 key (hs2019) and a peer verifying with it
    key = SigningKey("https://local.test/actor#ed-key", generate_ed25519_key())
    peer = await _verifying_peer(aiohttp_server, key, clock)
    client = (await open_services()).http

    # When an activity is posted
    result = await client.post(f"http://127.0.0.1:{peer.port}/inbox", b"{}", key=key)

    # Then it verified
    assert result.status == 202
    assert peer.app[RESULTS] == [("/inbox", "ok")]


async def test_close_stops_the_signing_threads(
    open_services: OpenServices,
    signing_key: SigningKey,
    clock: FixedClock,
    aiohttp_server: AiohttpServer,
) -> None:
    # Given a client whose signing threads have started (it signed a POST)
    peer = await _verifying_peer(aiohttp_server, signing_key, clock)
    client = (await open_services()).http
    before = {t for t in threading.enumerate() if t.name.startswith(SIGNER_PREFIX)}
    await client.post(f"http://127.0.0.1:{peer.port}/inbox", b"{}", key=signing_key)
    started = {t for t in threading.enumerate() if t.name.startswith(SIGNER_PREFIX)} - before
    assert started

    # When the client is closed
    await client.close()

    # Then its signing threads have ended
    assert not any(thread.is_alive() for thread in started)

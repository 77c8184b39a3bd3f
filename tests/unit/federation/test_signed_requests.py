"""Signed GET and POST: what is signed, the double-knock between schemes, and its memory."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fedsocial.clock import FixedClock
from fedsocial.crypto.cavage import format_http_date
from fedsocial.crypto.verify import parse_signatures, verify_signature
from fedsocial.errors import SignatureError
from fedsocial.federation.signing import SigningKey
from fedsocial.storage import hosts
from fedsocial.storage.database import Database
from tests.unit.federation.conftest import OpenServices, request_parts

AiohttpServer = Any
LOG = web.AppKey("log", list[tuple[str, str]])
DATES = web.AppKey("dates", list[str])


async def _gatekeeper(
    aiohttp_server: AiohttpServer, key: SigningKey, clock: FixedClock, *, accepts: str
) -> Any:
    """A peer that accepts only signatures of scheme ``accepts`` by ``key``; logs each attempt."""
    log: list[tuple[str, str]] = []
    dates: list[str] = []

    async def handler(request: web.Request) -> web.Response:
        dates.append(request.headers.get("Date", ""))
        body = await request.read()
        parts = request_parts(request, body)
        try:
            signatures = parse_signatures(parts)
        except SignatureError:
            log.append(("none", "refused"))
            return web.Response(status=401)
        for sig in signatures:
            if sig.scheme != accepts:
                continue
            verify_signature(parts, sig, key.private_key.public_key(), now=clock.now())
            log.append((sig.scheme, "accepted"))
            headers = {"Retry-After": "30"} if request.path == "/busy" else {}
            status = 429 if request.path == "/busy" else 200 if request.method == "GET" else 202
            return web.json_response({"ok": True}, status=status, headers=headers)
        log.append((signatures[0].scheme, "refused"))
        return web.Response(status=401, text="signature refused")

    app = web.Application()
    app[LOG] = log
    app[DATES] = dates
    app.router.add_route("*", "/{tail:.*}", handler)
    return await aiohttp_server(app)


async def test_rfc9421_first_then_remembered(
    open_services: OpenServices,
    db: Database,
    signing_key: SigningKey,
    clock: FixedClock,
    aiohttp_server: AiohttpServer,
) -> None:
    # Given a peer that takes only RFC 9421 and a client configured to try it first
    peer = await _gatekeeper(aiohttp_server, signing_key, clock, accepts="rfc9421")
    client = (await open_services(rfc9421_first=True)).http

    # When the client fetches a document signed by our key
    document = await client.fetch_json(f"http://127.0.0.1:{peer.port}/doc", key=signing_key)

    # Then one request was enough, and the host is remembered as RFC 9421
    assert document == {"ok": True}
    assert peer.app[LOG] == [("rfc9421", "accepted")]
    assert await hosts.get_signature_scheme(db, f"127.0.0.1:{peer.port}") == "rfc9421"


async def test_cavage_refused_knocks_again_with_rfc9421_and_remembers(
    open_services: OpenServices,
    signing_key: SigningKey,
    clock: FixedClock,
    aiohttp_server: AiohttpServer,
) -> None:
    # Given a peer that refuses draft-cavage with 401 and takes RFC 9421, and a default client
    peer = await _gatekeeper(aiohttp_server, signing_key, clock, accepts="rfc9421")
    client = (await open_services()).http
    url = f"http://127.0.0.1:{peer.port}/doc"

    # When the client fetches twice, and a fresh client on the same database fetches once more
    await client.fetch_json(url, key=signing_key)
    await client.fetch_json(url, key=signing_key)
    await (await open_services()).http.fetch_json(url, key=signing_key)

    # Then only the very first fetch needed a second knock
    assert peer.app[LOG] == [
        ("cavage", "refused"),
        ("rfc9421", "accepted"),
        ("rfc9421", "accepted"),
        ("rfc9421", "accepted"),
    ]


async def test_rfc9421_refused_falls_back_to_cavage_and_remembers(
    open_services: OpenServices,
    db: Database,
    signing_key: SigningKey,
    clock: FixedClock,
    aiohttp_server: AiohttpServer,
) -> None:
    # Given a peer that takes only draft-cavage and a client that tries RFC 9421 first
    peer = await _gatekeeper(aiohttp_server, signing_key, clock, accepts="cavage")
    client = (await open_services(rfc9421_first=True)).http
    url = f"http://127.0.0.1:{peer.port}/doc"

    # When the client fetches twice
    await client.fetch_json(url, key=signing_key)
    await client.fetch_json(url, key=signing_key)

    # Then it fell back to cavage once and went straight to it afterwards
    assert peer.app[LOG] == [("rfc9421", "refused"), ("cavage", "accepted"), ("cavage", "accepted")]
    assert await hosts.get_signature_scheme(db, f"127.0.0.1:{peer.port}") == "cavage"


async def test_post_is_signed_now_with_a_digest_and_double_knocks(
    open_services: OpenServices,
    signing_key: SigningKey,
    clock: FixedClock,
    aiohttp_server: AiohttpServer,
) -> None:
    # Given a peer taking only RFC 9421 (so content-digest must match the body)
    peer = await _gatekeeper(aiohttp_server, signing_key, clock, accepts="rfc9421")
    client = (await open_services()).http
    body = json.dumps({"type": "Follow", "id": "https://local.test/a/1"}).encode()

    # When an activity is posted
    result = await client.post(f"http://127.0.0.1:{peer.port}/inbox", body, key=signing_key)

    # Then the cavage attempt was refused and the RFC 9421 one accepted, and the result says so
    assert (result.status, result.scheme, result.retry_after) == (202, "rfc9421", None)
    assert json.loads(result.excerpt) == {"ok": True}
    assert peer.app[LOG] == [("cavage", "refused"), ("rfc9421", "accepted")]


async def test_post_dates_each_attempt_from_the_clock_and_returns_statuses(
    open_services: OpenServices,
    signing_key: SigningKey,
    clock: FixedClock,
    aiohttp_server: AiohttpServer,
) -> None:
    # Given a cavage peer answering 429 with Retry-After on /busy
    peer = await _gatekeeper(aiohttp_server, signing_key, clock, accepts="cavage")
    client = (await open_services()).http
    start = clock.now()

    # When the client posts, then posts again 30 seconds later
    first = await client.post(f"http://127.0.0.1:{peer.port}/busy", b"{}", key=signing_key)
    clock.advance(30)
    second = await client.post(f"http://127.0.0.1:{peer.port}/inbox", b"{}", key=signing_key)

    # Then the 429 is returned (not raised) with its delay, and each attempt was signed anew
    assert (first.status, first.retry_after, first.scheme) == (429, 30.0, "cavage")
    assert second.status == 202
    assert peer.app[LOG] == [("cavage", "accepted"), ("cavage", "accepted")]
    assert peer.app[DATES] == [format_http_date(start), format_http_date(start + 30)]

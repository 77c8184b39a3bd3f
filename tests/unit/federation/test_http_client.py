"""The outgoing HTTP client: SSRF guard, scheme and domain refusals, caps, timeouts, redirects."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from fedsocial.errors import BlockedAddress, FetchError, Gone, NotFound
from fedsocial.federation.addresses import ForbiddenAddressError, GuardedResolver, forbidden_reason
from fedsocial.federation.http_client import MAX_BODY, HttpClient, connection_limit
from fedsocial.federation.responses import parse_retry_after
from fedsocial.storage import domain_blocks
from fedsocial.storage.database import Database
from tests.unit.federation.conftest import OpenServices, make_config

AiohttpServer = Any
SEEN = web.AppKey("seen", list[web.Request])


async def _peer(aiohttp_server: AiohttpServer, routes: dict[str, Any]) -> TestServer:
    app = web.Application()
    seen: list[web.Request] = []
    app[SEEN] = seen

    @web.middleware
    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        seen.append(request)
        return await handler(request)

    app.middlewares.append(record)
    for path, handler in routes.items():
        app.router.add_route("*", path, handler)
    server: TestServer = await aiohttp_server(app)
    return server


async def _json(request: web.Request) -> web.Response:
    return web.json_response({"id": str(request.url)}, content_type="application/activity+json")


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("100.64.0.1", "reserved"),
    ],
)
def test_every_non_public_address_class_is_refused(address: str, reason: str) -> None:
    # Given an address of a class outgoing requests must not reach
    # When the guard judges it
    # Then it names the class
    assert forbidden_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "::ffff:8.8.8.8"])
def test_public_addresses_pass(address: str) -> None:
    # Given a public address / When judged / Then nothing is wrong with it
    assert forbidden_reason(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/x",
        "https://10.0.0.8/x",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/x",
        "https://[::ffff:127.0.0.1]/x",
        "https://[fe80::1]/x",
        "https://224.0.0.1/x",
        "https://0.0.0.0/x",
    ],
)
async def test_literal_ip_hosts_are_refused_before_connecting(
    open_services: OpenServices, url: str
) -> None:
    # Given a client with the SSRF guard on
    client = (await open_services(allow_private_addresses=False)).http

    # When it is asked for a literal non-public address / Then it refuses
    with pytest.raises(BlockedAddress):
        await client.fetch_json(url)


async def test_a_name_resolving_to_loopback_is_refused_at_connect_time(
    open_services: OpenServices, aiohttp_server: AiohttpServer
) -> None:
    # Given a live peer on loopback and a guarded client
    peer = await _peer(aiohttp_server, {"/doc": _json})
    client = (await open_services(allow_private_addresses=False)).http

    # When the client asks for it by a name that resolves to 127.0.0.1
    with pytest.raises(BlockedAddress, match="loopback"):
        await client.fetch_json(f"http://localhost:{peer.port}/doc")

    # Then no request ever reached the peer
    assert peer.app[SEEN] == []


class _ScriptedResolver(AbstractResolver):
    """Answers DNS queries from a script, one answer list per call (a rebinding attacker)."""

    def __init__(self, *answers: list[str]) -> None:
        self._answers = list(answers)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        addresses = self._answers.pop(0)
        return [
            ResolveResult(hostname=host, host=a, port=port, family=family, proto=0, flags=0)
            for a in addresses
        ]

    async def close(self) -> None:
        return None


async def test_the_guard_filters_every_resolution_so_rebinding_fails() -> None:
    # Given a name that first resolves to a public and a private address, then only to loopback
    guard = GuardedResolver(_ScriptedResolver(["93.184.216.34", "10.0.0.1"], ["127.0.0.1"]))

    # When it is resolved twice
    first = await guard.resolve("rebind.example", 443)

    # Then the first answer keeps only the public address, and the second is refused outright
    assert [r["host"] for r in first] == ["93.184.216.34"]
    with pytest.raises(ForbiddenAddressError):
        await guard.resolve("rebind.example", 443)


async def test_private_addresses_are_reached_when_allowed(
    client: HttpClient, aiohttp_server: AiohttpServer
) -> None:
    # Given a loopback peer and a client with allow_private_addresses
    peer = await _peer(aiohttp_server, {"/doc": _json})

    # When the client fetches from it by name and by literal address
    by_name = await client.fetch_json(f"http://localhost:{peer.port}/doc")
    by_ip = await client.fetch_json(f"http://127.0.0.1:{peer.port}/doc")

    # Then both answer
    assert by_name["id"].endswith("/doc") and by_ip["id"].endswith("/doc")


async def test_http_is_refused_unless_allowed(
    open_services: OpenServices, aiohttp_server: AiohttpServer
) -> None:
    # Given a peer and a client with allow_http off
    peer = await _peer(aiohttp_server, {"/doc": _json})
    client = (await open_services(allow_http=False)).http

    # When it is asked for an http:// URL / Then it refuses without connecting
    with pytest.raises(BlockedAddress, match="allow_http"):
        await client.fetch_json(f"http://127.0.0.1:{peer.port}/doc")
    assert peer.app[SEEN] == []


async def test_blocked_domains_are_refused(
    open_services: OpenServices, db: Database, aiohttp_server: AiohttpServer
) -> None:
    # Given a domain blocked in the config and one blocked in the database
    peer = await _peer(aiohttp_server, {"/doc": _json})
    await domain_blocks.add(db, "localhost", now=0)
    services = await open_services(blocked=("blocked.example",))

    # When the client is asked for either (or a subdomain) / Then it refuses
    with pytest.raises(BlockedAddress, match="blocked"):
        await services.http.fetch_json("https://sub.blocked.example/doc")
    with pytest.raises(BlockedAddress, match="blocked"):
        await services.http.fetch_json(f"http://localhost:{peer.port}/doc")
    assert peer.app[SEEN] == []


async def test_user_agent_and_accept_are_sent(
    client: HttpClient, aiohttp_server: AiohttpServer
) -> None:
    # Given a peer
    peer = await _peer(aiohttp_server, {"/doc": _json})

    # When the client fetches a document
    await client.fetch_json(f"http://127.0.0.1:{peer.port}/doc")

    # Then it says who it is and asks for ActivityStreams
    request = peer.app[SEEN][0]
    assert request.headers["User-Agent"] == make_config().user_agent
    assert request.headers["User-Agent"].startswith("fedsocial/")
    assert request.headers["Accept"].startswith("application/activity+json")


async def test_bodies_over_one_mebibyte_are_refused(
    client: HttpClient, aiohttp_server: AiohttpServer
) -> None:
    # Given a peer answering a declared and an undeclared (streamed) body over 1 MiB
    async def declared(_request: web.Request) -> web.Response:
        return web.Response(body=b" " * (MAX_BODY + 1), content_type="application/json")

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(20):
            await response.write(b" " * 65536)
        await response.write_eof()
        return response

    peer = await _peer(aiohttp_server, {"/declared": declared, "/streamed": streamed})

    # When the client fetches them / Then both are refused
    for path in ("/declared", "/streamed"):
        with pytest.raises(FetchError, match="over"):
            await client.fetch_json(f"http://127.0.0.1:{peer.port}{path}")


async def test_a_peer_that_never_answers_times_out(
    open_services: OpenServices, aiohttp_server: AiohttpServer
) -> None:
    # Given a peer that never answers and a short timeout
    async def hang(_request: web.Request) -> web.Response:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    peer = await _peer(aiohttp_server, {"/hang": hang})
    client = (await open_services(request_timeout=0.2)).http

    # When the client fetches / Then it gives up with a network-level FetchError
    with pytest.raises(FetchError, match="timed out") as caught:
        await client.fetch_json(f"http://127.0.0.1:{peer.port}/hang")
    assert caught.value.status_code is None


async def test_redirects_are_followed_at_most_three_times(
    client: HttpClient, aiohttp_server: AiohttpServer
) -> None:
    # Given a peer where /r/N redirects to /r/N-1 and /r/0 is the document
    async def hop(request: web.Request) -> web.StreamResponse:
        n = int(request.match_info["n"])
        if n == 0:
            return await _json(request)
        raise web.HTTPFound(f"/r/{n - 1}")

    app = web.Application()
    app.router.add_get("/r/{n}", hop)
    peer = await aiohttp_server(app)

    # When the client follows three redirects, then four
    document = await client.fetch_json(f"http://127.0.0.1:{peer.port}/r/3")

    # Then three are fine and four are too many
    assert document["id"].endswith("/r/0")
    with pytest.raises(FetchError, match="redirects"):
        await client.fetch_json(f"http://127.0.0.1:{peer.port}/r/4")


async def test_a_redirect_to_a_refused_destination_is_refused(
    open_services: OpenServices, aiohttp_server: AiohttpServer
) -> None:
    # Given a peer that redirects to a blocked domain
    async def away(_request: web.Request) -> web.Response:
        raise web.HTTPFound("https://evil.example/doc")

    peer = await _peer(aiohttp_server, {"/away": away})
    client = (await open_services(blocked=("evil.example",))).http

    # When the client follows it / Then the hop is refused
    with pytest.raises(BlockedAddress):
        await client.fetch_json(f"http://127.0.0.1:{peer.port}/away")


@pytest.mark.parametrize(
    ("status", "body", "content_type", "error"),
    [
        (404, b"{}", "application/json", NotFound),
        (410, b"{}", "application/json", Gone),
        (500, b"{}", "application/json", FetchError),
        (200, b"<html></html>", "text/html", FetchError),
        (200, b"{not json", "application/activity+json", FetchError),
        (200, b"[1, 2]", "application/activity+json", FetchError),
    ],
)
async def test_fetch_json_maps_bad_answers_to_errors(
    client: HttpClient,
    aiohttp_server: AiohttpServer,
    status: int,
    body: bytes,
    content_type: str,
    error: type[Exception],
) -> None:
    # Given a peer answering badly
    async def answer(_request: web.Request) -> web.Response:
        return web.Response(status=status, body=body, content_type=content_type)

    peer = await _peer(aiohttp_server, {"/doc": answer})

    # When the client fetches / Then the right error is raised
    with pytest.raises(error):
        await client.fetch_json(f"http://127.0.0.1:{peer.port}/doc")


async def test_fetch_json_of_a_deeply_nested_document_is_a_fetch_error(
    client: HttpClient, aiohttp_server: AiohttpServer
) -> None:
    # Given a peer answering JSON nested deeper than the parser can recurse (600 KB, under the cap)
    depth = 100_000
    body = b'{"a":' * depth + b"1" + b"}" * depth
    assert len(body) < MAX_BODY

    async def answer(_request: web.Request) -> web.Response:
        return web.Response(body=body, content_type="application/activity+json")

    peer = await _peer(aiohttp_server, {"/deep": answer})

    # When the client fetches it / Then it is our FetchError, not a RecursionError
    with pytest.raises(FetchError, match="invalid JSON"):
        await client.fetch_json(f"http://127.0.0.1:{peer.port}/deep")


async def test_network_errors_are_fetch_errors_without_status(client: HttpClient) -> None:
    # Given a port nobody listens on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]

    # When the client posts to it / Then it is a FetchError with no status
    with pytest.raises(FetchError) as caught:
        await client.fetch_json(f"http://127.0.0.1:{port}/doc")
    assert caught.value.status_code is None


def test_retry_after_reads_seconds_and_http_dates() -> None:
    # Given Retry-After values as servers send them / When parsed / Then seconds to wait
    assert parse_retry_after("120", now=0) == 120.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:02:00 GMT", now=60) == 60.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now=60) == 0.0
    assert parse_retry_after("soon", now=0) is None
    assert parse_retry_after(None, now=0) is None


def test_the_connection_limit_grows_with_the_delivery_workers() -> None:
    # Given the default worker count and a large instance's
    default, large = make_config(), make_config(delivery_workers=200)

    # Then the default keeps aiohttp's 100, and 200 workers still leave room for fetches
    assert connection_limit(default) == 100
    assert connection_limit(large) == 200 + 64

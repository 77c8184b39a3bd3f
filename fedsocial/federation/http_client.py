"""Core layer: every outgoing HTTP request — signed, guarded, capped and timed out.

One ``HttpClient`` (one ``aiohttp.ClientSession``) per application. Each request:

- goes only to https:// URLs (http:// too when ``federation.allow_http``), never to a blocked
  domain, and never to a loopback, private, link-local, multicast or reserved address — checked
  after DNS resolution by ``addresses.GuardedResolver``, and for literal IP hosts here — unless
  ``federation.allow_private_addresses``;
- has ``federation.request_timeout`` for the whole exchange and a 1 MiB cap on the body read;
- carries ``User-Agent: config.user_agent`` and follows at most 3 redirects (GET only), each hop
  checked and signed again;
- is signed at send time with a fresh Date from the injected clock, draft-cavage or RFC 9421,
  double-knocking on 401/403 and remembering per host what worked (``host_schemes``).

Refusals raise ``BlockedAddress``; network failures and timeouts ``FetchError(status_code=None)``.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver
from yarl import URL

from fedsocial.activity_json import holds_lone_surrogate, same_origin
from fedsocial.clock import Clock
from fedsocial.config import Config
from fedsocial.crypto.cavage import format_http_date, sign_cavage
from fedsocial.crypto.http_request import Headers, HttpRequestParts
from fedsocial.crypto.rfc9421 import sign_rfc9421
from fedsocial.errors import BlockedAddress, FetchError, Gone, NotFound
from fedsocial.federation.addresses import (
    ForbiddenAddressError,
    GuardedResolver,
    literal_host_reason,
)
from fedsocial.federation.domain_blocks import DomainBlocks
from fedsocial.federation.host_schemes import CAVAGE, RFC9421, HostSchemes
from fedsocial.federation.responses import (
    PostResult,
    RawResponse,
    excerpt,
    is_json_type,
    parse_retry_after,
)
from fedsocial.federation.signing import SigningKey
from fedsocial.storage.database import Database

ACCEPT_ACTIVITY = 'application/activity+json, application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
ACTIVITY_JSON = "application/activity+json"
MAX_BODY = 1024 * 1024
# A POST answer is only kept as an excerpt; reading more would waste time on big error pages.
MAX_POST_ANSWER = 16 * 1024
MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
REJECTED = frozenset({401, 403})
_CHUNK = 64 * 1024
# Connections beyond the delivery workers' for fetches made meanwhile (keys, actors, objects).
FETCH_CONNECTIONS = 64
MIN_CONNECTIONS = 100

KeyProvider = Callable[[], Awaitable[SigningKey]]


def ssl_context(config: Config) -> ssl.SSLContext:
    """The TLS context: the system trust store, or ``federation.ca_bundle`` / $SSL_CERT_FILE."""
    cafile = config.federation.ca_bundle or os.environ.get("SSL_CERT_FILE") or None
    return ssl.create_default_context(cafile=cafile)


def connection_limit(config: Config) -> int:
    """The connector's limit on open connections: every delivery worker's plus room for fetches.

    aiohttp's default (100) would make a large ``federation.delivery_workers`` wait for sockets.
    """
    return max(MIN_CONNECTIONS, config.federation.delivery_workers + FETCH_CONNECTIONS)


def _accepted_signature(status: int) -> bool:
    # 404 and 410 answers come after a signature check on servers that require one.
    return status < 400 or status in (404, 410)


class HttpClient:
    """Signed, guarded outgoing HTTP for one application (see the module docstring)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: Config,
        clock: Clock,
        *,
        schemes: HostSchemes,
        domain_blocks: DomainBlocks | None = None,
        default_key: KeyProvider | None = None,
    ) -> None:
        self._session = session
        self._config = config
        self._clock = clock
        self._schemes = schemes
        self._blocks = domain_blocks
        self._default_key = default_key

    @classmethod
    async def open(
        cls,
        config: Config,
        clock: Clock,
        *,
        db: Database | None,
        domain_blocks: DomainBlocks | None = None,
        resolver: AbstractResolver | None = None,
    ) -> HttpClient:
        """Open a client with its own session; ``resolver`` replaces the system DNS resolver.

        The SSRF guard wraps the resolver unless ``federation.allow_private_addresses`` is on.
        """
        federation = config.federation
        chosen: AbstractResolver | None = resolver
        if not federation.allow_private_addresses:
            chosen = GuardedResolver(resolver)
        connector = aiohttp.TCPConnector(
            resolver=chosen, ssl=ssl_context(config), limit=connection_limit(config)
        )
        session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=federation.request_timeout),
            headers={"User-Agent": config.user_agent},
        )
        schemes = HostSchemes(db, rfc9421_first=federation.rfc9421_first)
        return cls(session, config, clock, schemes=schemes, domain_blocks=domain_blocks)

    async def close(self) -> None:
        """Close the session and its connections."""
        await self._session.close()

    def set_default_key(self, provider: KeyProvider) -> None:
        """Set how to get the key GETs are signed with when none is given (the instance actor)."""
        self._default_key = provider

    @property
    def schemes(self) -> HostSchemes:
        """The per-host memory of accepted signature schemes."""
        return self._schemes

    async def fetch_json(self, url: str, *, key: SigningKey | None = None) -> dict[str, Any]:
        """GET an ActivityStreams document, signed by ``key`` or the instance actor.

        Returns the JSON object. Raises ``Gone`` (410, unless another origin answered it after a
        redirect: only a server says its own things are gone), ``NotFound`` (404), ``FetchError``
        with the status for other failures, non-JSON answers (lone surrogates included), bodies
        over 1 MiB, a document from another origin (after a redirect) whose id is not on that
        origin, and ``BlockedAddress`` for refused destinations.
        """
        response = await self.get(url, key=key, accept=ACCEPT_ACTIVITY)
        if response.status == 410 and same_origin(response.url, url):
            raise Gone(f"{url} is gone (410)")
        if response.status == 404:
            raise NotFound(f"{url} was not found (404)")
        if not response.ok:
            raise FetchError(f"GET {url} answered {response.status}", status_code=response.status)
        if not is_json_type(response.content_type):
            raise FetchError(
                f"GET {url} answered {response.content_type or 'no content type'}, not JSON",
                status_code=response.status,
            )
        try:
            document = json.loads(response.body)
        except (ValueError, RecursionError) as exc:
            raise FetchError(
                f"GET {url} answered invalid JSON", status_code=response.status
            ) from exc
        if not isinstance(document, dict):
            raise FetchError(f"GET {url} answered JSON that is not an object", status_code=200)
        if holds_lone_surrogate(document, raw=response.body):
            raise FetchError(
                f"GET {url} answered JSON with a lone UTF-16 surrogate", status_code=200
            )
        if not same_origin(response.url, url):
            # A redirect to another origin: that server speaks only for its own ids. Without
            # this, an open redirect on a host would let any server serve that host's actors,
            # keys and Tombstones (callers check the id against the URL they asked for).
            doc_id = document.get("id")
            if not isinstance(doc_id, str) or not same_origin(doc_id, response.url):
                raise FetchError(
                    f"GET {url} was redirected to {response.url}, which answered a document"
                    f" that is not its own (id {doc_id!r})",
                    status_code=response.status,
                )
        return document

    async def get(
        self, url: str, *, key: SigningKey | None = None, accept: str = ACCEPT_ACTIVITY
    ) -> RawResponse:
        """GET ``url`` signed by ``key`` (or the instance actor), following up to 3 redirects.

        Any status is returned. Raises ``FetchError`` for network errors, timeouts and bodies
        over 1 MiB, ``BlockedAddress`` for refused destinations (every hop is checked).
        """
        signer = key or (await self._default_key() if self._default_key else None)
        current = await self._check_url(url)
        for _ in range(MAX_REDIRECTS + 1):
            response, _scheme = await self._knock(
                "GET", current, key=signer, headers={"Accept": accept}, body=b"", limit=MAX_BODY
            )
            location = response.headers.get("location")
            if response.status not in REDIRECT_STATUSES or not location:
                return response
            current = await self._check_url(urljoin(current, location))
        raise FetchError(f"GET {url}: more than {MAX_REDIRECTS} redirects", status_code=None)

    async def post(self, url: str, body: bytes, *, key: SigningKey) -> PostResult:
        """POST an activity (``application/activity+json``) signed now by ``key``.

        Signs with the scheme remembered for the host (cavage by default, RFC 9421 with
        ``rfc9421_first``) and double-knocks on 401/403. Every status is returned, never raised;
        redirects are not followed. Raises ``FetchError(status_code=None)`` for network errors
        and timeouts, ``BlockedAddress`` for refused destinations.
        """
        target = await self._check_url(url)
        response, scheme = await self._knock(
            "POST",
            target,
            key=key,
            headers={"Content-Type": ACTIVITY_JSON},
            body=body,
            limit=MAX_POST_ANSWER,
        )
        return PostResult(
            status=response.status,
            excerpt=excerpt(response.body),
            retry_after=parse_retry_after(
                response.headers.get("retry-after"), now=self._clock.now()
            ),
            scheme=scheme,
        )

    async def _check_url(self, url: str) -> str:
        """Normalise ``url`` as it will be sent, or refuse it (scheme, literal IP, domain block)."""
        try:
            normalised = str(URL(url))
            split = urlsplit(normalised)
            host = split.hostname
        except ValueError as exc:
            raise FetchError(f"not a valid URL: {url!r}", status_code=None) from exc
        federation = self._config.federation
        if split.scheme not in ("https", "http") or not host:
            raise BlockedAddress(f"refusing {url!r}: only absolute http(s) URLs are fetched")
        try:
            host.encode("idna")  # what the resolver will do; it raises outside our error tree
        except UnicodeError as exc:
            raise FetchError(f"not a valid host name in {url!r}: {exc}", status_code=None) from exc
        if split.scheme == "http" and not federation.allow_http:
            raise BlockedAddress(f"refusing {url}: http:// is off (federation.allow_http)")
        if not federation.allow_private_addresses:
            reason = literal_host_reason(host)
            if reason is not None:
                raise BlockedAddress(f"refusing {url}: {host} is a {reason} address")
        if self._blocks is not None and await self._blocks.is_blocked(host):
            raise BlockedAddress(f"refusing {url}: the domain {host} is blocked")
        return normalised

    async def _knock(
        self,
        method: str,
        url: str,
        *,
        key: SigningKey | None,
        headers: dict[str, str],
        body: bytes,
        limit: int,
    ) -> tuple[RawResponse, str]:
        """Send once per scheme until one is not refused with 401/403; remember what worked."""
        if key is None:
            return await self._send(method, url, headers=headers, body=body, limit=limit), "none"
        host = HttpRequestParts(method, url, {}).authority
        first, second = await self._schemes.order(host)
        response = await self._signed(
            method, url, key, first, headers=headers, body=body, limit=limit
        )
        if response.status in REJECTED:
            retry = await self._signed(
                method, url, key, second, headers=headers, body=body, limit=limit
            )
            if retry.status not in REJECTED:
                await self._schemes.remember(host, second)
                return retry, second
            return response, first
        if _accepted_signature(response.status):
            await self._schemes.remember(host, first)
        return response, first

    async def _signed(
        self,
        method: str,
        url: str,
        key: SigningKey,
        scheme: str,
        *,
        headers: dict[str, str],
        body: bytes,
        limit: int,
    ) -> RawResponse:
        # Signed here, on the event loop. Measured with bench/delivery.py on 2 cores: moving the
        # RSA step to a thread pool (cryptography releases the GIL while signing) did not raise
        # the rate and cost ~15-20% more CPU per delivery in GIL hand-offs (issue 5's note).
        parts = HttpRequestParts(method, url, headers, body)
        now = self._clock.now()
        if scheme == RFC9421:
            added = sign_rfc9421(parts, key_id=key.key_id, private_key=key.private_key, now=now)
            if "Date" not in headers:
                # Some servers still want a Date even beside RFC 9421; it costs nothing.
                added = {**added, "Date": format_http_date(now)}
        else:
            assert scheme == CAVAGE
            added = sign_cavage(parts, key_id=key.key_id, private_key=key.private_key, now=now)
        return await self._send(method, url, headers={**headers, **added}, body=body, limit=limit)

    async def _send(
        self, method: str, url: str, *, headers: dict[str, str], body: bytes, limit: int
    ) -> RawResponse:
        """One exchange, no redirects followed; the body is read up to ``limit`` bytes.

        GET answers over the limit or cut short are an error; POST answers are cut (only an
        excerpt is kept) and one cut short by the peer keeps its status.
        """
        try:
            async with asyncio.timeout(self._config.federation.request_timeout):
                async with self._session.request(
                    method,
                    URL(url, encoded=True),
                    headers=headers,
                    data=body if method != "GET" else None,
                    allow_redirects=False,
                ) as response:
                    data = await self._read(response, url, limit=limit, strict=method == "GET")
                    return RawResponse(
                        status=response.status,
                        headers=Headers(list(response.headers.items())),
                        body=data,
                        url=url,
                    )
        except TimeoutError as exc:
            raise FetchError(f"{method} {url} timed out", status_code=None) from exc
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, ForbiddenAddressError):
                raise BlockedAddress(f"refusing {url}: {exc.os_error}") from exc
            raise FetchError(f"{method} {url} failed: {exc}", status_code=None) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise FetchError(f"{method} {url} failed: {exc}", status_code=None) from exc

    @staticmethod
    async def _read(
        response: aiohttp.ClientResponse, url: str, *, limit: int, strict: bool
    ) -> bytes:
        declared = response.content_length
        status = response.status
        if strict and declared is not None and declared > limit:
            raise FetchError(f"{url}: body of {declared} bytes is over {limit}", status_code=status)
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.content.iter_chunked(_CHUNK):
                chunks.append(chunk)
                size += len(chunk)
                if size > limit:
                    if strict:
                        raise FetchError(f"{url}: body is over {limit} bytes", status_code=status)
                    break
        except aiohttp.ClientPayloadError:
            if strict:
                raise
            # A POST's answer is its status: a body cut short (the peer closed mid-response)
            # does not undo a 2xx, and calling it a failure would send the activity again.
        return b"".join(chunks)[:limit]

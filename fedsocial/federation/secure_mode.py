"""Core layer: secure mode (Mastodon's "authorized fetch") and who signed a GET.

When ``instance.secure_mode`` is on, a GET or HEAD of an ActivityPub representation (actors,
objects, collections) needs a valid HTTP signature, else 401 with the reason. Always open:
the instance actor (``/actor``, so others can verify our signed fetches without a signature of
their own — this is what keeps two secure instances from deadlocking), the home and about pages
(``/``, ``/about``: the instance actor's ``url``), ``/.well-known/*``
(WebFinger, host-meta, NodeInfo index), ``/nodeinfo/*``, HTML pages for browsers, and an
actor's inbox, which only the actor's bearer token reads.

With secure mode off, a signed GET is still verified so handlers know who asks (followers-only
objects); a bad signature there just leaves the request anonymous.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

from aiohttp import web

from fedsocial import appkeys
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.verify import VerifiedSignature
from fedsocial.errors import Forbidden, SignatureError
from fedsocial.federation.setup import key_resolver
from fedsocial.web.negotiation import HTML_ONLY, wants_html

log = logging.getLogger("fedsocial.federation.secure_mode")

# Where the verified signature of a GET is kept on the request (absent when unsigned).
SIGNATURE = web.RequestKey("signature", VerifiedSignature)
# The home and about pages are HTML only: nothing there needs a signature to be read.
OPEN_PATHS = ("/actor", "/", "/about")
OPEN_PREFIXES = ("/.well-known/", "/nodeinfo/")
# An actor's inbox is read with the actor's bearer token (C2S), checked by its handler: a client
# has a token, not a key to sign with, and a signature would not let anyone else in.
TOKEN_PATH = re.compile(r"/users/[^/]+/inbox")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def request_signature(request: web.Request) -> VerifiedSignature | None:
    """The verified signature of a GET, or None when it was unsigned or not checked."""
    return request.get(SIGNATURE)


def is_open_path(path: str) -> bool:
    """True for paths served without a signature even in secure mode."""
    return (
        path in OPEN_PATHS
        or path.startswith(OPEN_PREFIXES)
        or TOKEN_PATH.fullmatch(path) is not None
    )


def request_parts(request: web.Request, body: bytes = b"") -> HttpRequestParts:
    """The request as its signer saw it: our configured base URL plus the path and query.

    The base URL comes from the config, not the Host header, because we may sit behind a proxy.
    """
    base = request.app[appkeys.CONFIG].base_url
    return HttpRequestParts(request.method, base + request.path_qs, request.headers, body)


def _is_signed(request: web.Request) -> bool:
    if "Signature" in request.headers or "Signature-Input" in request.headers:
        return True
    return request.headers.get("Authorization", "").lower().startswith("signature ")


@web.middleware
async def secure_mode_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Verify signed GET/HEAD requests; in secure mode, refuse unsigned ActivityPub reads."""
    if request.method not in ("GET", "HEAD") or is_open_path(request.path):
        return await handler(request)
    secure = request.app[appkeys.CONFIG].instance.secure_mode
    if secure and wants_html(request) and not _is_signed(request):
        # A browser: HTML pages are open, and activity_response refuses it any JSON.
        request[HTML_ONLY] = True
        return await handler(request)
    if not _is_signed(request):
        if secure:
            raise SignatureError("missing", "secure mode: this server answers signed requests only")
        return await handler(request)
    try:
        verified = await key_resolver(request.app).verify_request(request_parts(request))
    except SignatureError as exc:
        if secure:
            raise
        log.info("ignoring a bad signature on GET %s: %s (%s)", request.path, exc.reason, exc)
        return await handler(request)
    blocks = request.app.get(appkeys.DOMAIN_BLOCKS)
    if secure and verified.owner and blocks is not None and await blocks.is_blocked(verified.owner):
        raise Forbidden("secure mode: the signer's domain is blocked here")
    request[SIGNATURE] = verified
    return await handler(request)

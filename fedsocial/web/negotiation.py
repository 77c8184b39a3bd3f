"""Core layer: content negotiation between ActivityStreams JSON and HTML."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fedsocial.errors import SignatureError

AS_PROFILE = "https://www.w3.org/ns/activitystreams"
ACTIVITY_JSON = "application/activity+json"
LD_JSON = "application/ld+json"
LD_JSON_AS = f'{LD_JSON}; profile="{AS_PROFILE}"'
# Set by secure mode on an unsigned request it let through only because it prefers HTML: such a
# request may get a page, never the ActivityStreams JSON that secure mode guards.
HTML_ONLY = web.RequestKey("html_only", bool)


def _media_ranges(accept: str) -> list[tuple[str, float, str]]:
    """Split an Accept header into (media type, q, raw) in the client's order of preference."""
    ranges: list[tuple[str, float, int, str]] = []
    for index, part in enumerate(accept.split(",")):
        raw = part.strip()
        if not raw:
            continue
        pieces = [p.strip() for p in raw.split(";")]
        q = 1.0
        for param in pieces[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        ranges.append((pieces[0].lower(), q, index, raw))
    ranges.sort(key=lambda r: (-r[1], r[2]))
    return [(media, q, raw) for media, q, _, raw in ranges if q > 0]


def wants_html(request: web.Request) -> bool:
    """True when the client prefers HTML over ActivityStreams JSON (a browser)."""
    for media, _q, _raw in _media_ranges(request.headers.get("Accept", "")):
        if media in (ACTIVITY_JSON, LD_JSON, "application/json"):
            return False
        if media in ("text/html", "application/xhtml+xml"):
            return True
    return False


def activity_content_type(request: web.Request) -> str:
    """The content type to answer ActivityStreams JSON with, mirroring what the client asked."""
    for media, _q, _raw in _media_ranges(request.headers.get("Accept", "")):
        if media == LD_JSON:
            return LD_JSON_AS
        if media == ACTIVITY_JSON:
            return ACTIVITY_JSON
    return ACTIVITY_JSON


def activity_response(
    request: web.Request, document: dict[str, Any], *, status: int = 200
) -> web.Response:
    """Answer an ActivityStreams document with the negotiated JSON content type.

    Raises SignatureError for a request secure mode let in unsigned only as a browser's (a
    route without an HTML form would otherwise serve its JSON to anyone asking for HTML).
    """
    if request.get(HTML_ONLY):
        raise SignatureError("missing", "secure mode: this document is served to signed requests")
    response = web.Response(
        body=json.dumps(document, ensure_ascii=False).encode(),
        status=status,
        headers={"Content-Type": activity_content_type(request), "Vary": "Accept"},
    )
    return response


def json_response(
    document: Any, *, status: int = 200, content_type: str = "application/json"
) -> web.Response:
    """Answer plain JSON with the given content type."""
    return web.Response(
        body=json.dumps(document, ensure_ascii=False).encode(),
        status=status,
        headers={"Content-Type": content_type},
    )

"""Actors layer: finding a remote actor's id from a handle with WebFinger (RFC 7033)."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from fedsocial.activity_json import as_list
from fedsocial.errors import FetchError, NotFound, ValidationError
from fedsocial.federation.http_client import HttpClient

JRD_ACCEPT = "application/jrd+json, application/json"
_AS_TYPES = ("application/activity+json", "application/ld+json")
# No whitespace, control characters or URL delimiters in a host: yarl silently drops tabs and
# newlines, so `evil.ex\tample` would be asked as another host than the one named.
_HOST_OK = re.compile(r"[^\s/?#\\@\x00-\x1f\x7f]+")


def parse_handle(handle: str) -> tuple[str, str]:
    """Split ``@user@host`` or ``user@host`` (``acct:`` allowed) into (user, lowercase host).

    Raises ValidationError for anything else.
    """
    text = handle.strip()
    if text.startswith("acct:"):
        text = text[5:]
    user, sep, host = text.removeprefix("@").rpartition("@")
    odd_user = any(c.isspace() or not c.isprintable() for c in user)
    if not sep or not user or "@" in user or odd_user or not _HOST_OK.fullmatch(host):
        raise ValidationError(f"not a handle: {handle!r} (expected @user@host)")
    return user, host.lower()


def webfinger_url(user: str, host: str, *, scheme: str) -> str:
    """The WebFinger query URL for ``acct:user@host``."""
    resource = quote(f"acct:{user}@{host}", safe="@:")
    return f"{scheme}://{host}/.well-known/webfinger?resource={resource}"


def self_link(jrd: dict[str, Any]) -> str | None:
    """The href of the JRD's ``self`` link with an ActivityStreams media type, or None."""
    for link in as_list(jrd.get("links")):
        if not isinstance(link, dict) or link.get("rel") != "self":
            continue
        media = str(link.get("type", "")).split(";", 1)[0].strip().lower()
        href = link.get("href")
        if media in _AS_TYPES and isinstance(href, str):
            return href
    return None


async def lookup(http: HttpClient, user: str, host: str, *, scheme: str) -> str:
    """Ask ``host`` for ``acct:user@host`` and return the actor id its JRD points to.

    Raises NotFound when the host knows no such account or offers no ActivityPub link,
    FetchError for other failures, BlockedAddress for refused hosts.
    """
    url = webfinger_url(user, host, scheme=scheme)
    response = await http.get(url, accept=JRD_ACCEPT)
    if response.status in (404, 410):
        raise NotFound(f"{host} knows no account {user}@{host}")
    if not response.ok:
        raise FetchError(f"WebFinger {url} answered {response.status}", status_code=response.status)
    try:
        jrd = json.loads(response.body)
    except (ValueError, RecursionError) as exc:
        # RecursionError: valid JSON nested deeper than the parser recurses (a hostile host).
        raise FetchError(f"WebFinger {url} answered invalid JSON", status_code=200) from exc
    href = self_link(jrd) if isinstance(jrd, dict) else None
    if href is None:
        raise NotFound(f"WebFinger for {user}@{host} has no ActivityPub self link")
    return href

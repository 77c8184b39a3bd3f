"""Core layer: small helpers that read raw ActivityPub JSON without trusting its shape.

ActivityStreams lets almost every property be absent, a single value, a list, a bare IRI or an
embedded object. These helpers turn that variety into predictable Python values, so code outside
the edges never indexes ``dict[str, Any]`` directly.

They are pure: no I/O, no state, and they never raise on odd input except :func:`origin`, which
raises :class:`~fedsocial.errors.ValidationError` for something that is not an absolute URL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import urlsplit

from fedsocial.errors import ValidationError

__all__ = [
    "AS_PUBLIC",
    "PUBLIC_ALIASES",
    "as_list",
    "first_str",
    "get_id",
    "get_ids",
    "is_public",
    "origin",
    "same_origin",
    "unique",
]

AS_PUBLIC: Final = "https://www.w3.org/ns/activitystreams#Public"
"""The special collection that means "everyone"; the form we always write."""

PUBLIC_ALIASES: Final[frozenset[str]] = frozenset({AS_PUBLIC, "as:Public", "Public"})
"""Every spelling of the public collection we accept when reading (compacted forms included)."""

_DEFAULT_PORTS: Final[dict[str, int]] = {"http": 80, "https": 443}


def as_list(value: Any) -> list[Any]:
    """Return ``value`` as a new list: ``None`` gives ``[]``, a list or tuple is copied, and any
    other value (a string, an object, a number) is wrapped as ``[value]``."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return list(value)
    return [value]


def get_id(value: Any) -> str | None:
    """Return the IRI a property points to: the string itself, or the ``id`` of an embedded
    object when that ``id`` is a non-empty string; ``None`` for anything else (including ``""``)."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        ident = value.get("id")
        if isinstance(ident, str) and ident:
            return ident
    return None


def get_ids(value: Any) -> list[str]:
    """Return the IRIs of every item of a (possibly single-valued) property, in order, skipping
    items that have no usable id. Duplicates are kept (see :func:`unique`)."""
    ids: list[str] = []
    for item in as_list(value):
        ident = get_id(item)
        if ident is not None:
            ids.append(ident)
    return ids


def first_str(value: Any) -> str | None:
    """Return the first item of a (possibly single-valued) property that is a string, or ``None``.
    Embedded objects are not looked into; use :func:`get_id` for references."""
    for item in as_list(value):
        if isinstance(item, str):
            return item
    return None


def is_public(iri: Any) -> bool:
    """Tell whether ``iri`` names the public collection in any spelling Mastodon accepts
    (the full IRI, ``as:Public`` or ``Public``)."""
    return isinstance(iri, str) and iri in PUBLIC_ALIASES


def origin(url: str) -> str:
    """Return the origin of an absolute URL as ``scheme://host[:port]``.

    The scheme and host are lowercased, IPv6 hosts keep their brackets, and the port is kept only
    when it is not the scheme's default (so ``https://Example.com:443/x`` gives
    ``https://example.com``). Raises :class:`ValidationError` when ``url`` has no scheme or host
    or carries an invalid port.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValidationError(f"not a valid URL: {url!r}") from exc
    host = parts.hostname
    scheme = parts.scheme.lower()
    if not scheme or not host:
        raise ValidationError(f"not an absolute URL: {url!r}")
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def same_origin(a: str, b: str) -> bool:
    """Tell whether two URLs share scheme, host and port (see :func:`origin`).

    Returns ``False``, never raises, when either is not an absolute URL: an unreadable id is
    never trusted as same-origin.
    """
    try:
        return origin(a) == origin(b)
    except ValidationError:
        return False


def unique(values: Iterable[str]) -> list[str]:
    """Return ``values`` without duplicates, keeping the first occurrence's position."""
    return list(dict.fromkeys(values))


# A \uD800-\uDFFF escape: the only way JSON in UTF-8 carries a lone surrogate (valid pairs
# match too, rarely, and are then checked exactly).
_SURROGATE_ESCAPE_TEXT = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")


def holds_lone_surrogate(document: Any, *, raw: str | bytes) -> bool:
    """True when `document`, parsed from the JSON text `raw`, holds a lone UTF-16 surrogate:
    valid JSON but not text, so nothing after us could store, sanitise or sign it. Only a text
    with such an escape is checked in full."""
    if isinstance(raw, bytes):
        escaped = _SURROGATE_ESCAPE_BYTES.search(raw) is not None
    else:
        escaped = _SURROGATE_ESCAPE_TEXT.search(raw) is not None
    if not escaped:
        return False
    try:
        json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def check_sendable_text(value: str, *, what: str) -> None:
    """Raise ValidationError unless `value` can be stored and sent: no NUL (Mastodon cannot
    store it, so the text would be lost there) and no lone surrogate (not Unicode: what a
    command line makes of bytes that are not UTF-8; it can be neither stored nor signed)."""
    if "\x00" in value:
        raise ValidationError(f"{what} cannot contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            f"{what} is not valid Unicode (a lone surrogate: bytes that were not UTF-8?)"
        ) from exc

"""Core layer: a parsed HTTP signature, ready to check, whichever scheme carried it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scheme = Literal["cavage", "rfc9421"]


@dataclass(frozen=True, slots=True)
class SignatureInput:
    """What one signature on a request claims, and the exact bytes it should cover.

    ``components`` are the names as signed (cavage: lowercase header names and pseudo-headers such
    as ``(request-target)``; RFC 9421: component identifiers such as ``@method``).
    ``signing_string`` is rebuilt from the request; components the request lacks are listed in
    ``missing_headers`` (and appear with an empty value). For cavage, ``fallback_signing_string``
    is the same string with the query left out of ``(request-target)``, which older Mastodon
    versions signed. ``unusable`` says why a signature cannot be checked at all (for example an
    RFC 9421 component we do not support); verification then fails as ``invalid``.
    """

    scheme: Scheme
    key_id: str
    algorithm: str | None
    components: tuple[str, ...]
    signing_string: bytes
    signature: bytes
    created: float | None = None
    expires: float | None = None
    date: float | None = None
    label: str = ""
    missing_headers: tuple[str, ...] = ()
    fallback_signing_string: bytes | None = None
    unusable: str | None = None

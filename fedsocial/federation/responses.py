"""Core layer: what the HTTP client hands back, and small pure helpers for reading answers."""

from __future__ import annotations

from dataclasses import dataclass

from fedsocial.crypto.cavage import parse_http_date
from fedsocial.crypto.http_request import Headers

EXCERPT_CHARS = 300


@dataclass(frozen=True, slots=True)
class RawResponse:
    """An answer as received: status, headers (case-insensitive), body and the final URL."""

    status: int
    headers: Headers
    body: bytes
    url: str

    @property
    def ok(self) -> bool:
        """True for a 2xx status."""
        return 200 <= self.status < 300

    @property
    def content_type(self) -> str:
        """The media type without parameters, lowercased ("" when absent)."""
        return self.headers.get("content-type", "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True)
class PostResult:
    """What a POST got: status, the start of the body, Retry-After in seconds, scheme used.

    ``scheme`` is "cavage" or "rfc9421" (the signature that produced this answer).
    """

    status: int
    excerpt: str
    retry_after: float | None
    scheme: str


def excerpt(body: bytes, *, limit: int = EXCERPT_CHARS) -> str:
    """The first ``limit`` characters of a body decoded leniently as UTF-8."""
    return body[: limit * 4].decode("utf-8", errors="replace")[:limit]


def parse_retry_after(value: str | None, *, now: float) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP date), never negative.

    Returns None when the value is absent or unreadable.
    """
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        # Callers cap long waits anyway; int() would raise on 4,301 digits or more.
        return float(int(text)) if len(text) <= 10 else 1e10
    if text.isdigit():
        return None  # not ASCII digits ("²" is a digit int() refuses): not delta-seconds
    try:
        return max(0.0, parse_http_date(text) - now)
    except ValueError:
        return None


def is_json_type(content_type: str) -> bool:
    """True for JSON media types: application/json and any ``+json`` type."""
    return content_type == "application/json" or content_type.endswith("+json")

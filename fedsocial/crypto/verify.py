"""Core layer: deciding whether an HTTP signature is acceptable.

Under ``Policy.MASTODON`` (the default) the checks and their order mirror Mastodon's
``SignedRequest#verified?`` (DESIGN.md §3), each failure raising ``SignatureError`` with a reason:

1. the signature is readable and names a key, else ``invalid``;
2. the algorithm is supported (cavage: rsa-sha256, hs2019; RFC 9421: rsa-v1_5-sha256,
   rsa-pss-sha512, ed25519, or none declared), else ``unsupported_algorithm``;
3. the time window: start is ``created`` (RFC 9421, or cavage hs2019) or else the Date header;
   start more than 1 h ahead of now is ``future``; end is ``expires`` or start + 5 min, never past
   start + 12 h, and now past end + 1 h is ``stale``;
4. required coverage, else ``missing_header``: cavage needs ``date`` or ``(created)``,
   ``(request-target)`` or ``digest``, ``host`` on GET and ``digest`` on POST; RFC 9421 needs the
   ``created`` parameter, ``@method``, ``@target-uri`` and ``content-digest`` on POST;
5. a covered Digest / Content-Digest has a sha-256 digest, it (and any sha-512 one) matches the
   body, and a non-empty body is covered by one, else ``bad_digest``; a covered Host names this
   server (the request URL's authority, default port or not), else ``invalid``;
6. every covered header is present in the request, else ``missing_header``;
7. the signature itself, else ``invalid`` (cavage retries without the query string in
   ``(request-target)``, as Mastodon does).

``Policy.SPEC`` keeps 1, 2, 5 (covered digests only, sha-512 alone is enough), 6 and 7, and of
the window only what the specifications ask: an ``expires`` in the past is ``stale`` and a
``created`` more than 1 h ahead is ``future``. The spec examples, which sign few headers and
carry old dates, verify under it.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from fedsocial.crypto.algorithms import (
    ED25519,
    RSA_PSS_SHA512,
    RSA_V1_5_SHA256,
    SUPPORTED,
    default_algorithm,
    verify_bytes,
)
from fedsocial.crypto.cavage import HS2019, RSA_SHA256, parse_cavage
from fedsocial.crypto.digests import check_content_digest, check_digest
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import PublicKey
from fedsocial.crypto.rfc9421 import parse_rfc9421
from fedsocial.crypto.signature_input import Scheme, SignatureInput
from fedsocial.errors import SignatureError

__all__ = [
    "CLOCK_SKEW_MARGIN",
    "DEFAULT_VALIDITY",
    "EXPIRATION_WINDOW_LIMIT",
    "MAX_SIGNATURES",
    "Policy",
    "SignatureInput",
    "VerifiedSignature",
    "parse_signatures",
    "verify_request",
    "verify_signature",
]

CLOCK_SKEW_MARGIN = 3600.0
DEFAULT_VALIDITY = 300.0
EXPIRATION_WINDOW_LIMIT = 12 * 3600.0
# RFC 9421 signatures read from one request; real senders add one, a proxy perhaps another.
MAX_SIGNATURES = 8


class Policy(enum.Enum):
    """Which rules a signature must meet: Mastodon's (default) or only the specifications'."""

    MASTODON = "mastodon"
    SPEC = "spec"


@dataclass(frozen=True, slots=True)
class VerifiedSignature:
    """A signature that checked out: who signed what, with which algorithm, and when.

    ``algorithm`` is the effective one in RFC 9421 naming (``rsa-v1_5-sha256``,
    ``rsa-pss-sha512``, ``ed25519``) whatever the scheme declared. ``created`` is the start of the
    signature's window (``created`` or the Date header). ``owner`` is filled by the key resolver.
    """

    scheme: Scheme
    key_id: str
    algorithm: str
    components: tuple[str, ...]
    created: float | None = None
    owner: str | None = None


def parse_signatures(parts: HttpRequestParts) -> list[SignatureInput]:
    """Return every signature on a request: RFC 9421 ones first, then a draft-cavage one.

    Raises ``SignatureError("missing")`` when the request carries none, and
    ``SignatureError("invalid")`` when the only signature headers cannot be read or there are
    more than ``MAX_SIGNATURES`` RFC 9421 signatures.
    """
    found = parse_rfc9421(parts)
    if len(found) > MAX_SIGNATURES:
        # Each signature may cost a key fetch: hundreds on one request would make us fetch
        # hundreds of keys (or wait on hundreds of timeouts) for a single POST.
        raise SignatureError(
            "invalid", f"the request carries {len(found)} signatures; at most {MAX_SIGNATURES}"
        )
    try:
        found.append(parse_cavage(parts))
    except SignatureError as exc:
        if found:
            return found
        if exc.reason == "missing":
            # Both schemes were looked for: name them both, not only the one tried last.
            raise SignatureError(
                "missing",
                "request has no HTTP signature (neither RFC 9421 Signature-Input/Signature"
                " nor a draft-cavage Signature or Authorization header)",
            ) from exc
        raise
    return found


def verify_signature(
    parts: HttpRequestParts,
    sig: SignatureInput,
    public_key: PublicKey,
    *,
    now: float,
    policy: Policy = Policy.MASTODON,
) -> VerifiedSignature:
    """Check one parsed signature against ``public_key`` at time ``now`` under ``policy``.

    Returns a ``VerifiedSignature`` or raises ``SignatureError`` with the reason of the first rule
    broken, in the order the module docstring lists.
    """
    if sig.unusable is not None:
        raise SignatureError("invalid", f"signature {sig.label or sig.key_id}: {sig.unusable}")
    if not sig.key_id:
        raise SignatureError("invalid", "the signature names no key")
    candidates = _candidate_algorithms(sig, public_key)
    start = _check_window(sig, now=now, policy=policy)
    if policy is Policy.MASTODON:
        _check_coverage(parts, sig)
    _check_digests(parts, sig, policy=policy)
    _check_host(parts, sig)
    if sig.missing_headers:
        absent = ", ".join(sig.missing_headers)
        raise SignatureError("missing_header", f"signed header(s) absent from request: {absent}")
    strings = [sig.signing_string]
    if sig.fallback_signing_string is not None:
        strings.append(sig.fallback_signing_string)
    for algorithm in candidates:
        for text in strings:
            if verify_bytes(public_key, algorithm, text, sig.signature):
                return VerifiedSignature(
                    scheme=sig.scheme,
                    key_id=sig.key_id,
                    algorithm=algorithm,
                    components=sig.components,
                    created=start,
                )
    raise SignatureError("invalid", f"signature does not verify with key {sig.key_id}")


def verify_request(
    parts: HttpRequestParts,
    key_lookup: Callable[[str], PublicKey | None],
    *,
    now: float,
    policy: Policy = Policy.MASTODON,
) -> VerifiedSignature:
    """Verify a request synchronously: try each signature whose key ``key_lookup`` finds.

    Returns the first signature that verifies. Raises the first failure met, or
    ``SignatureError("key_fetch_failed")`` when no signature's key is known.
    """
    first_error: SignatureError | None = None
    for sig in parse_signatures(parts):
        key = key_lookup(sig.key_id) if sig.key_id else None
        if key is None:
            continue
        try:
            return verify_signature(parts, sig, key, now=now, policy=policy)
        except SignatureError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    raise SignatureError("key_fetch_failed", "no key could be found for any signature")


def _candidate_algorithms(sig: SignatureInput, key: PublicKey) -> list[str]:
    declared = sig.algorithm
    if sig.scheme == "cavage":
        if declared in (None, HS2019):
            return [default_algorithm(key)]
        if declared == RSA_SHA256:
            return [RSA_V1_5_SHA256]
        raise SignatureError(
            "unsupported_algorithm", f"algorithm {declared} (only rsa-sha256, hs2019)"
        )
    if declared is None:
        # RFC 9421 lets the key decide; an RSA key could mean either padding.
        return [RSA_V1_5_SHA256, RSA_PSS_SHA512] if isinstance(key, RSAPublicKey) else [ED25519]
    if declared in SUPPORTED:
        return [declared]
    raise SignatureError("unsupported_algorithm", f"algorithm {declared} is not supported")


def _check_window(sig: SignatureInput, *, now: float, policy: Policy) -> float | None:
    start = sig.created if sig.created is not None else sig.date
    if policy is Policy.SPEC:
        if sig.expires is not None and now > sig.expires:
            raise SignatureError("stale", f"signature expired at {sig.expires:.0f}")
        if sig.created is not None and sig.created > now + CLOCK_SKEW_MARGIN:
            raise SignatureError("future", f"signature created in the future ({sig.created:.0f})")
        return start
    end = sig.expires
    if start is not None:
        end = min(
            end if end is not None else start + DEFAULT_VALIDITY, start + EXPIRATION_WINDOW_LIMIT
        )
    if start is not None and start > now + CLOCK_SKEW_MARGIN:
        raise SignatureError("future", f"signed request dated {start - now:.0f}s in the future")
    if end is not None and now > end + CLOCK_SKEW_MARGIN:
        raise SignatureError("stale", f"signed request expired {now - end:.0f}s ago")
    return start


def _check_coverage(parts: HttpRequestParts, sig: SignatureInput) -> None:
    covered = set(sig.components)
    rules: list[tuple[bool, str]]
    if sig.scheme == "cavage":
        rules = [
            ("date" in covered or "(created)" in covered, "date or (created)"),
            ("(request-target)" in covered or "digest" in covered, "(request-target) or digest"),
            (parts.method != "GET" or "host" in covered, "host on a GET request"),
            (parts.method != "POST" or "digest" in covered, "digest on a POST request"),
        ]
    else:
        rules = [
            (sig.created is not None, "the created parameter"),
            ({"@method", "@target-uri"} <= covered, "@method and @target-uri"),
            (parts.method != "POST" or "content-digest" in covered, "content-digest on a POST"),
        ]
    for ok, what in rules:
        if not ok:
            raise SignatureError("missing_header", f"Mastodon requires {what} to be signed")


def _check_host(parts: HttpRequestParts, sig: SignatureInput) -> None:
    # A signed Host names the server the request was meant for. The request reached us, so a
    # Host of another server means a request signed for it is being replayed here (Mastodon's
    # Rails refuses foreign Host headers before any signature check).
    value = parts.header("host") if "host" in sig.components else None
    if value is None:
        return
    if _normal_authority(value, parts.scheme) != parts.authority:
        raise SignatureError(
            "invalid", f"the signed Host {value!r} is not this server ({parts.authority})"
        )


def _normal_authority(host: str, scheme: str) -> str:
    """``host[:port]`` in lowercase, without the scheme's default port."""
    host = host.strip().lower()
    name, sep, port = host.rpartition(":")
    if sep and port.isdigit():
        default = {"http": "80", "https": "443"}.get(scheme)
        if port.lstrip("0") == default:
            return name
    return host


def _check_digests(parts: HttpRequestParts, sig: SignatureInput, *, policy: Policy) -> None:
    checked = False
    for name, check in (("digest", check_digest), ("content-digest", check_content_digest)):
        if name not in sig.components:
            continue
        value = parts.header(name)
        if value is None:
            raise SignatureError("missing_header", f"{name} is signed but absent")
        check(value, parts.body, require_sha256=policy is Policy.MASTODON)
        checked = True
    if parts.body and not checked and policy is Policy.MASTODON:
        raise SignatureError("bad_digest", "the body is not covered by a signed digest")

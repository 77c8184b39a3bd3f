"""Core layer: body digests, RFC 3230 ``Digest`` and RFC 9530 ``Content-Digest``.

Checks accept any case for the algorithm name and several digests in one header; a sha-256 digest
must be present and match (what Mastodon requires), and a sha-512 one, when sent, must match too.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from http_sfv.dictionary import Dictionary
from http_sfv.item import Item

from fedsocial.errors import SignatureError

_HASHES = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}


def digest_header(body: bytes) -> str:
    """Return an RFC 3230 ``Digest`` value for ``body``: ``SHA-256=<base64>``."""
    return "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii")


def content_digest_header(body: bytes) -> str:
    """Return an RFC 9530 ``Content-Digest`` value for ``body``: ``sha-256=:<base64>:``."""
    return "sha-256=:" + base64.b64encode(hashlib.sha256(body).digest()).decode("ascii") + ":"


def check_digest(value: str, body: bytes, *, require_sha256: bool = True) -> None:
    """Check an RFC 3230 ``Digest`` header against ``body``.

    Raises ``SignatureError("bad_digest")`` when no sha-256 digest is offered (with
    ``require_sha256=False``: when neither sha-256 nor sha-512 is), when a value is not base64,
    when one algorithm is offered twice with different values, or when a sha-256 or sha-512
    digest does not match. Other algorithms are ignored.
    """
    offered: dict[str, bytes] = {}
    for member in value.split(","):
        name, sep, encoded = member.strip().partition("=")
        algorithm = name.strip().lower()
        if not sep or algorithm not in _HASHES:
            continue
        try:
            digest = base64.b64decode(encoded.strip(), validate=True)
        except binascii.Error as exc:
            raise SignatureError("bad_digest", f"Digest {name} is not valid base64") from exc
        if offered.setdefault(algorithm, digest) != digest:
            # Two different values of one algorithm: at most one matches the body, and which
            # one a reader takes varies (Mastodon takes the first).
            raise SignatureError("bad_digest", f"Digest offers two different {algorithm} values")
    _compare(offered, body, header="Digest", require_sha256=require_sha256)


def check_content_digest(value: str, body: bytes, *, require_sha256: bool = True) -> None:
    """Check an RFC 9530 ``Content-Digest`` header against ``body``.

    The header is an RFC 8941 dictionary of byte sequences; algorithm keys are accepted in any case.
    Raises ``SignatureError("bad_digest")`` when it does not parse, has no sha-256 member (with
    ``require_sha256=False``: neither sha-256 nor sha-512), or a sha-256/sha-512 member does not
    match.
    """
    parsed = Dictionary()
    try:
        parsed.parse(_lowercase_keys(value).encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise SignatureError("bad_digest", "Content-Digest is not a structured dictionary") from exc
    offered: dict[str, bytes] = {}
    for algorithm, member in parsed.items():
        if algorithm not in _HASHES:
            continue
        if not isinstance(member, Item) or not isinstance(member.value, bytes):
            raise SignatureError("bad_digest", f"Content-Digest {algorithm} is not a byte sequence")
        offered[algorithm] = member.value
    _compare(offered, body, header="Content-Digest", require_sha256=require_sha256)


def _lowercase_keys(value: str) -> str:
    # Structured-field keys must be lowercase; senders writing "SHA-256=" would otherwise fail to
    # parse. Byte sequences never contain "," and keys end at the first "=", so this is safe.
    members = []
    for member in value.split(","):
        key, sep, rest = member.partition("=")
        members.append(key.lower() + sep + rest)
    return ",".join(members)


def _compare(offered: dict[str, bytes], body: bytes, *, header: str, require_sha256: bool) -> None:
    if not offered:
        raise SignatureError("bad_digest", f"{header} has no sha-256 or sha-512 digest")
    if require_sha256 and "sha-256" not in offered:
        names = ", ".join(sorted(offered))
        raise SignatureError("bad_digest", f"{header} has no sha-256 digest (offered: {names})")
    for algorithm, expected in offered.items():
        actual = _HASHES[algorithm](body).digest()
        if not hmac.compare_digest(actual, expected):
            raise SignatureError("bad_digest", f"{header} {algorithm} does not match the body")

"""Digest and Content-Digest: producing them and checking what senders send."""

from __future__ import annotations

import base64
import hashlib

import pytest

from fedsocial.crypto.digests import (
    check_content_digest,
    check_digest,
    content_digest_header,
    digest_header,
)
from fedsocial.errors import SignatureError

BODY = b'{"hello": "world"}'
# draft-cavage-12 Appendix C and RFC 9530 show these values for this body.
SHA256 = "X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE="
SHA512 = base64.b64encode(hashlib.sha512(BODY).digest()).decode()
WRONG = base64.b64encode(hashlib.sha256(b"other").digest()).decode()


def test_digest_header_matches_the_spec_example() -> None:
    assert digest_header(BODY) == f"SHA-256={SHA256}"


def test_content_digest_header_matches_the_spec_example() -> None:
    assert content_digest_header(BODY) == f"sha-256=:{SHA256}:"


@pytest.mark.parametrize(
    "value",
    [
        f"SHA-256={SHA256}",
        f"sha-256={SHA256}",
        f"Sha-256={SHA256}",
        f"SHA-512={SHA512}, SHA-256={SHA256}",
        f"SHA-256={SHA256},SHA-512={SHA512}",
        f"MD5=abc, SHA-256={SHA256}",
    ],
)
def test_check_digest_accepts(value: str) -> None:
    check_digest(value, BODY)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (f"SHA-256={WRONG}", "does not match"),
        (f"SHA-512={SHA512}", "no sha-256"),
        ("MD5=abc", "no sha-256 or sha-512"),
        ("", "no sha-256 or sha-512"),
        (f"SHA-256={SHA256}, SHA-512={WRONG}", "sha-512 does not match"),
        ("SHA-256=not base64!", "not valid base64"),
    ],
)
def test_check_digest_rejects(value: str, text: str) -> None:
    with pytest.raises(SignatureError, match=text) as info:
        check_digest(value, BODY)
    assert info.value.reason == "bad_digest"


@pytest.mark.parametrize(
    "value",
    [
        f"sha-256=:{SHA256}:",
        f"SHA-256=:{SHA256}:",
        f"sha-512=:{SHA512}:, sha-256=:{SHA256}:",
        f"unixsum=:AAAA:, sha-256=:{SHA256}:",
    ],
)
def test_check_content_digest_accepts(value: str) -> None:
    check_content_digest(value, BODY)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (f"sha-256=:{WRONG}:", "does not match"),
        (f"sha-512=:{SHA512}:", "no sha-256"),
        (f"sha-256={SHA256}", "structured dictionary"),
        (f'sha-256="{SHA256}"', "not a byte sequence"),
        (f"sha-256=:{SHA256}:, sha-512=:{WRONG}:", "sha-512 does not match"),
    ],
)
def test_check_content_digest_rejects(value: str, text: str) -> None:
    with pytest.raises(SignatureError, match=text) as info:
        check_content_digest(value, BODY)
    assert info.value.reason == "bad_digest"


def test_sha512_alone_is_enough_when_sha256_is_not_required() -> None:
    check_digest(f"SHA-512={SHA512}", BODY, require_sha256=False)
    check_content_digest(f"sha-512=:{SHA512}:", BODY, require_sha256=False)
    with pytest.raises(SignatureError, match="does not match"):
        check_content_digest(f"sha-512=:{SHA256}:", BODY, require_sha256=False)
    with pytest.raises(SignatureError, match="no sha-256 or sha-512"):
        check_digest("MD5=abc", BODY, require_sha256=False)


def test_rfc9421_example_sha512_content_digest_matches() -> None:
    # RFC 9421 Appendix B.2 request: only a sha-512 digest, which matches but is not enough.
    value = (
        "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHW"
        "XvJwew==:"
    )
    check_content_digest(value + f", sha-256=:{SHA256}:", BODY)

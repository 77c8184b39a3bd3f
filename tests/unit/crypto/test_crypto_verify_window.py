"""Verification rules, continued: the time window edges, the query-string fallback and several
signatures on one request."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fedsocial.crypto.cavage import sign_cavage
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import PublicKey
from fedsocial.crypto.rfc9421 import sign_rfc9421
from fedsocial.crypto.verify import (
    Policy,
    parse_signatures,
    verify_request,
)
from fedsocial.errors import SignatureError
from tests.unit.crypto.verify_helpers import (
    HOUR,
    KEY_ID,
    NOW,
    check,
    get,
    post,
    reason,
    signed_cavage,
    signed_rfc9421,
)

# --- the time window ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signed_at", "verdict"),
    [
        (NOW + HOUR, "ok"),  # exactly 1 h ahead: inside the clock-skew margin
        (NOW + HOUR + 1, "future"),
        (NOW - 300 - HOUR, "ok"),  # end (Date + 5 min) + 1 h is exactly now
        (NOW - 300 - HOUR - 1, "stale"),
    ],
)
def test_date_window(rsa_key: RSAPrivateKey, signed_at: float, verdict: str) -> None:
    request = signed_cavage(post(), rsa_key, now=signed_at)
    if verdict == "ok":
        assert check(request, rsa_key).created == signed_at
    else:
        assert reason(request, rsa_key) == verdict
        # The spec's rules do not look at the Date header at all.
        assert check(request, rsa_key, policy=Policy.SPEC).key_id == KEY_ID


@pytest.mark.parametrize(
    ("expires_in", "age", "verdict"),
    [
        (60, 60 + HOUR, "ok"),  # expires + 1 h
        (60, 60 + HOUR + 1, "stale"),
        (24 * HOUR, 12 * HOUR + HOUR, "ok"),  # expiry capped at 12 h, then + 1 h
        (24 * HOUR, 12 * HOUR + HOUR + 1, "stale"),
    ],
)
def test_expires_bounds_and_twelve_hour_cap(
    ed_key: Ed25519PrivateKey, expires_in: float, age: float, verdict: str
) -> None:
    for request in (
        signed_cavage(post(), ed_key, expires_in=expires_in),
        signed_rfc9421(post(), ed_key, expires_in=expires_in),
    ):
        if verdict == "ok":
            assert check(request, ed_key, now=NOW + age).created == NOW
        else:
            assert reason(request, ed_key, now=NOW + age) == verdict


def test_spec_policy_checks_expires_without_margin(ed_key: Ed25519PrivateKey) -> None:
    request = signed_rfc9421(post(), ed_key, expires_in=60)
    assert check(request, ed_key, now=NOW + 60, policy=Policy.SPEC).key_id == KEY_ID
    assert reason(request, ed_key, now=NOW + 61, policy=Policy.SPEC) == "stale"
    # Without expires, the spec sets no age limit.
    old = signed_rfc9421(post(), ed_key)
    assert check(old, ed_key, now=NOW + 10 * 365 * 24 * HOUR, policy=Policy.SPEC)
    assert reason(old, ed_key, now=NOW - HOUR - 1, policy=Policy.SPEC) == "future"


def test_created_instead_of_date(ed_key: Ed25519PrivateKey) -> None:
    # Given an hs2019 signature over (created) and no date, on a request whose Date is far off
    names = ["(request-target)", "host", "(created)", "digest"]
    parts = post(Date="Mon, 01 Jan 2001 00:00:00 GMT")
    request = signed_cavage(parts, ed_key, headers=names)
    assert f"created={int(NOW)}" in request.headers["signature"]
    # Then the window starts at (created), not at the Date header
    assert check(request, ed_key).created == NOW
    assert check(request, ed_key, now=NOW + 300 + HOUR).created == NOW
    assert reason(request, ed_key, now=NOW + 300 + HOUR + 1) == "stale"
    assert reason(request, ed_key, now=NOW - HOUR - 1) == "future"


def test_created_cannot_be_signed_with_rsa_sha256(rsa_key: RSAPrivateKey) -> None:
    with pytest.raises(ValueError, match="rsa-sha256"):
        sign_cavage(post(), key_id=KEY_ID, private_key=rsa_key, headers=["(created)"], now=NOW)


# --- query string fallback ----------------------------------------------------------------------


def test_request_target_without_query_is_accepted(rsa_key: RSAPrivateKey) -> None:
    # Given a signature made over the path only (what older Mastodon versions signed)
    plain = get("https://local.example/users/alice/outbox")
    signed = signed_cavage(plain, rsa_key)
    # When the request actually carried a query string
    with_query = HttpRequestParts(
        "GET", "https://local.example/users/alice/outbox?page=true", signed.headers, b""
    )
    # Then it verifies on the second try, and a different path still fails
    assert check(with_query, rsa_key).key_id == KEY_ID
    other_path = HttpRequestParts(
        "GET", "https://local.example/users/alice/inbox?page=true", signed.headers, b""
    )
    assert reason(other_path, rsa_key) == "invalid"


def test_request_target_with_query_is_signed_with_it(rsa_key: RSAPrivateKey) -> None:
    request = signed_cavage(get("https://local.example/users/alice/outbox?page=true"), rsa_key)
    (sig,) = parse_signatures(request)
    assert b"(request-target): get /users/alice/outbox?page=true" in sig.signing_string
    assert check(request, rsa_key).key_id == KEY_ID


# --- several signatures -------------------------------------------------------------------------


def test_multiple_rfc9421_signatures_verify_the_one_whose_key_we_have(
    rsa_key: RSAPrivateKey, ed_key: Ed25519PrivateKey
) -> None:
    # Given a request signed by two keys, under two labels
    first = post().with_headers(
        sign_rfc9421(post(), key_id="https://a.example/key", private_key=rsa_key, now=NOW)
    )
    both = first.with_headers(
        sign_rfc9421(
            first, key_id="https://b.example/key", private_key=ed_key, now=NOW, label="sig2"
        )
    )
    assert [s.label for s in parse_signatures(both)] == ["sig1", "sig2"]
    keys: dict[str, PublicKey] = {"https://b.example/key": ed_key.public_key()}
    # When we know only the second key
    result = verify_request(both, keys.get, now=NOW)
    # Then that signature is the one verified
    assert result.key_id == "https://b.example/key"
    assert result.algorithm == "ed25519"


def test_verify_request_tries_the_next_signature_after_a_failure(
    rsa_key: RSAPrivateKey, other_rsa_key: RSAPrivateKey
) -> None:
    first = post().with_headers(
        sign_rfc9421(post(), key_id="https://a.example/key", private_key=rsa_key, now=NOW)
    )
    both = first.with_headers(
        sign_rfc9421(
            first, key_id="https://b.example/key", private_key=other_rsa_key, now=NOW, label="s2"
        )
    )
    # The first key is known but wrong (a stale cache, say); the second one is right.
    keys: dict[str, PublicKey] = {
        "https://a.example/key": other_rsa_key.public_key(),
        "https://b.example/key": other_rsa_key.public_key(),
    }
    assert verify_request(both, keys.get, now=NOW).key_id == "https://b.example/key"
    keys.pop("https://b.example/key")
    with pytest.raises(SignatureError) as info:
        verify_request(both, keys.get, now=NOW)
    assert info.value.reason == "invalid"


def test_rfc9421_and_cavage_together(rsa_key: RSAPrivateKey) -> None:
    # A cavage signature in Authorization next to an RFC 9421 one: both are parsed, 9421 first.
    cavage = sign_cavage(post(), key_id="cavage-key", private_key=rsa_key, now=NOW)
    cavage["Authorization"] = "Signature " + cavage.pop("Signature")
    request = post().with_headers(cavage)
    request = request.with_headers(
        sign_rfc9421(request, key_id="rfc-key", private_key=rsa_key, now=NOW)
    )
    assert [s.scheme for s in parse_signatures(request)] == ["rfc9421", "cavage"]
    result = verify_request(request, {"cavage-key": rsa_key.public_key()}.get, now=NOW)
    assert result.scheme == "cavage"

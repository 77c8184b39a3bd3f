"""Verification rules: a round trip for each scheme and algorithm, one test per failure reason."""

from __future__ import annotations

import base64

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fedsocial.crypto.cavage import format_http_date
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.verify import (
    Policy,
    parse_signatures,
    verify_request,
    verify_signature,
)
from fedsocial.errors import SignatureError
from tests.unit.crypto.verify_helpers import (
    BODY,
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

# --- round trips -------------------------------------------------------------------------------


def test_cavage_rsa_sha256_round_trip(rsa_key: RSAPrivateKey) -> None:
    # Given a POST signed with Mastodon's defaults
    request = signed_cavage(post(), rsa_key)
    # Then the header says rsa-sha256 over Mastodon's header list, and it verifies
    assert 'algorithm="rsa-sha256"' in request.headers["signature"]
    assert 'headers="(request-target) host date digest"' in request.headers["signature"]
    assert request.header("host") == "local.example"
    assert request.header("date") == format_http_date(NOW)
    result = check(request, rsa_key)
    assert result.scheme == "cavage"
    assert result.algorithm == "rsa-v1_5-sha256"
    assert result.created == NOW
    assert result.owner is None


def test_cavage_get_signs_accept(rsa_key: RSAPrivateKey) -> None:
    request = signed_cavage(get(), rsa_key)
    assert 'headers="(request-target) host date accept"' in request.headers["signature"]
    assert "digest" not in request.headers
    assert check(request, rsa_key).components == ("(request-target)", "host", "date", "accept")


def test_cavage_hs2019_ed25519_round_trip(ed_key: Ed25519PrivateKey) -> None:
    request = signed_cavage(post(), ed_key, expires_in=300)
    signature = request.headers["signature"]
    assert 'algorithm="hs2019"' in signature
    assert f"created={int(NOW)}" in signature and f"expires={int(NOW + 300)}" in signature
    result = check(request, ed_key)
    assert result.algorithm == "ed25519"
    assert "(created)" in result.components and "(expires)" in result.components


@pytest.mark.parametrize("algorithm", ["rsa-v1_5-sha256", "rsa-pss-sha512"])
def test_rfc9421_rsa_round_trips(rsa_key: RSAPrivateKey, algorithm: str) -> None:
    request = signed_rfc9421(post(), rsa_key, algorithm=algorithm)
    assert request.header("content-digest") is not None
    result = check(request, rsa_key)
    assert result.scheme == "rfc9421"
    assert result.algorithm == algorithm
    assert result.components == ("@method", "@target-uri", "content-digest")


def test_rfc9421_ed25519_round_trip(ed_key: Ed25519PrivateKey) -> None:
    request = signed_rfc9421(post(), ed_key, expires_in=60)
    assert 'alg="ed25519"' in request.headers["signature-input"]
    assert check(request, ed_key).algorithm == "ed25519"


def test_rfc9421_without_alg_lets_the_key_decide(rsa_key: RSAPrivateKey) -> None:
    request = signed_rfc9421(post(), rsa_key, algorithm="rsa-pss-sha512", include_alg=False)
    assert check(request, rsa_key).algorithm == "rsa-pss-sha512"


def test_signature_in_authorization_header(rsa_key: RSAPrivateKey) -> None:
    request = signed_cavage(post(), rsa_key)
    moved = HttpRequestParts(
        request.method,
        request.url,
        {
            **{k: v for k, v in request.headers.items() if k != "signature"},
            "Authorization": "Signature " + request.headers["signature"],
        },
        request.body,
    )
    assert check(moved, rsa_key).key_id == KEY_ID


# --- one test per failure reason ---------------------------------------------------------------


def test_missing(rsa_key: RSAPrivateKey) -> None:
    with pytest.raises(SignatureError) as info:
        parse_signatures(post())
    assert info.value.reason == "missing"
    # Both schemes are accepted, so the message does not speak of draft-cavage alone.
    assert info.value.message.startswith("request has no HTTP signature")
    assert "Signature-Input" in info.value.message
    with pytest.raises(SignatureError) as info:
        verify_request(post(), lambda _: rsa_key.public_key(), now=NOW)
    assert info.value.reason == "missing"


def test_unsupported_algorithm_cavage(rsa_key: RSAPrivateKey) -> None:
    request = signed_cavage(post(), rsa_key)
    tampered = request.headers["signature"].replace("rsa-sha256", "hmac-sha256")
    assert reason(request.with_headers({"Signature": tampered}), rsa_key) == (
        "unsupported_algorithm"
    )


def test_unsupported_algorithm_rfc9421(rsa_key: RSAPrivateKey) -> None:
    request = signed_rfc9421(post(), rsa_key)
    tampered = request.headers["signature-input"].replace("rsa-v1_5-sha256", "hmac-sha256")
    assert reason(request.with_headers({"Signature-Input": tampered}), rsa_key) == (
        "unsupported_algorithm"
    )


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
def test_bad_digest_when_body_changed(rsa_key: RSAPrivateKey, scheme: str) -> None:
    sign = signed_cavage if scheme == "cavage" else signed_rfc9421
    request = sign(post(), rsa_key)
    tampered = HttpRequestParts(request.method, request.url, request.headers, b'{"evil": 1}')
    assert reason(tampered, rsa_key) == "bad_digest"
    assert reason(tampered, rsa_key, policy=Policy.SPEC) == "bad_digest"


def test_bad_digest_when_a_body_is_not_covered(rsa_key: RSAPrivateKey) -> None:
    # A PUT with a body but no signed digest: Mastodon's POST rule does not apply, ours does.
    parts = HttpRequestParts("PUT", "https://local.example/x", {}, BODY)
    request = signed_cavage(parts, rsa_key, headers=["(request-target)", "host", "date"])
    assert reason(request, rsa_key) == "bad_digest"
    assert check(request, rsa_key, policy=Policy.SPEC).key_id == KEY_ID


def test_stale(rsa_key: RSAPrivateKey) -> None:
    request = signed_cavage(post(), rsa_key)
    assert reason(request, rsa_key, now=NOW + 300 + HOUR + 1) == "stale"


def test_future(rsa_key: RSAPrivateKey) -> None:
    request = signed_cavage(post(), rsa_key, now=NOW + HOUR + 1)
    assert reason(request, rsa_key) == "future"


def test_missing_header_signed_but_absent(rsa_key: RSAPrivateKey) -> None:
    parts = post(X_Extra="1")
    names = ["(request-target)", "host", "date", "digest", "x-extra"]
    request = signed_cavage(parts, rsa_key, headers=names)
    without = HttpRequestParts(
        request.method,
        request.url,
        {k: v for k, v in request.headers.items() if k != "x-extra"},
        request.body,
    )
    assert reason(without, rsa_key) == "missing_header"


@pytest.mark.parametrize(
    ("method", "names"),
    [
        ("POST", ["(request-target)", "host", "date"]),  # POST without digest
        ("POST", ["host", "date", "digest", "content-type"]),  # fine: digest stands in for target
        ("GET", ["(request-target)", "date"]),  # GET without host
        ("GET", ["(request-target)", "host", "accept"]),  # neither date nor (created)
        ("GET", ["host", "date"]),  # neither (request-target) nor digest
    ],
)
def test_missing_header_mastodon_coverage(
    rsa_key: RSAPrivateKey, method: str, names: list[str]
) -> None:
    parts = post() if method == "POST" else get()
    request = signed_cavage(parts, rsa_key, headers=names)
    if names == ["host", "date", "digest", "content-type"]:
        assert check(request, rsa_key).key_id == KEY_ID
    else:
        assert reason(request, rsa_key) == "missing_header"
        assert check(request, rsa_key, policy=Policy.SPEC).key_id == KEY_ID


@pytest.mark.parametrize(
    "components",
    [["@method", "content-digest"], ["@target-uri", "content-digest"], ["@method", "@target-uri"]],
)
def test_missing_header_mastodon_rfc9421_coverage(
    rsa_key: RSAPrivateKey, components: list[str]
) -> None:
    request = signed_rfc9421(post(), rsa_key, components=components)
    assert reason(request, rsa_key) == "missing_header"


def test_missing_header_rfc9421_without_created(rsa_key: RSAPrivateKey) -> None:
    request = signed_rfc9421(post(), rsa_key)
    stripped = request.headers["signature-input"].replace(f";created={int(NOW)}", "")
    # The signature no longer matches, but the missing `created` is reported first.
    assert reason(request.with_headers({"Signature-Input": stripped}), rsa_key) == "missing_header"


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
def test_invalid_signature_bytes(rsa_key: RSAPrivateKey, scheme: str) -> None:
    sign = signed_cavage if scheme == "cavage" else signed_rfc9421
    request = sign(post(), rsa_key)
    other = base64.b64encode(b"\x00" * 256).decode()
    if scheme == "cavage":
        header = request.headers["signature"].rsplit('signature="', 1)[0]
        tampered = request.with_headers({"Signature": f'{header}signature="{other}"'})
    else:
        tampered = request.with_headers({"Signature": f"sig1=:{other}:"})
    assert reason(tampered, rsa_key) == "invalid"


def test_invalid_with_the_wrong_key(rsa_key: RSAPrivateKey, other_rsa_key: RSAPrivateKey) -> None:
    request = signed_cavage(post(), rsa_key)
    assert reason(request, other_rsa_key) == "invalid"


def test_invalid_when_algorithm_does_not_fit_the_key(
    rsa_key: RSAPrivateKey, ed_key: Ed25519PrivateKey
) -> None:
    request = signed_rfc9421(post(), rsa_key)
    assert reason(request, ed_key) == "invalid"


@pytest.mark.parametrize(
    "header",
    [
        'keyId="k",signature="AAAA',  # unterminated quote
        'signature="AAAA"',  # no keyId
        'keyId="k",headers="date"',  # no signature
        'keyId="k",algorithm="rsa-sha256",headers="(created) date",created=1,signature="AA=="',
        'keyId="k",headers="(expires) date",signature="AA=="',  # (expires) without expires
        'keyId="k",created=soon,signature="AA=="',
    ],
)
def test_invalid_cavage_headers(header: str) -> None:
    with pytest.raises(SignatureError) as info:
        parse_signatures(post(Signature=header, Date=format_http_date(NOW)))
    assert info.value.reason == "invalid"


def test_invalid_date_header(rsa_key: RSAPrivateKey) -> None:
    request = signed_cavage(post(), rsa_key).with_headers({"Date": "yesterday"})
    with pytest.raises(SignatureError) as info:
        parse_signatures(request)
    assert info.value.reason == "invalid"


def test_invalid_rfc9421_structures() -> None:
    with pytest.raises(SignatureError) as info:
        parse_signatures(post(Signature_Input="sig1=(", Signature="sig1=:AA==:"))
    assert info.value.reason == "invalid"


@pytest.mark.parametrize(
    ("signature_input", "signature", "text"),
    [
        ('sig1=("@status");created=1;keyid="k"', "sig1=:AA==:", "unsupported derived"),
        ('sig1=("host";sf);created=1;keyid="k"', "sig1=:AA==:", "parameters"),
        ('sig1=("host" "host");created=1;keyid="k"', "sig1=:AA==:", "twice"),
        ('sig1=("host");created=1;keyid="k"', "sig2=:AA==:", "no byte-sequence"),
        ('sig1=("host");created=1;keyid="k"', 'sig1="AA=="', "no byte-sequence"),
        ('sig1="host";created=1;keyid="k"', "sig1=:AA==:", "not an inner list"),
    ],
)
def test_unusable_rfc9421_signatures_are_invalid(
    rsa_key: RSAPrivateKey, signature_input: str, signature: str, text: str
) -> None:
    request = post(Host="local.example", Signature_Input=signature_input, Signature=signature)
    (sig,) = parse_signatures(request)
    assert sig.unusable is not None and text in sig.unusable
    with pytest.raises(SignatureError, match=text) as info:
        verify_signature(request, sig, rsa_key.public_key(), now=NOW)
    assert info.value.reason == "invalid"


def test_key_fetch_failed(rsa_key: RSAPrivateKey) -> None:
    request = signed_cavage(post(), rsa_key)
    with pytest.raises(SignatureError) as info:
        verify_request(request, lambda _: None, now=NOW)
    assert info.value.reason == "key_fetch_failed"

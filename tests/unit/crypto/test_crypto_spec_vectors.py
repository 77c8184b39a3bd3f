"""Published test vectors: draft-cavage-12 Appendix C and RFC 9421 Appendix B.2.

draft-cavage-12 Appendix C ("Test Values"): POST /foo?param=value&pet=dog to example.com, dated
Sun, 05 Jan 2014 21:31:40 GMT, signed with the appendix's 1024-bit RSA key (keyId "Test"). The
expected signatures are the appendix's; the same strings appear in go-fed/httpsig's Appendix C
tests. RSASSA-PKCS1-v1_5 is deterministic, so we must reproduce them byte for byte.

RFC 9421 Appendix B.2: the test request with the B.1 keys. RSA-PSS (B.2.1, B.2.3) is randomised,
so those are verified only; Ed25519 (B.2.6) is deterministic and reproduced exactly.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from fedsocial.crypto.cavage import parse_cavage, sign_cavage
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import load_private_key, load_public_key
from fedsocial.crypto.rfc9421 import parse_rfc9421, sign_rfc9421
from fedsocial.crypto.verify import Policy, parse_signatures, verify_signature
from fedsocial.errors import SignatureError

CAVAGE_DATE = 1388957500.0  # Sun, 05 Jan 2014 21:31:40 GMT
CAVAGE_REQUEST = HttpRequestParts(
    "POST",
    "https://example.com/foo?param=value&pet=dog",
    {
        "Host": "example.com",
        "Date": "Sun, 05 Jan 2014 21:31:40 GMT",
        "Content-Type": "application/json",
        "Digest": "SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=",
        "Content-Length": "18",
    },
    b'{"hello": "world"}',
)
C1 = (
    "SjWJWbWN7i0wzBvtPl8rbASWz5xQW6mcJmn+ibttBqtifLN7Sazz6m79cNfwwb8DMJ5cou1s7uEGKKCs+FLEEaDV5lp7q"
    "25WqS+lavg7T8hc0GppauB6hbgEKTwblDHYGEtbGmtdHgVCk9SuS13F0hZ8FD0k/5OxEPXe5WozsbM="
)
C2 = (
    "qdx+H7PHHDZgy4y/Ahn9Tny9V3GP6YgBPyUXMmoxWtLbHpUnXS2mg2+SbrQDMCJypxBLSPQR2aAjn7ndmw2iicw3HMbe8"
    "VfEdKFYRqzic+efkb3nndiv/x1xSHDJWeSWkx3ButlYSuBskLu6kd9Fswtemr3lgdDEmn04swr2Os0="
)
C3 = (
    "vSdrb+dS3EceC9bcwHSo4MlyKS59iFIrhgYkz8+oVLEEzmYZZvRs8rgOp+63LEM3v+MFHB32NfpB2bEKBIvB1q52LaEUH"
    "Fv120V01IL+TAD48XaERZFukWgHoBTLMhYS2Gb51gWxpeIq8knRmPnYePbF5MOkR0Zkly4zKH7s1dE="
)
ALL_HEADERS = ["(request-target)", "host", "date", "content-type", "digest", "content-length"]
CAVAGE_CASES = [
    pytest.param(None, "date: Sun, 05 Jan 2014 21:31:40 GMT", C1, id="C.1-default"),
    pytest.param(
        ["(request-target)", "host", "date"],
        "(request-target): post /foo?param=value&pet=dog\nhost: example.com\n"
        "date: Sun, 05 Jan 2014 21:31:40 GMT",
        C2,
        id="C.2-basic",
    ),
    pytest.param(
        ALL_HEADERS,
        "(request-target): post /foo?param=value&pet=dog\nhost: example.com\n"
        "date: Sun, 05 Jan 2014 21:31:40 GMT\ncontent-type: application/json\n"
        "digest: SHA-256=X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=\ncontent-length: 18",
        C3,
        id="C.3-all-headers",
    ),
]


@pytest.mark.parametrize(("headers", "signing_string", "expected"), CAVAGE_CASES)
def test_cavage_appendix_c_is_reproduced(
    fixture_text: Callable[[str], str],
    headers: list[str] | None,
    signing_string: str,
    expected: str,
) -> None:
    # Given the appendix key and request
    key = load_private_key(fixture_text("cavage12-test-private.pem"))
    # When we sign the listed headers (the default test lists only "date")
    added = sign_cavage(
        CAVAGE_REQUEST, key_id="Test", private_key=key, headers=headers or ["date"], now=0
    )
    # Then the signature is the appendix's, and so is the rebuilt signing string
    assert f'signature="{expected}"' in added["Signature"]
    assert "Date" not in added and "Host" not in added
    parsed = parse_cavage(CAVAGE_REQUEST.with_headers({"Signature": added["Signature"]}))
    assert parsed.signing_string.decode() == signing_string


@pytest.mark.parametrize(("headers", "signing_string", "expected"), CAVAGE_CASES)
def test_cavage_appendix_c_verifies_under_spec_policy(
    fixture_text: Callable[[str], str],
    headers: list[str] | None,
    signing_string: str,
    expected: str,
) -> None:
    # Given the appendix's Authorization header (C.1 has no headers parameter: default "date")
    params = 'keyId="Test",algorithm="rsa-sha256",'
    if headers is not None:
        params += f'headers="{" ".join(headers)}",'
    request = CAVAGE_REQUEST.with_headers(
        {"Authorization": f'Signature {params}signature="{expected}"'}
    )
    public = load_public_key(fixture_text("cavage12-test-public.pem"))
    # When it is verified at the example's date under the spec's rules
    (sig,) = parse_signatures(request)
    result = verify_signature(request, sig, public, now=CAVAGE_DATE, policy=Policy.SPEC)
    # Then it verifies as RSA PKCS#1 v1.5 SHA-256
    assert result.key_id == "Test"
    assert result.algorithm == "rsa-v1_5-sha256"
    assert sig.signing_string.decode() == signing_string


def test_cavage_basic_test_fails_mastodon_policy_for_lack_of_digest(
    fixture_text: Callable[[str], str],
) -> None:
    # Given C.2, a POST that does not sign its digest
    request = CAVAGE_REQUEST.with_headers(
        {
            "Signature": 'keyId="Test",algorithm="rsa-sha256",headers="(request-target) host date",'
            f'signature="{C2}"'
        }
    )
    public = load_public_key(fixture_text("cavage12-test-public.pem"))
    (sig,) = parse_signatures(request)
    # Then Mastodon's rules refuse it
    with pytest.raises(SignatureError) as info:
        verify_signature(request, sig, public, now=CAVAGE_DATE)
    assert info.value.reason == "missing_header"


RFC9421_CREATED = 1618884473.0
RFC9421_REQUEST = HttpRequestParts(
    "POST",
    "https://example.com/foo?param=Value&Pet=dog",
    {
        "Host": "example.com",
        "Date": "Tue, 20 Apr 2021 02:07:55 GMT",
        "Content-Type": "application/json",
        "Content-Digest": "sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7B"
        "NNyealdVLvRwEmTHWXvJwew==:",
        "Content-Length": "18",
    },
    b'{"hello": "world"}',
)
B21_INPUT = 'sig-b21=();created=1618884473;keyid="test-key-rsa-pss";nonce="b3k2pp5k7z-50gnwp.yemd"'
B21_SIGNATURE = (
    "sig-b21=:d2pmTvmbncD3xQm8E9ZV2828BjQWGgiwAaw5bAkgibUopemLJcWDy/lkbbHAve4cRAtx31Iq786U7it++wgGx"
    "btRxf8Udx7zFZsckzXaJMkA7ChG52eSkFxykJeNqsrWH5S+oxNFlD4dzVuwe8DhTSja8xxbR/Z2cOGdCbzR72rgFWhzx2"
    "VjBqJzsPLMIQKhO4DGezXehhWwE56YCE+O6c0mKZsfxVrogUvA4HELjVKWmAvtl6UnCh8jYzuVG5WSb/QEVPnP5TmcAnL"
    "H1g+s++v6d4s8m0gCw1fV5/SITLq9mhho8K3+7EPYTU8IU1bLhdxO5Nyt8C8ssinQ98Xw9Q==:"
)
B23_INPUT = (
    'sig-b23=("date" "@method" "@path" "@query" "@authority" "content-type" "content-digest" '
    '"content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B23_SIGNATURE = (
    "sig-b23=:bbN8oArOxYoyylQQUU6QYwrTuaxLwjAC9fbY2F6SVWvh0yBiMIRGOnMYwZ/5MR6fb0Kh1rIRASVxFkeGt683+"
    "qRpRRU5p2voTp768ZrCUb38K0fUxN0O0iC59DzYx8DFll5GmydPxSmme9v6ULbMFkl+V5B1TP/yPViV7KsLNmvKiLJH1pF"
    "kh/aYA2HXXZzNBXmIkoQoLd7YfW91kE9o/CCoC1xMy7JA1ipwvKvfrs65ldmlu9bpG6A9BmzhuzF8Eim5f8ui9eH8LZH89"
    "6+QIF61ka39VBrohr9iyMUJpvRX2Zbhl5ZJzSRxpJyoEZAFL2FUo5fTIztsDZKEgM4cUA==:"
)
B23_BASE = (
    '"date": Tue, 20 Apr 2021 02:07:55 GMT\n"@method": POST\n"@path": /foo\n'
    '"@query": ?param=Value&Pet=dog\n"@authority": example.com\n'
    '"content-type": application/json\n'
    '"content-digest": sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNye'
    'aldVLvRwEmTHWXvJwew==:\n"content-length": 18\n'
    '"@signature-params": ("date" "@method" "@path" "@query" "@authority" "content-type" '
    '"content-digest" "content-length");created=1618884473;keyid="test-key-rsa-pss"'
)
B26_INPUT = (
    'sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");'
    'created=1618884473;keyid="test-key-ed25519"'
)
B26_SIGNATURE = (
    "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKR"
    "Cw==:"
)


@pytest.mark.parametrize(
    ("signature_input", "signature", "base"),
    [
        pytest.param(B21_INPUT, B21_SIGNATURE, None, id="B.2.1-minimal"),
        pytest.param(B23_INPUT, B23_SIGNATURE, B23_BASE, id="B.2.3-full"),
    ],
)
def test_rfc9421_rsa_pss_examples_verify(
    fixture_text: Callable[[str], str], signature_input: str, signature: str, base: str | None
) -> None:
    # Given the RSA-PSS examples and the B.1.2 public key
    request = RFC9421_REQUEST.with_headers(
        {"Signature-Input": signature_input, "Signature": signature}
    )
    public = load_public_key(fixture_text("rfc9421-test-key-rsa-pss-public.pem"))
    (sig,) = parse_rfc9421(request)
    if base is not None:
        assert sig.signing_string.decode() == base
    # When verified at the examples' created time under the spec's rules
    result = verify_signature(request, sig, public, now=RFC9421_CREATED, policy=Policy.SPEC)
    # Then the key decides the algorithm (no alg parameter) and PSS matches
    assert result.algorithm == "rsa-pss-sha512"
    assert result.key_id == "test-key-rsa-pss"


def test_rfc9421_ed25519_example_is_reproduced_and_verifies(
    fixture_text: Callable[[str], str],
) -> None:
    # Given the B.1.4 key
    key = load_private_key(fixture_text("rfc9421-test-key-ed25519-private.pem"))
    # When we sign B.2.6's components at its created time without an alg parameter
    added = sign_rfc9421(
        RFC9421_REQUEST,
        key_id="test-key-ed25519",
        private_key=key,
        components=["date", "@method", "@path", "@authority", "content-type", "content-length"],
        now=RFC9421_CREATED,
        label="sig-b26",
        include_alg=False,
    )
    # Then both headers are exactly the RFC's, and the RFC's own signature verifies
    assert added == {"Signature-Input": B26_INPUT, "Signature": B26_SIGNATURE}
    request = RFC9421_REQUEST.with_headers(added)
    public = load_public_key(fixture_text("rfc9421-test-key-ed25519-public.pem"))
    (sig,) = parse_rfc9421(request)
    result = verify_signature(request, sig, public, now=RFC9421_CREATED, policy=Policy.SPEC)
    assert result.algorithm == "ed25519"


def test_rfc9421_rsa_v1_5_with_the_b11_key_is_deterministic(
    fixture_text: Callable[[str], str],
) -> None:
    # Given the B.1.1 test-key-rsa (RFC 9421 has no B.2 example for it)
    key = load_private_key(fixture_text("rfc9421-test-key-rsa-private.pem"))
    public = load_public_key(fixture_text("rfc9421-test-key-rsa-public.pem"))
    components = ["@method", "@authority", "@path", "content-digest", "content-length"]

    def sign() -> dict[str, str]:
        return sign_rfc9421(
            RFC9421_REQUEST.with_headers({"Content-Digest": ""}),
            key_id="test-key-rsa",
            private_key=key,
            algorithm="rsa-v1_5-sha256",
            components=components,
            now=RFC9421_CREATED,
        )

    # When it signs twice
    first, second = sign(), sign()
    # Then PKCS#1 v1.5 gives the same bytes both times, and the result verifies
    assert first == second
    assert first["Signature-Input"] == (
        'sig1=("@method" "@authority" "@path" "content-digest" "content-length");'
        'created=1618884473;keyid="test-key-rsa";alg="rsa-v1_5-sha256"'
    )
    request = RFC9421_REQUEST.with_headers(first)
    (sig,) = parse_rfc9421(request)
    result = verify_signature(request, sig, public, now=RFC9421_CREATED, policy=Policy.SPEC)
    assert result.algorithm == "rsa-v1_5-sha256"

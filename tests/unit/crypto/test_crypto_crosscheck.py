"""Cross-checks against independent implementations, both ways.

RFC 9421: ``http-message-signatures`` (pyauth). draft-cavage: ``python-httpsig-socialhome`` (the
``httpsig`` module; supports rsa-sha256 and hs2019-with-RSA, not Ed25519).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

import http_message_signatures
import httpsig  # type: ignore[import-untyped]
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fedsocial.crypto.cavage import sign_cavage
from fedsocial.crypto.digests import content_digest_header, digest_header
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import PrivateKey, private_key_to_pem, public_key_to_pem
from fedsocial.crypto.rfc9421 import sign_rfc9421
from fedsocial.crypto.verify import verify_request

NOW = 1_700_000_000.0
URL = "https://local.example/users/alice/inbox?x=1"
BODY = b'{"type": "Create", "id": "https://remote.example/1"}'
KEY_ID = "https://remote.example/users/bob#main-key"


@dataclass
class Message:
    """The request shape http-message-signatures reads and writes."""

    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)


def parts_of(message: Message, body: bytes = BODY) -> HttpRequestParts:
    return HttpRequestParts(message.method, message.url, message.headers, body)


def pyauth_algorithm(name: str) -> type:
    algorithms = http_message_signatures.algorithms
    chosen: type = {
        "rsa-v1_5-sha256": algorithms.RSA_V1_5_SHA256,
        "rsa-pss-sha512": algorithms.RSA_PSS_SHA512,
        "ed25519": algorithms.ED25519,
    }[name]
    return chosen


CASES = [("rsa", "rsa-v1_5-sha256"), ("rsa", "rsa-pss-sha512"), ("ed", "ed25519")]


def pick(kind: str, rsa_key: RSAPrivateKey, ed_key: Ed25519PrivateKey) -> PrivateKey:
    return rsa_key if kind == "rsa" else ed_key


@pytest.mark.parametrize(("kind", "algorithm"), CASES)
def test_rfc9421_ours_verified_by_pyauth(
    rsa_key: RSAPrivateKey, ed_key: Ed25519PrivateKey, kind: str, algorithm: str
) -> None:
    # Given a request we sign with our defaults plus a few more components
    key = pick(kind, rsa_key, ed_key)
    parts = HttpRequestParts("POST", URL, {"Host": "local.example", "Date": "x"}, BODY)
    components = ["@method", "@target-uri", "@authority", "@path", "@query", "content-digest"]
    added = sign_rfc9421(
        parts, key_id=KEY_ID, private_key=key, algorithm=algorithm, components=components, now=NOW
    )
    message = Message("POST", URL, {"Host": "local.example", "Date": "x", **added})
    # When pyauth verifies it (and the body against our Content-Digest)
    verifier = http_message_signatures.HTTPMessageVerifier(
        signature_algorithm=pyauth_algorithm(algorithm),
        key_resolver=http_message_signatures.MappingKeyResolver(
            public_keys={KEY_ID: key.public_key()}, private_keys={}
        ),
    )
    (result,) = verifier.verify(message, max_age=None, body=BODY)
    # Then it agrees
    assert result.parameters["keyid"] == KEY_ID
    assert result.parameters["alg"] == algorithm


@pytest.mark.parametrize(("kind", "algorithm"), CASES)
def test_rfc9421_pyauth_verified_by_us(
    rsa_key: RSAPrivateKey, ed_key: Ed25519PrivateKey, kind: str, algorithm: str
) -> None:
    # Given a request pyauth signs the way Mastodon wants (created, @method, @target-uri,
    # content-digest), with our sha-256 Content-Digest
    key = pick(kind, rsa_key, ed_key)
    message = Message(
        "POST", URL, {"Host": "local.example", "Content-Digest": content_digest_header(BODY)}
    )
    signer = http_message_signatures.HTTPMessageSigner(
        signature_algorithm=pyauth_algorithm(algorithm),
        key_resolver=http_message_signatures.MappingKeyResolver(
            public_keys={}, private_keys={KEY_ID: key}
        ),
    )
    signer.sign(
        message,
        key_id=KEY_ID,
        created=datetime.datetime.fromtimestamp(NOW, datetime.UTC),
        covered_component_ids=("@method", "@target-uri", "@authority", "content-digest"),
        label="sig1",
        use_existing_digest=True,
    )
    # When we verify it under Mastodon's rules
    result = verify_request(parts_of(message), {KEY_ID: key.public_key()}.get, now=NOW + 10)
    # Then it verifies with the declared algorithm
    assert result.algorithm == algorithm
    assert result.created == NOW


def test_rfc9421_pyauth_body_digest_verified_by_us(rsa_key: RSAPrivateKey) -> None:
    # pyauth can make the Content-Digest itself (sha-256), which Mastodon's rules accept.
    message = Message("POST", URL, {"Host": "local.example"})
    signer = http_message_signatures.HTTPMessageSigner(
        signature_algorithm=pyauth_algorithm("rsa-v1_5-sha256"),
        key_resolver=http_message_signatures.MappingKeyResolver(
            public_keys={}, private_keys={KEY_ID: rsa_key}
        ),
    )
    signer.sign(
        message,
        key_id=KEY_ID,
        created=datetime.datetime.fromtimestamp(NOW, datetime.UTC),
        covered_component_ids=("@method", "@target-uri"),
        body=BODY,
    )
    assert "content-digest" in message.headers["Signature-Input"]
    keys = {KEY_ID: rsa_key.public_key()}.get
    result = verify_request(parts_of(message), keys, now=NOW)
    assert result.key_id == KEY_ID
    assert "content-digest" in result.components


def httpsig_headers(parts: HttpRequestParts, extra: dict[str, str]) -> dict[str, str]:
    return {**dict(parts.headers.items()), **{k.lower(): v for k, v in extra.items()}}


def test_cavage_ours_verified_by_httpsig(rsa_key: RSAPrivateKey) -> None:
    # Given a POST we sign with Mastodon's defaults
    parts = HttpRequestParts("POST", URL, {"Content-Type": "application/activity+json"}, BODY)
    added = sign_cavage(parts, key_id=KEY_ID, private_key=rsa_key, now=NOW)
    headers = httpsig_headers(parts, added)
    # When httpsig verifies it, requiring the same headers Mastodon requires
    verifier = httpsig.HeaderVerifier(
        headers=headers,
        secret=public_key_to_pem(rsa_key),
        required_headers=["(request-target)", "host", "date", "digest"],
        method="POST",
        path=parts.target,
        sign_header="signature",
    )
    # Then it agrees, and its Digest is the one httpsig's users compute
    assert verifier.verify() is True
    assert headers["digest"] == digest_header(BODY)


@pytest.mark.parametrize("algorithm", ["rsa-sha256", "hs2019"])
def test_cavage_httpsig_verified_by_us(rsa_key: RSAPrivateKey, algorithm: str) -> None:
    # Given a POST httpsig signs (hs2019 with its "PSS" class, which signs PKCS#1 v1.5 SHA-256,
    # the way Mastodon reads hs2019 with an RSA key)
    headers = {
        "Host": "local.example",
        "Date": "Tue, 14 Nov 2023 22:13:20 GMT",  # NOW
        "Digest": digest_header(BODY),
        "Content-Type": "application/activity+json",
    }
    extra = {"sign_algorithm": httpsig.sign_algorithms.PSS()} if algorithm == "hs2019" else {}
    signer = httpsig.HeaderSigner(
        key_id=KEY_ID,
        secret=private_key_to_pem(rsa_key),
        algorithm=algorithm,
        headers=["(request-target)", "host", "date", "digest"],
        sign_header="Signature",
        **extra,
    )
    signed = signer.sign(headers, method="POST", path="/users/alice/inbox?x=1")
    parts = HttpRequestParts("POST", URL, dict(signed), BODY)
    # When we verify it under Mastodon's rules
    result = verify_request(parts, {KEY_ID: rsa_key.public_key()}.get, now=NOW)
    # Then it verifies
    assert result.algorithm == "rsa-v1_5-sha256"
    assert result.components == ("(request-target)", "host", "date", "digest")

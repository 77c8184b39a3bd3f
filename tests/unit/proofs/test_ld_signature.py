"""RsaSignature2017 LD signatures: real Mastodon-signed activities, round trips, tampering."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from fedsocial.crypto.ld_signature import ld_signature_creator, sign_ld, verify_ld
from fedsocial.errors import ContextNotAllowed, ProofError
from fedsocial.jsonld.processing import canonical_nquads

MASTODON = Path(__file__).parents[2] / "fixtures" / "jsonld" / "smithereen"


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((MASTODON / name).read_text("utf-8")))


def _grishka_key() -> rsa.RSAPublicKey:
    pem = _load("mastodon_actor.json")["publicKey"]["publicKeyPem"]
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, rsa.RSAPublicKey)
    return key


@cache
def _private_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _create() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
        "id": "https://alpha.example/users/alice/statuses/1/activity",
        "type": "Create",
        "actor": "https://alpha.example/users/alice",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": "https://alpha.example/users/alice/statuses/1",
            "type": "Note",
            "content": "<p>hello</p>",
            "attributedTo": "https://alpha.example/users/alice",
        },
    }


@pytest.mark.parametrize("name", ["mastodon_signed_create.json", "mastodon_signed_delete.json"])
def test_real_mastodon_signatures_verify(name: str) -> None:
    # Given activities mastodon.social signed in 2019 and the actor's published key
    document = _load(name)
    # When / Then they verify
    verify_ld(document, _grishka_key())
    assert ld_signature_creator(document) == "https://mastodon.social/users/grishka#main-key"


def test_real_mastodon_tampered_activity_fails() -> None:
    with pytest.raises(ProofError):
        verify_ld(_load("mastodon_signed_create_tampered.json"), _grishka_key())


def test_urdna2015_matches_published_canonical_form() -> None:
    expected = (MASTODON / "02a-normalized_activity.rdf").read_text("utf-8").rstrip("\n") + "\n"
    assert canonical_nquads(_load("00a-unsigned_payload.json")) == expected
    expected_options = (MASTODON / "02a-normalized_options.rdf").read_text("utf-8")
    assert canonical_nquads(_load("00b-options_payload.json")) == expected_options


def test_round_trip() -> None:
    key = _private_key()
    signed = sign_ld(
        _create(),
        private_key=key,
        creator="https://alpha.example/users/alice#main-key",
        created="2024-05-01T12:00:00Z",
    )
    assert signed["signature"]["type"] == "RsaSignature2017"
    assert signed["signature"]["created"] == "2024-05-01T12:00:00Z"
    verify_ld(signed, key.public_key())
    assert ld_signature_creator(signed) == "https://alpha.example/users/alice#main-key"
    assert ld_signature_creator(_create()) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d["object"].update(content="<p>changed</p>"),
        lambda d: d.update(actor="https://evil.example/users/mallory"),
        lambda d: d["signature"].update(created="2030-01-01T00:00:00Z"),
        lambda d: d["signature"].update(creator="https://evil.example/k"),
        lambda d: d["signature"].update(signatureValue="AAAA"),
    ],
)
def test_tampering_fails(tamper: Any) -> None:
    key = _private_key()
    signed = sign_ld(
        _create(), private_key=key, creator="https://a.example/k", created="2024-01-01T00:00:00Z"
    )
    tampered = copy.deepcopy(signed)
    tamper(tampered)
    with pytest.raises(ProofError):
        verify_ld(tampered, key.public_key())


def test_missing_or_foreign_signatures_fail() -> None:
    key = _private_key()
    with pytest.raises(ProofError):
        verify_ld(_create(), key.public_key())
    other = {**_create(), "signature": {"type": "Ed25519Signature2018", "signatureValue": "x"}}
    with pytest.raises(ProofError):
        verify_ld(other, key.public_key())


def test_unknown_context_cannot_be_signed_or_verified() -> None:
    key = _private_key()
    document = {**_create(), "@context": "https://unknown.example/context"}
    with pytest.raises(ContextNotAllowed):
        sign_ld(
            document, private_key=key, creator="https://a.example/k", created="2024-01-01T00:00:00Z"
        )
    signed = sign_ld(
        _create(), private_key=key, creator="https://a.example/k", created="2024-01-01T00:00:00Z"
    )
    signed["@context"] = "https://unknown.example/context"
    with pytest.raises(ProofError):
        verify_ld(signed, key.public_key())

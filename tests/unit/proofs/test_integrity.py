"""FEP-8b32 / eddsa-jcs-2022 integrity proofs: the spec's test vector, round trips, tampering."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fedsocial.crypto.integrity import create_proof, proof_verification_method, verify_proof
from fedsocial.crypto.jcs import canonicalize
from fedsocial.crypto.keys import base58btc_decode, multibase_to_ed25519
from fedsocial.errors import ProofError

VECTORS = Path(__file__).parents[2] / "fixtures" / "jsonld" / "vc-di-eddsa"
ED25519_PRIV_MULTICODEC = b"\x80\x26"


def _vector_key() -> Ed25519PrivateKey:
    pair = json.loads((VECTORS / "keyPair.json").read_text())
    raw = base58btc_decode(pair["privateKeyMultibase"][1:])
    assert raw.startswith(ED25519_PRIV_MULTICODEC)
    return Ed25519PrivateKey.from_private_bytes(raw[2:])


def _signed_vector() -> dict[str, Any]:
    return dict(json.loads((VECTORS / "signedJCS.json").read_text()))


def _note() -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/data-integrity/v1",
        ],
        "id": "https://alpha.example/objects/1",
        "type": "Note",
        "attributedTo": "https://alpha.example/users/alice",
        "content": "<p>Hello, wörld 👋</p>",
        "published": "2024-05-01T12:00:00Z",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }


def test_spec_vector_verifies() -> None:
    # Given the spec's signed credential and its public key
    pair = json.loads((VECTORS / "keyPair.json").read_text())
    public_key = multibase_to_ed25519(pair["publicKeyMultibase"])
    # When / Then it verifies
    verify_proof(_signed_vector(), public_key)


def test_spec_vector_is_reproduced_exactly() -> None:
    # Given the spec's unsigned credential, key and proof options
    signed = _signed_vector()
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    proof = signed["proof"]
    # When we sign it (Ed25519 is deterministic)
    ours = create_proof(
        unsigned,
        private_key=_vector_key(),
        verification_method=proof["verificationMethod"],
        created=proof["created"],
    )
    # Then the proofValue is the spec's
    assert ours["proof"]["proofValue"] == proof["proofValue"]
    # And the hash data matches the spec's published intermediate value
    config = {k: v for k, v in proof.items() if k != "proofValue"}
    combined = (
        hashlib.sha256(canonicalize(config)).digest()
        + hashlib.sha256(canonicalize(unsigned)).digest()
    )
    assert combined.hex() == (VECTORS / "combinedHashJCS.txt").read_text().strip()


def test_round_trip_and_verification_method() -> None:
    key = Ed25519PrivateKey.generate()
    signed = create_proof(
        _note(),
        private_key=key,
        verification_method="https://alpha.example/users/alice#ed25519-key",
        created="2024-05-01T12:00:01Z",
    )
    verify_proof(signed, key.public_key())
    assert signed["proof"]["proofValue"].startswith("z")
    assert proof_verification_method(signed) == "https://alpha.example/users/alice#ed25519-key"
    assert proof_verification_method(_note()) is None


@pytest.mark.parametrize(
    "tamper",
    [
        lambda d: d.update(content="<p>changed</p>"),
        lambda d: d["to"].append("https://evil.example/x"),
        lambda d: d["proof"].update(created="2030-01-01T00:00:00Z"),
        lambda d: d["proof"].update(verificationMethod="https://evil.example/key"),
        lambda d: d.update({"@context": "https://www.w3.org/ns/activitystreams"}),
    ],
)
def test_tampering_fails(tamper: Any) -> None:
    key = Ed25519PrivateKey.generate()
    signed = create_proof(
        _note(),
        private_key=key,
        verification_method="https://a.example/k",
        created="2024-01-01T00:00:00Z",
    )
    tampered = copy.deepcopy(signed)
    tamper(tampered)
    with pytest.raises(ProofError):
        verify_proof(tampered, key.public_key())


def test_wrong_key_and_malformed_proofs_fail() -> None:
    key = Ed25519PrivateKey.generate()
    signed = create_proof(
        _note(),
        private_key=key,
        verification_method="https://a.example/k",
        created="2024-01-01T00:00:00Z",
    )
    with pytest.raises(ProofError):
        verify_proof(signed, Ed25519PrivateKey.generate().public_key())
    with pytest.raises(ProofError):
        verify_proof(_note(), key.public_key())
    for change in (
        {"cryptosuite": "eddsa-rdfc-2022"},
        {"proofValue": "u" + "A" * 10},
        {"proofValue": "z0OIl"},
    ):
        broken = copy.deepcopy(signed)
        broken["proof"].update(change)
        with pytest.raises(ProofError):
            verify_proof(broken, key.public_key())

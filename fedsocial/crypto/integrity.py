"""Core layer: FEP-8b32 object integrity proofs (``DataIntegrityProof``, ``eddsa-jcs-2022``).

Follows the W3C "Data Integrity EdDSA Cryptosuites v1.0" algorithms for eddsa-jcs-2022:

- proof configuration = the proof options without ``proofValue``; it carries the document's
  ``@context`` when the document has one (or the proof's own ``@context`` when given);
- hash data = SHA-256(JCS(proof configuration)) || SHA-256(JCS(document without ``proof``));
- the signature is Ed25519 over the hash data; ``proofValue`` is multibase base58btc ("z…").

Only one proof (an object, not a set) is handled: that is what FEP-8b32 publishers send.

**An LD signature next to the proof is ignored.** Mastodon-compatible senders (we among them)
add an ``RsaSignature2017`` ``signature`` *after* the integrity proof, because Mastodon's LD
signature hashes every field but ``signature`` (so it covers ``proof``) while the proof must be
made first. Both the proof and its verification therefore hash the document without ``proof``
*and* without ``signature``; a ``signature`` member is never covered by an integrity proof.

:data:`PROOF_CONTEXT_TERMS` are flat term definitions meaning exactly what the
``https://w3id.org/security/data-integrity/v1`` context gives a ``DataIntegrityProof`` (the
same RDF), for documents that want JSON-LD readers to keep the proof but must keep a flat
context (our inbox reads flat contexts without pyld).
"""

from __future__ import annotations

import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from fedsocial.crypto.jcs import canonicalize
from fedsocial.crypto.keys import base58btc_decode, base58btc_encode
from fedsocial.errors import ProofError

PROOF_TYPE = "DataIntegrityProof"
CRYPTOSUITE = "eddsa-jcs-2022"
# Fields an integrity proof never covers: itself, and an LD signature added after it.
_UNSECURED_OUT = frozenset({"proof", "signature"})

_SEC = "https://w3id.org/security#"
PROOF_CONTEXT_TERMS: dict[str, Any] = {
    "proof": {"@id": _SEC + "proof", "@type": "@id", "@container": "@graph"},
    "DataIntegrityProof": _SEC + "DataIntegrityProof",
    "cryptosuite": _SEC + "cryptosuite",
    "verificationMethod": {"@id": _SEC + "verificationMethod", "@type": "@id"},
    "proofPurpose": {"@id": _SEC + "proofPurpose", "@type": "@vocab"},
    "proofValue": {"@id": _SEC + "proofValue", "@type": _SEC + "multibase"},
    "assertionMethod": {"@id": _SEC + "assertionMethod", "@type": "@id"},
}


def create_proof(
    document: dict[str, Any],
    *,
    private_key: Ed25519PrivateKey,
    verification_method: str,
    created: str,
    proof_purpose: str = "assertionMethod",
) -> dict[str, Any]:
    """Return a copy of ``document`` with an eddsa-jcs-2022 ``proof`` added.

    Any existing ``proof`` is replaced, and an existing LD ``signature`` is dropped (it would
    no longer hold; sign with ``sign_ld`` after this). ``created`` is an XML Schema dateTime string
    (e.g. "2024-01-01T00:00:00Z"), passed in so signing is deterministic under test.
    """
    unsecured = _unsecured(document)
    options: dict[str, Any] = {
        "type": PROOF_TYPE,
        "cryptosuite": CRYPTOSUITE,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
        "created": created,
    }
    signature = private_key.sign(_hash_data(unsecured, options))
    return {**unsecured, "proof": {**options, "proofValue": "z" + base58btc_encode(signature)}}


def verify_proof(document: dict[str, Any], public_key: Ed25519PublicKey) -> None:
    """Check the document's eddsa-jcs-2022 proof against ``public_key``; return None if it holds.

    Raises ProofError when there is no proof, it is of another type or cryptosuite, its
    ``proofValue`` is malformed, its ``@context`` does not match the document's, or the
    signature does not verify. An LD ``signature`` member is ignored (see the module docstring).
    It does not check that the key belongs to anyone: callers match
    ``proof_verification_method`` to the actor first.
    """
    proof = document.get("proof")
    if not isinstance(proof, dict):
        raise ProofError("document has no single integrity proof object")
    if proof.get("type") != PROOF_TYPE or proof.get("cryptosuite") != CRYPTOSUITE:
        raise ProofError(
            f"unsupported proof {proof.get('type')!r} / {proof.get('cryptosuite')!r};"
            f" expected {PROOF_TYPE} / {CRYPTOSUITE}"
        )
    proof_value = proof.get("proofValue")
    if not isinstance(proof_value, str) or not proof_value.startswith("z"):
        raise ProofError("proofValue is missing or not multibase base58btc")
    try:
        signature = base58btc_decode(proof_value[1:])
    except ValueError as exc:
        raise ProofError(f"proofValue is not base58btc: {exc}") from exc
    unsecured = _unsecured(document)
    options = {key: value for key, value in proof.items() if key != "proofValue"}
    if "@context" in options and not _starts_with(unsecured.get("@context"), options["@context"]):
        raise ProofError("the proof's @context does not match the document's @context")
    try:
        public_key.verify(signature, _hash_data(unsecured, options))
    except InvalidSignature as exc:
        raise ProofError("integrity proof signature does not verify") from exc


def proof_verification_method(document: dict[str, Any]) -> str | None:
    """Return the ``verificationMethod`` of the document's proof, or None when there is none."""
    proof = document.get("proof")
    if not isinstance(proof, dict):
        return None
    method = proof.get("verificationMethod")
    if isinstance(method, dict):
        method = method.get("id")
    return method if isinstance(method, str) else None


def _unsecured(document: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in document.items() if key not in _UNSECURED_OUT}


def _hash_data(unsecured: dict[str, Any], options: dict[str, Any]) -> bytes:
    config = dict(options)
    if "@context" not in config and "@context" in unsecured:
        config["@context"] = unsecured["@context"]
    try:
        config_hash = hashlib.sha256(canonicalize(config)).digest()
        document_hash = hashlib.sha256(canonicalize(unsecured)).digest()
    except (TypeError, ValueError) as exc:
        raise ProofError(f"document cannot be canonicalised with JCS: {exc}") from exc
    return config_hash + document_hash


def _starts_with(document_context: Any, proof_context: Any) -> bool:
    """The spec's rule: the document's @context starts with the proof's, in the same order."""
    doc_list = document_context if isinstance(document_context, list) else [document_context]
    proof_list = proof_context if isinstance(proof_context, list) else [proof_context]
    return doc_list[: len(proof_list)] == proof_list

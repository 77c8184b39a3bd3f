"""Core layer: Linked Data Signatures (``RsaSignature2017``) as Mastodon makes and checks them.

Mastodon's algorithm (``app/lib/activitypub/linked_data_signature.rb``):

- options = the ``signature`` object without ``type``, ``id`` and ``signatureValue``, with
  ``@context`` set to ``https://w3id.org/identity/v1`` (when signing: ``creator``, ``created``);
- to-be-signed = hex(SHA-256(URDNA2015(options))) + hex(SHA-256(URDNA2015(document without
  ``signature``))), as ASCII;
- RSA PKCS#1 v1.5 with SHA-256; ``signatureValue`` is the signature in base64.

URDNA2015 runs through pyld with the preloaded-only document loader, so a document naming a
context we do not ship cannot be checked (ProofError) or signed (ContextNotAllowed).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from fedsocial.errors import JsonLdError, ProofError
from fedsocial.jsonld.loader import IDENTITY_V1
from fedsocial.jsonld.processing import canonical_nquads

SIGNATURE_TYPE = "RsaSignature2017"
_NOT_OPTIONS = frozenset({"type", "id", "signatureValue"})


def sign_ld(
    document: dict[str, Any], *, private_key: RSAPrivateKey, creator: str, created: str
) -> dict[str, Any]:
    """Return a copy of ``document`` with a Mastodon-compatible ``RsaSignature2017`` signature.

    ``creator`` is the key id (``…#main-key``); ``created`` an ISO 8601 UTC time such as
    "2024-01-01T00:00:00Z". An existing ``signature`` is replaced. Raises JsonLdError (or
    ContextNotAllowed) when the document cannot be canonicalised.
    """
    unsigned = {key: value for key, value in document.items() if key != "signature"}
    options = {"creator": creator, "created": created}
    to_be_signed = _to_be_signed(options, unsigned)
    value = private_key.sign(to_be_signed, padding.PKCS1v15(), hashes.SHA256())
    signature = {
        "type": SIGNATURE_TYPE,
        **options,
        "signatureValue": base64.b64encode(value).decode("ascii"),
    }
    return {**unsigned, "signature": signature}


def verify_ld(document: dict[str, Any], public_key: RSAPublicKey) -> None:
    """Check the document's ``RsaSignature2017`` against ``public_key``; return None if it holds.

    Raises ProofError when the signature is missing, of another type, malformed, cannot be
    canonicalised, or does not verify. Matching the key to ``creator``'s actor is the caller's
    job (see :func:`ld_signature_creator`).
    """
    signature = document.get("signature")
    if not isinstance(signature, dict):
        raise ProofError("document has no LD signature")
    if signature.get("type") != SIGNATURE_TYPE:
        raise ProofError(f"unsupported LD signature type {signature.get('type')!r}")
    if not isinstance(public_key, RSAPublicKey):
        raise ProofError("RsaSignature2017 needs an RSA public key")
    encoded = signature.get("signatureValue")
    if not isinstance(encoded, str):
        raise ProofError("LD signature has no signatureValue")
    try:
        value = base64.b64decode(encoded, validate=False)
    except (binascii.Error, ValueError) as exc:
        raise ProofError(f"signatureValue is not base64: {exc}") from exc
    options = {key: val for key, val in signature.items() if key not in _NOT_OPTIONS}
    unsigned = {key: val for key, val in document.items() if key != "signature"}
    try:
        to_be_verified = _to_be_signed(options, unsigned)
    except JsonLdError as exc:
        raise ProofError(f"cannot canonicalise signed document: {exc.message}") from exc
    try:
        public_key.verify(value, to_be_verified, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature as exc:
        raise ProofError("LD signature does not verify") from exc


def ld_signature_creator(document: dict[str, Any]) -> str | None:
    """Return the ``creator`` (key id) of the document's LD signature, or None without one."""
    signature = document.get("signature")
    if not isinstance(signature, dict):
        return None
    creator = signature.get("creator")
    return creator if isinstance(creator, str) else None


def _to_be_signed(options: dict[str, Any], unsigned: dict[str, Any]) -> bytes:
    options_hash = _hash({**options, "@context": IDENTITY_V1})
    document_hash = _hash(unsigned)
    return (options_hash + document_hash).encode("ascii")


def _hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_nquads(document).encode("utf-8")).hexdigest()

"""Outbox layer: sign what we send — an integrity proof on every activity, an LD signature on
public Creates, Deletes and Announces.

Every activity gets a FEP-8b32 ``DataIntegrityProof`` (``eddsa-jcs-2022``) made with the actor's
Ed25519 key; its ``verificationMethod`` is the actor's ``assertionMethod`` Multikey
(``…#ed25519-key``). Public and unlisted Creates, Deletes and Announces also get an
``RsaSignature2017`` LD signature with the actor's RSA key (``creator`` = ``…#main-key``), as
Mastodon signs what it lets others relay and forward (its ``Status#sign?`` is "distributable":
public or unlisted).

Order matters, because each scheme hashes the other's field: the proof comes first (over the
document without ``signature``), then the LD signature, which hashes everything but
``signature`` — the proof included, as Mastodon's verifier expects.

Signing happens once, when an activity is published; deliveries send the stored signed JSON.
:data:`ACTIVITY_CONTEXT` defines ``signature`` (security/v1) and ``proof`` (flat terms with the
data-integrity/v1 meaning) so JSON-LD readers keep both, while staying a flat context that the
receiving inbox reads without pyld.
"""

from __future__ import annotations

from typing import Any

from actors.local import LocalActor
from fedsocial.crypto.integrity import PROOF_CONTEXT_TERMS, create_proof
from fedsocial.crypto.ld_signature import sign_ld
from fedsocial.jsonld.loader import AS_CONTEXT, SECURITY_V1
from fedsocial.urls import Urls

# The @context of everything we send: ActivityStreams, security/v1 (publicKey, the LD
# `signature`), the Mastodon terms our notes use, and the integrity proof's terms.
ACTIVITY_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_V1,
    {
        "ostatus": "http://ostatus.org#",
        "conversation": "ostatus:conversation",
        "sensitive": "as:sensitive",
        "toot": "http://joinmastodon.org/ns#",
        "Hashtag": "as:Hashtag",
        **PROOF_CONTEXT_TERMS,
    },
]

LD_SIGNED_TYPES = frozenset({"Create", "Delete", "Announce"})
LD_SIGNED_VISIBILITIES = frozenset({"public", "unlisted"})


def needs_ld_signature(document: dict[str, Any], visibility: str) -> bool:
    """True when Mastodon would LD-sign this activity: a public or unlisted Create, Delete or
    Announce."""
    return document.get("type") in LD_SIGNED_TYPES and visibility in LD_SIGNED_VISIBILITIES


def sign_activity(
    document: dict[str, Any],
    actor: LocalActor,
    urls: Urls,
    *,
    created: str,
    visibility: str,
) -> dict[str, Any]:
    """Return `document` with `actor`'s integrity proof and, when `needs_ld_signature`, its LD
    signature. `created` is the ISO 8601 UTC time both carry.

    The document must already have its final @context and addressing: anything changed
    afterwards breaks both. Raises JsonLdError (ContextNotAllowed) when an LD signature is
    needed and the document names a context we do not ship.
    """
    signed = create_proof(
        document,
        private_key=actor.ed25519_key,
        verification_method=urls.ed25519_key_id(actor.name),
        created=created,
    )
    if needs_ld_signature(signed, visibility):
        signed = sign_ld(
            signed, private_key=actor.rsa_key, creator=urls.key_id(actor.name), created=created
        )
    return signed

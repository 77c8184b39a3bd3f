"""Inbox layer: accepting an activity signed (in HTTP) by someone other than its actor.

That happens when a server forwards an activity it received (ActivityPub §7.1.2: replies to
a thread are forwarded to the thread's followers). The HTTP signature then proves only who
forwarded it; the activity is accepted when the document itself carries a proof by its actor:
an object integrity proof (FEP-8b32, Ed25519) or an LD signature (RsaSignature2017, as
Mastodon signs public activities). This is off the fast path: LD signatures cost pyld.
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from fedsocial.crypto.integrity import proof_verification_method, verify_proof
from fedsocial.crypto.ld_signature import ld_signature_creator, verify_ld
from fedsocial.errors import FedsocialError

log = logging.getLogger("fedsocial.inbox")


class KeyOwnerLookup(Protocol):
    """Finds a key and its owner by key id (the key resolver does this)."""

    async def __call__(self, key_id: str) -> tuple[str, Any]:
        """Return (owner actor id, public key) or raise an error from our tree."""
        ...


async def proven_by_actor(document: dict[str, Any], actor: str, lookup: KeyOwnerLookup) -> bool:
    """True when `document` carries a valid integrity proof or LD signature made by `actor`."""
    method = proof_verification_method(document)
    creator = ld_signature_creator(document)
    try:
        if method is not None:
            owner, key = await lookup(method)
            if owner == actor and isinstance(key, Ed25519PublicKey):
                verify_proof(document, key)
                return True
        if creator is not None:
            owner, key = await lookup(creator)
            if owner == actor and isinstance(key, RSAPublicKey):
                verify_ld(document, key)
                return True
    except FedsocialError as exc:
        log.info("forwarded activity from %s: proof refused: %s", actor, exc.message)
    return False

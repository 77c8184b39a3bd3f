"""Inbox layer: accepting an activity signed (in HTTP) by someone other than its actor.

That happens when a server forwards an activity it received (ActivityPub §7.1.2: replies to
a thread are forwarded to the thread's followers). The HTTP signature then proves only who
forwarded it; the activity is accepted when the document itself carries a proof by its actor:
an object integrity proof (FEP-8b32, Ed25519) or an LD signature (RsaSignature2017, as
Mastodon signs public activities). This is off the fast path: LD signatures cost pyld.

A proof counts only when it asserts the document: an integrity proof's ``proofPurpose`` must be
``assertionMethod`` (one made to authenticate or to invoke a capability says nothing about the
content), and its ``created``, or an LD signature's, must be a time no later than the request
that carries it (with the clock skew HTTP signatures allow): a proof from the future is forged
or made to be replayed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from fedsocial.clock import parse_iso
from fedsocial.crypto.integrity import proof_verification_method, verify_proof
from fedsocial.crypto.ld_signature import ld_signature_creator, verify_ld
from fedsocial.errors import FedsocialError, ProofError

log = logging.getLogger("fedsocial.inbox")

ASSERTION = "assertionMethod"
# How far a proof's `created` may be after the request that carries it: the skew HTTP
# signatures allow (a Date up to an hour ahead).
CLOCK_SKEW = 3600.0


class KeyOwnerLookup(Protocol):
    """Finds a key and its owner by key id (the key resolver does this)."""

    async def __call__(self, key_id: str) -> tuple[str, Any]:
        """Return (owner actor id, public key) or raise an error from our tree."""
        ...


async def proven_by_actor(
    document: dict[str, Any],
    actor: str,
    lookup: KeyOwnerLookup,
    *,
    signed_at: float | None = None,
) -> bool:
    """True when `document` carries a valid integrity proof (for assertionMethod) or LD
    signature made by `actor`, created no later than `signed_at` (the time of the request that
    carries it, when known) plus CLOCK_SKEW."""
    method = proof_verification_method(document)
    if method is not None and await _holds(
        actor, method, lookup, _check_proof, document, signed_at
    ):
        return True
    # Either one suffices, as the receivers we mirror read them: a sender's Ed25519 key that
    # cannot be fetched now, or a proof we refuse, must not hide an LD signature that holds.
    creator = ld_signature_creator(document)
    return creator is not None and await _holds(
        actor, creator, lookup, _check_ld, document, signed_at
    )


async def _holds(
    actor: str,
    key_id: str,
    lookup: KeyOwnerLookup,
    check: Callable[[dict[str, Any], Any, float | None], bool],
    document: dict[str, Any],
    signed_at: float | None,
) -> bool:
    """True when `key_id` is `actor`'s and `check` accepts the document with it; a refusal
    (an error from our tree) is logged."""
    try:
        owner, key = await lookup(key_id)
        return owner == actor and check(document, key, signed_at)
    except FedsocialError as exc:
        log.info("forwarded activity from %s: proof by %s refused: %s", actor, key_id, exc.message)
        return False


def _check_proof(document: dict[str, Any], key: Any, signed_at: float | None) -> bool:
    if not isinstance(key, Ed25519PublicKey):
        return False
    proof = document["proof"]
    if proof.get("proofPurpose") != ASSERTION:
        raise ProofError(f"the proof's purpose is not {ASSERTION}")
    _check_created(proof, signed_at)
    verify_proof(document, key)
    return True


def _check_ld(document: dict[str, Any], key: Any, signed_at: float | None) -> bool:
    if not isinstance(key, RSAPublicKey):
        return False
    _check_created(document["signature"], signed_at)
    verify_ld(document, key)
    return True


def _check_created(proof: dict[str, Any], signed_at: float | None) -> None:
    """Raise ProofError when the proof's `created` is not a time, or is after `signed_at`
    (plus CLOCK_SKEW). A proof without `created` passes: FEP-8b32 makes it optional."""
    created = proof.get("created")
    if created is None:
        return
    try:
        when = parse_iso(created) if isinstance(created, str) else None
    except ValueError:
        when = None
    if when is None:
        raise ProofError(f"the proof's created {created!r} is not a date and time")
    if signed_at is not None and when > signed_at + CLOCK_SKEW:
        raise ProofError(f"the proof was created in the future ({created})")

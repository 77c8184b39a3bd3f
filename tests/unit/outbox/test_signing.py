"""Tests for outbox.signing: integrity proofs on everything, LD signatures on public posts."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from actors.local import LocalActor, new_actor_row
from fedsocial.crypto.integrity import proof_verification_method, verify_proof
from fedsocial.crypto.keys import ed25519_to_multibase, load_private_key
from fedsocial.crypto.ld_signature import ld_signature_creator, verify_ld
from fedsocial.errors import ProofError
from fedsocial.jsonld.lint import lint_document
from fedsocial.jsonld.normalise import is_canonical_shape
from fedsocial.urls import Urls
from outbox.addressing import Visibility
from outbox.compose import NoteDraft, build_create, build_follow, build_note
from outbox.signing import ACTIVITY_CONTEXT, needs_ld_signature, sign_activity

URLS = Urls("https://a.example")
ME = URLS.actor("alice")
NOW = "2024-05-01T12:00:00Z"


@pytest.fixture(scope="module")
def alice() -> LocalActor:
    row = new_actor_row("alice", now=0.0)
    rsa_key = load_private_key(row.rsa_private_pem)
    ed_key = load_private_key(row.ed25519_private_pem)
    assert isinstance(rsa_key, RSAPrivateKey) and isinstance(ed_key, Ed25519PrivateKey)
    return LocalActor(
        row=row,
        rsa_key=rsa_key,
        ed25519_key=ed_key,
        ed25519_multibase=ed25519_to_multibase(ed_key.public_key()),
    )


def _create(visibility: Visibility, text: str = "Hello <world> #tag") -> dict[str, Any]:
    note = build_note(
        NoteDraft(text=text, visibility=visibility),
        object_id=URLS.status("alice", "1"),
        actor_id=ME,
        followers_url=URLS.followers("alice"),
        published=NOW,
        url=f"{URLS.base}/@alice/1",
        tag_base_url=URLS.tag_base,
    )
    create = build_create(note, activity_id=URLS.activity("alice", "1"), actor_id=ME)
    return {"@context": ACTIVITY_CONTEXT, **create}


def test_public_create_gets_a_proof_then_an_ld_signature(alice: LocalActor) -> None:
    # Given a public Create with our @context
    create = _create(Visibility.PUBLIC)
    # When it is signed
    signed = sign_activity(create, alice, URLS, created=NOW, visibility="public")
    # Then the proof names the assertionMethod key and holds with the Ed25519 key,
    # even with the LD signature added after it
    assert proof_verification_method(signed) == URLS.ed25519_key_id("alice")
    assert signed["proof"]["created"] == NOW
    verify_proof(signed, alice.ed25519_key.public_key())
    # And the LD signature names the main key and holds as Mastodon checks it (proof included)
    assert ld_signature_creator(signed) == URLS.key_id("alice")
    verify_ld(signed, alice.rsa_key.public_key())
    # And the signed fields are the only change
    assert {k: v for k, v in signed.items() if k not in ("proof", "signature")} == create


def test_ld_signature_covers_the_proof(alice: LocalActor) -> None:
    # Given a signed public Create whose proof is then replaced by another valid-looking one
    signed = sign_activity(
        _create(Visibility.PUBLIC), alice, URLS, created=NOW, visibility="public"
    )
    tampered = {**signed, "proof": {**signed["proof"], "created": "2020-01-01T00:00:00Z"}}
    # Then the LD signature no longer holds (Mastodon hashes everything but `signature`)
    with pytest.raises(ProofError):
        verify_ld(tampered, alice.rsa_key.public_key())


def test_tampered_content_breaks_both(alice: LocalActor) -> None:
    # Given a signed public Create whose text is changed afterwards
    signed = sign_activity(
        _create(Visibility.PUBLIC), alice, URLS, created=NOW, visibility="public"
    )
    forged = {**signed, "object": {**signed["object"], "content": "<p>forged</p>"}}
    # Then neither the proof nor the LD signature holds
    with pytest.raises(ProofError):
        verify_proof(forged, alice.ed25519_key.public_key())
    with pytest.raises(ProofError):
        verify_ld(forged, alice.rsa_key.public_key())


@pytest.mark.parametrize(
    ("visibility", "ld_signed"),
    [
        (Visibility.PUBLIC, True),
        (Visibility.UNLISTED, True),
        (Visibility.FOLLOWERS, False),
        (Visibility.DIRECT, False),
    ],
)
def test_only_public_and_unlisted_posts_are_ld_signed(
    alice: LocalActor, visibility: Visibility, ld_signed: bool
) -> None:
    # Given a Create of each visibility
    create = _create(visibility)
    # When it is signed
    signed = sign_activity(create, alice, URLS, created=NOW, visibility=visibility.value)
    # Then every one has a proof, only the distributable ones an LD signature
    verify_proof(signed, alice.ed25519_key.public_key())
    assert ("signature" in signed) is ld_signed


def test_other_activities_get_a_proof_only(alice: LocalActor) -> None:
    # Given a Follow (never relayed, so never LD-signed)
    follow = {
        "@context": ACTIVITY_CONTEXT,
        **build_follow(
            "https://b.example/users/bob", activity_id=URLS.activity("alice", "2"), actor_id=ME
        ),
    }
    # When it is signed
    signed = sign_activity(follow, alice, URLS, created=NOW, visibility="direct")
    # Then it carries a proof and no LD signature
    verify_proof(signed, alice.ed25519_key.public_key())
    assert "signature" not in signed
    assert not needs_ld_signature(follow, "public")
    assert needs_ld_signature({"type": "Announce"}, "unlisted")
    assert needs_ld_signature({"type": "Delete"}, "public")


def test_signed_activity_takes_the_inbox_fast_path_and_lints_clean(alice: LocalActor) -> None:
    # Given a signed public Create
    signed = sign_activity(
        _create(Visibility.PUBLIC), alice, URLS, created=NOW, visibility="public"
    )
    # Then a receiving fedsocial inbox reads it without pyld (same terms as its canonical context)
    assert is_canonical_shape(signed)
    # And JSON-LD readers keep `proof` and `signature` (no undefined terms, nothing else found)
    assert lint_document(signed).findings == ()

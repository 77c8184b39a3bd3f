"""Hostile linked data at a live inbox: forwarded activities whose proofs must not be accepted,
and documents built to make proof checking expensive."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from actors.local import ensure_instance_actor
from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.crypto.integrity import create_proof
from fedsocial.crypto.keys import ed25519_to_multibase, generate_ed25519_key, generate_rsa_key
from fedsocial.crypto.ld_signature import sign_ld
from fedsocial.errors import ValidationError
from fedsocial.storage import inbox_queue, notifications, objects, relays, shares
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.relays import subscribe
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, load_payload
from tests.harness import Instance, drain
from tests.integration.test_linked_data_relay import LoopbackRelay, _settle


@pytest.fixture
async def alpha(start_instance: StartInstance) -> Instance:
    instance = await start_instance("alpha")
    await instance.add_actor("alice")
    return instance


def create_by(actor: PeerActor, peer: Peer, alpha: Instance, n: str) -> dict[str, Any]:
    return load_payload(
        "mastodon_create_note", actor=actor.id, base=peer.base, n=n, local=alpha.actor_id("alice")
    )


async def test_a_forwarded_activity_with_a_poison_graph_is_refused_quickly(
    alpha: Instance, peer: Peer
) -> None:
    # Given bob's Create whose note carries nine blank nodes all linked to each other (URDNA2015
    # would go through their permutations for many minutes), with an LD signature naming bob's
    # key, forwarded by carol
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    create = create_by(bob, peer, alpha, "poison")
    signature = sign_ld(
        create, private_key=bob.key, creator=bob.key_id, created="2024-05-01T10:00:00Z"
    )["signature"]
    create["object"]["attachment"] = [
        {"id": f"_:b{i}", "attachment": [{"id": f"_:b{j}"} for j in range(9) if j != i]}
        for i in range(9)
    ]
    # When carol posts it
    started = time.monotonic()
    status, answer = await peer.post(
        bob, f"{alpha.base}/inbox", {**create, "signature": signature}, signer=carol
    )
    # Then it is refused at once as not proven by bob, and nothing is stored
    assert time.monotonic() - started < 5
    assert status == 401 and answer["reason"] == "not_owner"
    assert await inbox_queue.get(alpha.db, create["id"]) is None


def serve_with_ed25519(peer: Peer, name: str) -> tuple[PeerActor, Ed25519PrivateKey]:
    """A remote actor with an RSA key (HTTP signatures) and an Ed25519 assertion key."""
    actor = PeerActor(name=name, id=peer.url(f"/users/{name}"), key=generate_rsa_key())
    ed_key = generate_ed25519_key()
    document = actor.document()
    document["assertionMethod"] = [
        {
            "id": f"{actor.id}#ed25519-key",
            "type": "Multikey",
            "controller": actor.id,
            "publicKeyMultibase": ed25519_to_multibase(ed_key.public_key()),
        }
    ]
    document["@context"] = [*document["@context"], "https://w3id.org/security/multikey/v1"]
    peer.serve(document)
    return actor, ed_key


def proven(
    activity: dict[str, Any], actor: PeerActor, key: Ed25519PrivateKey, **options: str
) -> dict[str, Any]:
    return create_proof(
        activity,
        private_key=key,
        verification_method=options.pop("method", f"{actor.id}#ed25519-key"),
        created=options.pop("created", "2024-05-01T10:00:00Z"),
        **options,
    )


async def test_a_forwarded_activity_with_its_actors_proof_is_accepted(
    alpha: Instance, peer: Peer
) -> None:
    # Given bob's Create with an eddsa-jcs-2022 proof by bob's assertion key, forwarded by carol
    bob, bob_key = serve_with_ed25519(peer, "bob")
    carol = peer.add_actor("carol")
    create = proven(create_by(bob, peer, alpha, "proof-ok"), bob, bob_key)
    # When carol posts it, Then it is accepted (the control for the refusals below)
    status, _ = await peer.post(bob, f"{alpha.base}/inbox", create, signer=carol)
    assert status == 202


@pytest.mark.parametrize(
    ("options", "why"),
    [
        ({"proof_purpose": "authentication"}, "a proof for another purpose"),
        ({"proof_purpose": "capabilityInvocation"}, "a proof for another purpose"),
        ({"created": "2999-01-01T00:00:00Z"}, "a proof made in the far future"),
        ({"created": "yesterday"}, "a proof whose time is not a time"),
    ],
)
async def test_a_forwarded_activity_is_refused_on_a_proof_that_does_not_assert_it(
    alpha: Instance, peer: Peer, options: dict[str, str], why: str
) -> None:
    # Given bob's Create with a proof by bob's own key, but `why`, forwarded by carol
    bob, bob_key = serve_with_ed25519(peer, "bob")
    carol = peer.add_actor("carol")
    create = proven(create_by(bob, peer, alpha, "proof-bad"), bob, bob_key, **options)
    # When carol posts it
    status, answer = await peer.post(bob, f"{alpha.base}/inbox", create, signer=carol)
    # Then it is refused: bob did not assert it
    assert (status, answer.get("reason")) == (401, "not_owner"), why


async def test_a_proof_by_another_actors_key_does_not_prove_the_activity(
    alpha: Instance, peer: Peer
) -> None:
    # Given a Create claiming bob as actor, with a valid proof made by carol's assertion key
    bob, _ = serve_with_ed25519(peer, "bob")
    carol, carol_key = serve_with_ed25519(peer, "carol")
    create = proven(create_by(bob, peer, alpha, "proof-other"), carol, carol_key)
    # When carol posts it, Then it is refused: neither the request nor the proof is bob's
    status, answer = await peer.post(bob, f"{alpha.base}/inbox", create, signer=carol)
    assert (status, answer.get("reason")) == (401, "not_owner")


async def test_an_ld_signature_from_the_future_does_not_prove_a_forwarded_activity(
    alpha: Instance, peer: Peer
) -> None:
    # Given bob's Create, LD-signed by bob with a `created` a thousand years ahead
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    create = create_by(bob, peer, alpha, "ld-future")
    signed = sign_ld(
        create, private_key=bob.key, creator=bob.key_id, created="2999-01-01T00:00:00Z"
    )
    # When carol forwards it, Then it is refused
    status, answer = await peer.post(bob, f"{alpha.base}/inbox", signed, signer=carol)
    assert (status, answer.get("reason")) == (401, "not_owner")


async def test_a_relays_announce_brings_the_post_but_is_not_a_boost(
    start_instance: StartInstance,
) -> None:
    # Given alpha subscribed to a relay (accepted), and alice's public post
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    assert alpha.app is not None and beta.app is not None
    await alpha.add_actor("alice")
    await beta.add_actor("bob")
    relay = await LoopbackRelay().start()
    try:
        await ensure_instance_actor(alpha.db, alpha.app[appkeys.CLOCK])
        await subscribe(outbox_of(alpha.app), relay.inbox)
        await _settle(relay, alpha)
        alice = await local_actors(alpha.app).require("alice")
        mine = await outbox_of(alpha.app).post(
            alice, NoteDraft(text="mine", visibility=Visibility.PUBLIC)
        )
        theirs = await outbox_of(beta.app).post(
            await local_actors(beta.app).require("bob"),
            NoteDraft(text="theirs", visibility=Visibility.PUBLIC),
        )
        await _settle(relay, alpha, beta)
        # When the relay announces alice's post back to alpha, and bob's post from elsewhere
        relay.announce(mine)
        relay.announce(theirs)
        assert await relay.flush() == [202, 202]
        await _settle(relay, alpha, beta)
    finally:
        await relay.stop()
    # Then, as in Mastodon, the relay boosted nothing: alice is not notified, neither post
    # counts a share, and bob's post is stored (the Announce brought it)
    assert [n.kind for n in await notifications.list_for(alpha.db, "alice")] == []
    assert await shares.count_shares(alpha.db, mine) == 0
    assert await shares.count_shares(alpha.db, theirs) == 0
    assert await objects.get(alpha.db, theirs) is not None


async def _alice_followed_on_gamma_with_a_note(
    start_instance: StartInstance,
) -> tuple[Instance, Instance, str, str]:
    """alpha with alice, followed by carol on gamma, and alice's public note (its id)."""
    alpha = await start_instance("alpha")
    gamma = await start_instance("gamma")
    assert alpha.app is not None and gamma.app is not None
    alice = await alpha.add_actor("alice")
    await gamma.add_actor("carol")
    await outbox_of(gamma.app).follow(await local_actors(gamma.app).require("carol"), alice)
    await drain(alpha, gamma)
    note = await outbox_of(alpha.app).post(
        await local_actors(alpha.app).require("alice"),
        NoteDraft(text="Hello", visibility=Visibility.PUBLIC),
    )
    await drain(alpha, gamma)
    return alpha, gamma, alice, note


async def test_a_reply_that_carries_no_signature_of_its_own_is_not_forwarded(
    start_instance: StartInstance, peer: Peer
) -> None:
    # Given alice (alpha), followed by carol (gamma), and her public note
    alpha, gamma, alice, note = await _alice_followed_on_gamma_with_a_note(start_instance)
    # When bob (a peer) replies, addressing alice's followers, HTTP-signed but with no LD
    # signature or proof in the document (gamma could never accept it from alpha)
    bob = peer.add_actor("bob")
    create = load_payload("mastodon_create_note", actor=bob.id, base=peer.base, n="7", local=alice)
    create["cc"] = create["object"]["cc"] = [f"{alice}/followers"]
    create["object"]["inReplyTo"] = note
    status, _ = await peer.post(bob, f"{alpha.base}/inbox", create)
    assert status == 202
    await drain(alpha, gamma)
    # Then alpha stored the reply but forwarded nothing, as Mastodon (signature.present?)
    assert (await objects.get(alpha.db, create["object"]["id"])) is not None
    assert not await alpha.db.fetchall(
        "SELECT 1 FROM deliveries WHERE activity_id = ?", (create["id"],)
    )


async def test_a_refused_proof_does_not_hide_an_ld_signature_that_holds(
    alpha: Instance, peer: Peer
) -> None:
    # Given bob's Create with a proof by a key that cannot be fetched, then LD-signed by bob
    # (as Mastodon-compatible senders sign: the proof first, the LD signature last)
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    create = create_proof(
        create_by(bob, peer, alpha, "both"),
        private_key=generate_ed25519_key(),
        verification_method=f"{bob.id}#gone-key",
        created="2024-05-01T10:00:00Z",
    )
    signed = sign_ld(
        create, private_key=bob.key, creator=bob.key_id, created="2024-05-01T10:00:00Z"
    )
    # When carol forwards it, Then it is accepted on the LD signature
    status, _ = await peer.post(bob, f"{alpha.base}/inbox", signed, signer=carol)
    assert status == 202


@pytest.mark.parametrize(
    "change",
    [
        {"@context": ["https://www.w3.org/ns/activitystreams", "1.1"]},  # pyld: ValueError
        {"@included": "x", "@graph": [{}]},  # pyld: AttributeError in its node map
    ],
)
async def test_a_forwarded_activity_pyld_cannot_process_is_refused_not_a_500(
    alpha: Instance, peer: Peer, change: dict[str, Any]
) -> None:
    # Given bob's LD-signed Create, changed after signing into JSON-LD pyld fails on with an
    # error of its own kind, forwarded by carol
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    signed = sign_ld(
        create_by(bob, peer, alpha, "pyld-fault"),
        private_key=bob.key,
        creator=bob.key_id,
        created="2024-05-01T10:00:00Z",
    )
    # When carol posts it, Then it is refused as not proven by bob
    status, answer = await peer.post(bob, f"{alpha.base}/inbox", {**signed, **change}, signer=carol)
    assert (status, answer.get("reason")) == (401, "not_owner")


@pytest.mark.parametrize("url", ["http://[x/inbox", "relay.example/inbox", "ftp://relay.example/"])
async def test_a_relay_url_that_is_not_an_http_url_is_refused_clearly(
    alpha: Instance, url: str
) -> None:
    # Given a relay URL that urlsplit cannot read, or that is not absolute http(s)
    assert alpha.app is not None
    await ensure_instance_actor(alpha.db, alpha.app[appkeys.CLOCK])
    # When it is subscribed to, Then it is a ValidationError, and no relay is recorded
    with pytest.raises(ValidationError, match="absolute http"):
        await subscribe(outbox_of(alpha.app), url)
    assert await relays.list_all(alpha.db) == []


async def test_a_reply_addressing_an_unreadable_url_is_stored_and_forwarded(
    start_instance: StartInstance, peer: Peer
) -> None:
    # Given alice (alpha), followed by carol (gamma), and her public note
    alpha, gamma, alice, note = await _alice_followed_on_gamma_with_a_note(start_instance)
    # When bob replies, LD-signed, addressing alice's followers and "http://[x" (a URL
    # urlsplit cannot read: working out which servers already had it raised ValueError)
    bob = peer.add_actor("bob")
    create = load_payload("mastodon_create_note", actor=bob.id, base=peer.base, n="8", local=alice)
    create["cc"] = create["object"]["cc"] = [f"{alice}/followers", "http://[x"]
    create["object"]["inReplyTo"] = note
    signed = sign_ld(
        create, private_key=bob.key, creator=bob.key_id, created="2024-05-01T10:00:00Z"
    )
    status, _ = await peer.post(bob, f"{alpha.base}/inbox", signed)
    assert status == 202
    await drain(alpha, gamma)
    # Then alpha stored the reply and forwarded it to gamma, which accepted it
    received = await inbox_queue.get(alpha.db, create["id"])
    assert received is not None and (received.state, received.last_error) == ("applied", None)
    assert await objects.get(alpha.db, create["object"]["id"]) is not None
    assert await objects.get(gamma.db, create["object"]["id"]) is not None


async def test_an_ld_signature_by_another_actor_does_not_prove_the_activity(
    alpha: Instance, peer: Peer
) -> None:
    # Given a Create claiming bob as its actor, validly LD-signed by carol's own key
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    create = create_by(bob, peer, alpha, "ld-other")
    signed = sign_ld(
        create, private_key=carol.key, creator=carol.key_id, created="2024-05-01T10:00:00Z"
    )
    # When carol posts it, Then it is refused: the signature holds, but it is not bob's
    status, answer = await peer.post(bob, f"{alpha.base}/inbox", signed, signer=carol)
    assert (status, answer.get("reason")) == (401, "not_owner")
    assert await inbox_queue.get(alpha.db, create["id"]) is None

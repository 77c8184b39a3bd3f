"""The social graph against hostile peers and careless users: follows, blocks, moves, updates."""

from __future__ import annotations

import json
from typing import Any

import pytest

from actors.remote import remote_actors
from actors.state import local_actors
from fedsocial.crypto.keys import generate_rsa_key, public_key_to_pem
from fedsocial.errors import Forbidden, ValidationError
from fedsocial.storage import blocks, follows, inbox_queue, notifications, timeline
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, deliver, load_payload
from tests.harness import Instance, drain


@pytest.fixture
async def alpha(start_instance: StartInstance) -> Instance:
    instance = await start_instance("alpha")
    await instance.add_actor("alice")
    await instance.add_actor("carla", manually_approves=True)
    return instance


def payload(name: str, actor: PeerActor, alpha: Instance, **values: str) -> Any:
    base = actor.id.rsplit("/users/", 1)[0]
    defaults = {"n": "1", "uuid": "u1", "local": alpha.actor_id("alice")}
    return load_payload(name, actor=actor.id, base=base, **{**defaults, **values})


async def test_follow_of_a_moved_local_actor_is_rejected(alpha: Instance, peer: Peer) -> None:
    # Given alice moved to her new local account alice2
    assert alpha.app is not None
    await alpha.add_actor("alice2")
    alice = await local_actors(alpha.app).require("alice")
    await outbox_of(alpha.app).move(alice, alpha.actor_id("alice2"))
    await drain(alpha)
    # When bob follows the old account
    bob = peer.add_actor("bob")
    assert await deliver(peer, bob, alpha, payload("mastodon_follow", bob, alpha)) == "applied"
    # Then, as on Mastodon, the follow is rejected, not recorded
    assert await follows.get_state(alpha.db, bob.id, alpha.actor_id("alice")) is None
    assert [a["type"] for a in peer.received if a.get("type") in ("Accept", "Reject")] == ["Reject"]


async def test_follow_from_a_blocked_actor_gets_a_reject(alpha: Instance, peer: Peer) -> None:
    # Given alice blocks bob
    assert alpha.app is not None
    bob = peer.add_actor("bob")
    alice = await local_actors(alpha.app).require("alice")
    await outbox_of(alpha.app).block(alice, bob.id)
    await drain(alpha)
    # When bob follows alice
    assert await deliver(peer, bob, alpha, payload("mastodon_follow", bob, alpha)) == "applied"
    # Then no follow is recorded and bob's server is told (its request would hang otherwise)
    assert await follows.get_state(alpha.db, bob.id, alpha.actor_id("alice")) is None
    assert [a["type"] for a in peer.received if a.get("type") in ("Accept", "Reject")] == ["Reject"]


async def test_cannot_follow_an_actor_blocked_either_way(alpha: Instance, peer: Peer) -> None:
    # Given alice blocks bob, and carol blocks alice
    assert alpha.app is not None
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    alice = await local_actors(alpha.app).require("alice")
    await outbox_of(alpha.app).block(alice, bob.id)
    assert await deliver(peer, carol, alpha, payload("mastodon_block", carol, alpha)) == "applied"
    # When alice tries to follow either, Then it is refused and nothing is recorded
    for target in (bob.id, carol.id):
        with pytest.raises(Forbidden):
            await outbox_of(alpha.app).follow(alice, target)
        assert await follows.get_state(alpha.db, alpha.actor_id("alice"), target) is None


async def test_blocking_hides_the_blocked_actors_posts(alpha: Instance, peer: Peer) -> None:
    # Given alice follows bob and has his post on her timeline
    assert alpha.app is not None
    bob = peer.add_actor("bob")
    alice_id = alpha.actor_id("alice")
    await follows.upsert(alpha.db, alice_id, bob.id, activity_id=None, state="accepted", now=0)
    assert await deliver(peer, bob, alpha, payload("mastodon_create_note", bob, alpha)) == "applied"
    assert len(await timeline.list_for(alpha.db, "alice")) == 1
    assert [n.kind for n in await notifications.list_for(alpha.db, "alice")] == ["mention"]
    # When alice blocks bob
    alice = await local_actors(alpha.app).require("alice")
    await outbox_of(alpha.app).block(alice, bob.id)
    # Then his post leaves her timeline and his mention her notifications (as on Mastodon)
    assert await timeline.list_for(alpha.db, "alice") == []
    assert await notifications.list_for(alpha.db, "alice") == []
    assert await blocks.is_blocked(alpha.db, alice_id, bob.id)


async def test_a_blocked_actors_post_stays_out_of_the_c2s_inbox(
    alpha: Instance, peer: Peer
) -> None:
    # Given alice blocks bob
    assert alpha.app is not None
    bob = peer.add_actor("bob")
    alice = await local_actors(alpha.app).require("alice")
    await outbox_of(alpha.app).block(alice, bob.id)
    await drain(alpha)
    # When bob's post addressing alice comes to the shared inbox (which names no recipient,
    # so the receive path cannot drop it for her), and a post of his to carla too
    to_alice = payload("mastodon_create_note", bob, alpha)
    to_carla = payload("mastodon_create_note", bob, alpha, n="2", local=alpha.actor_id("carla"))
    assert await deliver(peer, bob, alpha, to_alice) == "applied"
    assert await deliver(peer, bob, alpha, to_carla) == "applied"
    # Then alice's C2S inbox does not list it, while carla, who does not block him, has hers
    assert await inbox_queue.list_items(alpha.db, "alice", limit=10, offset=0) == []
    listed = await inbox_queue.list_items(alpha.db, "carla", limit=10, offset=0)
    assert [a["id"] for a in listed] == [to_carla["id"]]


async def test_move_to_the_local_follower_itself(alpha: Instance, peer: Peer) -> None:
    # Given alice follows bob, and alice is bob's new account (she lists him in alsoKnownAs)
    assert alpha.app is not None
    bob, dave = peer.add_actor("bob"), peer.add_actor("dave")
    alice_id = alpha.actor_id("alice")
    await alpha.add_actor("dora")
    for local in (alice_id, alpha.actor_id("dora")):
        await follows.upsert(alpha.db, local, bob.id, activity_id=None, state="accepted", now=0)
    alice = await local_actors(alpha.app).require("alice")
    await outbox_of(alpha.app).update_profile(alice, also_known_as=(bob.id,))
    del dave
    # When bob moves to alice
    move = payload("mastodon_move", bob, alpha, target=alice_id)
    # Then the Move applies: dora now asks to follow alice, alice does not follow herself
    assert await deliver(peer, bob, alpha, move) == "applied"
    assert await follows.get_state(alpha.db, alpha.actor_id("dora"), alice_id) is not None
    assert await follows.get_state(alpha.db, alice_id, alice_id) is None
    moved = await remote_actors(alpha.app).cached(bob.id)
    assert moved is not None and moved.moved_to == alice_id


async def test_move_keeps_the_follow_of_a_follower_who_blocks_the_target(
    alpha: Instance, peer: Peer
) -> None:
    # Given alice follows bob and blocks bob's new account
    assert alpha.app is not None
    bob, new = peer.add_actor("bob"), peer.add_actor("bob2")
    new.also_known_as = [bob.id]
    alice_id = alpha.actor_id("alice")
    await follows.upsert(alpha.db, alice_id, bob.id, activity_id=None, state="accepted", now=0)
    alice = await local_actors(alpha.app).require("alice")
    await outbox_of(alpha.app).block(alice, new.id)
    # When bob moves there
    move = payload("mastodon_move", bob, alpha, target=new.id)
    # Then the Move applies, but alice does not follow the account she blocks
    assert await deliver(peer, bob, alpha, move) == "applied"
    assert await follows.get_state(alpha.db, alice_id, new.id) is None
    assert await follows.get_state(alpha.db, alice_id, bob.id) == "accepted"


async def test_reject_after_accept_removes_the_follow(alpha: Instance, peer: Peer) -> None:
    # Given alice's follow of bob was accepted
    assert alpha.app is not None
    bob = peer.add_actor("bob")
    alice_id = alpha.actor_id("alice")
    alice = await local_actors(alpha.app).require("alice")
    follow_id = await outbox_of(alpha.app).follow(alice, bob.id)
    accept = load_payload(
        "mastodon_accept_follow", actor=bob.id, follow_id=follow_id, local=alice_id
    )
    assert await deliver(peer, bob, alpha, accept) == "applied"
    assert await follows.get_state(alpha.db, alice_id, bob.id) == "accepted"
    # When bob later rejects it (Mastodon's "remove follower"), naming the Follow by id only
    reject = {"id": f"{bob.id}#rejects/1", "type": "Reject", "actor": bob.id, "object": follow_id}
    assert await deliver(peer, bob, alpha, reject) == "applied"
    # Then alice no longer follows bob
    assert await follows.get_state(alpha.db, alice_id, bob.id) is None


async def test_others_cannot_settle_or_undo_a_follow(alpha: Instance, peer: Peer) -> None:
    # Given bob follows alice, and alice asked to follow bob
    assert alpha.app is not None
    bob, mallory = peer.add_actor("bob"), peer.add_actor("mallory")
    alice_id = alpha.actor_id("alice")
    bobs_follow = payload("mastodon_follow", bob, alpha)
    assert await deliver(peer, bob, alpha, bobs_follow) == "applied"
    alice = await local_actors(alpha.app).require("alice")
    alices_follow = await outbox_of(alpha.app).follow(alice, bob.id)
    # When mallory undoes bob's Follow by id and rejects alice's by id
    undo = {
        "id": f"{mallory.id}#u",
        "type": "Undo",
        "actor": mallory.id,
        "object": bobs_follow["id"],
    }
    reject = {
        "id": f"{mallory.id}#r",
        "type": "Reject",
        "actor": mallory.id,
        "object": alices_follow,
    }
    await deliver(peer, mallory, alpha, undo)
    assert (await deliver(peer, mallory, alpha, reject)).startswith("rejected")
    # Then both follows stand
    assert await follows.get_state(alpha.db, bob.id, alice_id) == "accepted"
    assert await follows.get_state(alpha.db, alice_id, bob.id) == "pending"


async def test_repeated_follow_requests_make_one_request(alpha: Instance, peer: Peer) -> None:
    # Given carla approves followers by hand
    assert alpha.app is not None
    bob = peer.add_actor("bob")
    carla_id = alpha.actor_id("carla")
    # When bob asks twice, with two ids
    for n in ("1", "2"):
        follow = payload("mastodon_follow", bob, alpha, uuid=f"f{n}", local=carla_id)
        assert await deliver(peer, bob, alpha, follow) == "applied"
    # Then one request waits, under the latest id, and nothing counts as a follower yet
    assert await follows.list_pending_for(alpha.db, carla_id) == [(bob.id, follow["id"])]
    assert await follows.count_followers(alpha.db, carla_id) == 0
    # When carla accepts it, Then bob is her one follower and got one Accept of the latest id
    carla = await local_actors(alpha.app).require("carla")
    await outbox_of(alpha.app).accept_follow(carla, follow)
    await drain(alpha)
    assert await follows.count_followers(alpha.db, carla_id) == 1
    accepts = [a for a in peer.received if a.get("type") == "Accept"]
    assert [a["object"]["id"] for a in accepts] == [follow["id"]]


async def test_update_person_rotates_the_key(alpha: Instance, peer: Peer) -> None:
    # Given bob is known with his first key
    bob = peer.add_actor("bob")
    assert await deliver(peer, bob, alpha, payload("mastodon_follow", bob, alpha)) == "applied"
    # When bob's Update{Person} brings a new key, signed with the old one
    new_key = generate_rsa_key()
    update = payload(
        "mastodon_update_person",
        bob,
        alpha,
        pem=json.dumps(public_key_to_pem(new_key.public_key()))[1:-1],
    )
    assert await deliver(peer, bob, alpha, update) == "applied"
    bob.key = new_key
    # Then an activity signed with the new key is accepted and applied
    undo = load_payload(
        "mastodon_undo_follow",
        actor=bob.id,
        base=peer.base,
        uuid="u1",
        local=alpha.actor_id("alice"),
    )
    assert await deliver(peer, bob, alpha, undo) == "applied"
    assert await follows.get_state(alpha.db, bob.id, alpha.actor_id("alice")) is None


async def test_update_of_another_actor_is_refused(alpha: Instance, peer: Peer) -> None:
    # Given bob is known
    bob, mallory = peer.add_actor("bob"), peer.add_actor("mallory")
    assert await deliver(peer, bob, alpha, payload("mastodon_follow", bob, alpha)) == "applied"
    # When mallory sends an Update of bob's profile carrying her key
    update = payload(
        "mastodon_update_person",
        bob,
        alpha,
        pem=json.dumps(public_key_to_pem(mallory.key.public_key()))[1:-1],
    )
    update["actor"], update["id"] = mallory.id, f"{mallory.id}#updates/1"
    # Then it is rejected and bob's name is unchanged
    assert "cannot update" in await deliver(peer, mallory, alpha, update)
    assert alpha.app is not None
    cached = await remote_actors(alpha.app).cached(bob.id)
    assert cached is not None and cached.document.get("name") == "Bob"


async def test_a_follow_and_block_naming_us_with_a_fragment_reach_the_actor(
    alpha: Instance, peer: Peer
) -> None:
    # Given bob names alice by her key id (her id with a fragment) in a Follow
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    alice_id = alpha.actor_id("alice")
    follow = payload("mastodon_follow", bob, alpha, local=f"{alice_id}#main-key")
    # When it is applied
    assert await deliver(peer, bob, alpha, follow) == "applied"
    # Then bob is alice's follower (the Accept he got is true), not a follower of a key
    assert await follows.list_followers(alpha.db, alice_id, limit=10, offset=0) == [bob.id]
    # When bob undoes that Follow, embedded as he sent it, Then he no longer follows her
    undo = {"id": f"{bob.id}#undo", "type": "Undo", "actor": bob.id, "object": follow}
    assert await deliver(peer, bob, alpha, undo) == "applied"
    assert await follows.count_followers(alpha.db, alice_id) == 0
    # Given alice follows carol, When carol blocks "alice#main-key"
    await follows.upsert(alpha.db, alice_id, carol.id, activity_id=None, state="accepted", now=0)
    block = payload("mastodon_block", carol, alpha, uuid="b1", local=f"{alice_id}#main-key")
    assert await deliver(peer, carol, alpha, block) == "applied"
    # Then the block is alice's, and her follow of carol is gone
    assert await blocks.is_blocked(alpha.db, carol.id, alice_id)
    assert await follows.get_state(alpha.db, alice_id, carol.id) is None
    # And no follow of a key id was left behind
    assert await alpha.db.fetchval("SELECT count(*) FROM follows WHERE followee LIKE '%#%'") == 0
    # When carol undoes the block, embedding it as she sent it, Then it is lifted
    undo = {"id": f"{carol.id}#undo", "type": "Undo", "actor": carol.id, "object": block}
    assert await deliver(peer, carol, alpha, undo) == "applied"
    assert not await blocks.is_blocked(alpha.db, carol.id, alice_id)


async def test_a_boost_does_not_bring_back_a_blocked_actors_post(
    alpha: Instance, peer: Peer
) -> None:
    # Given alice follows dora and blocks bob, who wrote a public post
    assert alpha.app is not None
    bob, dora = peer.add_actor("bob"), peer.add_actor("dora")
    alice_id = alpha.actor_id("alice")
    await follows.upsert(alpha.db, alice_id, dora.id, activity_id=None, state="accepted", now=0)
    alice = await local_actors(alpha.app).require("alice")
    await outbox_of(alpha.app).block(alice, bob.id)
    post = payload("mastodon_create_note", bob, alpha)["object"]
    peer.serve(post)
    # When dora boosts bob's post
    announce = payload("mastodon_announce", dora, alpha, author=bob.id, object=post["id"])
    assert await deliver(peer, dora, alpha, announce) == "applied"
    # Then it stays off alice's timeline (Mastodon filters boosts of blocked accounts)
    assert await timeline.list_for(alpha.db, "alice") == []


async def test_an_actor_cannot_move_to_itself(alpha: Instance) -> None:
    # Given alice
    assert alpha.app is not None
    alice = await local_actors(alpha.app).require("alice")
    # When she tries to move to her own account, Then it is refused and nothing changes
    with pytest.raises(ValidationError, match="itself"):
        await outbox_of(alpha.app).move(alice, alpha.actor_id("alice"))
    local_actors(alpha.app).forget("alice")
    after = await local_actors(alpha.app).require("alice")
    assert after.row.moved_to is None and after.row.also_known_as == ()


async def test_two_follows_in_one_batch_notify_once(alpha: Instance, peer: Peer) -> None:
    # Given bob sends two Follows of alice with two ids, applied together
    bob = peer.add_actor("bob")
    for n in ("1", "2"):
        follow = payload("mastodon_follow", bob, alpha, uuid=f"f{n}")
        assert (await peer.post(bob, f"{alpha.base}/inbox", follow))[0] == 202
    await drain(alpha)
    # Then alice has one follower and one follow notification
    assert await follows.count_followers(alpha.db, alpha.actor_id("alice")) == 1
    assert [n.kind for n in await notifications.list_for(alpha.db, "alice")] == ["follow"]


async def test_cannot_follow_a_moved_account(alpha: Instance, peer: Peer) -> None:
    # Given bob moved to bob2 (alice followed him, so the Move was applied)
    assert alpha.app is not None
    bob, new = peer.add_actor("bob"), peer.add_actor("bob2")
    new.also_known_as = [bob.id]
    await alpha.add_actor("dora")
    alice_id = alpha.actor_id("alice")
    await follows.upsert(alpha.db, alice_id, bob.id, activity_id=None, state="accepted", now=0)
    move = payload("mastodon_move", bob, alpha, target=new.id)
    assert await deliver(peer, bob, alpha, move) == "applied"
    # When dora tries to follow the old account, Then she is told where it went
    dora = await local_actors(alpha.app).require("dora")
    with pytest.raises(Forbidden, match="moved to"):
        await outbox_of(alpha.app).follow(dora, bob.id)
    assert await follows.get_state(alpha.db, alpha.actor_id("dora"), bob.id) is None


async def test_undo_by_id_of_an_earlier_follow_still_unfollows(alpha: Instance, peer: Peer) -> None:
    # Given bob followed alice twice (the second Follow re-sent under a new id)
    bob = peer.add_actor("bob")
    alice_id = alpha.actor_id("alice")
    first = payload("mastodon_follow", bob, alpha, uuid="f1")
    for follow in (first, payload("mastodon_follow", bob, alpha, uuid="f2")):
        assert await deliver(peer, bob, alpha, follow) == "applied"
    # When bob unfollows, naming his first Follow by id only
    undo = {"id": f"{bob.id}#undo", "type": "Undo", "actor": bob.id, "object": first["id"]}
    assert await deliver(peer, bob, alpha, undo) == "applied"
    # Then he no longer follows alice (he would keep getting her followers-only posts)
    assert await follows.count_followers(alpha.db, alice_id) == 0


async def test_local_follow_request_accepted_then_rejected(alpha: Instance) -> None:
    # Given alice asks carla (same instance, approves by hand) to follow her
    assert alpha.app is not None
    alice_id, carla_id = alpha.actor_id("alice"), alpha.actor_id("carla")
    alice = await local_actors(alpha.app).require("alice")
    carla = await local_actors(alpha.app).require("carla")
    await outbox_of(alpha.app).follow(alice, carla_id)
    await drain(alpha)
    [(requester, follow_id)] = await follows.list_pending_for(alpha.db, carla_id)
    assert requester == alice_id and follow_id is not None
    follow = {"id": follow_id, "type": "Follow", "actor": alice_id, "object": carla_id}
    # When carla accepts, Then both sides count one follow
    await outbox_of(alpha.app).accept_follow(carla, follow)
    await drain(alpha)
    assert await follows.count_followers(alpha.db, carla_id) == 1
    assert await follows.count_following(alpha.db, alice_id) == 1
    # When carla then removes her (Reject after Accept), Then neither counts it
    await outbox_of(alpha.app).reject_follow(carla, follow)
    await drain(alpha)
    assert await follows.count_followers(alpha.db, carla_id) == 0
    assert await follows.count_following(alpha.db, alice_id) == 0


async def test_a_block_of_an_unknown_local_name_is_rejected(alpha: Instance, peer: Peer) -> None:
    # Given no local actor "nobody"
    bob = peer.add_actor("bob")
    nobody = alpha.actor_id("nobody")
    # When bob blocks that name, Then the Block is rejected and leaves nothing behind
    block = payload("mastodon_block", bob, alpha, uuid="b1", local=nobody)
    assert "not a local actor" in await deliver(peer, bob, alpha, block)
    assert not await blocks.is_blocked(alpha.db, bob.id, nobody)

"""The social graph against hostile peers and careless users: follows, blocks, moves, updates."""

from __future__ import annotations

from typing import Any

import pytest

from actors.remote import remote_actors
from actors.state import local_actors
from fedsocial.errors import Forbidden
from fedsocial.storage import blocks, follows, inbox_queue, timeline
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, load_payload
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


async def deliver(peer: Peer, actor: PeerActor, alpha: Instance, activity: Any) -> str:
    assert (await peer.post(actor, f"{alpha.base}/inbox", activity))[0] == 202
    await drain(alpha)
    stored = await inbox_queue.get(alpha.db, activity["id"])
    assert stored is not None
    return f"{stored.state}: {stored.last_error}" if stored.last_error else stored.state


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
    # When alice blocks bob
    alice = await local_actors(alpha.app).require("alice")
    await outbox_of(alpha.app).block(alice, bob.id)
    # Then his post leaves her timeline (as Mastodon clears a blocked account from the home feed)
    assert await timeline.list_for(alpha.db, "alice") == []
    assert await blocks.is_blocked(alpha.db, alice_id, bob.id)


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

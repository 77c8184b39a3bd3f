"""Inbox handlers: Follow, Undo{Follow}, Accept/Reject of our follows, manual approval."""

from __future__ import annotations

import pytest

from actors.state import local_actors
from fedsocial.storage import follows, inbox_queue, notifications
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


def follow(bob: PeerActor, target: str, n: int = 1) -> dict[str, object]:
    return load_payload(
        "mastodon_follow",
        actor=bob.id,
        base=bob.id.rsplit("/users/", 1)[0],
        uuid=f"f{n}",
        local=target,
    )


async def test_follow_is_recorded_accepted_and_notified(alpha: Instance, peer: Peer) -> None:
    # Given a remote actor bob
    bob = peer.add_actor("bob")
    alice = alpha.actor_id("alice")
    # When bob follows alice and the queues run
    assert (await peer.post(bob, f"{alpha.base}/users/alice/inbox", follow(bob, alice)))[0] == 202
    await drain(alpha)
    # Then bob follows alice, alice is notified, and bob received an Accept of his Follow
    assert await follows.get_state(alpha.db, bob.id, alice) == "accepted"
    kinds = [n.kind for n in await notifications.list_for(alpha.db, "alice")]
    assert kinds == ["follow"]
    accepts = [a for a in peer.received if a.get("type") == "Accept"]
    assert len(accepts) == 1 and accepts[0]["object"]["id"] == follow(bob, alice)["id"]
    stored = await inbox_queue.get(alpha.db, str(follow(bob, alice)["id"]))
    assert stored is not None and stored.state == "applied"


async def test_follow_of_manual_approval_actor_stays_pending(alpha: Instance, peer: Peer) -> None:
    # Given carla approves followers by hand
    bob = peer.add_actor("bob")
    carla = alpha.actor_id("carla")
    # When bob follows carla
    await peer.post(bob, f"{alpha.base}/inbox", follow(bob, carla))
    await drain(alpha)
    # Then the follow is pending, carla has a follow request, and no Accept went out
    assert await follows.get_state(alpha.db, bob.id, carla) == "pending"
    assert [n.kind for n in await notifications.list_for(alpha.db, "carla")] == ["follow_request"]
    assert not [a for a in peer.received if a.get("type") == "Accept"]


async def test_undo_follow_removes_it(alpha: Instance, peer: Peer) -> None:
    # Given bob follows alice
    bob = peer.add_actor("bob")
    alice = alpha.actor_id("alice")
    await peer.post(bob, f"{alpha.base}/inbox", follow(bob, alice))
    await drain(alpha)
    # When bob undoes the follow (Mastodon shape, the Follow embedded)
    undo = load_payload(
        "mastodon_undo_follow", actor=bob.id, base=peer.base, uuid="f1", local=alice
    )
    assert (await peer.post(bob, f"{alpha.base}/inbox", undo))[0] == 202
    await drain(alpha)
    # Then the follow is gone
    assert await follows.get_state(alpha.db, bob.id, alice) is None


async def test_follow_of_a_non_local_actor_is_rejected(alpha: Instance, peer: Peer) -> None:
    # Given a Follow of someone who is not ours
    bob = peer.add_actor("bob")
    activity = follow(bob, "https://elsewhere.example/users/x")
    # When it is applied
    await peer.post(bob, f"{alpha.base}/inbox", activity)
    await drain(alpha)
    # Then it is kept as rejected with the reason
    stored = await inbox_queue.get(alpha.db, str(activity["id"]))
    assert stored is not None and stored.state == "rejected"
    assert stored.last_error is not None and "not a local actor" in stored.last_error


async def test_accept_settles_the_follow_we_sent(alpha: Instance, peer: Peer) -> None:
    # Given alice asked to follow bob (pending)
    bob = peer.add_actor("bob")
    assert alpha.app is not None
    alice = await local_actors(alpha.app).require("alice")
    follow_id = await outbox_of(alpha.app).follow(alice, bob.id)
    await drain(alpha)
    assert await follows.get_state(alpha.db, alpha.actor_id("alice"), bob.id) == "pending"
    # When bob accepts it (the Follow embedded, as Mastodon does)
    accept = load_payload(
        "mastodon_accept_follow", actor=bob.id, follow_id=follow_id, local=alpha.actor_id("alice")
    )
    assert (await peer.post(bob, f"{alpha.base}/users/alice/inbox", accept))[0] == 202
    await drain(alpha)
    # Then the follow is accepted
    assert await follows.get_state(alpha.db, alpha.actor_id("alice"), bob.id) == "accepted"


async def test_accept_by_id_only_and_reject(alpha: Instance, peer: Peer) -> None:
    # Given alice asked to follow bob and carol
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    assert alpha.app is not None
    alice = await local_actors(alpha.app).require("alice")
    to_bob = await outbox_of(alpha.app).follow(alice, bob.id)
    await outbox_of(alpha.app).follow(alice, carol.id)
    await drain(alpha)
    # When bob accepts naming the Follow by id only, and carol rejects
    accept = {"id": f"{bob.id}#accept", "type": "Accept", "actor": bob.id, "object": to_bob}
    reject = load_payload(
        "mastodon_accept_follow", actor=carol.id, follow_id="x", local=alpha.actor_id("alice")
    )
    reject["type"], reject["id"] = "Reject", f"{carol.id}#reject"
    await peer.post(bob, f"{alpha.base}/inbox", accept)
    await peer.post(carol, f"{alpha.base}/inbox", reject)
    await drain(alpha)
    # Then bob's follow is accepted and carol's is gone
    assert await follows.get_state(alpha.db, alpha.actor_id("alice"), bob.id) == "accepted"
    assert await follows.get_state(alpha.db, alpha.actor_id("alice"), carol.id) is None


async def test_accept_of_someone_elses_follow_is_rejected(alpha: Instance, peer: Peer) -> None:
    # Given alice asked to follow bob
    bob, mallory = peer.add_actor("bob"), peer.add_actor("mallory")
    assert alpha.app is not None
    alice = await local_actors(alpha.app).require("alice")
    follow_id = await outbox_of(alpha.app).follow(alice, bob.id)
    await drain(alpha)
    # When mallory sends an Accept of alice's follow of bob
    accept = load_payload(
        "mastodon_accept_follow",
        actor=mallory.id,
        follow_id=follow_id,
        local=alpha.actor_id("alice"),
    )
    accept["object"]["object"] = bob.id
    await peer.post(mallory, f"{alpha.base}/inbox", accept)
    await drain(alpha)
    # Then the follow stays pending and the Accept is rejected
    assert await follows.get_state(alpha.db, alpha.actor_id("alice"), bob.id) == "pending"
    stored = await inbox_queue.get(alpha.db, str(accept["id"]))
    assert stored is not None and stored.state == "rejected"

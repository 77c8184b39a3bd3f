"""Inbox handlers: Block, Move, Flag, featured Add/Remove, actor Update and Delete, unknown."""

from __future__ import annotations

import json
from typing import Any

import pytest

from actors.remote import remote_actors
from fedsocial.crypto.keys import public_key_to_pem
from fedsocial.storage import (
    blocks,
    featured,
    follows,
    notifications,
    objects,
    reactions,
    reports,
)
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, deliver, load_payload, local_post
from tests.harness import Instance


@pytest.fixture
async def alpha(start_instance: StartInstance) -> Instance:
    instance = await start_instance("alpha")
    await instance.add_actor("alice")
    return instance


def payload(name: str, actor: PeerActor, alpha: Instance, **values: str) -> Any:
    base = actor.id.rsplit("/users/", 1)[0]
    defaults = {"n": "1", "uuid": "u1", "local": alpha.actor_id("alice")}
    return load_payload(name, actor=actor.id, base=base, **{**defaults, **values})


async def follow_both_ways(alpha: Instance, remote: str) -> None:
    alice = alpha.actor_id("alice")
    for a, b in ((alice, remote), (remote, alice)):
        await follows.upsert(alpha.db, a, b, activity_id=None, state="accepted", now=0)


async def test_block_drops_follows_both_ways_and_undo_lifts_it(alpha: Instance, peer: Peer) -> None:
    # Given alice and bob follow each other
    bob = peer.add_actor("bob")
    alice = alpha.actor_id("alice")
    await follow_both_ways(alpha, bob.id)
    # When bob blocks alice
    block = payload("mastodon_block", bob, alpha)
    assert await deliver(peer, bob, alpha, block) == "applied"
    # Then the block is recorded and neither follows the other any more
    assert await blocks.is_blocked(alpha.db, bob.id, alice)
    assert await follows.get_state(alpha.db, alice, bob.id) is None
    assert await follows.get_state(alpha.db, bob.id, alice) is None
    # When bob undoes the block (naming it by id only)
    undo = {"id": f"{bob.id}#unblock", "type": "Undo", "actor": bob.id, "object": block["id"]}
    assert await deliver(peer, bob, alpha, undo) == "applied"
    # Then it is lifted
    assert not await blocks.is_blocked(alpha.db, bob.id, alice)


async def test_move_with_alias_moves_our_follow(alpha: Instance, peer: Peer) -> None:
    # Given alice follows bob, and bob's new account lists bob in alsoKnownAs
    bob, new = peer.add_actor("bob"), peer.add_actor("bob2")
    new.also_known_as = [bob.id]
    await follow_both_ways(alpha, bob.id)
    # When bob moves to the new account
    move = payload("mastodon_move", bob, alpha, target=new.id)
    assert await deliver(peer, bob, alpha, move) == "applied"
    # Then alice follows the new account (pending its Accept), not the old one, and is told
    alice = alpha.actor_id("alice")
    assert await follows.get_state(alpha.db, alice, new.id) == "pending"
    assert await follows.get_state(alpha.db, alice, bob.id) is None
    assert [n.kind for n in await notifications.list_for(alpha.db, "alice")] == ["move"]
    assert any(a.get("type") == "Follow" and a.get("object") == new.id for a in peer.received)
    assert alpha.app is not None
    moved = await remote_actors(alpha.app).cached(bob.id)
    assert moved is not None and moved.moved_to == new.id


async def test_move_without_alias_is_rejected(alpha: Instance, peer: Peer) -> None:
    # Given a target that does not name bob in alsoKnownAs
    bob, stranger = peer.add_actor("bob"), peer.add_actor("stranger")
    await follow_both_ways(alpha, bob.id)
    # When bob claims to move there, Then the Move is rejected and alice's follow stays
    move = payload("mastodon_move", bob, alpha, target=stranger.id)
    assert "alsoKnownAs" in await deliver(peer, bob, alpha, move)
    assert await follows.get_state(alpha.db, alpha.actor_id("alice"), bob.id) == "accepted"


async def test_flag_is_kept_as_a_report(alpha: Instance, peer: Peer) -> None:
    # Given alice's post
    post = await local_post(alpha, "alice", "reported")
    bob = peer.add_actor("bob")
    # When bob's server reports it
    flag = payload("mastodon_flag", bob, alpha, object=post)
    assert await deliver(peer, bob, alpha, flag) == "applied"
    # Then the admin has a report with both targets and the comment
    [report] = await reports.list_all(alpha.db)
    assert report.reporter == bob.id
    assert report.targets == (alpha.actor_id("alice"), post)
    assert "spam" in report.content


async def test_add_and_remove_featured(alpha: Instance, peer: Peer) -> None:
    # Given bob's note
    bob = peer.add_actor("bob")
    pinned = f"{bob.id}/statuses/7"
    # When bob pins it, Then it is featured
    add = payload("mastodon_add_featured", bob, alpha, object=pinned)
    assert await deliver(peer, bob, alpha, add) == "applied"
    assert await featured.list_of(alpha.db, bob.id) == [pinned]
    # When bob unpins it, Then it is not
    remove = dict(add, type="Remove", id=f"{bob.id}#unpin")
    assert await deliver(peer, bob, alpha, remove) == "applied"
    assert await featured.list_of(alpha.db, bob.id) == []


async def test_update_person_refreshes_the_stored_actor(alpha: Instance, peer: Peer) -> None:
    # Given bob is known to alpha
    bob = peer.add_actor("bob")
    assert alpha.app is not None
    await remote_actors(alpha.app).get(bob.id)
    # When bob's Update{Person} with a new name arrives
    pem = json.dumps(public_key_to_pem(bob.key.public_key()))[1:-1]
    update = payload("mastodon_update_person", bob, alpha, pem=pem)
    assert await deliver(peer, bob, alpha, update) == "applied"
    # Then the stored actor has the new name
    stored = await remote_actors(alpha.app).cached(bob.id)
    assert stored is not None and stored.document["name"] == "Bob Renamed"


async def test_delete_of_an_actor_removes_all_of_it(alpha: Instance, peer: Peer) -> None:
    # Given bob follows alice, wrote a note and liked alice's post
    bob = peer.add_actor("bob")
    post = await local_post(alpha, "alice", "hi")
    await follow_both_ways(alpha, bob.id)
    create = payload("mastodon_create_note", bob, alpha)
    await deliver(peer, bob, alpha, create)
    await deliver(peer, bob, alpha, payload("mastodon_like", bob, alpha, object=post))
    # When bob's account is deleted
    delete = payload("mastodon_delete_actor", bob, alpha)
    assert await deliver(peer, bob, alpha, delete) == "applied"
    # Then his follows, objects and likes are gone
    assert await follows.get_state(alpha.db, bob.id, alpha.actor_id("alice")) is None
    assert await objects.get(alpha.db, create["object"]["id"]) is None
    assert await reactions.count_likes(alpha.db, post) == 0


async def test_unknown_activity_type_is_unsupported(alpha: Instance, peer: Peer) -> None:
    # Given an activity type we have no handler for
    bob = peer.add_actor("bob")
    odd = {"id": f"{bob.id}#odd", "type": "Arrive", "actor": bob.id, "location": "here"}
    # When it is posted, Then it is 202, stored, and recorded as unsupported
    assert await deliver(peer, bob, alpha, odd) == "unsupported"

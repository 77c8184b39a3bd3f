"""Inbox handlers: likes, Misskey/Pleroma reactions, boosts, and their Undo."""

from __future__ import annotations

from typing import Any

import pytest

from fedsocial.storage import (
    follows,
    notifications,
    objects,
    reactions,
    shares,
    timeline,
)
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, deliver, load_payload, local_post
from tests.harness import Instance, drain


@pytest.fixture
async def alpha(start_instance: StartInstance) -> Instance:
    instance = await start_instance("alpha")
    await instance.add_actor("alice")
    await instance.add_actor("dora")
    return instance


def payload(name: str, actor: PeerActor, **values: str) -> Any:
    base = actor.id.rsplit("/users/", 1)[0]
    return load_payload(name, actor=actor.id, base=base, **{"n": "1", "uuid": "u1", **values})


async def test_like_and_undo_like_of_a_local_post(alpha: Instance, peer: Peer) -> None:
    # Given alice's post
    post = await local_post(alpha, "alice", "like me")
    bob = peer.add_actor("bob")
    # When bob likes it
    assert await deliver(peer, bob, alpha, payload("mastodon_like", bob, object=post)) == "applied"
    # Then it has one like and alice is notified
    assert await reactions.count_likes(alpha.db, post) == 1
    assert await reactions.list_likes(alpha.db, post, limit=10, offset=0) == [f"{bob.id}#likes/1"]
    assert [n.kind for n in await notifications.list_for(alpha.db, "alice")] == ["like"]
    # When bob undoes the like
    undo = payload("mastodon_undo_like", bob, object=post)
    assert await deliver(peer, bob, alpha, undo) == "applied"
    # Then the like and its notification are gone
    assert await reactions.count_likes(alpha.db, post) == 0
    assert await notifications.list_for(alpha.db, "alice") == []


async def test_duplicate_like_counts_once(alpha: Instance, peer: Peer) -> None:
    # Given bob liked alice's post
    post = await local_post(alpha, "alice", "like me")
    bob = peer.add_actor("bob")
    await deliver(peer, bob, alpha, payload("mastodon_like", bob, object=post))
    # When a second Like of the same post arrives with a new id
    again = payload("mastodon_like", bob, object=post, n="2")
    assert await deliver(peer, bob, alpha, again) == "applied"
    # Then it still has one like
    assert await reactions.count_likes(alpha.db, post) == 1


async def test_misskey_and_pleroma_reactions(alpha: Instance, peer: Peer) -> None:
    # Given alice's post
    post = await local_post(alpha, "alice", "react to me")
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    # When Misskey's Like with an emoji and Pleroma's EmojiReact arrive
    misskey = payload("misskey_like_reaction", bob, object=post)
    pleroma = payload("pleroma_emoji_react", carol, object=post, author=alpha.actor_id("alice"))
    assert await deliver(peer, bob, alpha, misskey) == "applied"
    assert await deliver(peer, carol, alpha, pleroma) == "applied"
    # Then both are reactions with their emoji (not likes), and alice is notified twice
    assert await reactions.count_emoji(alpha.db, post) == {"🍮": 1, "🔥": 1}
    assert await reactions.count_likes(alpha.db, post) == 0
    kinds = [n.kind for n in await notifications.list_for(alpha.db, "alice")]
    assert kinds == ["reaction", "reaction"]


async def test_announce_by_id_fetches_the_object(alpha: Instance, peer: Peer) -> None:
    # Given carol's note on her server, and dora following bob
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    original = payload("mastodon_create_note", carol, local=alpha.actor_id("alice"))["object"]
    peer.serve(original)
    await follows.upsert(
        alpha.db, alpha.actor_id("dora"), bob.id, activity_id=None, state="accepted", now=0
    )
    # When bob boosts it, naming it by id only
    announce = payload("mastodon_announce", bob, object=original["id"], author=carol.id, n="9")
    assert await deliver(peer, bob, alpha, announce) == "applied"
    # Then the note was fetched and stored, it has one share, and dora sees bob's boost
    stored = await objects.get(alpha.db, original["id"])
    assert stored is not None and stored.attributed_to == carol.id
    assert await shares.count_shares(alpha.db, original["id"]) == 1
    entries = await timeline.list_for(alpha.db, "dora")
    assert [(e.object_id, e.boosted_by) for e in entries] == [(original["id"], bob.id)]
    # When bob undoes the boost
    undo = payload("mastodon_undo_announce", bob, object=original["id"], author=carol.id, n="9")
    assert await deliver(peer, bob, alpha, undo) == "applied"
    # Then the share and the timeline line are gone
    assert await shares.count_shares(alpha.db, original["id"]) == 0
    assert await timeline.list_for(alpha.db, "dora") == []


async def test_embedded_object_from_another_origin_is_fetched(alpha: Instance, peer: Peer) -> None:
    # Given a note served by another server (a second peer) with its real text
    other = await Peer().start()
    try:
        carol = other.add_actor("carol")
        real = payload("mastodon_create_note", carol, local=alpha.actor_id("alice"))["object"]
        other.serve(real)
        bob = peer.add_actor("bob")
        # When bob announces it with a forged copy embedded
        forged = dict(real, content="<p>forged words</p>")
        announce = payload("mastodon_announce", bob, object="x", author=carol.id)
        announce["object"] = forged
        assert await deliver(peer, bob, alpha, announce) == "applied"
        # Then what we store is what carol's server serves, not the forgery
        stored = await objects.get(alpha.db, real["id"])
        assert stored is not None and "forged" not in stored.document["content"]
    finally:
        await other.stop()


async def test_boost_of_a_local_post_notifies_its_author(alpha: Instance, peer: Peer) -> None:
    # Given alice's post
    post = await local_post(alpha, "alice", "boost me")
    await drain(alpha)
    bob = peer.add_actor("bob")
    # When bob boosts it
    announce = payload("mastodon_announce", bob, object=post, author=alpha.actor_id("alice"))
    assert await deliver(peer, bob, alpha, announce) == "applied"
    # Then it has one share and alice is notified
    assert await shares.count_shares(alpha.db, post) == 1
    assert await shares.list_shares(alpha.db, post, limit=5, offset=0) == [announce["id"]]
    assert [n.kind for n in await notifications.list_for(alpha.db, "alice")] == ["boost"]


async def test_announce_of_a_gone_object_is_rejected(alpha: Instance, peer: Peer) -> None:
    # Given a boost of a note its server does not have (404)
    bob = peer.add_actor("bob")
    announce = payload("mastodon_announce", bob, object=f"{bob.id}/statuses/404", author=bob.id)
    # When it is applied, Then it is rejected, not retried
    assert (await deliver(peer, bob, alpha, announce)).startswith("rejected")

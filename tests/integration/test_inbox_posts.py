"""Inbox handlers: Create/Update/Delete of posts from Mastodon, GoToSocial, Misskey, Pleroma."""

from __future__ import annotations

from typing import Any

import pytest

from fedsocial.storage import follows, notifications, objects, timeline
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, deliver, load_payload, local_post
from tests.harness import Instance, drain


@pytest.fixture
async def alpha(start_instance: StartInstance) -> Instance:
    instance = await start_instance("alpha")
    await instance.add_actor("alice")
    await instance.add_actor("dora")
    return instance


def note(bob: PeerActor, alpha: Instance, name: str = "mastodon_create_note", **extra: str) -> Any:
    values = {"actor": bob.id, "base": bob.id.rsplit("/users/", 1)[0], "n": "1"}
    values.update(local=alpha.actor_id("alice"), uuid="u1")
    values.update(extra)
    return load_payload(name, **values)


async def test_mastodon_create_note_is_stored_sanitised(alpha: Instance, peer: Peer) -> None:
    # Given dora follows bob, and bob's post mentions alice
    bob = peer.add_actor("bob")
    await follows.upsert(
        alpha.db, alpha.actor_id("dora"), bob.id, activity_id=None, state="accepted", now=0
    )
    create = note(bob, alpha)
    # When bob's Create{Note} arrives
    assert await deliver(peer, bob, alpha, create) == "applied"
    # Then the note is stored with its HTML sanitised and its CW, tags and attachment kept
    stored = await objects.get(alpha.db, create["object"]["id"])
    assert stored is not None
    assert stored.visibility == "public" and stored.attributed_to == bob.id
    content = stored.document["content"]
    assert "<script" not in content and "onerror" not in content and "<img" not in content
    assert "hello" in content and 'rel="nofollow noopener' in content
    assert stored.document["summary"] == "spoilers <b>ahead</b>"
    assert stored.document["sensitive"] is True
    assert "<script" not in stored.document["contentMap"]["en"]
    assert [t["type"] for t in stored.document["tag"]] == ["Mention", "Hashtag", "Emoji"]
    assert stored.document["attachment"][0]["mediaType"] == "image/png"
    # And it reaches dora's timeline (she follows bob) and alice's (mentioned), who is notified
    assert [e.object_id for e in await timeline.list_for(alpha.db, "dora")] == [stored.id]
    assert [e.object_id for e in await timeline.list_for(alpha.db, "alice")] == [stored.id]
    assert [n.kind for n in await notifications.list_for(alpha.db, "alice")] == ["mention"]
    assert await notifications.list_for(alpha.db, "dora") == []


async def test_update_replaces_and_keeps_history(alpha: Instance, peer: Peer) -> None:
    # Given a stored note
    bob = peer.add_actor("bob")
    create = note(bob, alpha)
    await deliver(peer, bob, alpha, create)
    # When bob edits it
    update = note(bob, alpha, "mastodon_update_note")
    assert await deliver(peer, bob, alpha, update) == "applied"
    # Then the new text replaces the old one, which is kept in the history
    stored = await objects.get(alpha.db, create["object"]["id"])
    assert stored is not None and stored.document["content"] == "<p>edited <em>text</em></p>"
    history = await objects.edits(alpha.db, stored.id)
    assert len(history) == 1 and "hello" in history[0]["content"]


async def test_older_update_is_ignored(alpha: Instance, peer: Peer) -> None:
    # Given a note already edited
    bob = peer.add_actor("bob")
    await deliver(peer, bob, alpha, note(bob, alpha))
    await deliver(peer, bob, alpha, note(bob, alpha, "mastodon_update_note"))
    # When an older version arrives as an Update
    stale = note(bob, alpha, "mastodon_update_note")
    stale["id"] += "-stale"
    stale["object"]["updated"] = "2024-05-01T10:30:00Z"
    stale["object"]["content"] = "<p>stale</p>"
    await deliver(peer, bob, alpha, stale)
    # Then the newer text stays
    stored = await objects.get(alpha.db, stale["object"]["id"])
    assert stored is not None and "edited" in stored.document["content"]


async def test_delete_makes_a_tombstone(alpha: Instance, peer: Peer) -> None:
    # Given a stored note
    bob = peer.add_actor("bob")
    create = note(bob, alpha)
    await deliver(peer, bob, alpha, create)
    # When bob deletes it
    assert await deliver(peer, bob, alpha, note(bob, alpha, "mastodon_delete_note")) == "applied"
    # Then it is a Tombstone and gone from timelines
    stored = await objects.get(alpha.db, create["object"]["id"])
    assert stored is not None and stored.deleted and stored.document["type"] == "Tombstone"
    assert await timeline.list_for(alpha.db, "alice") == []


async def test_create_of_an_object_from_another_origin_is_rejected(
    alpha: Instance, peer: Peer
) -> None:
    # Given a Create whose embedded object lives elsewhere
    bob = peer.add_actor("bob")
    create = note(bob, alpha)
    create["object"]["id"] = "https://elsewhere.example/notes/1"
    # When it is applied, Then it is rejected and nothing is stored
    assert (await deliver(peer, bob, alpha, create)).startswith("rejected")
    assert await objects.get(alpha.db, "https://elsewhere.example/notes/1") is None


async def test_create_attributed_to_someone_else_is_rejected(alpha: Instance, peer: Peer) -> None:
    # Given bob's Create of a note attributed to carol
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    create = note(bob, alpha)
    create["object"]["attributedTo"] = carol.id
    # When it is applied, Then it is rejected
    assert "not the author" in await deliver(peer, bob, alpha, create)


async def test_update_and_delete_of_someone_elses_note_are_rejected(
    alpha: Instance, peer: Peer
) -> None:
    # Given bob's stored note
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    await deliver(peer, bob, alpha, note(bob, alpha))
    # When carol (same server) tries to delete it
    delete = note(bob, alpha, "mastodon_delete_note")
    delete["actor"], delete["id"] = carol.id, f"{carol.id}#delete-bobs"
    # Then it is rejected and the note stays
    assert "cannot delete" in await deliver(peer, carol, alpha, delete)
    stored = await objects.get(alpha.db, note(bob, alpha)["object"]["id"])
    assert stored is not None and not stored.deleted


async def test_create_by_id_only_is_fetched(alpha: Instance, peer: Peer) -> None:
    # Given bob's note served by his server, and a Create naming it by id only
    bob = peer.add_actor("bob")
    create = note(bob, alpha)
    peer.serve(create["object"])
    create["object"] = create["object"]["id"]
    # When it is applied
    assert await deliver(peer, bob, alpha, create) == "applied"
    # Then the fetched note is stored
    assert await objects.get(alpha.db, create["object"]) is not None


async def test_gotosocial_reply_notifies_the_local_author(alpha: Instance, peer: Peer) -> None:
    # Given alice's own post
    assert alpha.app is not None
    original = await local_post(alpha, "alice", "what do you think?")
    await drain(alpha)
    bob = peer.add_actor("bob")
    # When a GoToSocial reply to it arrives (mentioning alice too)
    reply = note(bob, alpha, "gotosocial_create_note", reply_to=original)
    assert await deliver(peer, bob, alpha, reply) == "applied"
    # Then alice gets one reply notification and the reply counts for her post
    assert [n.kind for n in await notifications.list_for(alpha.db, "alice")] == ["reply"]
    assert await objects.count_replies(alpha.db, original) == 1


async def test_misskey_note_and_pleroma_question(alpha: Instance, peer: Peer) -> None:
    # Given a Misskey note and a Pleroma poll (litepub context)
    bob = peer.add_actor("bob")
    misskey = note(bob, alpha, "misskey_create_note")
    pleroma = note(bob, alpha, "pleroma_create_question")
    # When both arrive
    assert await deliver(peer, bob, alpha, misskey) == "applied"
    assert await deliver(peer, bob, alpha, pleroma) == "applied"
    # Then both are stored, the poll as a Question with its options
    stored = await objects.get(alpha.db, misskey["object"]["id"])
    assert stored is not None and stored.type == "Note"
    poll = await objects.get(alpha.db, pleroma["object"]["id"])
    assert poll is not None and poll.type == "Question"
    assert [o["name"] for o in poll.document["oneOf"]] == ["tea", "coffee"]


async def test_unknown_object_type_is_stored(alpha: Instance, peer: Peer) -> None:
    # Given a Create of a type we do not know
    bob = peer.add_actor("bob")
    create = note(bob, alpha)
    create["object"]["type"] = "Event"
    # When it is applied, Then it is stored as it is
    assert await deliver(peer, bob, alpha, create) == "applied"
    stored = await objects.get(alpha.db, create["object"]["id"])
    assert stored is not None and stored.type == "Event"

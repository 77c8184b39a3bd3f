"""Inbox interoperability: real shapes from Mastodon, Lemmy, PeerTube, Misskey, Pleroma and
GoToSocial, received from a signed loopback peer and applied the way Mastodon applies them."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from fedsocial.storage import (
    follows,
    notifications,
    objects,
    shares,
    timeline,
    tokens,
)
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import AS_PUBLIC, Peer, PeerActor, deliver, load_payload
from tests.harness import Instance, drain


@pytest.fixture
async def alpha(start_instance: StartInstance) -> Instance:
    instance = await start_instance("alpha")
    await instance.add_actor("alice")
    return instance


def payload(name: str, actor: PeerActor, **values: str) -> Any:
    base = actor.id.rsplit("/users/", 1)[0]
    return load_payload(name, actor=actor.id, base=base, **{"n": "1", "uuid": "u1", **values})


async def follow(alpha: Instance, name: str, remote: str) -> None:
    await follows.upsert(
        alpha.db, alpha.actor_id(name), remote, activity_id=None, state="accepted", now=0
    )


async def test_mastodon_poll_update_without_updated_refreshes_the_counts(
    alpha: Instance, peer: Peer
) -> None:
    # Given bob's Mastodon poll, stored with no votes
    bob = peer.add_actor("bob")
    assert await deliver(peer, bob, alpha, payload("mastodon_create_question", bob)) == "applied"
    # When Mastodon sends the new counts (an Update{Question} with no `updated`: not an edit)
    counts = payload("mastodon_update_question", bob, voters="3", tea="2", coffee="1")
    assert await deliver(peer, bob, alpha, counts) == "applied"
    # Then the stored poll shows them, and no edit history is made of it
    stored = await objects.get(alpha.db, f"{bob.id}/statuses/1")
    assert stored is not None and stored.document["votersCount"] == 3
    assert [o["replies"]["totalItems"] for o in stored.document["oneOf"]] == [2, 1]
    assert await objects.edits(alpha.db, stored.id) == []


async def test_lemmy_group_announce_of_a_create_boosts_the_page(
    alpha: Instance, peer: Peer
) -> None:
    # Given alice follows a Lemmy community (a Group), and a member posts a link Page there
    group = peer.add_actor("main")
    member = peer.add_actor("carol")
    await follow(alpha, "alice", group.id)
    announce = payload("lemmy_announce_create_page", member, group=group.id)
    # When the group announces the member's Create (FEP-1b12)
    assert await deliver(peer, group, alpha, announce) == "applied"
    # Then the Page is stored as the member's post and reaches alice's timeline as a boost
    page_id = announce["object"]["object"]["id"]
    stored = await objects.get(alpha.db, page_id)
    assert stored is not None and stored.type == "Page" and stored.attributed_to == member.id
    assert [(e.object_id, e.boosted_by) for e in await timeline.list_for(alpha.db, "alice")] == [
        (page_id, group.id)
    ]
    assert await shares.count_shares(alpha.db, page_id) == 1
    # When the group undoes that announce (embedding it whole)
    undo = {
        "id": f"{announce['id']}/undo",
        "type": "Undo",
        "actor": group.id,
        "to": [AS_PUBLIC],
        "object": announce,
    }
    assert await deliver(peer, group, alpha, undo) == "applied"
    # Then the boost leaves alice's timeline
    assert await timeline.list_for(alpha.db, "alice") == []
    assert await shares.count_shares(alpha.db, page_id) == 0


async def test_lemmy_group_announce_of_a_vote_is_unsupported_not_fetched(
    alpha: Instance, peer: Peer
) -> None:
    # Given a Lemmy community that announces a member's Like of a post (FEP-1b12)
    group = peer.add_actor("main")
    member = peer.add_actor("carol")
    like = {
        "id": peer.url("/activities/like/1"),
        "type": "Like",
        "actor": member.id,
        "object": peer.url("/post/404"),
        "audience": group.id,
    }
    announce = {
        "id": peer.url("/activities/announce/like-1"),
        "type": "Announce",
        "actor": group.id,
        "to": [AS_PUBLIC],
        "cc": [f"{group.id}/followers"],
        "object": like,
    }
    # When it arrives, Then it is settled as unsupported (no post stored, no retry)
    assert await deliver(peer, group, alpha, announce) == "unsupported"
    assert await objects.get(alpha.db, like["id"]) is None


async def test_funkwhale_follow_with_its_own_context_is_accepted(
    alpha: Instance, peer: Peer
) -> None:
    # Given a Funkwhale actor, whose every activity names Funkwhale's context (which we do not
    # ship and never fetch)
    bob = peer.add_actor("bob")
    follow_activity = {
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            {},
            "https://funkwhale.audio/ns",
        ],
        "type": "Follow",
        "id": peer.url("/federation/follows/3f1c"),
        "actor": bob.id,
        "object": alpha.actor_id("alice"),
    }
    # When it follows alice, Then the follow is applied as Mastodon would read it (the unknown
    # context's own terms are ignored, the ActivityStreams ones read as written)
    assert await deliver(peer, bob, alpha, follow_activity) == "applied"
    assert await follows.get_state(alpha.db, bob.id, alpha.actor_id("alice")) == "accepted"


@pytest.mark.parametrize(
    "attributed_to",
    [
        pytest.param(lambda bob, group: [{"type": "Group", "id": group}, bob], id="group-first"),
        pytest.param(lambda bob, group: {"id": bob}, id="object-without-type"),
    ],
)
async def test_create_attributed_to_the_sender_among_others_is_the_senders(
    alpha: Instance, peer: Peer, attributed_to: Any
) -> None:
    # Given a PeerTube-like Video whose attributedTo names a channel (Group) besides its
    # uploader, or names the uploader by an object without a type
    bob = peer.add_actor("bob")
    create = payload("mastodon_create_note", bob, local=alpha.actor_id("alice"))
    create["object"]["type"] = "Video"
    create["object"]["attributedTo"] = attributed_to(bob.id, peer.url("/video-channels/cooking"))
    # When the uploader's Create arrives, Then it is stored as the uploader's
    assert await deliver(peer, bob, alpha, create) == "applied"
    stored = await objects.get(alpha.db, create["object"]["id"])
    assert stored is not None and stored.attributed_to == bob.id


async def test_c2s_inbox_serves_received_html_sanitised(alpha: Instance, peer: Peer) -> None:
    # Given a Mastodon note with a script and an onerror image, delivered to alice
    bob = peer.add_actor("bob")
    create = payload("mastodon_create_note", bob, local=alpha.actor_id("alice"))
    status, _ = await peer.post(bob, f"{alpha.base}/users/alice/inbox", create)
    assert status == 202
    await drain(alpha)
    token = await tokens.create(alpha.db, "alice", now=0)
    # When alice reads her inbox as a C2S client
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{alpha.base}/users/alice/inbox?page=1",
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        page = await response.json(content_type=None)
    # Then the Create is there with its note's HTML sanitised, as it was stored
    [item] = page["orderedItems"]
    assert item["id"] == create["id"] and "hello" in item["object"]["content"]
    served = json.dumps(item)
    assert "<script" not in served and "onerror" not in served


@pytest.mark.parametrize("create_first", [True, False], ids=["deleted", "deleted-before-seen"])
async def test_boost_of_a_deleted_post_is_rejected(
    alpha: Instance, peer: Peer, create_first: bool
) -> None:
    # Given bob's post, deleted (after we stored it, or before we ever saw it), and alice
    # following carol
    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    await follow(alpha, "alice", carol.id)
    create = payload("mastodon_create_note", bob, local=alpha.actor_id("alice"))
    post = create["object"]["id"]
    if create_first:
        assert await deliver(peer, bob, alpha, create) == "applied"
    peer.serve(create["object"])
    delete = payload("mastodon_delete_note", bob)
    assert await deliver(peer, bob, alpha, delete) == "applied"
    # When carol boosts it
    announce = payload("mastodon_announce", carol, object=post, author=bob.id)
    state = await deliver(peer, carol, alpha, announce)
    # Then the boost is rejected as of a deleted post: no Tombstone on alice's timeline
    assert state == f"rejected: invalid: the announced {post} was deleted"
    assert await timeline.list_for(alpha.db, "alice") == []
    assert await shares.count_shares(alpha.db, post) == 0


@pytest.mark.parametrize("restart", [False, True], ids=["recent", "after-a-restart"])
async def test_create_coming_again_after_its_delete_shows_nothing(
    alpha: Instance, peer: Peer, restart: bool
) -> None:
    # Given bob's post mentioning alice, who follows him, stored and then deleted; perhaps a
    # restart since (the in-memory list of recent deletes is then gone: the stored post is a
    # deleted row)
    bob = peer.add_actor("bob")
    await follow(alpha, "alice", bob.id)
    create = payload("mastodon_create_note", bob, local=alpha.actor_id("alice"))
    assert await deliver(peer, bob, alpha, create) == "applied"
    assert await deliver(peer, bob, alpha, payload("mastodon_delete_note", bob)) == "applied"
    mentions = await notifications.list_for(alpha.db, "alice")
    if restart:
        await alpha.stop()
        await alpha.start()
    # When its Create comes again under another activity id (a retry, a relay)
    again = {**create, "id": f"{create['id']}/again"}
    assert await deliver(peer, bob, alpha, again) == "applied"
    # Then the post stays deleted: no Tombstone on the timeline, no new notification
    assert await timeline.list_for(alpha.db, "alice") == []
    assert await notifications.list_for(alpha.db, "alice") == mentions
    stored = await objects.get(alpha.db, create["object"]["id"])
    assert stored is not None and stored.deleted


async def test_create_of_a_live_post_coming_again_notifies_once(
    alpha: Instance, peer: Peer
) -> None:
    # Given bob's post mentioning alice, received
    bob = peer.add_actor("bob")
    create = payload("mastodon_create_note", bob, local=alpha.actor_id("alice"))
    assert await deliver(peer, bob, alpha, create) == "applied"
    # When its Create comes again under another activity id (a relay, a retry)
    again = {**create, "id": f"{create['id']}/again"}
    assert await deliver(peer, bob, alpha, again) == "applied"
    # Then alice has one mention of it, as on Mastodon (which keeps the status it has)
    kinds = [(n.kind, n.object_id) for n in await notifications.list_for(alpha.db, "alice")]
    assert kinds == [("mention", create["object"]["id"])]


async def test_single_values_compacted_public_and_odd_dates_are_read(
    alpha: Instance, peer: Peer
) -> None:
    # Given a note whose properties come in the forms AS2 allows but Mastodon never writes:
    # `to` a single compacted "as:Public", `cc` a string, `attributedTo` and `inReplyTo` as
    # objects, `tag` a single Mention object, no `content` but a `contentMap`, `published`
    # with nanoseconds and a +05:30 offset, `sensitive` as a string
    bob = peer.add_actor("bob")
    alice = alpha.actor_id("alice")
    note = {
        "id": f"{bob.id}/statuses/7",
        "type": "Note",
        "attributedTo": {"type": "Person", "id": bob.id},
        "to": "as:Public",
        "cc": f"{bob.id}/followers",
        "inReplyTo": {"type": "Note", "id": "https://elsewhere.example/notes/1"},
        "tag": {"type": "Mention", "href": alice, "name": "@alice"},
        "contentMap": {"de": "<p>hallo<script>x()</script></p>"},
        "published": "2024-05-01T12:00:00.123456789+05:30",
        "sensitive": "true",
    }
    create = {
        "@context": ["https://www.w3.org/ns/activitystreams", {"sensitive": "as:sensitive"}],
        "id": f"{bob.id}/statuses/7/activity",
        "type": "Create",
        "actor": bob.id,
        "to": "as:Public",
        "object": note,
    }
    # When it arrives
    assert await deliver(peer, bob, alpha, create) == "applied"
    # Then it is a public reply by bob, published at 06:30 UTC, its HTML sanitised, and alice
    # is told of the mention
    stored = await objects.get(alpha.db, note["id"])
    assert stored is not None and stored.visibility == "public"
    assert stored.attributed_to == bob.id and stored.in_reply_to == note["inReplyTo"]["id"]
    assert stored.published is not None and int(stored.published) == 1714545000
    assert stored.document["contentMap"] == {"de": "<p>hallo</p>"}
    assert [n.kind for n in await notifications.list_for(alpha.db, "alice")] == ["mention"]

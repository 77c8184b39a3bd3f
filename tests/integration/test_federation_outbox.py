"""End to end: two (or three) real instances on loopback, real HTTP, real signatures, real SQLite.

alpha's and beta's people follow, post, like, boost, edit, delete, reply and block; each test
drains both instances' queues explicitly and checks what the other side stored.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from actors.local import LocalActor
from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.clock import FixedClock
from fedsocial.federation.setup import http_client
from fedsocial.storage import (
    deliveries,
    follows,
    notifications,
    objects,
    reactions,
    shares,
    timeline,
)
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.service import Outbox, outbox_of
from tests.conftest import StartInstance
from tests.harness import Instance, drain

AS_JSON = {"Accept": "application/activity+json"}


@dataclass
class Pair:
    alpha: Instance
    beta: Instance
    clock: FixedClock
    amy: str  # on alpha
    bob: str  # on beta

    def outbox(self, instance: Instance) -> Outbox:
        assert instance.app is not None
        return outbox_of(instance.app)

    async def actor(self, instance: Instance, name: str) -> LocalActor:
        assert instance.app is not None
        return await local_actors(instance.app).require(name)


@pytest.fixture
async def pair(start_instance: StartInstance) -> AsyncIterator[Pair]:
    clock = FixedClock()
    alpha = await start_instance("alpha", clock=clock)
    beta = await start_instance("beta", clock=clock)
    amy = await alpha.add_actor("amy")
    bob = await beta.add_actor("bob")
    yield Pair(alpha, beta, clock, amy, bob)


async def _follow(pair: Pair) -> None:
    """amy@alpha follows bob@beta and the Accept comes back."""
    await pair.outbox(pair.alpha).follow(await pair.actor(pair.alpha, "amy"), pair.bob)
    await drain(pair.alpha, pair.beta)


async def _post(pair: Pair, text: str, visibility: Visibility = Visibility.PUBLIC) -> str:
    bob = await pair.actor(pair.beta, "bob")
    object_id = await pair.outbox(pair.beta).post(bob, NoteDraft(text, visibility=visibility))
    await drain(pair.alpha, pair.beta)
    return object_id


async def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers=headers or AS_JSON) as resp,
    ):
        return resp.status, await resp.json(content_type=None)


async def test_follow_is_accepted(pair: Pair) -> None:
    # Given amy on alpha asks to follow bob on beta
    await pair.outbox(pair.alpha).follow(await pair.actor(pair.alpha, "amy"), pair.bob)
    assert await follows.get_state(pair.alpha.db, pair.amy, pair.bob) == "pending"
    # When both instances run their queues
    await drain(pair.alpha, pair.beta)
    # Then beta records the follower and alpha records the Accept
    assert await follows.get_state(pair.beta.db, pair.amy, pair.bob) == "accepted"
    assert await follows.get_state(pair.alpha.db, pair.amy, pair.bob) == "accepted"
    # And beta serves amy in bob's followers count
    status, collection = await _get(f"{pair.bob}/followers")
    assert status == 200 and collection["totalItems"] == 1


async def test_each_visibility_arrives_as_sent(pair: Pair) -> None:
    # Given amy follows bob, and carol on alpha follows nobody but is mentioned once
    await _follow(pair)
    await pair.alpha.add_actor("carol")
    # When bob posts with every visibility (the direct one to carol)
    public = await _post(pair, "hello public")
    unlisted = await _post(pair, "hello unlisted", Visibility.UNLISTED)
    private = await _post(pair, "hello followers", Visibility.FOLLOWERS)
    direct = await _post(pair, f"hello @carol@{pair.alpha.domain}", Visibility.DIRECT)
    # Then alpha stored each with the visibility it was sent with
    for object_id, expected in (
        (public, "public"),
        (unlisted, "unlisted"),
        (private, "followers"),
        (direct, "direct"),
    ):
        row = await objects.get(pair.alpha.db, object_id)
        assert row is not None, object_id
        assert row.visibility == expected
    # And the direct note is addressed to carol only
    row = await objects.get(pair.alpha.db, direct)
    assert row is not None and row.document["to"] == [pair.alpha.actor_id("carol")]


async def test_a_followed_author_mentioning_us_shows_once_on_the_timeline(pair: Pair) -> None:
    # Given amy follows bob
    await _follow(pair)
    # When bob posts a public note that also mentions amy
    note = await _post(pair, f"hello @amy@{pair.alpha.domain}")
    # Then amy's home timeline has the note once (followed author and mention are one line)
    lines = await timeline.list_for(pair.alpha.db, "amy")
    assert [line.object_id for line in lines] == [note]


async def test_followers_only_and_direct_objects_are_hidden_from_strangers(pair: Pair) -> None:
    # Given bob's followers-only and direct notes
    await _follow(pair)
    private = await _post(pair, "for followers", Visibility.FOLLOWERS)
    direct = await _post(pair, "nobody", Visibility.DIRECT)
    public = await _post(pair, "for all")
    # When fetched without a signature
    # Then only the public one answers
    assert (await _get(public))[0] == 200
    assert (await _get(private))[0] == 404
    assert (await _get(direct))[0] == 404
    # When amy (a follower) fetches the followers-only one with a signed GET from alpha
    assert pair.alpha.app is not None
    amy = await pair.actor(pair.alpha, "amy")
    key = amy.signing_key(pair.alpha.app[appkeys.URLS])
    document = await http_client(pair.alpha.app).fetch_json(private, key=key)
    # Then she gets it, but not the direct one
    assert document["id"] == private
    response = await http_client(pair.alpha.app).get(direct, key=key)
    assert response.status == 404


async def test_a_notes_url_opens_the_note(pair: Pair) -> None:
    # Given bob's public note, whose `url` other servers link to ("open original page")
    note = await _post(pair, "read me in a browser")
    _status, document = await _get(note)
    url = document["url"]
    assert isinstance(url, str) and url != note
    # When a browser opens that url
    browser = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
    async with aiohttp.ClientSession() as session, session.get(url, headers=browser) as resp:
        # Then it gets the note as HTML, not a 404
        assert resp.status == 200 and resp.content_type == "text/html"
        assert "read me in a browser" in await resp.text()
    # And a follower's fetch of the url still gets the note as JSON
    assert (await _get(str(url)))[1]["id"] == note


async def test_like_and_boost_then_undo(pair: Pair) -> None:
    # Given amy follows bob and got his public note
    await _follow(pair)
    note = await _post(pair, "like me")
    amy = await pair.actor(pair.alpha, "amy")
    # When amy likes and boosts it
    await pair.outbox(pair.alpha).like(amy, note)
    await pair.outbox(pair.alpha).boost(amy, note)
    await drain(pair.alpha, pair.beta)
    # Then beta counts them and serves the counts
    assert await reactions.count_likes(pair.beta.db, note) == 1
    assert await shares.count_shares(pair.beta.db, note) == 1
    assert (await _get(f"{note}/likes"))[1]["totalItems"] == 1
    assert (await _get(f"{note}/shares"))[1]["totalItems"] == 1
    # When amy takes both back
    await pair.outbox(pair.alpha).unlike(amy, note)
    await pair.outbox(pair.alpha).unboost(amy, note)
    await drain(pair.alpha, pair.beta)
    # Then the counts drop to zero
    assert await reactions.count_likes(pair.beta.db, note) == 0
    assert await shares.count_shares(pair.beta.db, note) == 0
    assert (await _get(f"{note}/likes"))[1]["totalItems"] == 0


async def test_edit_and_delete_follow_to_the_copy(pair: Pair) -> None:
    # Given alpha holds a copy of bob's note
    await _follow(pair)
    note = await _post(pair, "first words")
    bob = await pair.actor(pair.beta, "bob")
    # When bob edits it
    pair.clock.advance(5)
    await pair.outbox(pair.beta).edit(bob, note, "second words")
    await drain(pair.alpha, pair.beta)
    # Then alpha's copy has the new text and an `updated`
    row = await objects.get(pair.alpha.db, note)
    assert row is not None and "second words" in row.document["content"]
    assert "updated" in row.document
    # When bob deletes it
    await pair.outbox(pair.beta).delete(bob, note)
    await drain(pair.alpha, pair.beta)
    # Then alpha's copy is a Tombstone and beta answers 410 with a Tombstone
    row = await objects.get(pair.alpha.db, note)
    assert row is not None and row.deleted
    status, body = await _get(note)
    assert status == 410 and body["type"] == "Tombstone"


async def test_manual_approval(pair: Pair) -> None:
    # Given dan on beta approves followers by hand
    dan_id = await pair.beta.add_actor("dan", manually_approves=True)
    amy = await pair.actor(pair.alpha, "amy")
    # When amy asks to follow dan
    await pair.outbox(pair.alpha).follow(amy, dan_id)
    await drain(pair.alpha, pair.beta)
    # Then the request waits on both sides
    assert await follows.get_state(pair.beta.db, pair.amy, dan_id) == "pending"
    assert await follows.get_state(pair.alpha.db, pair.amy, dan_id) == "pending"
    # When dan accepts it
    dan = await pair.actor(pair.beta, "dan")
    [(follower, follow_id)] = await follows.list_pending_for(pair.beta.db, dan_id)
    follow = {"id": follow_id, "type": "Follow", "actor": follower, "object": dan_id}
    await pair.outbox(pair.beta).accept_follow(dan, follow)
    await drain(pair.alpha, pair.beta)
    # Then both sides agree
    assert await follows.get_state(pair.beta.db, pair.amy, dan_id) == "accepted"
    assert await follows.get_state(pair.alpha.db, pair.amy, dan_id) == "accepted"


async def test_reply_thread_across_instances(pair: Pair) -> None:
    # Given bob's note reached amy
    await _follow(pair)
    note = await _post(pair, "what do you think?")
    amy = await pair.actor(pair.alpha, "amy")
    # When amy replies
    reply = await pair.outbox(pair.alpha).post(amy, NoteDraft("I think yes", in_reply_to=note))
    await drain(pair.alpha, pair.beta)
    # Then bob's server stored the reply in the thread, mentioning bob
    row = await objects.get(pair.beta.db, reply)
    assert row is not None and row.in_reply_to == note
    parent = await objects.get(pair.beta.db, note)
    assert parent is not None and row.conversation == parent.conversation
    assert pair.bob in row.document["cc"]
    # (with a Mention tag: Mastodon notifies a reply's author from its mentions, not from cc)
    mentions = [t for t in row.document["tag"] if t["type"] == "Mention"]
    assert mentions == [{"type": "Mention", "href": pair.bob, "name": f"@bob@{pair.beta.domain}"}]
    # And beta's replies collection counts it
    assert (await _get(f"{note}/replies"))[1]["totalItems"] == 1
    # When amy edits her reply
    await pair.outbox(pair.alpha).edit(amy, reply, "I think yes, really")
    await drain(pair.alpha, pair.beta)
    # Then the edited copy still mentions bob
    row = await objects.get(pair.beta.db, reply)
    assert row is not None and "really" in row.document["content"]
    assert [t["href"] for t in row.document["tag"] if t["type"] == "Mention"] == [pair.bob]


async def test_delivery_retries_after_the_other_side_comes_back(pair: Pair) -> None:
    # Given bob follows amy, and beta goes down
    bob = await pair.actor(pair.beta, "bob")
    await pair.outbox(pair.beta).follow(bob, pair.amy)
    await drain(pair.alpha, pair.beta)
    await pair.beta.stop()
    # When amy posts
    amy = await pair.actor(pair.alpha, "amy")
    note = await pair.outbox(pair.alpha).post(amy, NoteDraft("are you there?"))
    await drain(pair.alpha)
    [row] = await deliveries.list_rows(pair.alpha.db, state="pending")
    assert row.attempts == 1 and row.last_status is None
    # When beta is back and the retry comes due
    await pair.beta.start()
    pair.clock.advance(60)
    await drain(pair.alpha, pair.beta)
    # Then beta got the note from the retry
    assert await objects.get(pair.beta.db, note) is not None
    assert (await deliveries.list_rows(pair.alpha.db, state="pending")) == []


async def test_a_block_stops_delivery(pair: Pair) -> None:
    # Given bob follows amy
    bob = await pair.actor(pair.beta, "bob")
    await pair.outbox(pair.beta).follow(bob, pair.amy)
    await drain(pair.alpha, pair.beta)
    assert await follows.get_state(pair.alpha.db, pair.bob, pair.amy) == "accepted"
    # When amy blocks bob
    amy = await pair.actor(pair.alpha, "amy")
    await pair.outbox(pair.alpha).block(amy, pair.bob)
    await drain(pair.alpha, pair.beta)
    # Then the follow is gone on both sides
    assert await follows.get_state(pair.alpha.db, pair.bob, pair.amy) is None
    assert await follows.get_state(pair.beta.db, pair.bob, pair.amy) is None
    # And amy's next post does not reach beta at all
    note = await pair.outbox(pair.alpha).post(amy, NoteDraft("not for bob"))
    await drain(pair.alpha, pair.beta)
    assert await objects.get(pair.beta.db, note) is None
    posted = await deliveries.list_rows(pair.alpha.db)
    assert all(r.activity_id != note for r in posted)


async def test_a_blocked_actor_cannot_like_boost_or_mention(pair: Pair) -> None:
    # Given amy's public note, and then amy blocks bob
    amy = await pair.actor(pair.alpha, "amy")
    note = await pair.outbox(pair.alpha).post(amy, NoteDraft("hello world"))
    await pair.outbox(pair.alpha).block(amy, pair.bob)
    await drain(pair.alpha, pair.beta)
    # When bob likes and boosts the note anyway, and mentions amy (all through beta's
    # shared-inbox deliveries, which name no local recipient in the URL)
    bob = await pair.actor(pair.beta, "bob")
    await pair.outbox(pair.beta).like(bob, note)
    await pair.outbox(pair.beta).boost(bob, note)
    await pair.outbox(pair.beta).post(bob, NoteDraft(f"hey @amy@{pair.alpha.domain}"))
    await drain(pair.alpha, pair.beta)
    # Then alpha counts none of it and amy hears nothing of bob
    assert (await _get(f"{note}/likes"))[1]["totalItems"] == 0
    assert (await _get(f"{note}/shares"))[1]["totalItems"] == 0
    assert await notifications.list_for(pair.alpha.db, "amy") == []
    # (her home timeline holds her own note only: nothing of bob's, not even his boost)
    lines = await timeline.list_for(pair.alpha.db, "amy")
    assert [(e.object_id, e.boosted_by) for e in lines] == [(note, None)]


async def test_own_posts_and_boosts_are_on_the_home_timeline(pair: Pair) -> None:
    # Given bob's public post on beta
    bob_post = await _post(pair, "from beta")
    amy = await pair.actor(pair.alpha, "amy")
    outbox = pair.outbox(pair.alpha)

    # When amy posts publicly and directly, boosts bob's post (twice) and her own post
    public = await outbox.post(amy, NoteDraft("my own words"))
    pair.clock.advance(1)
    direct = await outbox.post(
        amy, NoteDraft(f"just you @bob@{pair.beta.domain}", visibility=Visibility.DIRECT)
    )
    pair.clock.advance(1)
    await outbox.boost(amy, bob_post)
    await outbox.boost(amy, bob_post)
    await outbox.boost(amy, public)
    await drain(pair.alpha, pair.beta)

    # Then her home timeline shows each once, newest first: the boost, then her posts
    lines = await timeline.list_for(pair.alpha.db, "amy")
    assert [(e.object_id, e.boosted_by) for e in lines] == [
        (bob_post, pair.amy),
        (direct, None),
        (public, None),
    ]

    # When she takes the boost back and deletes her public post
    await outbox.unboost(amy, bob_post)
    await outbox.delete(amy, public)
    await drain(pair.alpha, pair.beta)

    # Then both lines are gone, as they go for the posts of others
    lines = await timeline.list_for(pair.alpha.db, "amy")
    assert [(e.object_id, e.boosted_by) for e in lines] == [(direct, None)]


async def test_nothing_is_queued_to_a_blocked_domain_and_the_log_says_why(
    pair: Pair, caplog: pytest.LogCaptureFixture
) -> None:
    # Given bob on beta follows amy, and then alpha's admin blocks beta's domain
    from fedsocial.federation.setup import domain_blocks
    from fedsocial.storage import activities
    from fedsocial.storage import domain_blocks as stored_blocks

    bob = await pair.actor(pair.beta, "bob")
    await pair.outbox(pair.beta).follow(bob, pair.amy)
    await drain(pair.alpha, pair.beta)
    assert pair.alpha.app is not None
    await stored_blocks.add(pair.alpha.db, "127.0.0.1", now=0)
    await domain_blocks(pair.alpha.app).refresh()
    before = await deliveries.list_rows(pair.alpha.db)

    # When amy posts to her followers
    amy = await pair.actor(pair.alpha, "amy")
    with caplog.at_level(logging.INFO, logger="fedsocial.outbox.recipients"):
        note = await pair.outbox(pair.alpha).post(amy, NoteDraft("not for blocked servers"))
    create = await activities.find_local(pair.alpha.db, pair.amy, "Create", note)
    assert create is not None

    # Then no delivery is queued for it
    assert await deliveries.list_rows(pair.alpha.db) == before
    # And one INFO line names the blocked domain and the activity
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.INFO and r.name == "fedsocial.outbox.recipients"
    ]
    assert lines == [f"not queueing {create['id']} to 127.0.0.1: the domain is blocked"]

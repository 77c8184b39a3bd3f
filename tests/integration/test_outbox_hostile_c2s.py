"""Hostile client-to-server posts and outbox actions: clear 4xx answers, nothing stored."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest

from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.activity_json import AS_PUBLIC
from fedsocial.errors import NotFound, ValidationError
from fedsocial.storage import follows, tokens
from fedsocial.storage.database import Database
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.harness import Instance, drain
from tests.unit.outbox.sink import Sink


async def _stored(db: Database) -> tuple[int, int, int, int]:
    """How many activities, objects, deliveries and follows the database holds."""
    counts = []
    for table in ("activities", "objects", "deliveries", "follows"):
        counts.append(int(await db.fetchval(f"SELECT count(*) FROM {table}") or 0))
    return counts[0], counts[1], counts[2], counts[3]


async def _post(instance: Instance, name: str, body: Any) -> tuple[int, str]:
    token = await tokens.create(instance.db, name, now=0.0)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{instance.actor_id(name)}/outbox",
            data=json.dumps(body),
            headers={"Authorization": f"Bearer {token}"},
        ) as resp,
    ):
        return resp.status, await resp.text()


async def test_c2s_refusals_are_4xx_and_store_nothing(start_instance: StartInstance) -> None:
    # Given amy and bob on alpha, and amy's token
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    bob = await alpha.add_actor("bob")
    note = {"type": "Note", "content": "hi", "to": [AS_PUBLIC]}
    cases: list[tuple[str, Any, int]] = [
        ("type as a list", {"type": ["Create"], "object": note}, 400),
        ("no type", {"object": bob}, 400),
        ("another local actor", {"type": "Create", "actor": bob, "object": note}, 403),
        ("a remote actor", {"type": "Create", "actor": "https://x.example/u", "object": note}, 403),
        ("someone else's note", {**note, "attributedTo": bob}, 403),
        ("junk recipients", {**note, "to": [AS_PUBLIC, "javascript:alert(1)"]}, 400),
        ("blank text", {**note, "content": "<p> </p>"}, 400),
        ("garbage language", {**note, "contentMap": {"<b>": "hi"}}, 400),
        ("follow of junk", {"type": "Follow", "object": "javascript:alert(1)"}, 502),
        ("follow of nobody", {"type": "Follow", "object": f"{alpha.base}/users/nobody"}, 404),
        ("block of junk", {"type": "Block", "object": "not a url"}, 400),
        ("block of nobody", {"type": "Block", "object": f"{alpha.base}/users/nobody"}, 404),
    ]
    before = await _stored(alpha.db)
    for label, body, expected in cases:
        # When the client sends it
        status, text = await _post(alpha, "amy", body)
        # Then it gets the clear refusal, with a message, and nothing is stored or queued
        assert status == expected, (label, text)
        assert json.loads(text)["message"], label
        assert await _stored(alpha.db) == before, label


async def test_c2s_without_actor_or_with_its_own_still_posts(start_instance: StartInstance) -> None:
    # Given amy's token
    alpha = await start_instance("alpha")
    amy = await alpha.add_actor("amy")
    # When the activity names amy as its actor and the note her as its author
    body = {
        "type": "Create",
        "actor": amy,
        "object": {"type": "Note", "attributedTo": amy, "content": "mine", "to": [AS_PUBLIC]},
    }
    status, text = await _post(alpha, "amy", body)
    # Then it is published
    assert status == 201, text


async def test_naming_another_actors_followers_does_not_reach_them(
    start_instance: StartInstance,
) -> None:
    # Given bob on alpha followed by a remote follower (on a sink), and amy with no followers
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    bob = await alpha.add_actor("bob")
    assert alpha.app is not None
    sink = await Sink(clock=alpha.app[appkeys.CLOCK], keys=lambda _: None).start()
    try:
        follower = sink.actor_document("fan", shared_inbox=False)
        await alpha.app[appkeys.REMOTE_ACTORS].store(follower)
        await follows.upsert(
            alpha.db, follower["id"], bob, activity_id=None, state="accepted", now=0.0
        )
        # When amy addresses a post to bob's followers collection
        status, text = await _post(
            alpha, "amy", {"type": "Note", "content": "spam", "to": [f"{bob}/followers"]}
        )
        # Then it is stored but nothing is queued for bob's follower
        assert status == 201, text
        assert int(await alpha.db.fetchval("SELECT count(*) FROM deliveries") or 0) == 0
        await drain(alpha)
        assert sink.received == []
    finally:
        await sink.stop()


async def test_blank_post_and_bad_language_are_refused_by_the_api(
    start_instance: StartInstance,
) -> None:
    # Given amy with one post
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    outbox = outbox_of(alpha.app)
    note = await outbox.post(amy, NoteDraft(text="first"))
    before = await _stored(alpha.db)
    # When she posts nothing but whitespace, a garbage language, or edits to blank text
    for draft in (
        NoteDraft(text=""),
        NoteDraft(text=" \n\t "),
        NoteDraft(text="x", language="e n"),
    ):
        with pytest.raises(ValidationError):
            await outbox.post(amy, draft)
    with pytest.raises(ValidationError):
        await outbox.edit(amy, note, "   ")
    # Then nothing was stored
    assert await _stored(alpha.db) == before


async def test_deleted_note_is_no_longer_served_by_its_activities_or_the_outbox(
    start_instance: StartInstance,
) -> None:
    # Given amy posted, edited and then deleted a public note
    alpha = await start_instance("alpha")
    amy_id = await alpha.add_actor("amy")
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    outbox = outbox_of(alpha.app)
    note = await outbox.post(amy, NoteDraft(text="secret words"))
    await outbox.edit(amy, note, "edited words")
    kept = await outbox.post(amy, NoteDraft(text="still here"))
    await outbox.delete(amy, note)
    rows = await alpha.db.fetchall("SELECT id, type FROM activities ORDER BY seq")
    headers = {"Accept": "application/activity+json"}
    async with aiohttp.ClientSession() as session:
        # When anyone fetches the Create and the Update of the deleted note
        for activity_id, kind in rows:
            async with session.get(activity_id, headers=headers) as resp:
                text = await resp.text()
            # Then they are gone (404), and the text is not served
            if kind in ("Create", "Update") and note in text:
                assert resp.status == 404, kind
            assert "secret" not in text and "edited" not in text
        # And the outbox collection neither lists nor counts them
        async with session.get(f"{amy_id}/outbox", headers=headers) as resp:
            total = (await resp.json(content_type=None))["totalItems"]
        async with session.get(f"{amy_id}/outbox?page=1", headers=headers) as resp:
            page = await resp.text()
    assert "secret" not in page and "edited" not in page and kept in page
    assert total == 2  # the other note's Create and the Delete


async def test_follow_of_an_unknown_local_actor_is_refused(start_instance: StartInstance) -> None:
    # Given amy on alpha
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    before = await _stored(alpha.db)
    # When she follows an actor that does not exist here
    with pytest.raises(NotFound):
        await outbox_of(alpha.app).follow(amy, f"{alpha.base}/users/nobody")
    # Then no pending follow or activity is left behind
    assert await _stored(alpha.db) == before

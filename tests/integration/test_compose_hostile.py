"""Hostile or careless posts and edits, end to end on a live instance: clear refusals (4xx with a
message), nothing stored or queued, never a 500 or a post that no server would accept."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from actors.state import local_actors
from fedsocial.activity_json import AS_PUBLIC
from fedsocial.errors import NotFound, ValidationError
from fedsocial.storage import objects, tokens
from outbox.actions_posts import MAX_MENTIONS, MAX_TEXT_CHARS
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.cli_helpers import run_cli, write_cli_config
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer
from tests.harness import Instance, drain, serve_on_loopback


async def _stored(instance: Instance) -> tuple[int, int, int]:
    """How many activities, objects and deliveries the instance holds."""
    counts = []
    for table in ("activities", "objects", "deliveries"):
        counts.append(int(await instance.db.fetchval(f"SELECT count(*) FROM {table}") or 0))
    return counts[0], counts[1], counts[2]


async def _c2s(instance: Instance, name: str, body: str) -> tuple[int, str]:
    token = await tokens.create(instance.db, name, now=0.0)
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{instance.actor_id(name)}/outbox",
            data=body.encode("utf-8"),
            headers={"Authorization": f"Bearer {token}"},
        ) as resp,
    ):
        return resp.status, await resp.text()


def _note_json(content_json: str) -> str:
    """A C2S Note whose `content` is the given JSON string literal, written as is."""
    return f'{{"type": "Note", "to": ["{AS_PUBLIC}"], "content": {content_json}}}'


async def test_c2s_text_that_is_not_unicode_or_holds_nul_is_a_400(
    start_instance: StartInstance,
) -> None:
    # Given amy on alpha
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    before = await _stored(alpha)
    for label, content in [
        ("lone surrogate", '"a \\ud800 b"'),
        ("lone surrogate in a summary", '"ok", "summary": "\\udfff"'),
        ("NUL", '"a \\u0000 b"'),
    ]:
        # When her client posts it
        status, text = await _c2s(alpha, "amy", _note_json(content))
        # Then it is a 400 with a message (a lone surrogate was a 403 "proof_error"; a NUL was
        # published, and Mastodon cannot store it), and nothing is stored
        assert status == 400, (label, text)
        assert json.loads(text)["message"], label
        assert await _stored(alpha) == before, label


async def test_post_with_text_or_ids_that_are_not_unicode_is_refused(
    start_instance: StartInstance,
) -> None:
    # Given amy on alpha (the CLI hands over undecodable arguments as lone surrogates)
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    outbox = outbox_of(alpha.app)
    note = await outbox.post(amy, NoteDraft(text="first"))
    before = await _stored(alpha)
    for draft in (
        NoteDraft(text="a \udcff b"),
        NoteDraft(text="a \x00 b"),
        NoteDraft(text="ok", content_warning="\udcff"),
        NoteDraft(text="ok", in_reply_to="https://x.example/\udcff"),
        NoteDraft(text="ok", language="en" + "-abc" * 100_000),
    ):
        # When she posts it
        with pytest.raises(ValidationError):
            await outbox.post(amy, draft)
    # Or edits to such text
    with pytest.raises(ValidationError):
        await outbox.edit(amy, note, "b \ud800")
    # Then it is a clear refusal (a replied-to id was a UnicodeEncodeError), nothing stored
    assert await _stored(alpha) == before


async def test_post_too_large_for_any_inbox_is_refused_quickly(
    start_instance: StartInstance,
) -> None:
    # Given amy on alpha
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    outbox = outbox_of(alpha.app)
    note = await outbox.post(amy, NoteDraft(text="short"))
    before = await _stored(alpha)
    started = time.perf_counter()
    # When she posts a megabyte of text, or text that renders to megabytes of HTML (every
    # URL and hashtag becomes a link), or edits her note to such text
    for text in ("x" * 1_000_000, "#a " * 33_000, "https://a.bc/ " * 7_000):
        with pytest.raises(ValidationError) as refused:
            await outbox.post(amy, NoteDraft(text=text, language="en"))
        # Then it is refused with a clear message, before anything is stored or queued
        assert "too long" in str(refused.value) or str(MAX_TEXT_CHARS) in str(refused.value)
        with pytest.raises(ValidationError):
            await outbox.edit(amy, note, text)
    with pytest.raises(ValidationError):
        await outbox.post(amy, NoteDraft(text="ok", content_warning="w" * (MAX_TEXT_CHARS + 1)))
    assert await _stored(alpha) == before
    # And quickly (it used to render, sign and queue a 63 MB Create for 1 MB of "#a ")
    assert time.perf_counter() - started < 5.0


async def test_c2s_post_that_renders_past_the_inbox_cap_is_a_400(
    start_instance: StartInstance,
) -> None:
    # Given amy on alpha
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    before = await _stored(alpha)
    # When her client sends a body under 1 MiB whose links render to several
    status, text = await _c2s(alpha, "amy", _note_json(json.dumps("https://a.bc/ " * 7_000)))
    # Then it is a 400 saying so, and nothing is stored or queued
    assert status == 400, text
    assert "too long" in json.loads(text)["message"]
    assert await _stored(alpha) == before


async def test_long_post_under_the_limits_is_published(start_instance: StartInstance) -> None:
    # Given amy on alpha
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    # When she posts text at the character limit
    note = await outbox_of(alpha.app).post(amy, NoteDraft(text="y" * MAX_TEXT_CHARS))
    # Then it is published
    assert note.startswith(alpha.base)


async def test_editing_a_deleted_note_is_refused(start_instance: StartInstance) -> None:
    # Given amy deleted her note
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    outbox = outbox_of(alpha.app)
    note = await outbox.post(amy, NoteDraft(text="hello"))
    await outbox.delete(amy, note)
    before = await _stored(alpha)
    # When she edits it
    with pytest.raises(NotFound):
        await outbox.edit(amy, note, "back again")
    # Then nothing goes out and the Tombstone stays
    assert await _stored(alpha) == before
    row = await alpha.db.fetchval("SELECT document FROM objects WHERE id = ?", (note,))
    assert json.loads(str(row))["type"] == "Tombstone"


async def test_edit_that_mentions_someone_new_reaches_them(start_instance: StartInstance) -> None:
    # Given amy on alpha posted a public note, and cat on beta
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    await alpha.add_actor("amy")
    cat_id = await beta.add_actor("cat")
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    outbox = outbox_of(alpha.app)
    note = await outbox.post(amy, NoteDraft(text="hello"))
    await drain(alpha, beta)
    # When she edits it to mention cat
    update_id = await outbox.edit(amy, note, f"hello @cat@{beta.domain}")
    await drain(alpha, beta)
    # Then the Update is addressed to cat (it was tagged but not addressed, so never sent)
    row = await objects.get(alpha.db, note)
    assert row is not None
    assert cat_id in row.document["cc"]
    assert {"type": "Mention", "href": cat_id, "name": f"@cat@{beta.domain}"} in row.document["tag"]
    # And it reached beta, whose inbox stored it
    got = await beta.db.fetchval(
        "SELECT count(*) FROM inbox_activities WHERE activity_id = ?", (update_id,)
    )
    assert got == 1


async def test_remote_profile_url_of_javascript_never_becomes_a_link(
    start_instance: StartInstance, peer: Peer
) -> None:
    # Given a remote actor whose document gives `url: javascript:…`, and a note of hers
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    eve = peer.add_actor("eve")
    document = eve.document()
    document["url"] = "javascript:alert(1)"
    del peer.actors[eve.id]
    peer.serve(document)
    note_id = peer.url("/users/eve/statuses/1")
    peer.serve({"id": note_id, "type": "Note", "attributedTo": eve.id, "to": [AS_PUBLIC]})
    outbox = outbox_of(alpha.app)
    await outbox.post(amy, NoteDraft(text="first", in_reply_to=note_id))  # caches eve
    # When amy replies naming her
    handle = f"eve@{peer.base.split('://', 1)[1]}"
    reply = await outbox.post(amy, NoteDraft(text=f"@{handle} hi", in_reply_to=note_id))
    # Then the mention links to eve's actor id, not to the javascript: URL
    row = await objects.get(alpha.db, reply)
    assert row is not None
    content = row.document["content"]
    assert "javascript" not in content
    assert f'<a href="{eve.id}" class="u-url mention">' in content


async def test_c2s_html_paragraphs_stay_paragraphs(start_instance: StartInstance) -> None:
    # Given amy's client sends HTML with two paragraphs, a line break and escaped markup
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    content = "<p>one<br>two</p><p>three &lt;b&gt;</p>"
    # When it is posted
    status, text = await _c2s(alpha, "amy", _note_json(json.dumps(content)))
    assert status == 201, text
    # Then the note keeps both paragraphs (they were merged into one with a <br />)
    html = await alpha.db.fetchval("SELECT document FROM objects WHERE type = 'Note'")
    assert json.loads(str(html))["content"] == "<p>one<br />two</p><p>three &lt;b&gt;</p>"


async def test_mentions_on_a_host_that_never_answers_cost_one_timeout(
    start_instance: StartInstance,
) -> None:
    # Given a host whose WebFinger accepts and never answers, and a 0.5 s request timeout
    release = asyncio.Event()

    async def webfinger(request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.Response(status=404)

    app = web.Application()
    app.router.add_get("/.well-known/webfinger", webfinger)
    runner, port = await serve_on_loopback(app)
    try:
        alpha = await start_instance("alpha", federation={"request_timeout": 0.5})
        await alpha.add_actor("amy")
        assert alpha.app is not None
        amy = await local_actors(alpha.app).require("amy")
        outbox = outbox_of(alpha.app)
        text = " ".join(f"@u{i}@127.0.0.1:{port}" for i in range(12))
        # When amy posts mentioning twelve accounts there
        started = time.perf_counter()
        note = await outbox.post(amy, NoteDraft(text=text))
        # Then the post goes out with the mentions as text, after about one timeout (the
        # lookups ran one after another: twelve timeouts)
        assert time.perf_counter() - started < 3.0
        row = await objects.get(alpha.db, note)
        assert row is not None and row.document["tag"] == []
        # And a post naming more accounts than allowed is refused before any lookup
        many = " ".join(f"@u{i}@127.0.0.1:{port}" for i in range(MAX_MENTIONS + 1))
        before = await _stored(alpha)
        with pytest.raises(ValidationError):
            await outbox.post(amy, NoteDraft(text=many))
        with pytest.raises(ValidationError):
            await outbox.edit(amy, note, many)
        assert await _stored(alpha) == before
    finally:
        release.set()
        await runner.cleanup()


async def test_cli_post_of_hostile_text_is_a_clear_error(
    start_instance: StartInstance, tmp_path: Path
) -> None:
    # Given amy on alpha and a CLI config pointing at its database
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    config = str(write_cli_config(alpha, tmp_path))
    before = await _stored(alpha)
    for text, expected in [
        ("y" * (MAX_TEXT_CHARS + 10), "characters long"),
        ("bad \udcff byte", "not valid Unicode"),  # what argv makes of a byte that is not UTF-8
    ]:
        # When she posts it with `fedsocial post`
        code, out, err = await run_cli("--config", config, "post", "amy", text)
        # Then the command fails with the reason, not a traceback, and nothing is stored
        assert code != 0, out
        assert expected in err and "Traceback" not in err, err
    assert await _stored(alpha) == before

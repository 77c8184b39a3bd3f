"""Mentions of accounts on hosts whose WebFinger is down, slow or hostile: the post still goes
out, the mention stays plain text, and nothing crashes."""

from __future__ import annotations

import asyncio
import json

from aiohttp import web

from actors.state import local_actors
from fedsocial.crypto.keys import generate_rsa_key, public_key_to_pem
from fedsocial.federation.responses import parse_retry_after
from fedsocial.storage import objects
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.harness import serve_on_loopback


async def _hostile_webfinger() -> tuple[web.AppRunner, int, asyncio.Event]:
    """A host answering WebFinger per user: html, deep JSON, 500, junk link, a link to an
    actor document with a lone surrogate, or never."""
    release = asyncio.Event()
    pem = public_key_to_pem(generate_rsa_key().public_key())

    async def webfinger(request: web.Request) -> web.StreamResponse:
        user = request.query.get("resource", "").removeprefix("acct:").split("@", 1)[0]
        if user == "html":
            return web.Response(text="<html>hi</html>", content_type="text/html")
        if user == "deep":
            return web.Response(
                body=b"[" * 100_000 + b"]" * 100_000, content_type="application/json"
            )
        if user == "error":
            return web.Response(status=500, text="x" * 100_000)
        if user == "sur":  # an actor document with a lone surrogate (SQLite cannot store it)
            href = f"http://{request.host}/users/sur"
            links = [{"rel": "self", "type": "application/activity+json", "href": href}]
            return web.json_response({"subject": "x", "links": links})
        if user == "junk":
            links = [{"rel": "self", "type": "application/activity+json", "href": "javascript:1"}]
            return web.json_response({"subject": "x", "links": links})
        await release.wait()  # "slow": accepts and never answers (until the test ends)
        return web.Response(status=404)

    app = web.Application()

    async def actor(request: web.Request) -> web.Response:
        actor_id = f"http://{request.host}/users/sur"
        document = {
            "id": actor_id,
            "type": "Person",
            "preferredUsername": "sur",
            "inbox": f"{actor_id}/inbox\ud800",
            "publicKey": {"id": f"{actor_id}#key", "owner": actor_id, "publicKeyPem": pem},
        }
        return web.Response(text=json.dumps(document), content_type="application/activity+json")

    app.router.add_get("/.well-known/webfinger", webfinger)
    app.router.add_get("/users/sur", actor)
    runner, port = await serve_on_loopback(app)
    return runner, port, release


async def test_mentions_on_hostile_hosts_stay_plain_text(start_instance: StartInstance) -> None:
    # Given a host whose WebFinger answers HTML, deep JSON, a 500, a junk link, a link to a
    # document with a lone surrogate escape, or hangs
    runner, port, release = await _hostile_webfinger()
    try:
        alpha = await start_instance("alpha", federation={"request_timeout": 0.5})
        await alpha.add_actor("amy")
        assert alpha.app is not None
        amy = await local_actors(alpha.app).require("amy")
        host = f"127.0.0.1:{port}"
        users = ("html", "deep", "error", "junk", "sur", "slow")
        text = " ".join(f"@{user}@{host}" for user in users) + " <script>x</script>"
        # When amy posts mentioning each of them
        note_id = await outbox_of(alpha.app).post(amy, NoteDraft(text=text))
        # Then the post is stored, every mention is plain text and the HTML is escaped
        row = await objects.get(alpha.db, note_id)
        assert row is not None
        assert row.document["tag"] == []
        content = row.document["content"]
        assert "<a " not in content and "&lt;script&gt;" in content
        assert all(f"@{user}@{host}" in content for user in users)
    finally:
        release.set()
        await runner.cleanup()


def test_retry_after_in_odd_forms_never_raises() -> None:
    # Given Retry-After values a hostile or broken server may send
    now = 1_000_000.0
    # When they are read, Then digits of other scripts and junk mean "not said"
    assert parse_retry_after("²", now=now) is None
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("-5", now=now) is None
    # And a number too long for int() is a very long wait, not an error
    assert parse_retry_after("9" * 5000, now=now) == 1e10
    assert parse_retry_after(" 120 ", now=now) == 120.0
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT", now=now) == 0.0

"""Deliveries to hostile or broken inboxes: each gets the right outcome, once, without hanging."""

from __future__ import annotations

import asyncio

from aiohttp import web

from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.storage import activities, deliveries, reactions
from fedsocial.storage.deliveries import NewDelivery
from outbox.compose import NoteDraft
from outbox.retry import MAX_RETRY_AFTER
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.harness import drain, serve_on_loopback
from tests.unit.outbox.sink import Sink


async def _hostile_inboxes() -> tuple[web.AppRunner, int, dict[str, int], asyncio.Event]:
    """A server whose inboxes each misbehave one way; it counts the POSTs each gets."""
    hits: dict[str, int] = {}
    release = asyncio.Event()

    async def inbox(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        hits[name] = hits.get(name, 0) + 1
        await request.read()
        if name == "cut":  # a 202, then the connection closes mid-body
            resp = web.StreamResponse(status=202, headers={"Content-Length": "1000"})
            await resp.prepare(request)
            await resp.write(b"abc")
            assert request.transport is not None
            request.transport.close()
            return resp
        if name == "big":  # a 503 with a 50 MB body
            resp = web.StreamResponse(status=503)
            await resp.prepare(request)
            for _ in range(800):
                await resp.write(b"x" * 65536)
            return resp
        if name == "hang":  # accepts and never answers
            await release.wait()
        if name == "date429":
            return web.Response(
                status=429, headers={"Retry-After": "Wed, 21 Oct 2099 07:28:00 GMT"}
            )
        if name == "junk429":
            return web.Response(status=429, headers={"Retry-After": "²"})
        if name == "gone":
            return web.Response(status=410)
        return web.Response(status=202)

    app = web.Application()
    app.router.add_post("/inbox/{name}", inbox)
    runner, port = await serve_on_loopback(app)
    return runner, port, hits, release


async def test_hostile_inboxes_get_the_right_outcome(start_instance: StartInstance) -> None:
    # Given a post of amy queued to inboxes that misbehave in different ways
    runner, port, hits, release = await _hostile_inboxes()
    try:
        alpha = await start_instance("alpha", federation={"request_timeout": 1.0})
        await alpha.add_actor("amy")
        assert alpha.app is not None
        amy = await local_actors(alpha.app).require("amy")
        outbox = outbox_of(alpha.app)
        await outbox.post(amy, NoteDraft(text="hello"))
        activity = str(await alpha.db.fetchval("SELECT id FROM activities"))
        host = f"127.0.0.1:{port}"
        names = ("cut", "big", "hang", "date429", "junk429", "gone")
        targets = [NewDelivery(f"http://{host}/inbox/{name}", host) for name in names]
        await deliveries.enqueue(alpha.db, activity, alpha.actor_id("amy"), targets, now=0.0)
        # When the queue runs (twice: nothing may be due again right away)
        now = alpha.app[appkeys.CLOCK].now()
        await asyncio.wait_for(outbox.drain(), timeout=10)
        await asyncio.wait_for(outbox.drain(), timeout=10)
        rows = {r.inbox.rsplit("/", 1)[-1]: r for r in await deliveries.list_rows(alpha.db)}
        # Then a 202 cut short is delivered (not sent again), a 410 is final
        assert rows["cut"].state == "delivered" and rows["cut"].last_status == 202
        assert rows["gone"].state == "failed"
        # And the others wait to be retried: the 503 kept a short excerpt, the hang timed out,
        # an HTTP-date Retry-After is honoured (capped) and a junk one falls back to backoff
        assert rows["big"].state == "pending" and len(rows["big"].response_excerpt or "") <= 300
        assert "timed out" in (rows["hang"].last_error or "")
        assert rows["date429"].next_attempt_at >= now + MAX_RETRY_AFTER - 5
        assert now < rows["junk429"].next_attempt_at < now + 60
        assert all(rows[name].state == "pending" for name in ("big", "hang", "junk429"))
        assert hits == dict.fromkeys(names, 1)
    finally:
        release.set()
        await runner.cleanup()


async def test_remote_actor_naming_an_inbox_on_our_server_gets_no_http_delivery(
    start_instance: StartInstance,
) -> None:
    # Given a remote actor (on a sink) whose document names alpha's shared inbox as its own
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    assert alpha.app is not None
    sink = await Sink(clock=alpha.app[appkeys.CLOCK], keys=lambda _: None).start()
    try:
        document = sink.actor_document("mallory", shared_inbox=False)
        document["inbox"] = f"{alpha.base}/inbox"
        mallory = await alpha.app[appkeys.REMOTE_ACTORS].store(document)
        # When amy sends something addressed to that actor
        actor = await local_actors(alpha.app).require("amy")
        await outbox_of(alpha.app).follow(actor, mallory.id)
        # Then no delivery row points back at alpha itself
        rows = await deliveries.list_rows(alpha.db)
        assert [r.inbox for r in rows] == []
    finally:
        await sink.stop()


async def test_a_like_of_a_deleted_note_can_still_be_taken_back(
    start_instance: StartInstance,
) -> None:
    # Given amy on alpha liked bob's note on beta, and bob then deleted the note
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    await alpha.add_actor("amy")
    await beta.add_actor("bob")
    assert alpha.app is not None and beta.app is not None
    amy = await local_actors(alpha.app).require("amy")
    bob = await local_actors(beta.app).require("bob")
    note = await outbox_of(beta.app).post(bob, NoteDraft(text="soon gone"))
    await outbox_of(alpha.app).like(amy, note)
    await drain(alpha, beta)
    assert await reactions.count_likes(beta.db, note) == 1
    await outbox_of(beta.app).delete(bob, note)
    await drain(alpha, beta)
    # When amy takes her like back
    undo = await outbox_of(alpha.app).unlike(amy, note)
    await drain(alpha, beta)
    # Then the Undo went where the Like went, and the Like left amy's activities
    rows = await deliveries.list_rows(alpha.db, activity_id=undo)
    assert [r.state for r in rows] == ["delivered"]
    assert await activities.find_local(alpha.db, alpha.actor_id("amy"), "Like", note) is None

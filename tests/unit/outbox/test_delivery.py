"""Delivery queue tests: a real instance publishes, real HTTP to loopback sinks that verify
every signature; outcomes, retries, final failures, unavailable hosts and restarts."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from actors.remote import remote_actors
from actors.state import local_actors
from fedsocial.clock import FixedClock
from fedsocial.crypto.keys import PublicKey
from fedsocial.storage import deliveries, follows, host_health, inbox_queue
from outbox import delivery
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.harness import Instance, drain
from tests.unit.outbox.sink import Sink

DAY = 86_400.0


@dataclass
class World:
    alpha: Instance
    clock: FixedClock
    alice: str
    sinks: list[Sink]


async def _key_of(instance: Instance, name: str) -> PublicKey:
    assert instance.app is not None
    actor = await local_actors(instance.app).require(name)
    return actor.rsa_key.public_key()


@pytest.fixture
async def world(start_instance: StartInstance) -> AsyncIterator[World]:
    clock = FixedClock()
    alpha = await start_instance("alpha", clock=clock)
    alice = await alpha.add_actor("alice")
    key = await _key_of(alpha, "alice")
    keys = {f"{alice}#main-key": key}
    sinks = [await Sink(clock, keys.get).start() for _ in range(2)]
    yield World(alpha, clock, alice, sinks)
    for sink in sinks:
        await sink.stop()


async def _follower(world: World, sink: Sink, name: str, *, shared: bool) -> str:
    assert world.alpha.app is not None
    actor = await remote_actors(world.alpha.app).store(
        sink.actor_document(name, shared_inbox=shared)
    )
    await follows.upsert(
        world.alpha.db, actor.id, world.alice, activity_id=None, state="accepted", now=0.0
    )
    return actor.id


async def _post(world: World, text: str = "hello fediverse") -> str:
    assert world.alpha.app is not None
    actor = await local_actors(world.alpha.app).require("alice")
    return await outbox_of(world.alpha.app).post(actor, NoteDraft(text=text))


async def test_followers_get_one_signed_delivery_per_shared_inbox(world: World) -> None:
    # Given two followers on a sink with a shared inbox, one on a sink without, and a local one
    a, b = world.sinks
    await _follower(world, a, "ann", shared=True)
    await _follower(world, a, "amy", shared=True)
    await _follower(world, b, "bob", shared=False)
    await world.alpha.add_actor("carol")
    await follows.upsert(
        world.alpha.db,
        world.alpha.actor_id("carol"),
        world.alice,
        activity_id=None,
        state="accepted",
        now=0.0,
    )
    # When alice posts publicly and the queue drains
    object_id = await _post(world)
    await drain(world.alpha)
    # Then a's shared inbox got it once, bob's inbox once, every signature valid with a Date
    assert [r.path for r in a.received] == ["/inbox"]
    assert [r.path for r in b.received] == ["/users/bob/inbox"]
    for got in a.received + b.received:
        assert got.signature_ok and got.key_id == f"{world.alice}#main-key"
        assert got.date is not None
        assert got.body["type"] == "Create" and got.body["object"]["id"] == object_id
        assert "@context" in got.body
    # And every row is delivered with its status and excerpt
    rows = await deliveries.list_rows(world.alpha.db)
    assert {r.state for r in rows} == {"delivered"}
    assert {r.last_status for r in rows} == {202}
    assert all(r.response_excerpt == "sink says hi" for r in rows)
    # And carol got it through the inbox queue, signed by alice, without HTTP
    stored = await inbox_queue.get(world.alpha.db, f"{rows[0].activity_id}")
    assert stored is not None and stored.signer == world.alice
    assert stored.inbox == world.alpha.actor_id("carol") + "/inbox"
    # When draining again, nothing is sent twice
    assert world.alpha.app is not None
    assert await outbox_of(world.alpha.app).drain() == 0
    assert len(a.received) + len(b.received) == 2


async def test_server_errors_retry_with_backoff_then_succeed(world: World) -> None:
    # Given a follower whose server answers 500
    sink = world.sinks[0]
    sink.status = 500
    await _follower(world, sink, "ann", shared=False)
    await _post(world)
    # When the queue drains
    await drain(world.alpha)
    # Then the row waits for its next attempt with the status and excerpt kept
    [row] = await deliveries.list_rows(world.alpha.db)
    assert row.state == "pending" and row.attempts == 1 and row.last_status == 500
    assert row.last_error == "HTTP 500" and row.response_excerpt == "sink says hi"
    assert world.clock.now() + 15 <= row.next_attempt_at <= world.clock.now() + 24
    # And nothing more is sent before it is due
    await drain(world.alpha)
    assert len(sink.received) == 1
    # When the server recovers and the time comes
    sink.status = 202
    world.clock.advance(30)
    await drain(world.alpha)
    # Then it is delivered on the second attempt, with a fresh Date
    [row] = await deliveries.list_rows(world.alpha.db)
    assert row.state == "delivered" and row.attempts == 2
    assert len(sink.received) == 2 and sink.received[0].date != sink.received[1].date
    assert all(r.signature_ok for r in sink.received)


async def test_client_errors_are_final(world: World) -> None:
    # Given a server that answers 403
    sink = world.sinks[0]
    sink.status = 403
    await _follower(world, sink, "ann", shared=False)
    await _post(world)
    # When the queue drains, even much later
    await drain(world.alpha)
    world.clock.advance(DAY)
    await drain(world.alpha)
    # Then the row failed after one attempt (the 403 was tried with both signature schemes)
    [row] = await deliveries.list_rows(world.alpha.db)
    assert row.state == "failed" and row.attempts == 1 and row.last_status == 403
    assert row.last_error is not None and "final" in row.last_error


async def test_429_honours_retry_after(world: World) -> None:
    # Given a server that asks us to come back in ten minutes
    sink = world.sinks[0]
    sink.status = 429
    sink.headers = {"Retry-After": "600"}
    await _follower(world, sink, "ann", shared=False)
    await _post(world)
    # When the queue drains
    await drain(world.alpha)
    # Then the next attempt is exactly when it asked
    [row] = await deliveries.list_rows(world.alpha.db)
    assert row.state == "pending" and row.next_attempt_at == world.clock.now() + 600


async def test_network_errors_are_retried(world: World) -> None:
    # Given a follower on a server that is down
    sink = world.sinks[0]
    await _follower(world, sink, "ann", shared=False)
    await sink.stop()
    await _post(world)
    # When the queue drains
    await drain(world.alpha)
    # Then the row is pending with no status and the network error recorded
    [row] = await deliveries.list_rows(world.alpha.db)
    assert row.state == "pending" and row.last_status is None and row.attempts == 1
    assert row.last_error
    # And the host has a failure day
    health = await host_health.get(world.alpha.db, row.host)
    assert len(health.failure_days) == 1


async def test_unavailable_host_is_skipped_until_a_probe_succeeds(world: World) -> None:
    # Given a host that failed on 7 distinct days, and two posts for it
    sink = world.sinks[0]
    host = f"127.0.0.1:{sink.port}"
    await _follower(world, sink, "ann", shared=False)
    for day in range(7):
        await host_health.record_failure(world.alpha.db, host, now=world.clock.now() - day * DAY)
    sink.status = 500
    await _post(world, "one")
    await _post(world, "two")
    # When the queue drains
    await drain(world.alpha)
    # Then only one probe was sent; the other row was not even tried
    assert len(sink.received) == 1
    rows = sorted(await deliveries.list_rows(world.alpha.db), key=lambda r: r.id)
    assert [r.attempts for r in rows] == [1, 0]
    assert (await host_health.get(world.alpha.db, host)).unavailable
    # When the host recovers, no new probe happens within the probe interval
    sink.status = 202
    world.clock.advance(3600)
    await drain(world.alpha)
    assert len(sink.received) == 1
    # When a day has passed, the probe succeeds and the backlog follows
    world.clock.advance(DAY)
    await drain(world.alpha)
    assert len(sink.received) == 3
    assert not (await host_health.get(world.alpha.db, host)).unavailable
    assert {r.state for r in await deliveries.list_rows(world.alpha.db)} == {"delivered"}


async def test_a_restart_resumes_the_queue(world: World) -> None:
    # Given a pending row after a failed attempt
    sink = world.sinks[0]
    sink.status = 503
    await _follower(world, sink, "ann", shared=False)
    await _post(world)
    await drain(world.alpha)
    # When the instance restarts and the retry comes due
    await world.alpha.stop()
    await world.alpha.start()
    sink.status = 202
    world.clock.advance(60)
    await drain(world.alpha)
    # Then the delivery goes through exactly once more
    [row] = await deliveries.list_rows(world.alpha.db)
    assert row.state == "delivered" and row.attempts == 2
    assert [r.signature_ok for r in sink.received] == [True, True]


async def _quick_and_held(start_instance: StartInstance, **overrides: Any) -> World:
    """alice on a fresh instance has posted to ann, on a quick sink, and bob, on a sink that
    holds its answer (`world.sinks` is quick, held); the caller stops the sinks."""
    clock = FixedClock()
    beta = await start_instance("beta", clock=clock, **overrides)
    alice = await beta.add_actor("alice")
    keys = {f"{alice}#main-key": await _key_of(beta, "alice")}
    quick, slow = [await Sink(clock, keys.get).start() for _ in range(2)]
    slow.hold = asyncio.Event()
    world = World(beta, clock, alice, [quick, slow])
    await _follower(world, quick, "ann", shared=False)
    await _follower(world, slow, "bob", shared=False)
    await _post(world)
    return world


async def test_deliveries_answered_before_a_stop_are_not_sent_again(
    start_instance: StartInstance,
) -> None:
    # Given an instance delivering one row at a time (so ann's answer is in before bob's
    # request starts), ann on a quick sink and bob on a sink that holds its answer
    world = await _quick_and_held(start_instance, federation={"delivery_workers": 1})
    beta, clock, (quick, slow) = world.alpha, world.clock, world.sinks
    try:
        assert beta.app is not None
        run = asyncio.create_task(outbox_of(beta.app).drain())
        await asyncio.wait_for(slow.arrived.wait(), 10)
        # When the server stops while bob's delivery is still in flight
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run
        await beta.stop()
        slow.hold.set()
        await beta.start()
        clock.advance(3600)
        await drain(beta)
        # Then ann's answered delivery was recorded before the stop and never sent again,
        # while bob's unanswered one was retried
        assert len(quick.received) == 1
        states = {row.inbox: row.state for row in await deliveries.list_rows(beta.db)}
        assert states[f"{quick.base}/users/ann/inbox"] == "delivered"
        assert len(slow.received) == 2 and states[f"{slow.base}/users/bob/inbox"] == "delivered"
    finally:
        for sink in (quick, slow):
            await sink.stop()


async def test_followers_only_post_reaches_followers_only(world: World) -> None:
    # Given one follower and one mentioned stranger on two servers
    a, b = world.sinks
    await _follower(world, a, "ann", shared=False)
    assert world.alpha.app is not None
    await remote_actors(world.alpha.app).store(b.actor_document("bea", shared_inbox=False))
    # When alice posts to followers only
    actor = await local_actors(world.alpha.app).require("alice")
    await outbox_of(world.alpha.app).post(
        actor, NoteDraft(text="for friends", visibility=Visibility.FOLLOWERS)
    )
    await drain(world.alpha)
    # Then only the follower got it, addressed to the followers collection without Public
    assert len(a.received) == 1 and b.received == []
    note = a.received[0].body["object"]
    assert note["to"] == [f"{world.alice}/followers"] and note["cc"] == []


async def test_bto_and_bcc_are_used_for_delivery_but_never_sent(world: World) -> None:
    # Given an activity with a bcc'd remote actor
    sink = world.sinks[0]
    assert world.alpha.app is not None
    hidden = await remote_actors(world.alpha.app).store(
        sink.actor_document("hidden", shared_inbox=False)
    )
    outbox = outbox_of(world.alpha.app)
    actor = await local_actors(world.alpha.app).require("alice")
    activity = {
        "id": outbox.activity_id(actor),
        "type": "Like",
        "actor": world.alice,
        "object": "http://127.0.0.1:1/x",
        "bcc": [hidden.id],
    }
    # When it is sent
    await outbox.send(actor, activity)
    await drain(world.alpha)
    # Then the bcc'd actor got it, without the bcc field
    [got] = sink.received
    assert got.path == "/users/hidden/inbox" and "bcc" not in got.body
    assert got.signature_ok


async def test_blocked_followers_get_nothing(world: World) -> None:
    # Given a follower alice then blocks
    sink = world.sinks[0]
    bad = await _follower(world, sink, "troll", shared=False)
    assert world.alpha.app is not None
    outbox = outbox_of(world.alpha.app)
    actor = await local_actors(world.alpha.app).require("alice")
    await outbox.block(actor, bad)
    await drain(world.alpha)
    # Then the troll got the Block and no longer follows
    assert [r.body["type"] for r in sink.received] == ["Block"]
    assert await follows.get_state(world.alpha.db, bad, world.alice) is None
    # When alice posts publicly, mentioning the troll
    await outbox.post(actor, NoteDraft(text=f"hi @troll@127.0.0.1:{sink.port}"))
    await drain(world.alpha)
    # Then nothing more reaches the troll
    assert [r.body["type"] for r in sink.received] == ["Block"]


async def test_answered_deliveries_are_recorded_while_others_are_in_flight(
    start_instance: StartInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given outcomes written every 50 ms, ann on a quick sink and bob on one that holds its answer
    monkeypatch.setattr(delivery, "FLUSH_SECONDS", 0.05)
    world = await _quick_and_held(start_instance)
    beta, (quick, slow) = world.alpha, world.sinks
    try:
        assert beta.app is not None
        run = asyncio.create_task(outbox_of(beta.app).drain())
        await asyncio.wait_for(slow.arrived.wait(), 10)
        # When ann has answered and bob's delivery is still in flight
        states: dict[str, str] = {}
        for _ in range(1000):  # up to 10 s on a loaded machine; 50 ms when quiet
            states = {row.inbox: row.state for row in await deliveries.list_rows(beta.db)}
            if states[f"{quick.base}/users/ann/inbox"] == "delivered":
                break
            await asyncio.sleep(0.01)
        # Then ann's outcome is already in the database, before the round ends
        assert states[f"{quick.base}/users/ann/inbox"] == "delivered"
        assert states[f"{slow.base}/users/bob/inbox"] == "pending" and not run.done()
        slow.hold.set()
        await asyncio.wait_for(run, 10)
        states = {row.inbox: row.state for row in await deliveries.list_rows(beta.db)}
        assert set(states.values()) == {"delivered"}
    finally:
        for sink in (quick, slow):
            await sink.stop()


async def test_a_delivery_round_never_swallows_a_cancellation(world: World) -> None:
    # Given an outbox with a follower to deliver to (a round has real work and an idle round not)
    await _follower(world, world.sinks[0], "ann", shared=False)
    assert world.alpha.app is not None
    outbox = outbox_of(world.alpha.app)
    for step in range(150):
        if step % 50 == 0:
            await _post(world, f"post {step}")
        # When a round is cancelled at any point of its life (the server stopping)
        task = asyncio.create_task(outbox.drain())
        for _ in range(step % 50):
            await asyncio.sleep(0)
        await asyncio.sleep(0.0002 * (step // 50))
        cancelled = task.cancel()
        await asyncio.wait([task], timeout=10)
        # Then it ends cancelled (a round that swallowed it would keep the worker alive forever)
        assert task.done()
        if cancelled:
            assert task.cancelled(), f"round finished normally after cancel() at step {step}"


async def test_every_outcome_is_recorded_when_a_round_ends_during_a_flush(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given outcomes flushed very often, so a flush is often running when the last deliveries
    # of a round finish, and 40 followers on two servers
    monkeypatch.setattr(delivery, "FLUSH_SECONDS", 0.001)
    for sink in world.sinks:
        for n in range(20):
            await _follower(world, sink, f"u{n}", shared=False)
    assert world.alpha.app is not None
    outbox = outbox_of(world.alpha.app)
    for round_number in range(3):
        # When a post is delivered in one round
        await _post(world, f"round {round_number}")
        assert await outbox.drain() >= 40
        # Then every row is recorded as delivered, and nothing is sent again
        assert await deliveries.list_rows(world.alpha.db, state="pending") == []
        assert await outbox.drain() == 0
    assert sum(len(s.received) for s in world.sinks) == 3 * 40

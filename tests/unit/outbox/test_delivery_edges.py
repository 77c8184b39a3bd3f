"""Delivery queue edge cases found by a bug hunt: a slow host must not hold back other hosts,
odd inbox spellings must not be delivered twice. Real instances, real HTTP to loopback sinks."""

from __future__ import annotations

import asyncio

from actors.remote import remote_actors
from actors.state import local_actors
from fedsocial.clock import FixedClock, SystemClock
from fedsocial.storage import deliveries, follows
from fedsocial.storage.deliveries import canonical_inbox
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.harness import Instance, drain
from tests.unit.outbox.sink import Sink


async def _follows(instance: Instance, sink: Sink, name: str, followee: str) -> None:
    assert instance.app is not None
    actor = await remote_actors(instance.app).store(sink.actor_document(name, shared_inbox=False))
    await follows.upsert(
        instance.db, actor.id, followee, activity_id=None, state="accepted", now=0.0
    )


async def _post(instance: Instance, name: str, text: str) -> None:
    assert instance.app is not None
    actor = await local_actors(instance.app).require(name)
    await outbox_of(instance.app).post(actor, NoteDraft(text=text))


async def test_a_slow_host_does_not_hold_back_new_deliveries_to_other_hosts(
    start_instance: StartInstance,
) -> None:
    # Given a server whose background worker delivers with the real clock and waits up to a
    # minute for an answer, alice followed by bob on a host that holds every answer, and carol
    # followed by ann on a quick host
    clock = SystemClock()
    alpha = await start_instance("alpha", clock=clock, federation={"request_timeout": 60.0})
    alice = await alpha.add_actor("alice")
    carol = await alpha.add_actor("carol")
    assert alpha.app is not None
    keys = {
        f"{a}#main-key": (await local_actors(alpha.app).require(n)).rsa_key.public_key()
        for a, n in ((alice, "alice"), (carol, "carol"))
    }
    quick, slow = [await Sink(clock, keys.get).start() for _ in range(2)]
    slow.hold = asyncio.Event()
    try:
        await _follows(alpha, slow, "bob", alice)
        await _follows(alpha, quick, "ann", carol)
        # When alice posts (bob's delivery hangs) and then carol posts
        await _post(alpha, "alice", "to the slow host")
        await asyncio.wait_for(slow.arrived.wait(), 10)
        await _post(alpha, "carol", "to the quick host")
        # Then ann gets carol's post while bob's delivery is still in flight
        await asyncio.wait_for(quick.arrived.wait(), 10)
        assert [r.body["actor"] for r in quick.received] == [carol]
        assert not slow.hold.is_set() and len(slow.received) == 1
    finally:
        slow.hold.set()
        for sink in (quick, slow):
            await sink.stop()


async def test_one_inbox_spelled_two_ways_gets_one_delivery(start_instance: StartInstance) -> None:
    # Given alice followed by two actors of one host whose documents spell the same shared
    # inbox with a differently cased scheme and host
    clock = FixedClock()
    alpha = await start_instance("alpha", clock=clock)
    alice = await alpha.add_actor("alice")
    assert alpha.app is not None
    key = (await local_actors(alpha.app).require("alice")).rsa_key.public_key()
    sink = await Sink(clock, {f"{alice}#main-key": key}.get).start()
    try:
        for name, base in (
            ("ann", f"http://localhost:{sink.port}"),
            ("bob", f"HTTP://LocalHost:{sink.port}"),
        ):
            document = sink.actor_document(name, shared_inbox=True)
            document["endpoints"] = {"sharedInbox": f"{base}/inbox"}
            actor = await remote_actors(alpha.app).store(document)
            await follows.upsert(
                alpha.db, actor.id, alice, activity_id=None, state="accepted", now=0.0
            )
        # When alice posts
        await _post(alpha, "alice", "once per inbox")
        await drain(alpha)
        # Then the host gets the post once, through one delivery row
        rows = await deliveries.list_rows(alpha.db)
        assert [(r.inbox, r.host, r.state) for r in rows] == [
            (f"http://localhost:{sink.port}/inbox", f"localhost:{sink.port}", "delivered")
        ]
        assert len(sink.received) == 1
    finally:
        await sink.stop()


def test_inbox_urls_are_compared_as_urls() -> None:
    # Given inbox URLs that differ only in the case of scheme and host or a default port
    # Then they are stored the same; the path and a non-default port are kept as they are
    same = {
        canonical_inbox(url)
        for url in (
            "https://example.com/inbox",
            "HTTPS://Example.COM/inbox",
            "https://example.com:443/inbox",
        )
    }
    assert same == {"https://example.com/inbox"}
    assert canonical_inbox("http://example.com:80/Inbox/") == "http://example.com/Inbox/"
    assert canonical_inbox("https://EX.com:8443/i?a=B") == "https://ex.com:8443/i?a=B"
    assert canonical_inbox("https://[::1]:443/inbox") == "https://[::1]/inbox"

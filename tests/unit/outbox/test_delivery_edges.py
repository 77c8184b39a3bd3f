"""Delivery queue edge cases found by a bug hunt: a slow host must not hold back other hosts,
odd inbox spellings must not be delivered twice. Real instances, real HTTP to loopback sinks."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from actors.remote import remote_actors
from actors.state import local_actors
from fedsocial.clock import FixedClock, SystemClock
from fedsocial.storage import deliveries, follows, host_health
from fedsocial.storage.deliveries import canonical_inbox
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.cli_helpers import run_in_process, write_cli_config
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


async def test_deliveries_listing_shows_rows_held_back_by_an_unavailable_host(
    start_instance: StartInstance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given alice's post queued to a host that failed on 7 distinct days and still answers 503
    # (to the one probe a day the queue sends it)
    clock = FixedClock()
    alpha = await start_instance("alpha", clock=clock)
    alice = await alpha.add_actor("alice")
    sink = await Sink(clock, {}.get, status=503).start()
    try:
        await _follows(alpha, sink, "ann", alice)
        host = f"127.0.0.1:{sink.port}"
        for day in range(7):
            await host_health.record_failure(alpha.db, host, now=clock.now() + day * 86_400.0)
        await _post(alpha, "alice", "held back")
        config = write_cli_config(alpha, tmp_path)
        capsys.readouterr()
        # When the queue is listed as JSON and as a table
        assert await run_in_process(config, "deliveries", "--json") == 0
        [item] = json.loads(capsys.readouterr().out)
        assert await run_in_process(config, "deliveries") == 0
        table = capsys.readouterr().out.splitlines()
        # Then the row says why it is not being sent
        assert item["state"] == "pending" and item["host_unavailable"] is True
        assert "\tpending\t" in table[1] and "\thost unavailable\t" in table[1]
    finally:
        await sink.stop()


@pytest.mark.parametrize("limit", ["0", "-1"])
async def test_deliveries_listing_refuses_a_limit_below_one(
    tmp_path: Path, start_instance: StartInstance, limit: str
) -> None:
    # Given an instance (SQLite reads LIMIT -1 as no limit: the whole queue)
    alpha = await start_instance("alpha")
    config = write_cli_config(alpha, tmp_path)
    # When the queue is listed with a limit below one
    # Then the command is refused as a usage error
    with pytest.raises(SystemExit) as exited:
        await run_in_process(config, "deliveries", "--limit", limit)
    assert exited.value.code == 2


async def test_a_sender_whose_key_cannot_be_loaded_does_not_break_the_round(
    start_instance: StartInstance,
) -> None:
    # Given alice and carol, each followed on a sink, and carol's stored private key corrupted
    # (a damaged row, a bad restore) while her post was being queued
    clock = FixedClock()
    alpha = await start_instance("alpha", clock=clock)
    alice = await alpha.add_actor("alice")
    carol = await alpha.add_actor("carol")
    assert alpha.app is not None
    key = (await local_actors(alpha.app).require("alice")).rsa_key.public_key()
    sink = await Sink(clock, {f"{alice}#main-key": key}.get).start()
    try:
        await _follows(alpha, sink, "ann", alice)
        await _follows(alpha, sink, "bob", carol)
        loaded = await local_actors(alpha.app).require("carol")
        await alpha.db.execute(
            "UPDATE local_actors SET rsa_private_pem = 'not a key' WHERE name = 'carol'"
        )
        local_actors(alpha.app).forget("carol")
        await outbox_of(alpha.app).post(loaded, NoteDraft(text="signed with a broken key"))
        for n in range(3):
            await _post(alpha, "alice", f"fine {n}")
        # When the queue runs
        await outbox_of(alpha.app).drain()
        # Then alice's posts arrive once each, and carol's row records the error for a retry
        assert sorted(r.body["object"]["content"] for r in sink.received) == [
            f"<p>fine {n}</p>" for n in range(3)
        ]
        rows = await deliveries.list_rows(alpha.db)
        assert sorted(r.state for r in rows if r.sender == alice) == ["delivered"] * 3
        [broken] = [r for r in rows if r.sender == carol]
        assert (broken.state, broken.attempts) == ("pending", 1)
        assert "signing key" in (broken.last_error or "")
    finally:
        await sink.stop()

"""Delivery split by host among processes (`serve --workers N`): every host belongs to exactly
one shard, the queue hands each shard only its hosts' rows, and two applications sharing one
database deliver one post between them, each inbox once, with valid signatures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web

from actors.local import create_actor
from actors.remote import remote_actors
from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.app import create_app
from fedsocial.clock import FixedClock
from fedsocial.config import Config
from fedsocial.storage import deliveries, follows
from fedsocial.storage.database import Database
from fedsocial.storage.deliveries import NewDelivery
from fedsocial.storage.shards import Shard, host_shard
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from outbox.setup import DELIVERY_SHARD, RUN_WORKER
from tests.harness import loopback_config
from tests.unit.outbox.sink import Sink

HOSTS = [f"host{n}.example:{8000 + n}" for n in range(60)]


def test_every_host_belongs_to_exactly_one_shard() -> None:
    for count in (1, 2, 3, 5):
        for host in HOSTS:
            owners = [k for k in range(count) if Shard(k, count).owns(host)]
            assert owners == [host_shard(host, count)]
    # And the split is not degenerate: with two shards both get hosts
    assert {host_shard(h, 2) for h in HOSTS} == {0, 1}


def test_the_split_is_the_same_in_another_process() -> None:
    # Python's str hash is salted per process; the shard of a host must not be.
    script = (
        "import json, sys; from fedsocial.storage.shards import host_shard;"
        "print(json.dumps([host_shard(h, 3) for h in json.loads(sys.argv[1])]))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, json.dumps(HOSTS)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    ).stdout
    assert json.loads(out) == [host_shard(h, 3) for h in HOSTS]


@pytest.mark.parametrize(("index", "count"), [(-1, 2), (2, 2), (0, 0)])
def test_impossible_shards_are_refused(index: int, count: int) -> None:
    with pytest.raises(ValueError, match="no shard"):
        Shard(index, count)


async def test_due_rows_are_split_by_host(tmp_path: Path) -> None:
    # Given one activity queued to three inboxes on each of 60 hosts
    db = await Database.open(str(tmp_path / "q.sqlite3"))
    try:
        targets = [NewDelivery(f"http://{h}/users/u{n}/inbox", h) for h in HOSTS for n in range(3)]
        await deliveries.enqueue(
            db, "https://a.example/act/1", "https://a.example/u/a", targets, now=0
        )
        whole = await deliveries.due(db, now=1, limit=1000)
        assert len(whole) == 180
        # When three shards each read their due rows
        parts = [await deliveries.due(db, now=1, limit=1000, shard=Shard(k, 3)) for k in range(3)]
        # Then they are disjoint, cover the queue, and hold only their own hosts, in id order
        assert sorted(r.id for part in parts for r in part) == [r.id for r in whole]
        for k, part in enumerate(parts):
            assert part and all(host_shard(r.host, 3) == k for r in part)
            assert [r.id for r in part] == sorted(r.id for r in part)
        # And a shard's cursor and skip list work as for the whole queue
        first = parts[0]
        later = await deliveries.due(db, now=1, after_id=first[2].id, shard=Shard(0, 3))
        assert [r.id for r in later] == [r.id for r in first[3:]]
        skipped = first[0].host
        rest = await deliveries.due(db, now=1, skip_hosts=[skipped], shard=Shard(0, 3))
        assert skipped not in {r.host for r in rest} and len(rest) == len(first) - 3
    finally:
        await db.close()


async def _started(config: Config, clock: FixedClock, shard: Shard) -> web.AppRunner:
    app = create_app(config, clock=clock)
    # Drained by the test, not by background workers.
    app[RUN_WORKER] = False
    app[appkeys.INBOX_WORKER_ENABLED] = False
    app[DELIVERY_SHARD] = shard
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    return runner


@pytest.fixture
async def two_processes(tmp_path: Path) -> AsyncIterator[tuple[web.Application, web.Application]]:
    """Two applications on one database file, shards 0 and 1 of 2 (as `serve --workers 2`)."""
    clock = FixedClock()
    config = loopback_config("alpha", 1, tmp_path)
    first = await _started(config, clock, Shard(0, 2))
    second = await _started(config, clock, Shard(1, 2))
    yield first.app, second.app
    await second.cleanup()
    await first.cleanup()


async def test_two_shards_deliver_one_post_between_them(
    two_processes: tuple[web.Application, web.Application],
) -> None:
    first, second = two_processes
    clock = first[appkeys.CLOCK]
    await create_actor(first[appkeys.DB], clock, "alice")
    alice = await local_actors(first).require("alice")
    key_id = alice.signing_key(first[appkeys.URLS]).key_id
    public = alice.rsa_key.public_key()
    # Given followers on sinks whose hosts fall in both shards (at least two in each)
    sinks: list[Sink] = []
    while min(sum(host_shard(s.base[7:], 2) == k for s in sinks) for k in (0, 1)) < 2:
        sinks.append(await Sink(clock, {key_id: public}.get).start())
    try:
        for n, sink in enumerate(sinks):
            for name in ("ann", "bob"):
                actor = await remote_actors(first).store(
                    sink.actor_document(name, shared_inbox=n % 2 == 0)
                )
                await follows.upsert(
                    first[appkeys.DB],
                    actor.id,
                    first[appkeys.URLS].actor("alice"),
                    activity_id=None,
                    state="accepted",
                    now=0,
                )
        # When alice posts through the first process and only it drains
        await outbox_of(first).post(alice, NoteDraft(text="hello, shards"))
        await outbox_of(first).drain()
        # Then exactly the hosts of shard 0 got it
        mine = {s.base for s in sinks if host_shard(s.base[7:], 2) == 0}
        assert {s.base for s in sinks if s.received} == mine
        # When the second process drains
        await outbox_of(second).drain()
        # Then every inbox got it exactly once, signed by alice, and nothing is pending
        for n, sink in enumerate(sinks):
            paths = sorted(r.path for r in sink.received)
            assert paths == (["/inbox"] if n % 2 == 0 else ["/users/ann/inbox", "/users/bob/inbox"])
            assert all(r.signature_ok and r.key_id == key_id for r in sink.received)
        rows = await deliveries.list_rows(first[appkeys.DB])
        assert len(rows) == sum(len(s.received) for s in sinks)
        assert {r.state for r in rows} == {"delivered"}
        # And draining both again sends nothing more
        assert await outbox_of(first).drain() == 0 and await outbox_of(second).drain() == 0
    finally:
        for sink in sinks:
            await sink.stop()

"""The inbox's durable queue under a busy or hostile database: another process holding the
write lock, activities that always fail, very large rows."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from fedsocial.storage import inbox_queue
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, load_payload
from tests.harness import Instance, drain


@pytest.fixture
async def alpha(start_instance: StartInstance) -> Instance:
    instance = await start_instance("alpha")
    await instance.add_actor("alice")
    return instance


def follow_of(bob: PeerActor, alpha: Instance, n: int) -> dict[str, object]:
    return load_payload(
        "mastodon_follow",
        actor=bob.id,
        base=bob.id.rsplit("/users/", 1)[0],
        uuid=f"follow-{n}",
        local=alpha.actor_id("alice"),
    )


@contextmanager
def write_lock_held_by_another_process(path: str) -> Iterator[sqlite3.Connection]:
    """What a long CLI write does to the server: another connection holds the write lock."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        yield other
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()


async def test_a_write_lock_held_past_the_busy_timeout_is_503_then_stored_on_retry(
    alpha: Instance, peer: Peer
) -> None:
    # Given a server whose busy timeout is short (to keep the test fast) and another process
    # holding the database's write lock for longer than that
    await alpha.db.fetchval("PRAGMA busy_timeout=200")
    bob = peer.add_actor("bob")
    follow = follow_of(bob, alpha, 1)
    with write_lock_held_by_another_process(alpha.db.path):
        # When a peer POSTs an activity
        status, body = await peer.post(bob, f"{alpha.base}/inbox", follow)

    # Then it is told to come back later (503, not a 500), and nothing was half-stored
    assert status == 503, body
    assert body["error"] == "storage_unavailable"
    assert "try again later" in str(body["message"])
    assert await inbox_queue.get(alpha.db, str(follow["id"])) is None

    # When the peer retries once the lock is gone, Then it is stored and applied once
    assert (await peer.post(bob, f"{alpha.base}/inbox", follow))[0] == 202
    await drain(alpha)
    stored = await inbox_queue.get(alpha.db, str(follow["id"]))
    assert stored is not None and stored.state == "applied"


async def test_a_burst_during_a_short_foreign_write_waits_and_loses_nothing(
    alpha: Instance, peer: Peer
) -> None:
    # Given another process holding the write lock for a moment (within the busy timeout)
    bob = peer.add_actor("bob")
    follows = [follow_of(bob, alpha, n) for n in range(20)]
    loop = asyncio.get_running_loop()
    with write_lock_held_by_another_process(alpha.db.path) as other:
        released = loop.run_in_executor(None, _release_after_a_moment, other)
        # When a burst of activities arrives meanwhile
        answers = await asyncio.gather(
            *(peer.post(bob, f"{alpha.base}/inbox", follow) for follow in follows)
        )
        await released

    # Then every one is answered 202 and stored
    assert [status for status, _ in answers] == [202] * 20
    for follow in follows:
        assert await inbox_queue.get(alpha.db, str(follow["id"])) is not None


def _release_after_a_moment(other: sqlite3.Connection) -> None:
    # A foreign process's write that takes a while; this is that other process, not a wait for
    # something of ours.
    time.sleep(0.3)
    other.execute("COMMIT")


def _stored(activity_id: str, raw: str, alpha: Instance) -> inbox_queue.NewActivity:
    return inbox_queue.NewActivity(
        activity_id=activity_id,
        type="Like",
        actor="https://x.example/users/bob",
        signer="https://x.example/users/bob",
        inbox=f"{alpha.base}/users/alice/inbox",
        raw=raw,
    )


async def test_a_stored_row_that_cannot_be_read_does_not_block_the_queue(
    alpha: Instance, peer: Peer
) -> None:
    # Given a stored row whose document cannot be loaded any more (nested far deeper than the
    # interpreter can parse, stored before receive refused such depth), queued before a good one
    depth = 5000
    nested = '{"a":' * depth + "1" + "}" * depth
    unreadable = (
        '{"id":"https://x.example/likes/1","type":"Like",'
        f'"actor":"https://x.example/users/bob","object":{nested}}}'
    )
    await inbox_queue.store_many(
        alpha.db, [_stored("https://x.example/likes/1", unreadable, alpha)], now=time.time()
    )
    bob = peer.add_actor("bob")
    follow = follow_of(bob, alpha, 1)
    assert (await peer.post(bob, f"{alpha.base}/inbox", follow))[0] == 202

    # When the inbox worker runs
    await drain(alpha)

    # Then the unreadable row is rejected with a reason, and the good one behind it is applied
    bad = await alpha.db.fetchone(
        "SELECT state, last_error FROM inbox_activities WHERE activity_id = ?",
        ("https://x.example/likes/1",),
    )
    assert bad is not None and bad["state"] == "rejected", tuple(bad or ())
    good = await inbox_queue.get(alpha.db, str(follow["id"]))
    assert good is not None and good.state == "applied"

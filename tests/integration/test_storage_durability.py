"""The inbox's durable queue under a busy or hostile database: another process holding the
write lock, activities that always fail, very large rows."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fedsocial.storage import blocks, follows, inbox_queue, timeline
from fedsocial.storage.database import Database
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, load_payload
from tests.harness import Instance, drain
from tests.integration.test_serve_process import CLI, free_port, write_config
from tests.integration.test_serve_workers import _children, _wait_served


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


async def test_an_activity_of_almost_1_mib_round_trips_intact(alpha: Instance, peer: Peer) -> None:
    # Given a Create whose note is just under the 1 MiB inbox cap, with text beyond ASCII
    bob = peer.add_actor("bob")
    create = load_payload(
        "mastodon_create_note",
        actor=bob.id,
        base=bob.id.rsplit("/users/", 1)[0],
        n="big",
        local=alpha.actor_id("alice"),
    )
    filler = "é☃\U0001f600x"  # 10 bytes in UTF-8
    size = len(json.dumps(create, ensure_ascii=False).encode())
    create["object"]["content"] = "<p>" + filler * ((1024 * 1024 - size - 200) // 10) + "</p>"
    body = json.dumps(create, ensure_ascii=False).encode()
    assert 1024 * 1024 - 1024 < len(body) <= 1024 * 1024

    # When it is received and applied
    assert (await peer.post(bob, f"{alpha.base}/users/alice/inbox", body))[0] == 202
    await drain(alpha)

    # Then the stored activity is the very document sent, and it was applied
    stored = await inbox_queue.get(alpha.db, str(create["id"]))
    assert stored is not None and stored.state == "applied", stored and stored.last_error
    assert stored.document == create
    raw = await alpha.db.fetchval(
        "SELECT document FROM inbox_activities WHERE activity_id = ?", (create["id"],)
    )
    assert raw.encode() == body


async def test_activities_stored_by_a_killed_server_are_applied_once_after_restart(
    tmp_path: Path, peer: Peer
) -> None:
    # Given `fedsocial serve --workers 2` as real processes on a real file
    port = free_port()
    config = write_config(tmp_path, port)
    with config.open("a", encoding="utf-8") as out:
        out.write("[federation]\nallow_private_addresses = true\nallow_http = true\n")
    base = f"http://127.0.0.1:{port}"
    proc = _serve(config, "--workers", "2")
    try:
        await _wait_served(base)
        # When a burst of Follows is answered 202, and every process is killed at once (no
        # chance to finish applying them)
        bob = peer.add_actor("bob")
        burst = [
            load_payload(
                "mastodon_follow",
                actor=bob.id,
                base=bob.id.rsplit("/users/", 1)[0],
                uuid=f"follow-{n}",
                local=f"{base}/users/carol",
            )
            for n in range(30)
        ]
        answers = await asyncio.gather(
            *(peer.post(bob, f"{base}/users/carol/inbox", follow) for follow in burst)
        )
        assert [status for status, _ in answers] == [202] * 30, answers[0]
    finally:
        for pid in _children(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait(10)

    # And a single `serve` starts again on the same file
    again = _serve(config)
    try:
        await _wait_served(base)
        db = await Database.open(str(tmp_path / "db.sqlite3"))
        try:
            for _ in range(200):
                if not await inbox_queue.has_pending(db):
                    break
                await asyncio.sleep(0.05)  # another process works; nothing of ours to await
            # Then every stored Follow was applied exactly once
            rows = await db.fetchall("SELECT state, attempts FROM inbox_activities")
            assert len(rows) == 30
            assert {(r["state"], r["attempts"]) for r in rows} == {("applied", 1)}
            assert await follows.count_followers(db, f"{base}/users/carol") == 1
        finally:
            await db.close()
    finally:
        again.terminate()
        again.wait(10)


def _serve(config: Path, *options: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, "--config", str(config), "serve", *options],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def test_a_copy_dropped_for_one_blocker_does_not_swallow_another_recipients_copy(
    alpha: Instance, peer: Peer
) -> None:
    # Given alice blocks bob, and bob writes to alice and carol on a server that delivers to
    # each personal inbox (no sharedInbox), alice's first
    await alpha.add_actor("carol")
    bob = peer.add_actor("bob")
    async with alpha.db.transaction() as conn:
        await blocks.add(conn, alpha.actor_id("alice"), bob.id, activity_id=None, now=time.time())
    create = load_payload(
        "mastodon_create_note",
        actor=bob.id,
        base=bob.id.rsplit("/users/", 1)[0],
        n="7",
        local=alpha.actor_id("alice"),
    )
    for holder in (create, create["object"]):
        holder["cc"] = [*holder["cc"], alpha.actor_id("carol")]

    # When the copy for alice is dropped (she blocks bob) and then carol's copy arrives
    assert (await peer.post(bob, f"{alpha.base}/users/alice/inbox", create))[0] == 202
    assert (await peer.post(bob, f"{alpha.base}/users/carol/inbox", create))[0] == 202
    await drain(alpha)

    # Then carol receives it (it is not taken for a duplicate of alice's dropped copy), and
    # alice's timeline still does not show it
    stored = await inbox_queue.get(alpha.db, str(create["id"]))
    assert stored is not None and stored.state == "applied", stored
    assert stored.inbox == f"{alpha.base}/users/carol/inbox" and stored.signer == bob.id
    assert await inbox_queue.count_items(alpha.db, "carol") == 1
    assert len(await timeline.list_for(alpha.db, "carol")) == 1
    assert await timeline.list_for(alpha.db, "alice") == []

    # And a later copy to alice's inbox is still only a duplicate: applied once
    assert (await peer.post(bob, f"{alpha.base}/users/alice/inbox", create))[0] == 202
    await drain(alpha)
    again = await inbox_queue.get(alpha.db, str(create["id"]))
    assert again is not None and again.state == "applied" and again.attempts == 1

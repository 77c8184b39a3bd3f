"""Inbox durability: stored activities survive a stop before they are applied; failures retry."""

from __future__ import annotations

import socket
import time
from typing import Any

from aiohttp import web

from fedsocial import appkeys
from fedsocial.app import create_app
from fedsocial.clock import FixedClock
from fedsocial.storage import inbox_queue, objects, timeline
from inbox.retry import BACKOFF_SECONDS, MAX_ATTEMPTS
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, load_payload
from tests.harness import Instance, drain


async def start_with_paused_worker(instance: Instance) -> None:
    """Start `instance` like `Instance.start`, but with the inbox worker kept off."""
    instance.app = create_app(instance.config, clock=instance.clock)
    instance.app[appkeys.INBOX_WORKER_ENABLED] = False
    instance.runner = web.AppRunner(instance.app, access_log=None)
    await instance.runner.setup()
    await web.SockSite(instance.runner, instance.sock).start()


def create_note(bob: PeerActor, alpha: Instance) -> Any:
    return load_payload(
        "mastodon_create_note",
        actor=bob.id,
        base=bob.id.rsplit("/users/", 1)[0],
        n="5",
        local=alpha.actor_id("alice"),
    )


async def test_stored_activity_is_applied_once_after_a_restart(
    start_instance: StartInstance, peer: Peer
) -> None:
    # Given alpha running with its inbox worker paused
    alpha = await start_instance("alpha")
    await alpha.add_actor("alice")
    await alpha.stop()
    await start_with_paused_worker(alpha)
    bob = peer.add_actor("bob")
    create = create_note(bob, alpha)
    # When a Create is received (202) and alpha stops before applying it
    assert (await peer.post(bob, f"{alpha.base}/users/alice/inbox", create))[0] == 202
    pending = await inbox_queue.get(alpha.db, create["id"])
    assert pending is not None and pending.state == "pending"
    await alpha.stop()
    # And alpha starts again on the same database, and the same activity is sent again
    await alpha.start()
    assert (await peer.post(bob, f"{alpha.base}/users/alice/inbox", create))[0] == 202
    await drain(alpha)
    # Then it was applied exactly once
    applied = await inbox_queue.get(alpha.db, create["id"])
    assert applied is not None and applied.state == "applied" and applied.attempts == 1
    assert await objects.get(alpha.db, create["object"]["id"]) is not None
    assert len(await timeline.list_for(alpha.db, "alice")) == 1


async def test_failures_are_retried_with_backoff_then_kept_failed(
    start_instance: StartInstance, peer: Peer
) -> None:
    # Given alpha on a clock we move by hand, and a boost of a note on a server that is down
    clock = FixedClock(time.time())
    alpha = await start_instance("alpha", clock=clock)
    bob = peer.add_actor("bob")
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        down = f"http://127.0.0.1:{closed.getsockname()[1]}/notes/1"
    announce = load_payload("mastodon_announce", actor=bob.id, n="3", object=down, author=bob.id)
    assert (await peer.post(bob, f"{alpha.base}/inbox", announce))[0] == 202
    # When the worker tries it
    await drain(alpha)
    # Then the failure is recorded and a retry scheduled, not applied nor lost
    row = await inbox_queue.get(alpha.db, announce["id"])
    assert row is not None and row.state == "pending" and row.attempts == 1
    assert row.last_error is not None and "fetch" in row.last_error
    # When every retry fails too
    for delay in BACKOFF_SECONDS:
        clock.advance(delay)
        await drain(alpha)
    # Then it is kept as failed, with its error, after the last attempt
    row = await inbox_queue.get(alpha.db, announce["id"])
    assert row is not None and row.state == "failed" and row.attempts == MAX_ATTEMPTS
    assert row.last_error is not None


async def test_an_activity_too_deeply_nested_to_apply_is_rejected_not_retried(
    start_instance: StartInstance,
) -> None:
    # Given a stored Like whose object nests 700 levels deep: the JSON loads, but applying it
    # recurses past the interpreter's limit (stored before receive refused such depth, and
    # resumed now)
    alpha = await start_instance("alpha")
    await alpha.add_actor("alice")
    depth = 700
    nested = '{"a":' * depth + "1" + "}" * depth
    raw = (
        '{"@context":"https://www.w3.org/ns/activitystreams","id":"https://x.example/likes/1",'
        f'"type":"Like","actor":"https://x.example/users/bob","object":{nested}}}'
    )
    item = inbox_queue.NewActivity(
        activity_id="https://x.example/likes/1",
        type="Like",
        actor="https://x.example/users/bob",
        signer="https://x.example/users/bob",
        inbox=f"{alpha.base}/users/alice/inbox",
        raw=raw,
    )
    await inbox_queue.store_many(alpha.db, [item], now=time.time())
    # When alpha's inbox worker applies it
    await drain(alpha)
    # Then it is rejected at once, with a message saying why, and never comes due again
    stored = await inbox_queue.get(alpha.db, "https://x.example/likes/1")
    assert stored is not None
    assert stored.state == "rejected"
    assert stored.last_error is not None and "nested too deeply" in stored.last_error
    assert not await inbox_queue.has_pending(alpha.db)

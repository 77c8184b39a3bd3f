"""The delivery queue across a crash: `fedsocial serve` killed with SIGKILL mid-round, then
started again, as a real process against loopback sinks."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fedsocial.clock import SystemClock
from fedsocial.crypto.keys import load_public_key
from tests.integration.test_serve_process import CLI, free_port
from tests.integration.test_serve_workers import (
    _add_followers,
    _cli,
    _delivering_config,
    _wait_served,
)
from tests.unit.outbox.sink import Sink


@asynccontextmanager
async def _serving(config: Path, port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    proc = await asyncio.create_subprocess_exec(
        *CLI, "--config", str(config), "serve",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await _wait_served(f"http://127.0.0.1:{port}")
        yield proc
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 20)


def _states(database: Path) -> dict[str, str]:
    with sqlite3.connect(database) as conn:
        return dict(conn.execute("SELECT inbox, state FROM deliveries"))


async def _until(check: object, what: str, *, within: float = 20.0) -> None:
    assert callable(check)
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_a_killed_server_resends_only_what_had_no_answer(tmp_path: Path) -> None:
    # Given an initialised instance, carol's followers on three quick sinks and on one sink
    # that holds every answer
    port = free_port()
    config = _delivering_config(tmp_path, port)
    assert await _cli(config, "init") == 0
    database = tmp_path / "db.sqlite3"
    carol = f"http://127.0.0.1:{port}/users/carol"
    with sqlite3.connect(database) as conn:
        [(pem,)] = conn.execute("SELECT rsa_public_pem FROM local_actors WHERE name = 'carol'")
    keys = {f"{carol}#main-key": load_public_key(pem)}
    sinks = [await Sink(SystemClock(), keys.get).start() for _ in range(4)]
    quick, slow = sinks[:3], sinks[3]
    slow.hold = asyncio.Event()
    try:
        await _add_followers(database, carol, sinks)
        async with _serving(config, port) as proc:
            # When carol posts from the CLI, the quick sinks' answers are recorded and the
            # server is killed (SIGKILL) while the slow sink's deliveries are in flight
            assert await _cli(config, "post", "carol", "survive a crash") == 0
            await asyncio.wait_for(slow.arrived.wait(), 20)
            quick_inboxes = {
                inbox for inbox in _states(database) if not inbox.startswith(slow.base)
            }
            await _until(
                lambda: all(_states(database)[i] == "delivered" for i in quick_inboxes),
                "the quick answers to be recorded",
            )
            proc.kill()
            await asyncio.wait_for(proc.wait(), 20)
        received_before = {s.port: len(s.received) for s in sinks}
        # Then nothing is stuck: the unanswered rows are still pending
        assert {i: s for i, s in _states(database).items() if i.startswith(slow.base)}
        assert all(
            state == "pending" for i, state in _states(database).items() if i.startswith(slow.base)
        )
        slow.hold.set()
        # When the server starts again
        async with _serving(config, port):
            await _until(
                lambda: set(_states(database).values()) == {"delivered"}, "every row delivered"
            )
            await asyncio.sleep(0.3)  # a late duplicate would show up here
        # Then every answered inbox got the post exactly once, and the unanswered ones again
        for sink in quick:
            assert len(sink.received) == received_before[sink.port]
            assert sorted(r.path for r in sink.received) == sorted(
                set(r.path for r in sink.received)
            )
        assert len(slow.received) == 2 * received_before[slow.port]
        assert all(r.signature_ok for s in sinks for r in s.received)
    finally:
        slow.hold.set()
        for sink in sinks:
            await sink.stop()

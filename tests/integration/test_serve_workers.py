"""`fedsocial serve --workers N`: N processes on one port (SO_REUSEPORT), stopped together."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from fedsocial.clock import SystemClock
from fedsocial.crypto.keys import load_public_key
from fedsocial.storage import follows, remote_actors
from fedsocial.storage.database import Database
from fedsocial.storage.remote_actors import RemoteActorRow
from fedsocial.storage.shards import host_shard
from tests.integration.test_serve_process import CLI, free_port, write_config
from tests.unit.outbox.sink import Sink

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT spreading: Linux")


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


def _listening_inodes(port: int) -> set[str]:
    """Inodes of the sockets listening on 127.0.0.1:port (state 0A in /proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}" and fields[3] == "0A":
            inodes.add(fields[9])
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


async def _wait_served(base: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            try:
                async with session.get(f"{base}/.well-known/nodeinfo") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientConnectionError:
                pass
            await asyncio.sleep(0.05)
    raise AssertionError("the server did not answer")


def _gone(pid: int, *, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return True
        if state == "Z":  # exited, waiting for its parent to reap it
            return True
        time.sleep(0.05)
    return False


def _servers(pid: int, port: int, *, expected: int) -> list[int]:
    """The processes of the `serve` tree that hold a socket listening on the port, once there are
    `expected` of them (the first process binds last: the extra ones may answer before it)."""
    deadline = time.monotonic() + 20
    while True:
        listening = _listening_inodes(port)
        tree = [pid, *_children(pid)]
        found = [pid for pid in tree if _socket_inodes(pid) & listening]
        if len(found) >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def _start(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*CLI, "--config", str(config), "serve", "--workers", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@dataclass
class Served:
    """A running `fedsocial serve --workers 2`: the first process, its port, the other one."""

    proc: subprocess.Popen[bytes]
    port: int
    extra: int

    @property
    def base(self) -> str:
        """The instance's base URL."""
        return f"http://127.0.0.1:{self.port}"


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    """`fedsocial serve --workers 2` started as a real process, answering on its port."""
    port = free_port()
    proc = _start(write_config(tmp_path, port))
    try:
        await _wait_served(f"http://127.0.0.1:{port}")
        extra = next(pid for pid in _servers(proc.pid, port, expected=2) if pid != proc.pid)
        yield Served(proc, port, extra)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(10)


async def test_two_processes_listen_on_the_port_and_stop_with_the_first(served: Served) -> None:
    proc = served.proc
    # Then two processes hold a listening socket on the one port
    servers = _servers(proc.pid, served.port, expected=2)
    assert sorted(servers) == sorted([proc.pid, served.extra])
    # And no other process runs beside them (no multiprocessing helper)
    assert sorted([proc.pid, *_children(proc.pid)]) == sorted(servers)
    # And requests on many fresh connections are all answered
    for _ in range(20):
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{served.base}/users/carol") as r,
        ):
            assert r.status == 200
    # When the first process is asked to stop
    proc.send_signal(signal.SIGTERM)
    # Then it stops the other one too
    assert proc.wait(20) == 0
    assert _gone(served.extra, within=10)


async def test_the_extra_processes_stop_when_the_first_is_killed(served: Served) -> None:
    # When the first process dies without cleaning up
    served.proc.kill()
    served.proc.wait(10)
    # Then the other one notices and stops on its own
    assert _gone(served.extra, within=10)


def _replacement(pid: int, port: int, *, dead: int, within: float) -> int | None:
    """The listening process that replaced `dead` in the `serve` tree of `pid`, if one came."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        fresh = [p for p in _servers(pid, port, expected=2) if p not in (pid, dead)]
        if fresh:
            return fresh[0]
        time.sleep(0.1)
    return None


def _role_of(pid: int) -> str:
    """The `--extra-worker` value a serve process was started with."""
    argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")
    return argv[argv.index("--extra-worker") + 1]


async def test_a_dead_extra_process_is_started_again(served: Served) -> None:
    # When the extra process dies (its hosts would get no deliveries)
    os.kill(served.extra, signal.SIGKILL)
    # Then the first process starts another one for the same shard, which listens too
    fresh = _replacement(served.proc.pid, served.port, dead=served.extra, within=30)
    assert fresh is not None and _role_of(fresh).startswith("1/2/")
    assert served.proc.poll() is None


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--workers", "0"], "must be 1 or more"),
        # the internal option `serve --workers` starts its other processes with
        (["--extra-worker", "2/2/1"], "no shard 2 of 2"),
    ],
)
def test_bad_process_options_are_refused(tmp_path: Path, option: list[str], message: str) -> None:
    config = write_config(tmp_path, free_port())
    result = subprocess.run(
        [*CLI, "--config", str(config), "serve", *option],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and message in result.stderr


async def _cli(config: Path, *args: str) -> int:
    proc = await asyncio.create_subprocess_exec(
        *CLI, "--config", str(config), *args,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    return await asyncio.wait_for(proc.wait(), 60)


def _delivering_config(folder: Path, port: int) -> Path:
    path = folder / "delivering.toml"
    path.write_text(
        f'[instance]\ndomain = "127.0.0.1:{port}"\nscheme = "http"\n'
        f'[server]\nport = {port}\n[storage]\ndatabase = "db.sqlite3"\n'
        '[first_actor]\nname = "carol"\n'
        "[federation]\nallow_private_addresses = true\nallow_http = true\n",
        encoding="utf-8",
    )
    return path


async def _add_followers(database: Path, followee: str, sinks: list[Sink]) -> None:
    """Two cached followers per sink, with a shared inbox on every other sink."""
    db = await Database.open(str(database))
    try:
        for index, sink in enumerate(sinks):
            for name in ("ann", "bob"):
                doc = sink.actor_document(name, shared_inbox=index % 2 == 0)
                shared = doc.get("endpoints", {}).get("sharedInbox")
                row = RemoteActorRow(
                    doc["id"], "Person", name, f"127.0.0.1:{sink.port}", doc["inbox"], shared,
                    doc["followers"], None, doc, None, time.time(),
                )  # fmt: skip
                await remote_actors.save(db, row, [])
                await follows.upsert(
                    db, doc["id"], followee, activity_id=None, state="accepted", now=0
                )
    finally:
        await db.close()


async def test_both_processes_deliver_a_cli_post_each_inbox_once(tmp_path: Path) -> None:
    # Given an initialised instance and its first actor's public key
    port = free_port()
    config = _delivering_config(tmp_path, port)
    assert await _cli(config, "init") == 0
    database = tmp_path / "db.sqlite3"
    carol = f"http://127.0.0.1:{port}/users/carol"
    with sqlite3.connect(database) as conn:
        [(pem,)] = conn.execute("SELECT rsa_public_pem FROM local_actors WHERE name = 'carol'")
    keys = {f"{carol}#main-key": load_public_key(pem)}
    # And followers on loopback sinks whose hosts fall in both shards of two processes
    sinks: list[Sink] = []
    while min(sum(host_shard(f"127.0.0.1:{s.port}", 2) == k for s in sinks) for k in (0, 1)) < 2:
        sinks.append(await Sink(SystemClock(), keys.get).start())
    log = tmp_path / "serve.log"
    try:
        await _add_followers(database, carol, sinks)
        # When `serve --workers 2` runs and carol posts from the CLI
        with log.open("w") as err:
            proc = await asyncio.create_subprocess_exec(
                *CLI, "--config", str(config), "serve", "--workers", "2",
                stdout=asyncio.subprocess.DEVNULL, stderr=err,
            )  # fmt: skip
        try:
            await _wait_served(f"http://127.0.0.1:{port}")
            assert len(_servers(proc.pid, port, expected=2)) == 2
            assert await _cli(config, "post", "carol", "hello, both processes") == 0
            # Then every inbox gets it exactly once, with a valid signature
            expected = {
                (s.port, p)
                for i, s in enumerate(sinks)
                for p in (["/inbox"] if i % 2 == 0 else ["/users/ann/inbox", "/users/bob/inbox"])
            }
            for _ in range(400):
                if sum(len(s.received) for s in sinks) >= len(expected):
                    break
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # a late duplicate would show up here
            got = [(s.port, r.path) for s in sinks for r in s.received]
            assert sorted(got) == sorted(expected)
            assert all(r.signature_ok for s in sinks for r in s.received)
        finally:
            proc.send_signal(signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 20)
        # And each of the two processes delivered its own share of the hosts
        text = log.read_text()
        assert "hosts of shard 1 of 2" in text and "hosts of shard 2 of 2" in text, text
    finally:
        for sink in sinks:
            await sink.stop()

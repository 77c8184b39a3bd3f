"""Test harness: real fedsocial instances on loopback ports with real SQLite files.

`Instance` starts `create_app` on a socket bound before the config is written (so the port in
the domain is known and never raced), and `drain` runs the queues until no instance has work.
"""

from __future__ import annotations

import dataclasses
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from fedsocial import appkeys
from fedsocial.app import create_app
from fedsocial.clock import Clock
from fedsocial.config import (
    Config,
    FederationConfig,
    FirstActorConfig,
    InstanceConfig,
    StorageConfig,
)
from fedsocial.storage.database import Database


def loopback_socket() -> socket.socket:
    """A listening-ready TCP socket on 127.0.0.1 with a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


async def serve_on_loopback(app: web.Application) -> tuple[web.AppRunner, int]:
    """Serve `app` on a free loopback port: its runner (clean it up to stop) and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = loopback_socket()
    port = int(sock.getsockname()[1])
    await web.SockSite(runner, sock).start()
    return runner, port


def loopback_config(name: str, port: int, folder: Path, **overrides: Any) -> Config:
    """A config for an http instance at 127.0.0.1:port that may talk to other loopback instances."""
    instance = dataclasses.replace(
        InstanceConfig(domain=f"127.0.0.1:{port}", scheme="http", name=name),
        **overrides.pop("instance", {}),
    )
    federation = dataclasses.replace(
        FederationConfig(allow_private_addresses=True, allow_http=True, request_timeout=5.0),
        **overrides.pop("federation", {}),
    )
    return Config(
        instance=instance,
        storage=StorageConfig(database=str(folder / f"{name}.sqlite3")),
        first_actor=FirstActorConfig(name=overrides.pop("first_actor", "admin")),
        federation=federation,
        source=f"<test {name}>",
        **overrides,
    )


@dataclass
class Instance:
    """One running fedsocial instance on a loopback port."""

    name: str
    folder: Path
    clock: Clock | None = None
    overrides: dict[str, Any] = field(default_factory=dict)
    sock: socket.socket = field(default_factory=loopback_socket)
    runner: web.AppRunner | None = None
    app: web.Application | None = None

    @property
    def port(self) -> int:
        """The port this instance listens on."""
        return int(self.sock.getsockname()[1])

    @property
    def config(self) -> Config:
        """This instance's configuration."""
        return loopback_config(self.name, self.port, self.folder, **dict(self.overrides))

    @property
    def base(self) -> str:
        """The instance's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def domain(self) -> str:
        """The host:port of the instance."""
        return f"127.0.0.1:{self.port}"

    def actor_id(self, name: str) -> str:
        """The id of a local actor of this instance."""
        return f"{self.base}/users/{name}"

    @property
    def db(self) -> Database:
        """The running instance's database."""
        assert self.app is not None, "instance is not running"
        return self.app[appkeys.DB]

    async def start(self) -> Instance:
        """Start serving (again, after `stop`) on the same port and database."""
        self.app = create_app(self.config, clock=self.clock)
        self.runner = web.AppRunner(self.app, access_log=None)
        await self.runner.setup()
        site = web.SockSite(self.runner, self.sock)
        await site.start()
        return self

    async def stop(self) -> None:
        """Stop serving; the socket is re-created so the port can be served again."""
        port = self.port  # read before the runner closes the socket
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None
            self.app = None
        # The runner closed our socket; bind a new one on the same port for a restart.
        new = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        new.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        new.bind(("127.0.0.1", port))
        self.sock = new

    async def add_actor(self, name: str, **options: Any) -> str:
        """Create a local actor on the running instance; return its id."""
        from actors.local import create_actor

        assert self.app is not None
        await create_actor(self.db, self.app[appkeys.CLOCK], name, **options)
        return self.actor_id(name)

    async def drain_once(self) -> int:
        """Run this instance's due inbox and delivery work once; return how many items ran."""
        from inbox.service import inbox_of
        from outbox.service import outbox_of

        assert self.app is not None
        done = await outbox_of(self.app).drain()
        return done + await inbox_of(self.app).drain()


async def drain(*instances: Instance, rounds: int = 50) -> None:
    """Run every instance's queues until none has due work left."""
    for _ in range(rounds):
        done = 0
        for instance in instances:
            if instance.app is not None:
                done += await instance.drain_once()
        if done == 0:
            return
    raise AssertionError("queues did not drain")

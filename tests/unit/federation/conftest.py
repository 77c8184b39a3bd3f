"""Fixtures for the federation unit tests: a real database, clients, and loopback peers.

The peers are small aiohttp apps on 127.0.0.1 playing remote servers; they check our
signatures with the real crypto code and count what they receive.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from fedsocial.clock import FixedClock
from fedsocial.config import Config, FederationConfig, InstanceConfig, ModerationConfig
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import generate_rsa_key
from fedsocial.federation.http_client import HttpClient
from fedsocial.federation.signing import SigningKey
from fedsocial.federation.tools import FederationServices, federation_services
from fedsocial.storage.database import Database

OpenServices = Callable[..., Awaitable[FederationServices]]


def make_config(*, blocked: tuple[str, ...] = (), **federation: Any) -> Config:
    """A config for an https instance at local.test that may reach loopback peers over http."""
    settings = {"allow_private_addresses": True, "allow_http": True, "request_timeout": 2.0}
    settings.update(federation)
    return Config(
        instance=InstanceConfig(domain="local.test", scheme="https"),
        federation=dataclasses.replace(FederationConfig(), **settings),
        moderation=ModerationConfig(blocked_domains=blocked),
    )


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    """One RSA key for the whole session (generation costs ~50 ms)."""
    return SigningKey("https://local.test/actor#main-key", generate_rsa_key())


@pytest.fixture
def clock() -> FixedClock:
    """A fixed clock at the real current time, so peers checking Date windows agree."""
    return FixedClock(time.time())


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A migrated SQLite database in a temporary folder."""
    database = await Database.open(str(tmp_path / "federation.sqlite3"))
    yield database
    await database.close()


@pytest.fixture
async def open_services(db: Database, clock: FixedClock) -> AsyncIterator[OpenServices]:
    """Open federation services (client, key resolver) with config overrides; closed at the end."""
    stack: list[Any] = []

    async def open_(**federation: Any) -> FederationServices:
        manager = federation_services(make_config(**federation), db, clock)
        services = await manager.__aenter__()
        stack.append(manager)
        return services

    yield open_
    for manager in reversed(stack):
        await manager.__aexit__(None, None, None)


@pytest.fixture
async def client(open_services: OpenServices) -> HttpClient:
    """An HTTP client allowed to reach loopback peers over http."""
    return (await open_services()).http


def request_parts(request: web.Request, body: bytes = b"") -> HttpRequestParts:
    """A peer's view of a request for signature checks (the URL as the client signed it)."""
    return HttpRequestParts(request.method, str(request.url), request.headers, body)

"""Fixtures: one app on a temporary database, with actors created through the real code."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from fedsocial import appkeys
from fedsocial.app import create_app
from fedsocial.config import Config, InstanceConfig, StorageConfig


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return Config(
        instance=InstanceConfig(domain="social.example", scheme="https"),
        storage=StorageConfig(database=str(tmp_path / "t.sqlite3")),
    )


@pytest.fixture
async def client(aiohttp_client, config: Config) -> TestClient:  # type: ignore[no-untyped-def]
    from actors.local import create_actor

    app = create_app(config)
    test_client: TestClient = await aiohttp_client(app)
    await create_actor(
        app[appkeys.DB], app[appkeys.CLOCK], "alice", display_name="Alice", summary="hi <b>x</b>"
    )
    return test_client

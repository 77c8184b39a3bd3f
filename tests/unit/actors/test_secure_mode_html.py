"""Secure mode lets browsers read HTML pages unsigned; that must not open the JSON documents
behind them to anyone who merely says `Accept: text/html`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from actors.local import create_actor
from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.app import create_app
from fedsocial.config import Config, InstanceConfig, StorageConfig
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.service import outbox_of

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
async def secure(aiohttp_client: Any, tmp_path: Path) -> tuple[TestClient, str]:
    """A secure-mode instance with alice and one public post of hers (its id is returned)."""
    config = Config(
        instance=InstanceConfig(domain="social.example", scheme="https", secure_mode=True),
        storage=StorageConfig(database=str(tmp_path / "secure.sqlite3")),
    )
    app = create_app(config)
    client: TestClient = await aiohttp_client(app)
    await create_actor(app[appkeys.DB], app[appkeys.CLOCK], "alice")
    alice = await local_actors(app).require("alice")
    note = await outbox_of(app).post(alice, NoteDraft("hello", visibility=Visibility.PUBLIC))
    return client, note


async def test_json_only_documents_stay_closed_to_unsigned_browsers(
    secure: tuple[TestClient, str],
) -> None:
    client, note = secure
    status_path = note.removeprefix("https://social.example")
    activity = (await client.app[appkeys.DB].fetchval("SELECT id FROM activities LIMIT 1")) or ""
    closed = [
        "/users/alice/followers",
        "/users/alice/following?page=1",
        "/users/alice/outbox",
        "/users/alice/outbox?page=1",
        "/users/alice/collections/featured",
        f"{status_path}/likes",
        f"{status_path}/replies?page=1",
        activity.removeprefix("https://social.example"),
    ]
    for path in closed:
        # When an unsigned client that prefers HTML asks for a document that has no HTML form
        response = await client.get(path, headers=BROWSER)
        # Then it is refused as any unsigned read is in secure mode, not served as JSON
        assert response.status == 401, (path, response.status, response.content_type)
    # And the pages that do have an HTML form still open for a browser
    for path in ("/users/alice", "/@alice", status_path, "/tags/x", "/"):
        response = await client.get(path, headers=BROWSER)
        assert (response.status, response.content_type) == (200, "text/html"), path

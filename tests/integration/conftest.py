"""Fixtures for the integration tests: a loopback peer playing remote actors."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.fixtures.inbox.peer import Peer


@pytest.fixture
async def peer() -> AsyncIterator[Peer]:
    """A loopback server serving remote actors' documents and signing their requests."""
    server = await Peer().start()
    yield server
    await server.stop()

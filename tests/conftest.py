"""Shared fixtures: live loopback instances (see tests/harness.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.harness import Instance

StartInstance = Callable[..., Awaitable[Instance]]


@pytest.fixture
async def start_instance(tmp_path: Path) -> AsyncIterator[StartInstance]:
    """Start named instances on loopback ports; all are stopped at the end of the test."""
    started: list[Instance] = []

    async def start(name: str, **overrides: Any) -> Instance:
        clock = overrides.pop("clock", None)
        instance = Instance(name=name, folder=tmp_path, clock=clock, overrides=overrides)
        await instance.start()
        started.append(instance)
        return instance

    yield start
    for instance in reversed(started):
        await instance.stop()
        instance.sock.close()

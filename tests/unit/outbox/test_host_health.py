"""Tests of host availability tracking (failures on 7 distinct days make a host unavailable)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fedsocial.storage import host_health
from fedsocial.storage.database import Database

DAY = 86_400.0


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(str(tmp_path / "health.sqlite3"))
    yield database
    await database.close()


async def test_seven_distinct_failure_days_make_a_host_unavailable(db: Database) -> None:
    # Given failures on six distinct days (several on the first)
    start = 1_700_000_000.0
    await host_health.record_failure(db, "b.example", now=start)
    await host_health.record_failure(db, "b.example", now=start + 60)
    for day in range(1, 6):
        assert not await host_health.record_failure(db, "b.example", now=start + day * DAY)
    health = await host_health.get(db, "b.example")
    assert len(health.failure_days) == 6
    assert not health.unavailable
    # When the seventh distinct day fails
    became = await host_health.record_failure(db, "b.example", now=start + 6 * DAY)
    # Then the host is unavailable
    assert became
    assert await host_health.unavailable_hosts(db) == ["b.example"]


async def test_a_success_makes_the_host_available_again(db: Database) -> None:
    # Given an unavailable host
    start = 1_700_000_000.0
    for day in range(7):
        await host_health.record_failure(db, "c.example:8443", now=start + day * DAY)
    assert (await host_health.get(db, "c.example:8443")).unavailable
    # When it answers
    await host_health.record_success(db, "c.example:8443", now=start + 8 * DAY)
    # Then its failure days are forgotten and it is available
    health = await host_health.get(db, "c.example:8443")
    assert health.failure_days == ()
    assert not health.unavailable
    assert health.last_success_at == start + 8 * DAY
    assert await host_health.unavailable_hosts(db) == []


async def test_success_wins_within_one_batch_and_unknown_hosts_are_healthy(db: Database) -> None:
    # Given a batch where one host both failed and succeeded
    newly = await host_health.record_many(
        db, successes=["a.example"], failures=["a.example", "d.example"], now=0.0
    )
    # Then it is counted as answering; the other host has one failure day
    assert newly == set()
    assert (await host_health.get(db, "a.example")).failure_days == ()
    assert (await host_health.get(db, "d.example")).failure_days == (0,)
    assert not (await host_health.get(db, "never.example")).unavailable

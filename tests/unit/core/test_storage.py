"""The SQLite database: WAL, idempotent migrations, and refusal of a newer schema."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from fedsocial.errors import SchemaTooNewError
from fedsocial.storage.database import Database, latest_version


async def test_open_migrates_in_wal_mode(tmp_path: Path) -> None:
    db = await Database.open(str(tmp_path / "a.sqlite3"))
    try:
        assert await db.version() == latest_version()
        assert await db.fetchval("PRAGMA journal_mode") == "wal"
        assert await db.fetchval("SELECT count(*) FROM local_actors") == 0
    finally:
        await db.close()


async def test_migrate_is_idempotent(tmp_path: Path) -> None:
    path = str(tmp_path / "a.sqlite3")
    db = await Database.open(path, migrate=False)
    try:
        first = await db.migrate()
        second = await db.migrate()
    finally:
        await db.close()
    assert first and first[0] == "001_initial.sql"
    assert second == []


async def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "a.sqlite3")
    db = await Database.open(path)
    await db.execute(f"PRAGMA user_version = {latest_version() + 1}")
    await db.close()
    with pytest.raises(SchemaTooNewError, match="upgrade fedsocial"):
        await Database.open(path)


async def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    db = await Database.open(str(tmp_path / "a.sqlite3"))
    try:
        with pytest.raises(RuntimeError):
            async with db.transaction() as conn:
                await conn.execute(
                    "INSERT INTO domain_blocks (domain, created_at) VALUES ('x.example', 0)"
                )
                raise RuntimeError("boom")
        assert await db.fetchval("SELECT count(*) FROM domain_blocks") == 0
    finally:
        await db.close()


async def test_a_cancelled_write_leaves_no_transaction_open(tmp_path: Path) -> None:
    db = await Database.open(str(tmp_path / "t.sqlite3"))
    try:
        await db.execute("CREATE TABLE t (x INTEGER)")
        for steps in range(8):
            # When a write is cancelled at any point (BEGIN queued, running, committing)
            task = asyncio.create_task(db.execute("INSERT INTO t VALUES (1)"))
            for _ in range(steps):
                await asyncio.sleep(0)
            task.cancel()
            await asyncio.wait([task])
            # Then the next write still works, and the cancelled one was all or nothing
            await db.execute("INSERT INTO t VALUES (2)")
        assert await db.fetchval("SELECT count(*) FROM t WHERE x = 2") == 8
    finally:
        await db.close()


async def test_a_failed_commit_is_rolled_back(tmp_path: Path) -> None:
    # Given a constraint that SQLite checks only at COMMIT (a deferred foreign key)
    db = await Database.open(str(tmp_path / "c.sqlite3"))
    try:
        await db.execute("CREATE TABLE parent (id INTEGER PRIMARY KEY)")
        await db.execute(
            "CREATE TABLE child (p INTEGER REFERENCES parent(id) DEFERRABLE INITIALLY DEFERRED)"
        )
        # When a transaction breaks it, COMMIT fails (both ways of writing)
        with pytest.raises(sqlite3.IntegrityError):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO child VALUES (42)")
        with pytest.raises(sqlite3.IntegrityError):
            await db.run_in_transaction(lambda raw: raw.execute("INSERT INTO child VALUES (43)"))
        # Then nothing of it stays, and the next write works
        await db.execute("INSERT INTO parent VALUES (1)")
        assert await db.fetchval("SELECT count(*) FROM child") == 0
        assert await db.fetchval("SELECT count(*) FROM parent") == 1
    finally:
        await db.close()

"""Schema upgrades: an older file is brought up to date with its data, and several processes
migrating one file at the same moment apply each migration once."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from fedsocial.storage.database import Database, latest_version, migrations


def _make_old_database(path: Path, *, up_to: int) -> None:
    """A database file as an older fedsocial left it: migrations 1..up_to applied, some data."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        for number, _, sql in migrations()[:up_to]:
            conn.executescript(f"BEGIN;\n{sql}\nPRAGMA user_version={number};\nCOMMIT;")
        conn.execute(
            "INSERT INTO notifications (actor_name, kind, from_actor, object_id, activity_id,"
            " created_at) VALUES ('alice', 'mention', 'https://remote.test/users/bob',"
            " 'https://remote.test/notes/1', 'https://remote.test/act/1', 1.5)"
        )
        conn.execute(
            "INSERT INTO inbox_activities (activity_id, type, actor, inbox, document,"
            " received_at) VALUES ('https://remote.test/act/2', 'Create',"
            " 'https://remote.test/users/bob', 'shared', '{\"id\": \"x\"}', 2.0)"
        )
    finally:
        conn.close()


async def test_a_database_from_an_older_schema_is_upgraded_with_its_data(tmp_path: Path) -> None:
    # Given a file made by a fedsocial that knew only migrations 001 and 002, holding data
    path = tmp_path / "old.sqlite3"
    _make_old_database(path, up_to=2)

    # When the current code opens it
    db = await Database.open(str(path))
    try:
        # Then the missing migrations are applied and the data is still there
        assert await db.version() == latest_version()
        indexes = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'index'")
        assert "notifications_object" in {r[0] for r in indexes}
        assert await db.fetchval("SELECT from_actor FROM notifications") == (
            "https://remote.test/users/bob"
        )
        assert await db.fetchval("SELECT state FROM inbox_activities") == "pending"
    finally:
        await db.close()


@pytest.mark.parametrize("round_", range(5))
async def test_concurrent_opens_of_a_new_file_apply_each_migration_once(
    tmp_path: Path, round_: int
) -> None:
    # Given a database file nobody has created yet (several rounds: the race is a race)
    path = str(tmp_path / f"new-{round_}.sqlite3")

    # When four connections (as `serve --workers 4` or `init` beside `serve`) open and migrate
    # it at the same moment
    opened = await asyncio.gather(*(Database.open(path) for _ in range(4)), return_exceptions=True)

    # Then every one of them opens it (none fails with "database is locked" while another
    # switches the new file to WAL, nor with "table ... already exists"), and the schema is the
    # latest, made once
    try:
        assert all(isinstance(db, Database) for db in opened), opened
        first = opened[0]
        assert isinstance(first, Database)
        assert await first.version() == latest_version()
        assert await first.fetchval("PRAGMA journal_mode") == "wal"
    finally:
        for db in opened:
            if isinstance(db, Database):
                await db.close()

"""Posts deleted before they arrived are remembered six hours, in memory and in the database."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsocial.storage import objects
from fedsocial.storage.database import Database
from fedsocial.storage.statements import run_statements
from inbox import early_deletes
from inbox.early_deletes import REMEMBER_SECONDS, EarlyDeletes

HOUR = 3600.0


def test_an_early_delete_is_remembered_for_six_hours() -> None:
    memory = EarlyDeletes()
    memory.add("https://a.example/notes/1", at=1000.0)
    assert memory.deleted("https://a.example/notes/1", now=1000.0 + 5 * HOUR)
    assert not memory.deleted("https://a.example/notes/1", now=1000.0 + REMEMBER_SECONDS)
    assert not memory.deleted("https://a.example/notes/2", now=1000.0)
    # A later add forgets what has expired
    memory.add("https://a.example/notes/3", at=1000.0 + 7 * HOUR)
    assert len(memory) == 1


def test_a_flood_of_early_deletes_is_capped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(early_deletes, "MAX_REMEMBERED", 10)
    memory = EarlyDeletes()
    for n in range(25):
        memory.add(f"https://a.example/notes/{n}", at=float(n))
    assert len(memory) == 10
    assert memory.deleted("https://a.example/notes/24", now=30.0)
    assert not memory.deleted("https://a.example/notes/0", now=30.0)


async def test_loading_keeps_recent_early_deletes_and_removes_old_ones(tmp_path: Path) -> None:
    db = await Database.open(str(tmp_path / "e.sqlite3"))
    try:
        # Given an old and a recent early delete stored, and a post deleted normally
        author = "https://a.example/users/bob"
        statements = [
            objects.tombstone_unknown_statement(
                f"https://a.example/notes/{name}", author=author, deleted_at=at
            )
            for name, at in (("old", 0.0), ("new", 9 * HOUR))
        ]
        await db.run_in_transaction(lambda raw: run_statements(raw, statements))
        # When the inbox starts at hour 10
        memory = await EarlyDeletes.load(db, now=10 * HOUR)
        # Then the recent one is remembered, and the old one is gone from the database too
        assert memory.deleted("https://a.example/notes/new", now=10 * HOUR)
        assert not memory.deleted("https://a.example/notes/old", now=10 * HOUR)
        assert await objects.get(db, "https://a.example/notes/old") is None
        assert await objects.get(db, "https://a.example/notes/new") is not None
    finally:
        await db.close()

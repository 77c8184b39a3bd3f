"""Inbox storage: statements committed in one round trip, counts, dedupe, multi-row inserts."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fedsocial.storage import inbox_queue, objects, reactions, shares
from fedsocial.storage.database import Database
from fedsocial.storage.inbox_queue import NewActivity
from fedsocial.storage.objects import ObjectRow
from fedsocial.storage.statements import run_statements


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(str(tmp_path / "s.sqlite3"))
    yield database
    await database.close()


def note(updated: float | None, content: str) -> ObjectRow:
    return ObjectRow(
        id="https://a.example/n/1",
        type="Note",
        attributed_to="https://a.example/u",
        local=False,
        visibility="public",
        in_reply_to=None,
        conversation=None,
        document={"id": "https://a.example/n/1", "content": content},
        published=10.0,
        updated=updated,
        deleted_at=None,
    )


async def test_store_batch_dedupes_and_keeps_order(db: Database) -> None:
    # Given 3 activities, one of them twice
    items = [
        NewActivity(f"https://a.example/{n}", "Like", "https://a.example/u", None, "i", "{}")
        for n in (1, 2, 1, 3)
    ]
    # When they are stored in one batch
    await inbox_queue.store_batch(db, items, now=5.0)
    # Then each is stored once, pending, in arrival order
    due = await inbox_queue.due(db, now=5.0)
    assert [a.activity_id for a in due] == [f"https://a.example/{n}" for n in (1, 2, 3)]


async def test_object_statements_keep_history_and_ignore_older(db: Database) -> None:
    # Given a stored note
    await db.run_in_transaction(
        lambda c: run_statements(c, objects.upsert_statements(note(None, "v1"), now=1))
    )
    # When a newer and then an older version run as statements
    newer = objects.upsert_statements(note(20.0, "v2"), now=2)
    older = objects.upsert_statements(note(15.0, "old"), now=3)
    await db.run_in_transaction(lambda c: run_statements(c, [*newer, *older]))
    # Then the newer one is kept, the first is in the history, the older one ignored
    stored = await objects.get(db, "https://a.example/n/1")
    assert stored is not None and stored.document["content"] == "v2"
    assert [e["content"] for e in await objects.edits(db, stored.id)] == ["v1"]
    # When it is tombstoned, Then later updates do not bring it back
    gone = objects.tombstone_statements(stored.id, deleted_at=30)
    again = objects.upsert_statements(note(40.0, "zombie"), now=4)
    await db.run_in_transaction(lambda c: run_statements(c, [*gone, *again]))
    stored = await objects.get(db, stored.id)
    assert stored is not None and stored.deleted and stored.document["type"] == "Tombstone"
    assert stored.document["formerType"] == "Note"


async def test_a_failing_transaction_writes_nothing(db: Database) -> None:
    # Given a like, then a statement that breaks
    like = reactions.add(
        "https://a.example/u", "o", kind="like", content="", activity_id="l1", now=1
    )

    def broken(conn: sqlite3.Connection) -> None:
        run_statements(conn, [like])
        raise RuntimeError("boom")

    # When they run in one transaction, Then nothing of it is stored
    with pytest.raises(RuntimeError):
        await db.run_in_transaction(broken)
    assert await reactions.count_likes(db, "o") == 0


async def test_counts_and_lists(db: Database) -> None:
    # Given two likes, an emoji reaction and a share of one object
    statements = [
        reactions.add(
            "https://a.example/u1", "o", kind="like", content="", activity_id="l1", now=1
        ),
        reactions.add(
            "https://a.example/u2", "o", kind="like", content="", activity_id="l2", now=2
        ),
        reactions.add(
            "https://a.example/u2", "o", kind="emoji", content="🔥", activity_id="r", now=3
        ),
        shares.add("https://a.example/u1", "o", activity_id="s1", now=4),
        shares.add("https://a.example/u1", "o", activity_id="s2", now=5),
    ]
    await db.run_in_transaction(lambda c: run_statements(c, statements))
    # Then likes and shares count as the collections will show them
    assert await reactions.count_likes(db, "o") == 2
    assert await reactions.list_likes(db, "o", limit=10, offset=0) == ["l2", "l1"]
    assert await reactions.count_emoji(db, "o") == {"🔥": 1}
    assert await shares.count_shares(db, "o") == 1
    assert await shares.list_shares(db, "o", limit=10, offset=0) == ["s1"]

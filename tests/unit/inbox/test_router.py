"""Router: one handler per (type, object type), exact match first, Undo by the stored type."""

from __future__ import annotations

from pathlib import Path

import pytest

from fedsocial.storage import inbox_queue
from fedsocial.storage.database import Database
from fedsocial.storage.inbox_queue import NewActivity
from inbox.context import Effects, Outcome, Received, Services
from inbox.handlers import build_router
from inbox.router import Router


async def handler_a(services: Services, activity: Received, effects: Effects) -> Outcome:
    return Outcome.APPLIED


async def handler_b(services: Services, activity: Received, effects: Effects) -> Outcome:
    return Outcome.APPLIED


@pytest.fixture
async def db(tmp_path: Path) -> Database:
    return await Database.open(str(tmp_path / "r.sqlite3"))


def test_second_handler_for_the_same_type_is_refused() -> None:
    # Given a router with a Like handler
    router = Router()
    router.register("Like", handler_a)
    # When another Like handler is registered, Then it is refused
    with pytest.raises(ValueError, match="already"):
        router.register("Like", handler_b)
    # But a handler for a (type, object type) pair is a different slot
    router.register("Like", handler_b, object_type="Note")


def test_every_family_registers_without_clashes() -> None:
    # Given all handler families, When the router is built, Then the list is covered
    pairs = build_router().registered()
    for kind in (
        "Follow",
        "Create",
        "Update",
        "Delete",
        "Like",
        "EmojiReact",
        "Announce",
        "Block",
        "Move",
        "Flag",
        "Add",
        "Remove",
    ):
        assert (kind, "*") in pairs
    for undone in ("Follow", "Like", "EmojiReact", "Announce", "Block"):
        assert ("Undo", undone) in pairs
    assert ("Accept", "Follow") in pairs and ("Reject", "Follow") in pairs
    assert ("Update", "Person") in pairs


async def test_resolution_exact_then_any_and_undo_by_stored_type(db: Database) -> None:
    # Given handlers for Undo{Like} and Undo of anything, and a stored Like
    router = Router()
    router.register("Undo", handler_a, object_type="Like")
    router.register("Undo", handler_b)
    like = NewActivity(
        "https://x.example/likes/1",
        "Like",
        "https://x.example/u",
        None,
        "https://us.example/inbox",
        "{}",
    )
    await inbox_queue.store(db, like, now=0)
    # When Undos are resolved, embedded or by id
    embedded = await router.resolve(db, "Undo", {"object": {"type": "Like", "id": "z"}})
    by_id = await router.resolve(db, "Undo", {"object": "https://x.example/likes/1"})
    unknown = await router.resolve(db, "Undo", {"object": "https://x.example/other"})
    missing = await router.resolve(db, "Arrive", {})
    # Then the exact pair wins, a bare id uses the stored type, else the fallback, else None
    assert embedded is handler_a and by_id is handler_a
    assert unknown is handler_b
    assert missing is None
    await db.close()

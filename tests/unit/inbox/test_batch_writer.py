"""The inbox batch writer: every waiting request gets an answer, also when the server stops."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from fedsocial.clock import FixedClock
from fedsocial.errors import StorageError
from fedsocial.storage import inbox_queue
from fedsocial.storage.database import Database
from fedsocial.storage.inbox_queue import NewActivity
from inbox.batch_writer import BatchWriter


def _activity(n: int) -> NewActivity:
    actor = "https://remote.example/users/bob"
    return NewActivity(
        activity_id=f"https://remote.example/activities/{n}",
        type="Like",
        actor=actor,
        signer=actor,
        inbox="https://local.example/inbox",
        raw="{}",
    )


async def test_a_stop_during_a_commit_still_answers_every_request(tmp_path: Path) -> None:
    db = await Database.open(str(tmp_path / "w.sqlite3"))
    try:
        for steps in range(8):
            # Given a request whose row the writer is committing
            writer = BatchWriter(db, FixedClock(), on_commit=lambda: None)
            writer.start()
            request = asyncio.create_task(writer.write(_activity(steps)))
            for _ in range(steps):
                await asyncio.sleep(0)
            # When the server stops the writer at that moment
            await writer.stop()
            # Then the request is answered: stored, or a clear error (never left waiting)
            done, _ = await asyncio.wait([request], timeout=5)
            assert done, f"the request was never answered (stop after {steps} steps)"
            if request.exception() is not None:
                assert isinstance(request.exception(), StorageError)
            else:
                assert await inbox_queue.get(db, _activity(steps).activity_id) is not None
    finally:
        await db.close()


async def test_a_stopped_writer_refuses_new_rows(tmp_path: Path) -> None:
    db = await Database.open(str(tmp_path / "w.sqlite3"))
    try:
        writer = BatchWriter(db, FixedClock(), on_commit=lambda: None)
        writer.start()
        await writer.write(_activity(1))
        await writer.stop()
        with pytest.raises(StorageError, match="not accepting"):
            await writer.write(_activity(2))
    finally:
        await db.close()

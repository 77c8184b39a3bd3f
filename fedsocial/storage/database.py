"""Core layer: the SQLite connection, its write lock, and schema migrations.

One `Database` per process and file. SQLite allows one writer at a time, so writes go through
`transaction()`, which serialises them in this process and uses `BEGIN IMMEDIATE` so that a
CLI process writing to the same file waits (busy_timeout) instead of failing half-way.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar, cast

import aiosqlite

from fedsocial.errors import SchemaTooNewError, StorageError, StorageUnavailable
from fedsocial.storage import shards

_MIGRATION_RE = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

Row = sqlite3.Row
T = TypeVar("T")


# SQLite's primary result codes for "cannot write now" (an extended code keeps its primary code
# in the low byte): another process (the CLI, another `serve` worker) held the write lock past
# busy_timeout, or the disk is full.
_UNAVAILABLE_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_FULL})


def _unavailable(exc: BaseException) -> StorageUnavailable | None:
    """The StorageUnavailable a failed write stands for, or None if it is another failure."""
    if isinstance(exc, sqlite3.Error) and (exc.sqlite_errorcode & 0xFF) in _UNAVAILABLE_CODES:
        # No file path in the message: it may reach a peer as a 503 body.
        return StorageUnavailable(f"the database cannot take writes now ({exc}): try again later")
    return None


# Switching a new file to WAL takes a lock SQLite does not wait for (no busy handler): when
# several processes open a new file at once, all but one get "database is locked" at once.
_WAL_TRIES = 250
_WAL_PAUSE = 0.02  # seconds; with the tries, about busy_timeout in all


async def _enter_wal_mode(conn: aiosqlite.Connection) -> None:
    """Put the file in WAL mode, waiting for another process doing the same to finish."""
    for attempt in range(_WAL_TRIES):
        try:
            await conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            busy = (exc.sqlite_errorcode & 0xFF) in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
            if not busy or attempt == _WAL_TRIES - 1:
                raise
        await asyncio.sleep(_WAL_PAUSE)


def _rollback_if_open(raw: sqlite3.Connection) -> None:
    if raw.in_transaction:
        raw.execute("ROLLBACK")


def _statements(script: str) -> Iterator[str]:
    """Split a migration script into its statements (a trigger's body stays whole)."""
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending
            pending = ""
    if pending.strip():
        yield pending  # unfinished: let SQLite say what is wrong with it


def _apply_migration(number: int, sql: str, raw: sqlite3.Connection) -> bool:
    """Apply one migration unless the file already has it; True if this call applied it."""
    # `executescript` would commit before its first statement, so the version could not be
    # read inside the same transaction: another process migrating at the same moment would
    # then run the script a second time ("table ... already exists").
    raw.execute("BEGIN IMMEDIATE")
    try:
        if int(raw.execute("PRAGMA user_version").fetchone()[0]) >= number:
            raw.execute("ROLLBACK")
            return False
        for statement in _statements(sql):
            raw.execute(statement)
        raw.execute(f"PRAGMA user_version={number}")
        raw.execute("COMMIT")
    except BaseException:
        _rollback_if_open(raw)
        raise
    return True


def migrations() -> list[tuple[int, str, str]]:
    """Return the shipped migrations as (number, file name, SQL), in order."""
    found: list[tuple[int, str, str]] = []
    folder = resources.files("fedsocial.storage") / "migrations"
    for entry in folder.iterdir():
        match = _MIGRATION_RE.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    for expected, (number, name, _) in enumerate(found, start=1):
        if number != expected:
            raise StorageError(f"migration {name} is out of sequence (expected {expected:03d})")
    return found


def latest_version() -> int:
    """Return the schema version this code knows."""
    return len(migrations())


class Database:
    """An open SQLite database with serialised write transactions."""

    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: str, *, migrate: bool = True) -> Database:
        """Open (creating if needed) the database at `path` in WAL mode, migrated to the latest."""
        if path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                # A read-only folder, or a file where a folder should be: the user's to fix.
                raise StorageError(f"cannot create the folder of database {path}: {exc}") from exc
        connecting = aiosqlite.connect(path, isolation_level=None)
        try:
            conn = await connecting
        except sqlite3.Error as exc:
            # aiosqlite stops its worker thread on a failed connect, but that thread then
            # reports to this loop: let it finish while the loop still runs (else a
            # "RuntimeError: Event loop is closed" traceback follows the message at exit).
            await asyncio.to_thread(connecting._thread.join, 5.0)
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        conn.row_factory = sqlite3.Row
        db = cls(conn, path)
        try:
            await _enter_wal_mode(conn)
            await conn.execute("PRAGMA synchronous=NORMAL")
            await conn.execute("PRAGMA busy_timeout=5000")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.create_function(
                shards.SQL_FUNCTION, 2, shards.host_shard, deterministic=True
            )
            if migrate:
                await db.migrate()
            else:
                await db.check_version()
        except sqlite3.DatabaseError as exc:
            await conn.close()
            # E.g. a config naming a file that is not SQLite: a message, not a traceback.
            raise StorageError(f"cannot use database {path}: {exc}") from exc
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        """Close the connection."""
        await self._conn.close()

    async def version(self) -> int:
        """Return the schema version stored in the file."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def check_version(self) -> int:
        """Return the stored version; raise SchemaTooNewError if newer than this code knows."""
        current = await self.version()
        known = latest_version()
        if current > known:
            raise SchemaTooNewError(
                f"database {self.path} has schema version {current}, but this fedsocial only "
                f"knows up to {known}: upgrade fedsocial"
            )
        return current

    async def migrate(self) -> list[str]:
        """Apply every migration the file lacks, each in its own transaction; return their names.

        Safe when several processes (`init`, `serve --workers N`) migrate one file at once: each
        migration checks the stored version inside its write transaction, so it runs only once.
        """
        current = await self.check_version()
        applied: list[str] = []
        for number, name, sql in migrations():
            if number <= current:
                continue
            async with self._write_lock:
                try:
                    ran = await self._in_thread(partial(_apply_migration, number, sql))
                except sqlite3.Error as exc:
                    raise StorageError(f"migration {name} failed: {exc}") from exc
            if ran:
                applied.append(name)
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block as one write transaction: all of it is committed, or none.

        Raises StorageUnavailable (503) when the database cannot take the write now: locked by
        another process past busy_timeout, or the disk is full.
        """
        async with self._write_lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
                yield self._conn
                await self._conn.execute("COMMIT")
            except BaseException as exc:
                # Also when cancelled while BEGIN was queued (it still runs in the database
                # thread) or when COMMIT failed: a transaction left open would make every later
                # BEGIN fail. Queued after them, this sees what they left.
                await self._in_thread(_rollback_if_open)
                unavailable = _unavailable(exc)
                if unavailable is not None:
                    raise unavailable from exc
                raise

    async def run_in_transaction(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(raw_connection)` in the database thread as one write transaction.

        All of `fn` is committed, or none of it (any exception rolls back and propagates; a
        locked database or a full disk as StorageUnavailable). It is
        one round trip to the database thread however many statements `fn` runs, which is what
        busy write paths (the inbox) need; `fn` must not block on anything but SQLite.
        """

        def body(raw: sqlite3.Connection) -> T:
            raw.execute("BEGIN IMMEDIATE")
            try:
                result = fn(raw)
                raw.execute("COMMIT")
            except BaseException:
                _rollback_if_open(raw)
                raise
            return result

        async with self._write_lock:
            try:
                return await self._in_thread(body)
            except sqlite3.Error as exc:
                unavailable = _unavailable(exc)
                if unavailable is not None:
                    raise unavailable from exc
                raise

    async def _in_thread(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(raw_connection)` as one job of the database thread."""
        # aiosqlite runs every call in its own thread through `_execute`; it has no public
        # way to run a function there, and a second connection would not see `:memory:`.
        conn = cast(Any, self._conn)
        return cast(T, await conn._execute(fn, conn._conn))

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement in its own transaction; return the number of rows changed."""
        async with self.transaction() as conn:
            cursor = await conn.execute(sql, params)
            return cursor.rowcount

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Run one write statement for many rows in a single transaction."""
        async with self.transaction() as conn:
            await conn.executemany(sql, rows)

    # A query runs, is read and is closed in one job of the database thread. Through aiosqlite's
    # cursor it would take three jobs, and between them the half-read statement keeps a read
    # transaction open: a write transaction started then by another task of this process cannot
    # wait for a writer in another process (`serve --workers`) and fails at once with
    # SQLITE_BUSY_SNAPSHOT. One job is also a third of the thread round trips.

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        """Run a query and return its first row, or None."""

        def first(raw: sqlite3.Connection) -> Row | None:
            cursor = raw.execute(sql, params)
            try:
                row: Row | None = cursor.fetchone()
                return row
            finally:
                cursor.close()

        return await self._in_thread(first)

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        """Run a query and return all its rows."""

        def every(raw: sqlite3.Connection) -> list[Row]:
            cursor = raw.execute(sql, params)
            try:
                return list(cursor.fetchall())
            finally:
                cursor.close()

        return await self._in_thread(every)

    async def fetchval(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """Run a query and return the first column of its first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]

    async def data_version(self) -> int:
        """A number that changes whenever another connection (another process: `serve
        --workers`, the CLI) commits to the database file; this connection's own commits leave
        it as it is."""
        return int(await self.fetchval("PRAGMA data_version"))

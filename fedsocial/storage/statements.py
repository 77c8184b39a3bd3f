"""Core layer: SQL statements as values, so many writes can run in one database round trip.

The inbox worker collects the writes of a whole batch of activities as `Statement`s and hands
them to `Database.run_in_transaction`, which runs them in the database thread at once: under
load, each separate aiosqlite call waits for a turn of a busy event loop, so the number of
round trips, not the SQL, decides the cost.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Statement:
    """One SQL statement with its parameters."""

    sql: str
    params: tuple[Any, ...] = ()


def run_statements(conn: sqlite3.Connection, statements: Iterable[Statement]) -> None:
    """Execute statements in order on a raw connection (inside the caller's transaction)."""
    for statement in statements:
        conn.execute(statement.sql, statement.params)

"""Inbox layer: what a handler is given (the activity, the services) and what it gives back.

A handler reads what it needs and may call other services (fetch an object, send an Accept
through the outbox), but it does not write to the database itself: it adds its writes, as SQL
`Statement`s, to an `Effects` list. The worker commits the effects of several activities, and
their new states, in one transaction and one round trip to the database thread, so an
activity's writes and the record that it was applied land together (applied exactly once, and
cheaply).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from actors.local import LocalActors
from actors.remote import RemoteActors
from fedsocial.clock import Clock
from fedsocial.config import Config
from fedsocial.federation.http_client import HttpClient
from fedsocial.sanitize import HtmlSanitizer
from fedsocial.storage.database import Database
from fedsocial.storage.statements import Statement
from fedsocial.urls import Urls
from inbox.early_deletes import EarlyDeletes
from outbox.service import Outbox


class Outcome(enum.Enum):
    """How applying an activity ended (the stored state it gets)."""

    APPLIED = "applied"
    UNSUPPORTED = "unsupported"


@dataclass(frozen=True, slots=True)
class Received:
    """A stored activity on its way to a handler; `document` is already normalised."""

    seq: int
    activity_id: str
    type: str
    actor: str
    signer: str | None
    inbox: str
    document: dict[str, Any]
    received_at: float


@dataclass(frozen=True, slots=True)
class Services:
    """Everything handlers may use, built once per application."""

    db: Database
    urls: Urls
    clock: Clock
    config: Config
    local_actors: LocalActors
    remote_actors: RemoteActors
    http_client: HttpClient
    outbox: Outbox
    sanitizer: HtmlSanitizer
    early_deletes: EarlyDeletes

    @property
    def local_actor_prefix(self) -> str:
        """What every local user actor id starts with (``base/users/``)."""
        return f"{self.urls.base}/users/"


class Effects:
    """The writes one activity asks for, run in order inside the worker's transaction."""

    __slots__ = ("_statements",)

    def __init__(self) -> None:
        self._statements: list[Statement] = []

    def add(self, statement: Statement) -> None:
        """Queue one statement."""
        self._statements.append(statement)

    def extend(self, statements: Iterable[Statement]) -> None:
        """Queue several statements, in order."""
        self._statements.extend(statements)

    def __iter__(self) -> Iterator[Statement]:
        return iter(self._statements)

    def __len__(self) -> int:
        return len(self._statements)


Handler = Callable[[Services, Received, Effects], Awaitable[Outcome]]

"""Inbox layer: picks the handler of an activity by its type (and its object's type).

Registration is strict: a second handler for the same (type, object type) is a programming
error and raises at start-up. Lookup tries the exact (type, object type) first, then the
handler registered for the type alone. For an Undo whose object is a bare id, the undone
activity's type is read from the activities we stored when we received it.
"""

from __future__ import annotations

from typing import Any

from fedsocial.activity_json import first_str
from fedsocial.storage import inbox_queue
from fedsocial.storage.database import Database
from inbox.context import Handler

ANY = "*"


def type_of(value: Any) -> str | None:
    """The first string `type` of an embedded object, or None for a bare id or odd value."""
    if isinstance(value, dict):
        return first_str(value.get("type"))
    return None


class Router:
    """Maps (activity type, object type) to exactly one handler."""

    def __init__(self) -> None:
        self._handlers: dict[tuple[str, str], Handler] = {}

    def register(self, activity_type: str, handler: Handler, *, object_type: str = ANY) -> None:
        """Register `handler`; raise ValueError if that pair already has one."""
        key = (activity_type, object_type)
        if key in self._handlers:
            raise ValueError(f"a handler for {activity_type}{{{object_type}}} is already there")
        self._handlers[key] = handler

    def registered(self) -> list[tuple[str, str]]:
        """Every registered (activity type, object type) pair, sorted."""
        return sorted(self._handlers)

    async def resolve(
        self, db: Database, activity_type: str, document: dict[str, Any]
    ) -> Handler | None:
        """The handler for this activity, or None when we do not support it."""
        obj = document.get("object")
        object_type = type_of(obj)
        if object_type is None and activity_type == "Undo" and isinstance(obj, str):
            stored = await inbox_queue.get(db, obj)
            object_type = stored.type if stored is not None else None
        if object_type is not None:
            exact = self._handlers.get((activity_type, object_type))
            if exact is not None:
                return exact
        return self._handlers.get((activity_type, ANY))

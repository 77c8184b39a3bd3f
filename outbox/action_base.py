"""Outbox layer: what every action shares — the outbox state it needs and object lookups."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from actors.local import LocalActor, LocalActors
from fedsocial.activity_json import get_id, get_ids
from fedsocial.clock import Clock
from fedsocial.errors import Forbidden, NotFound, ValidationError
from fedsocial.storage import follows, objects
from fedsocial.storage.database import Database
from fedsocial.urls import Urls
from outbox.addressing import Visibility, visibility_of
from outbox.recipients import ActorDirectory


@dataclasses.dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What an action needs to know of an object it reacts to."""

    id: str
    author: str
    visibility: Visibility
    type: str
    conversation: str | None


class ActionBase:
    """State and lookups shared by the action mixins; `outbox.service.Outbox` provides them."""

    """High-level actions; `outbox.service.Outbox` provides the state and `send`."""

    db: Database
    urls: Urls
    clock: Clock
    remote_actors: ActorDirectory
    local_actors: LocalActors
    fetch_object: Callable[[str], Awaitable[dict[str, Any]]] | None

    async def send(
        self,
        actor: LocalActor,
        activity: dict[str, Any],
        *,
        extra_recipients: Sequence[str] = (),
        inboxes: Sequence[str] = (),
    ) -> None:
        """Publish an activity (implemented by `Outbox`)."""
        raise NotImplementedError

    def new_id(self) -> str:
        """A fresh id (implemented by `Outbox`)."""
        raise NotImplementedError

    def activity_id(self, actor: LocalActor) -> str:
        """A fresh activity id (implemented by `Outbox`)."""
        raise NotImplementedError

    async def object_info(self, object_id: str, *, viewer: str | None = None) -> ObjectInfo:
        """Author, visibility and conversation of an object: stored, else fetched.

        With `viewer` (the acting actor's id), a stored followers-only or direct object that
        `viewer` may not see is NotFound, as if it did not exist (Mastodon answers 404 too).
        """
        row = await objects.get(self.db, object_id)
        if row is not None and row.deleted:
            raise NotFound(f"{object_id} was deleted")
        if row is not None and row.attributed_to:
            if viewer is not None and not await self._may_see(viewer, row):
                raise NotFound(f"{object_id} is not known here")
            return ObjectInfo(
                object_id, row.attributed_to, Visibility(row.visibility), row.type, row.conversation
            )
        if self.fetch_object is None:
            raise NotFound(f"{object_id} is not known here")
        document = await self.fetch_object(object_id)
        author = get_id(document.get("attributedTo")) or get_id(document.get("actor"))
        if author is None or get_id(document.get("id")) != object_id:
            raise ValidationError(f"{object_id} has no author")
        conversation = get_id(document.get("context")) or get_id(document.get("conversation"))
        return ObjectInfo(
            object_id, author, visibility_of(document), str(document.get("type")), conversation
        )

    async def _may_see(self, viewer: str, row: objects.ObjectRow) -> bool:
        if row.visibility in (Visibility.PUBLIC.value, Visibility.UNLISTED.value):
            return True
        if viewer == row.attributed_to:
            return True
        document = row.document
        if viewer in set(get_ids(document.get("to"))) | set(get_ids(document.get("cc"))):
            return True
        if row.visibility == Visibility.FOLLOWERS.value and row.attributed_to:
            return await follows.get_state(self.db, viewer, row.attributed_to) == "accepted"
        return False

    async def _own_object(self, actor: LocalActor, object_id: str) -> objects.ObjectRow:
        row = await objects.get(self.db, object_id)
        if row is None or row.deleted:
            raise NotFound(f"{object_id} is not a live object here")
        if row.attributed_to != self.urls.actor(actor.name):
            raise Forbidden(f"{object_id} does not belong to {actor.name}")
        return row

"""Outbox layer: publish one activity — store it, its object and its deliveries, then wake workers.

`Publisher.send` is the single way an activity leaves a local actor. In one transaction it
stores the object a Create/Update carries (or tombstones what a Delete removes), the activity
(with ``@context``, without ``bto``/``bcc``, which are never shown to recipients) and one
`deliveries` row per remote inbox; local recipients get the activity straight in the inbox
queue (signer = the sender) in the same transaction, so a crash loses nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from fedsocial.activity_json import get_id
from fedsocial.clock import Clock, parse_iso
from fedsocial.errors import ValidationError
from fedsocial.storage import activities, deliveries, inbox_queue, objects, timeline
from fedsocial.storage.database import Database
from fedsocial.storage.deliveries import NewDelivery
from fedsocial.storage.inbox_queue import NewActivity
from fedsocial.storage.objects import ObjectRow
from fedsocial.storage.statements import Statement
from fedsocial.urls import Urls
from outbox.addressing import visibility_of
from outbox.recipients import (
    ActorDirectory,
    DomainBlockList,
    RecipientResolver,
    Recipients,
    inbox_host,
)
from outbox.signing import ACTIVITY_CONTEXT as ACTIVITY_CONTEXT  # re-exported

# Signs a document about to be stored: (document, visibility) -> signed copy.
DocumentSigner = Callable[[dict[str, Any], str], dict[str, Any]]

ACTOR_TYPES = frozenset({"Person", "Service", "Group", "Application", "Organization"})
_PRIVATE_FIELDS = ("bto", "bcc")


def _without_private_addressing(document: dict[str, Any]) -> dict[str, Any]:
    """A copy without bto/bcc, on the activity and on an embedded object."""
    clean = {k: v for k, v in document.items() if k not in _PRIVATE_FIELDS}
    obj = clean.get("object")
    if isinstance(obj, dict):
        clean["object"] = {k: v for k, v in obj.items() if k not in _PRIVATE_FIELDS}
    return clean


def _timestamp(value: Any, default: float) -> float:
    if isinstance(value, str):
        try:
            return parse_iso(value)
        except ValueError:
            return default
    return default


class Publisher:
    """Stores and queues activities of local actors."""

    def __init__(
        self,
        db: Database,
        urls: Urls,
        clock: Clock,
        *,
        remote_actors: ActorDirectory,
        domain_blocks: DomainBlockList | None = None,
        on_queued: Callable[[], None] = lambda: None,
    ) -> None:
        self._db = db
        self._urls = urls
        self._clock = clock
        self._resolver = RecipientResolver(db, urls, remote_actors, domain_blocks=domain_blocks)
        self._on_queued = on_queued

    async def send(
        self,
        sender: str,
        activity: dict[str, Any],
        *,
        extra_recipients: Sequence[str] = (),
        inboxes: Sequence[str] = (),
        signer: DocumentSigner | None = None,
    ) -> Recipients:
        """Store `activity` by local actor `sender` and queue it for every recipient.

        With `signer`, the document (with its @context, without bto/bcc) is signed once here,
        then stored and delivered as signed. `inboxes` are remote inboxes to deliver to as well
        (a relay's inbox, which is no actor's). Returns the recipients it was queued for. Raises
        ValidationError when the activity has no id or names another actor.
        """
        activity_id = get_id(activity.get("id"))
        if activity_id is None or not self._urls.is_local(activity_id):
            raise ValidationError("an activity we send needs a local id")
        if get_id(activity.get("actor")) != sender:
            raise ValidationError("the activity's actor must be the sender")
        recipients = await self._resolver.resolve(sender, activity, extra=extra_recipients)
        if inboxes:
            remote = dict.fromkeys((*recipients.remote_inboxes, *inboxes))
            recipients = Recipients(recipients.local_inboxes, tuple(remote))
        document = _without_private_addressing(activity)
        document = {"@context": activity.get("@context", ACTIVITY_CONTEXT), **document}
        now = self._clock.now()
        visibility = visibility_of(document, followers_urls=(f"{sender}/followers",)).value
        if signer is not None:
            document = signer(document, visibility)
        async with self._db.transaction() as conn:
            await self._store_object(conn, sender, document, now=now)
            await activities.insert_in(
                conn,
                document,
                actor=sender,
                object_id=get_id(document.get("object")),
                visibility=visibility,
                published=_timestamp(document.get("published"), now),
            )
            await deliveries.enqueue_in(
                conn,
                activity_id,
                sender,
                [NewDelivery(inbox, inbox_host(inbox)) for inbox in recipients.remote_inboxes],
                now=now,
            )
            for statement in self._home_timeline(sender, document, now=now):
                await conn.execute(statement.sql, statement.params)
            await self._store_local(conn, sender, document, recipients, now=now)
        if recipients.remote_inboxes:
            self._on_queued()
        return recipients

    async def _store_object(
        self, conn: Any, sender: str, document: dict[str, Any], *, now: float
    ) -> None:
        kind = document.get("type")
        obj = document.get("object")
        if kind == "Delete":
            object_id = get_id(obj)
            if object_id is not None and self._urls.is_local(object_id):
                await objects.tombstone_in(conn, object_id, deleted_at=now)
            return
        if kind not in ("Create", "Update") or not isinstance(obj, dict):
            return
        object_id = get_id(obj.get("id"))
        if object_id is None or obj.get("type") in ACTOR_TYPES:
            return
        if not self._urls.is_local(object_id) or get_id(obj.get("attributedTo")) != sender:
            raise ValidationError("we only create or update our own objects")
        row = ObjectRow(
            id=object_id,
            type=str(obj.get("type", "Note")),
            attributed_to=sender,
            local=True,
            visibility=visibility_of(obj, followers_urls=(f"{sender}/followers",)).value,
            in_reply_to=get_id(obj.get("inReplyTo")),
            conversation=get_id(obj.get("context")) or get_id(obj.get("conversation")),
            document=obj,
            published=_timestamp(obj.get("published"), now),
            updated=_timestamp(obj["updated"], now) if "updated" in obj else None,
            deleted_at=None,
        )
        await objects.upsert_in(conn, row, now=now)

    def _home_timeline(
        self, sender: str, document: dict[str, Any], *, now: float
    ) -> list[Statement]:
        """The sender's own home timeline lines this activity adds or takes away.

        As on Mastodon, a local actor sees what it posts (every visibility: it wrote it) and
        what it boosts. A Delete needs nothing here (tombstoning clears every timeline), and
        neither does an Update (lines point at the object, which now holds the new version).
        """
        name = self._urls.local_actor_name(sender)
        kind = document.get("type")
        obj = document.get("object")
        activity_id = str(document["id"])
        if name is None:
            return []
        if kind == "Create" and isinstance(obj, dict) and obj.get("type") not in ACTOR_TYPES:
            object_id = get_id(obj.get("id"))
            if object_id is None:
                return []
            return [
                timeline.add(name, object_id, boosted_by=None, activity_id=activity_id, now=now)
            ]
        if kind == "Announce":
            boosted = get_id(obj)
            if boosted is None:
                return []
            # Not a second line when the post is already there (Mastodon does not re-insert a
            # boost of a post near the top of the feed either).
            return [
                timeline.add(
                    name,
                    boosted,
                    boosted_by=sender,
                    activity_id=activity_id,
                    now=now,
                    unless_listed=True,
                )
            ]
        if kind == "Undo" and isinstance(obj, dict) and obj.get("type") == "Announce":
            boosted = get_id(obj.get("object"))
            # The boost leaves every timeline, as an Undo{Announce} received from elsewhere does.
            return [] if boosted is None else [timeline.remove_boost(sender, boosted)]
        return []

    async def _store_local(
        self,
        conn: Any,
        sender: str,
        document: dict[str, Any],
        recipients: Recipients,
        *,
        now: float,
    ) -> None:
        if not recipients.local_inboxes:
            return
        # The inbox queue keeps one row per activity id: with several local recipients the
        # activity goes to the shared inbox, whose handlers find every local recipient.
        inbox = (
            recipients.local_inboxes[0]
            if len(recipients.local_inboxes) == 1
            else self._urls.shared_inbox
        )
        item = NewActivity(
            activity_id=str(document["id"]),
            type=str(document.get("type", "")),
            actor=sender,
            signer=sender,
            inbox=inbox,
            raw=json.dumps(document, ensure_ascii=False),
        )
        await inbox_queue.store_in(conn, item, now=now)

"""Outbox layer: what a person does — post, edit, delete, follow, like, boost, block, move.

Each action builds its activity with `outbox.compose`, records local state (a pending follow,
a block, a new profile) and publishes through `send`. Used by the CLI, C2S and the inbox.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from actors.documents import actor_document
from actors.local import LocalActor, LocalActors
from fedsocial.activity_json import AS_PUBLIC, get_id, get_ids
from fedsocial.clock import Clock, iso
from fedsocial.errors import FedsocialError, Forbidden, NotFound, ValidationError
from fedsocial.storage import activities, blocks, follows, local_actors, objects
from fedsocial.storage.database import Database
from fedsocial.urls import Urls
from outbox import compose
from outbox.addressing import Visibility, visibility_of
from outbox.compose import NoteDraft
from outbox.recipients import ActorDirectory
from outbox.text import ResolvedMention, extract_mentions


@dataclasses.dataclass(frozen=True, slots=True)
class ObjectInfo:
    """What an action needs to know of an object it reacts to."""

    id: str
    author: str
    visibility: Visibility
    type: str
    conversation: str | None


class OutboxActions:
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
    ) -> None:
        """Publish an activity (implemented by `Outbox`)."""
        raise NotImplementedError

    def new_id(self) -> str:
        """A fresh id (implemented by `Outbox`)."""
        raise NotImplementedError

    def activity_id(self, actor: LocalActor) -> str:
        """A fresh activity id (implemented by `Outbox`)."""
        raise NotImplementedError

    # --- posts ----------------------------------------------------------------------------

    async def post(
        self, actor: LocalActor, draft: NoteDraft, *, audience: Sequence[str] = ()
    ) -> str:
        """Publish a Note from `draft`; return its id.

        Mentions in the text are resolved (local names directly, `@user@host` by WebFinger);
        an unresolvable mention stays plain text. A reply mentions and cc's the replied-to
        author and joins its conversation. `audience` adds actors to address (C2S clients
        name them in to/cc): to `to` for a direct post, else to `cc`.
        """
        actor_id = self.urls.actor(actor.name)
        mentions = await self.resolve_mentions(draft.text)
        draft = dataclasses.replace(draft, mentions=mentions)
        if draft.in_reply_to:
            parent = await self.object_info(draft.in_reply_to)
            draft = dataclasses.replace(
                draft,
                in_reply_to_author=parent.author,
                conversation=draft.conversation or parent.conversation,
            )
            draft = await self._mention_replied_author(draft, actor_id=actor_id)
        status_id = self.new_id()
        object_id = self.urls.status(actor.name, status_id)
        published = iso(self.clock.now())
        if not draft.conversation:
            draft = dataclasses.replace(draft, conversation=f"{object_id}#context")
        note = self._note(actor, draft, object_id=object_id, published=published)
        field = "to" if draft.visibility is Visibility.DIRECT else "cc"
        present = set(note["to"]) | set(note["cc"])
        note[field] = [*note[field], *(iri for iri in audience if iri not in present)]
        create = compose.build_create(note, activity_id=self.activity_id(actor), actor_id=actor_id)
        await self.send(actor, create)
        return object_id

    async def edit(self, actor: LocalActor, object_id: str, text: str) -> str:
        """Replace the text of one of `actor`'s notes and send an Update with `updated`."""
        row = await self._own_object(actor, object_id)
        doc = row.document
        draft = NoteDraft(
            text=text,
            visibility=Visibility(row.visibility),
            content_warning=doc.get("summary") if isinstance(doc.get("summary"), str) else None,
            language=next(iter(doc["contentMap"]), None)
            if isinstance(doc.get("contentMap"), dict)
            else None,
            in_reply_to=row.in_reply_to,
            in_reply_to_author=None,
            mentions=await self.resolve_mentions(text),
            conversation=row.conversation,
        )
        if row.in_reply_to:
            # The edited reply keeps mentioning the replied-to author, as the original did.
            try:
                parent = await self.object_info(row.in_reply_to)
            except FedsocialError:
                pass  # the parent is gone: the edit still goes out, with the text's mentions
            else:
                draft = await self._mention_replied_author(
                    dataclasses.replace(draft, in_reply_to_author=parent.author),
                    actor_id=self.urls.actor(actor.name),
                )
        note = self._note(actor, draft, object_id=object_id, published=str(doc.get("published")))
        # Keep the original audience (a reply's parent author stays cc'd).
        note["to"], note["cc"] = doc.get("to", note["to"]), doc.get("cc", note["cc"])
        # `updated` must move forward even within one second, or the edit would be ignored.
        last = row.updated or row.published or 0.0
        updated = iso(max(self.clock.now(), last + 1.0))
        update = compose.build_update(
            note,
            activity_id=self.activity_id(actor),
            actor_id=self.urls.actor(actor.name),
            updated=updated,
        )
        await self.send(actor, update)
        return str(update["id"])

    async def delete(self, actor: LocalActor, object_id: str) -> str:
        """Delete one of `actor`'s objects: a Tombstone stays at its id, a Delete goes out."""
        row = await self._own_object(actor, object_id)
        to = get_ids(row.document.get("to")) or [AS_PUBLIC]
        cc = get_ids(row.document.get("cc"))
        delete = compose.build_delete(
            object_id,
            activity_id=self.activity_id(actor),
            actor_id=self.urls.actor(actor.name),
            to=to,
            cc=cc,
        )
        await self.send(actor, delete)
        return str(delete["id"])

    # --- relationships --------------------------------------------------------------------

    async def follow(self, actor: LocalActor, target_id: str) -> str:
        """Ask to follow `target_id`: a pending follow is recorded until an Accept arrives.

        Returns the Follow's id.
        """
        actor_id = self.urls.actor(actor.name)
        if target_id == actor_id:
            raise ValidationError("an actor cannot follow itself")
        follow = compose.build_follow(
            target_id, activity_id=self.activity_id(actor), actor_id=actor_id
        )
        state = await follows.get_state(self.db, actor_id, target_id)
        await follows.upsert(
            self.db,
            actor_id,
            target_id,
            activity_id=follow["id"],
            state=state or "pending",
            now=self.clock.now(),
        )
        await self.send(actor, follow, extra_recipients=[target_id])
        return str(follow["id"])

    async def unfollow(self, actor: LocalActor, target_id: str) -> str:
        """Stop following (or cancel the request to follow) `target_id`; send Undo{Follow}."""
        actor_id = self.urls.actor(actor.name)
        follow_id = await follows.get_activity_id(self.db, actor_id, target_id)
        if await follows.get_state(self.db, actor_id, target_id) is None:
            raise NotFound(f"{actor.name} does not follow {target_id}")
        await follows.delete(self.db, actor_id, target_id)
        original = {
            "id": follow_id or f"{actor_id}#follows/{target_id}",
            "type": "Follow",
            "actor": actor_id,
            "object": target_id,
        }
        undo = compose.build_undo(original, activity_id=self.activity_id(actor), actor_id=actor_id)
        await self.send(actor, undo, extra_recipients=[target_id])
        return str(undo["id"])

    async def block(self, actor: LocalActor, target_id: str) -> str:
        """Block `target_id`: follows both ways end, the Block is sent to them, and nothing of
        ours is delivered to them any more."""
        actor_id = self.urls.actor(actor.name)
        block = compose.build_block(
            target_id, activity_id=self.activity_id(actor), actor_id=actor_id
        )
        # Send first: once the block is recorded, the recipient filter skips the target.
        await self.send(actor, block, extra_recipients=[target_id])
        async with self.db.transaction() as conn:
            await blocks.add(
                conn, actor_id, target_id, activity_id=block["id"], now=self.clock.now()
            )
            await follows.delete_in(conn, actor_id, target_id)
            await follows.delete_in(conn, target_id, actor_id)
        return str(block["id"])

    async def unblock(self, actor: LocalActor, target_id: str) -> str:
        """Lift a block of `target_id` and send Undo{Block}."""
        actor_id = self.urls.actor(actor.name)
        original = await activities.find_local(self.db, actor_id, "Block", target_id)
        async with self.db.transaction() as conn:
            removed = await blocks.remove(conn, actor_id, target_id)
        if not removed:
            raise NotFound(f"{actor.name} does not block {target_id}")
        original = original or {
            "id": f"{actor_id}#blocks/{target_id}",
            "type": "Block",
            "actor": actor_id,
            "object": target_id,
        }
        undo = compose.build_undo(original, activity_id=self.activity_id(actor), actor_id=actor_id)
        await self.send(actor, undo, extra_recipients=[target_id])
        return str(undo["id"])

    # --- reactions ------------------------------------------------------------------------

    async def like(self, actor: LocalActor, object_id: str) -> str:
        """Like (favourite) an object; its author is told. Returns the Like's id."""
        actor_id = self.urls.actor(actor.name)
        existing = await activities.find_local(self.db, actor_id, "Like", object_id)
        if existing is not None:
            return str(existing["id"])
        info = await self.object_info(object_id)
        like = compose.build_like(object_id, activity_id=self.activity_id(actor), actor_id=actor_id)
        await self.send(actor, like, extra_recipients=[info.author])
        return str(like["id"])

    async def unlike(self, actor: LocalActor, object_id: str) -> str:
        """Take a like back with Undo{Like}."""
        return await self._undo_reaction(actor, "Like", object_id)

    async def boost(self, actor: LocalActor, object_id: str) -> str:
        """Boost (Announce) a public or unlisted object to our followers, cc'ing its author."""
        actor_id = self.urls.actor(actor.name)
        existing = await activities.find_local(self.db, actor_id, "Announce", object_id)
        if existing is not None:
            return str(existing["id"])
        info = await self.object_info(object_id)
        if info.visibility not in (Visibility.PUBLIC, Visibility.UNLISTED):
            raise Forbidden("only public and unlisted posts can be boosted")
        announce = compose.build_announce(
            object_id,
            activity_id=self.activity_id(actor),
            actor_id=actor_id,
            object_author=info.author,
            visibility=Visibility.PUBLIC,
            followers_url=self.urls.followers(actor.name),
            published=iso(self.clock.now()),
        )
        await self.send(actor, announce)
        return str(announce["id"])

    async def unboost(self, actor: LocalActor, object_id: str) -> str:
        """Take a boost back with Undo{Announce} (sent to the same audience)."""
        return await self._undo_reaction(actor, "Announce", object_id)

    async def _undo_reaction(self, actor: LocalActor, kind: str, object_id: str) -> str:
        actor_id = self.urls.actor(actor.name)
        original = await activities.find_local(self.db, actor_id, kind, object_id)
        if original is None:
            raise NotFound(f"{actor.name} has no {kind} of {object_id}")
        info = await self.object_info(object_id)
        undo = compose.build_undo(original, activity_id=self.activity_id(actor), actor_id=actor_id)
        await self.send(actor, undo, extra_recipients=[info.author])
        # The original leaves our outbox, so a second undo finds nothing to take back.
        await activities.delete(self.db, str(original["id"]))
        return str(undo["id"])

    # --- profile --------------------------------------------------------------------------

    async def update_profile(
        self,
        actor: LocalActor,
        *,
        display_name: str | None = None,
        summary: str | None = None,
        also_known_as: tuple[str, ...] | None = None,
    ) -> LocalActor:
        """Change the profile and send Update{Person} to followers; return the new actor."""
        await local_actors.update_profile(
            self.db,
            actor.name,
            display_name=display_name,
            summary=summary,
            also_known_as=also_known_as,
            updated_at=self.clock.now(),
        )
        return await self._announce_profile(actor.name)

    async def move(self, actor: LocalActor, target_id: str) -> None:
        """Move `actor` to `target_id`: the target must list us in `alsoKnownAs` (a local target
        gets it set first), then `movedTo` is set and Move goes to our followers."""
        actor_id = self.urls.actor(actor.name)
        await self._ensure_alias(actor_id, target_id)
        await local_actors.update_profile(
            self.db,
            actor.name,
            display_name=None,
            summary=None,
            moved_to=target_id,
            updated_at=self.clock.now(),
        )
        moved = await self._announce_profile(actor.name)
        move = compose.build_move(
            actor_id,
            target_id,
            activity_id=self.activity_id(moved),
            followers_url=self.urls.followers(actor.name),
        )
        await self.send(moved, move)

    async def _ensure_alias(self, actor_id: str, target_id: str) -> None:
        name = self.urls.local_actor_name(target_id)
        if name is not None:
            target = await self.local_actors.require(name)
            if actor_id not in target.row.also_known_as:
                await self.update_profile(
                    target, also_known_as=(*target.row.also_known_as, actor_id)
                )
            return
        remote = await self.remote_actors.get(target_id)
        document = getattr(remote, "document", {})
        if actor_id not in get_ids(
            document.get("alsoKnownAs") if isinstance(document, dict) else None
        ):
            raise ValidationError(f"{target_id} does not list {actor_id} in alsoKnownAs")

    async def _announce_profile(self, name: str) -> LocalActor:
        self.local_actors.forget(name)
        actor = await self.local_actors.require(name)
        document = actor_document(actor, self.urls)
        document.pop("@context", None)
        update = compose.build_update(
            document,
            activity_id=self.activity_id(actor),
            actor_id=self.urls.actor(name),
            updated=iso(self.clock.now()),
            to=[AS_PUBLIC],
            cc=[self.urls.followers(name)],
        )
        await self.send(actor, update)
        return actor

    # --- lookups --------------------------------------------------------------------------

    async def resolve_mentions(self, text: str) -> tuple[ResolvedMention, ...]:
        """Resolve each `@user` / `@user@host` in `text`; unknown ones are left out."""
        found: list[ResolvedMention] = []
        domain = self.urls.base.split("://", 1)[1]
        for handle in extract_mentions(text):
            user, _, host = handle.partition("@")
            try:
                if not host or host.lower() == domain:
                    local = await self.local_actors.get(user.lower())
                    if local is None or local.is_instance:
                        continue
                    actor_id = self.urls.actor(local.name)
                    found.append(ResolvedMention(handle, actor_id, self.urls.profile(local.name)))
                    continue
                remote = await self.remote_actors.by_handle(f"@{handle}")
            except FedsocialError:
                continue  # an unknown account stays plain text, as on Mastodon
            url = getattr(remote, "url", None)
            found.append(
                ResolvedMention(handle, remote.id, url if isinstance(url, str) else remote.id)
            )
        return tuple(found)

    async def _mention_replied_author(self, draft: NoteDraft, *, actor_id: str) -> NoteDraft:
        """Add the replied-to author to the draft's mentions (a Mention tag, not only cc).

        Mastodon and others notify a reply's author from the Mention tags, so a reply that
        only cc's its author arrives silently. A direct reply reaches only the people it names,
        and a reply to oneself mentions nobody.
        """
        author = draft.in_reply_to_author
        if author is None or author == actor_id or draft.visibility is Visibility.DIRECT:
            return draft
        if any(mention.actor_id == author for mention in draft.mentions):
            return draft
        try:
            known = await self.remote_actors.get(author)
        except FedsocialError:
            return draft  # unreachable now: the author is still cc'd, just not tagged
        if not known.preferred_username:
            return draft
        mention = ResolvedMention(
            f"{known.preferred_username}@{known.domain}", known.id, known.url or known.id
        )
        return dataclasses.replace(draft, mentions=(*draft.mentions, mention))

    async def object_info(self, object_id: str) -> ObjectInfo:
        """Author, visibility and conversation of an object: stored, else fetched."""
        row = await objects.get(self.db, object_id)
        if row is not None and row.deleted:
            raise NotFound(f"{object_id} was deleted")
        if row is not None and row.attributed_to:
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

    async def _own_object(self, actor: LocalActor, object_id: str) -> objects.ObjectRow:
        row = await objects.get(self.db, object_id)
        if row is None or row.deleted:
            raise NotFound(f"{object_id} is not a live object here")
        if row.attributed_to != self.urls.actor(actor.name):
            raise Forbidden(f"{object_id} does not belong to {actor.name}")
        return row

    def _note(
        self, actor: LocalActor, draft: NoteDraft, *, object_id: str, published: str
    ) -> dict[str, Any]:
        note = compose.build_note(
            draft,
            object_id=object_id,
            actor_id=self.urls.actor(actor.name),
            followers_url=self.urls.followers(actor.name),
            published=published,
            url=f"{self.urls.profile(actor.name)}/{object_id.rsplit('/', 1)[-1]}",
            tag_base_url=self.urls.tag_base,
        )
        note["replies"] = f"{object_id}/replies"
        note["likes"] = f"{object_id}/likes"
        note["shares"] = f"{object_id}/shares"
        return note

"""Outbox layer: follows, blocks, likes and boosts, and taking them back."""

from __future__ import annotations

from actors.local import LocalActor
from fedsocial.clock import iso
from fedsocial.errors import FedsocialError, Forbidden, NotFound, ValidationError
from fedsocial.storage import activities, blocks, deliveries, follows, notifications, timeline
from outbox import compose
from outbox.action_base import ActionBase
from outbox.addressing import Visibility


class SocialActions(ActionBase):
    """Follow, unfollow, block, unblock, like, unlike, boost and unboost."""

    async def follow(self, actor: LocalActor, target_id: str) -> str:
        """Ask to follow `target_id`: a pending follow is recorded until an Accept arrives.

        Returns the Follow's id. The target must resolve to an actor (NotFound, ValidationError
        or FetchError otherwise, with nothing stored): a follow of something unreachable would
        stay pending forever, with no delivery to retry. Forbidden when either blocks the other
        or the target moved away (as on Mastodon): our block would stop the Follow's delivery,
        theirs its Accept, and a moved account rejects every Follow.
        """
        actor_id = self.urls.actor(actor.name)
        if target_id == actor_id:
            raise ValidationError("an actor cannot follow itself")
        if await blocks.is_blocked(self.db, actor_id, target_id):
            raise Forbidden(f"{actor.name} blocks {target_id}: unblock first")
        if await blocks.is_blocked(self.db, target_id, actor_id):
            raise Forbidden(f"{target_id} blocks {actor.name}")
        target = await self.remote_actors.get(target_id)
        moved_to = getattr(target, "moved_to", None)  # the actors layer's RemoteActor has it
        if moved_to:
            raise Forbidden(f"{target_id} moved to {moved_to}: follow that account")
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
        """Block `target_id`: follows both ways end, their posts and notifications leave ours,
        the Block is sent to them, and nothing of ours is delivered to them any more.

        A remote target need not be reachable (blocking someone whose server is down must
        work), but it must be an http(s) URL; a local one must exist (NotFound otherwise).
        """
        actor_id = self.urls.actor(actor.name)
        if target_id == actor_id:
            raise ValidationError("an actor cannot block itself")
        if not target_id.startswith(("https://", "http://")):
            raise ValidationError(f"not an actor URL: {target_id[:100]!r}")
        if self.urls.is_local(target_id):
            await self.remote_actors.get(target_id)
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
            # As Mastodon: the blocked account leaves the home timeline and the notifications.
            for hide in (
                timeline.remove_author_for(actor.name, target_id),
                notifications.remove_from_for(actor.name, target_id),
            ):
                await conn.execute(hide.sql, hide.params)
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
        info = await self.object_info(object_id, viewer=actor_id)
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
        info = await self.object_info(object_id, viewer=actor_id)
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
        undo = compose.build_undo(original, activity_id=self.activity_id(actor), actor_id=actor_id)
        try:
            info = await self.object_info(object_id)
        except FedsocialError:
            # The object was deleted or its server is unreachable: the reaction must still be
            # taken back, so the Undo goes to the inboxes the original was delivered to.
            sent = await deliveries.list_rows(self.db, activity_id=str(original["id"]))
            await self.send(actor, undo, inboxes=[row.inbox for row in sent])
        else:
            await self.send(actor, undo, extra_recipients=[info.author])
        # The original leaves our outbox, so a second undo finds nothing to take back.
        await activities.delete(self.db, str(original["id"]))
        return str(undo["id"])

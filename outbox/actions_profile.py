"""Outbox layer: profile changes (Update of the actor) and moving to another account."""

from __future__ import annotations

from actors.documents import actor_document
from actors.local import LocalActor
from fedsocial.activity_json import AS_PUBLIC, get_ids
from fedsocial.clock import iso
from fedsocial.errors import ValidationError
from fedsocial.storage import local_actors
from outbox import compose
from outbox.action_base import ActionBase


class ProfileActions(ActionBase):
    """Update the profile, and move to another account."""

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
        gets it set first), then `movedTo` is set and Move goes to our followers.

        ValidationError for a move to the actor itself (as Mastodon refuses it).
        """
        actor_id = self.urls.actor(actor.name)
        if target_id == actor_id:
            raise ValidationError("an actor cannot move to itself")
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

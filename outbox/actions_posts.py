"""Outbox layer: posting, editing and deleting notes, with mentions resolved like Mastodon."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import Sequence
from typing import Any, Final

from actors.local import LocalActor
from fedsocial.activity_json import AS_PUBLIC, check_sendable_text, get_ids, unique
from fedsocial.clock import iso
from fedsocial.errors import FedsocialError, ValidationError
from outbox import compose
from outbox.action_base import ActionBase
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.text import ResolvedMention, extract_mentions

# A BCP 47 language tag's shape (``en``, ``pt-BR``, ``zh-Hant-TW``); Mastodon drops others.
# At most 35 characters, the length RFC 5646 §4.4.1 asks every implementation to accept.
_LANGUAGE_RE = re.compile(r"(?=.{2,35}\Z)[A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*")

MAX_TEXT_CHARS: Final = 100_000
"""The longest text (or content warning) a post may have, in characters. Far above Mastodon's
500, but it bounds the work of rendering before the size check below can run."""

MAX_ACTIVITY_BYTES: Final = 1024 * 1024 - 64 * 1024
"""The largest Create or Update of a note we send, as stored (UTF-8 JSON). Inboxes refuse bodies
over 1 MiB (ours too, DESIGN.md §3) with a final 413, so a larger post would reach nobody; the
rest is room for ``@context`` and a proof."""


MAX_MENTIONS: Final = 100
"""The most distinct accounts one post may mention: each costs a WebFinger lookup."""

_LOOKUPS_AT_ONCE: Final = 16


def check_text(text: str, *, what: str = "the text of a post") -> None:
    """Refuse text no post may carry: longer than :data:`MAX_TEXT_CHARS`, holding a NUL (peers
    such as Mastodon cannot store it, so the post would be lost there), or a lone surrogate
    (not Unicode: it can be neither stored nor signed)."""
    if len(text) > MAX_TEXT_CHARS:
        raise ValidationError(
            f"{what} is {len(text)} characters long, more than the {MAX_TEXT_CHARS} allowed"
        )
    check_sendable_text(text, what=what)


def check_draft(draft: NoteDraft) -> None:
    """Refuse a draft Mastodon would refuse or mangle: blank text (Mastodon: "Text can't be
    blank"), text, a content warning or a replied-to id :func:`check_text` refuses, or a
    language that is not a BCP 47 tag (it becomes a ``contentMap`` key)."""
    if not draft.text.strip():
        raise ValidationError("the text of a post cannot be blank")
    check_text(draft.text)
    if draft.content_warning:
        check_text(draft.content_warning, what="the content warning")
    if draft.in_reply_to:
        check_text(draft.in_reply_to, what="the id replied to")
    if draft.language is not None and not _LANGUAGE_RE.fullmatch(draft.language):
        raise ValidationError(f"not a language tag: {draft.language[:40]!r} (expected e.g. en)")


def check_size(activity: dict[str, Any]) -> None:
    """Refuse an activity too large for inboxes to accept (see :data:`MAX_ACTIVITY_BYTES`):
    rendered HTML can be many times longer than the text (every URL becomes a link)."""
    size = len(json.dumps(activity, ensure_ascii=False).encode("utf-8"))
    if size > MAX_ACTIVITY_BYTES:
        raise ValidationError(
            f"the post is too long once rendered ({size} bytes, at most {MAX_ACTIVITY_BYTES});"
            " servers would refuse it"
        )


class PostActions(ActionBase):
    """Post, edit and delete notes."""

    async def post(
        self, actor: LocalActor, draft: NoteDraft, *, audience: Sequence[str] = ()
    ) -> str:
        """Publish a Note from `draft`; return its id.

        Mentions in the text are resolved (local names directly, `@user@host` by WebFinger);
        an unresolvable mention stays plain text. A reply mentions and cc's the replied-to
        author and joins its conversation. `audience` adds actors to address (C2S clients
        name them in to/cc): to `to` for a direct post, else to `cc`. Raises ValidationError
        for what `check_draft` refuses or a Create too large to send, before anything is stored.
        """
        check_draft(draft)
        actor_id = self.urls.actor(actor.name)
        mentions = await self.resolve_mentions(draft.text)
        draft = dataclasses.replace(draft, mentions=mentions)
        if draft.in_reply_to:
            parent = await self.object_info(draft.in_reply_to, viewer=actor_id)
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
        check_size(create)
        await self.send(actor, create)
        return object_id

    async def edit(self, actor: LocalActor, object_id: str, text: str) -> str:
        """Replace the text of one of `actor`'s notes and send an Update with `updated`.

        Raises ValidationError for text `check_draft` refuses or an Update too large to send,
        NotFound/Forbidden for an object not `actor`'s.
        """
        if not text.strip():
            raise ValidationError("the text of a post cannot be blank")
        check_text(text)
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
        # Keep the original audience (a reply's parent author stays cc'd), and add accounts the
        # edit newly mentions, as Mastodon does: a tag without an address would never reach them.
        to = unique([*get_ids(doc.get("to")), *note["to"]])
        cc = unique([*get_ids(doc.get("cc")), *note["cc"]])
        note["to"], note["cc"] = to, [iri for iri in cc if iri not in to]
        # `updated` must move forward even within one second, or the edit would be ignored.
        last = row.updated or row.published or 0.0
        updated = iso(max(self.clock.now(), last + 1.0))
        update = compose.build_update(
            note,
            activity_id=self.activity_id(actor),
            actor_id=self.urls.actor(actor.name),
            updated=updated,
        )
        check_size(update)
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

    async def resolve_mentions(self, text: str) -> tuple[ResolvedMention, ...]:
        """Resolve each `@user` / `@user@host` in `text`, in order; unknown ones are left out.

        Lookups run concurrently (a few at a time), so hosts that are down cost about one
        timeout, not one per mention. Raises ValidationError for more than `MAX_MENTIONS`
        distinct handles, before any lookup.
        """
        handles = extract_mentions(text)
        if len(handles) > MAX_MENTIONS:
            raise ValidationError(
                f"a post can mention at most {MAX_MENTIONS} accounts, this one names {len(handles)}"
            )
        gate = asyncio.Semaphore(_LOOKUPS_AT_ONCE)

        async def resolve(handle: str) -> ResolvedMention | None:
            async with gate:
                return await self._resolve_mention(handle)

        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(resolve(handle)) for handle in handles]
        return tuple(found for task in tasks if (found := task.result()) is not None)

    async def _resolve_mention(self, handle: str) -> ResolvedMention | None:
        user, _, host = handle.partition("@")
        try:
            if not host or host.lower() == self.urls.base.split("://", 1)[1]:
                local = await self.local_actors.get(user.lower())
                if local is None or local.is_instance:
                    return None
                actor_id = self.urls.actor(local.name)
                return ResolvedMention(handle, actor_id, self.urls.profile(local.name))
            remote = await self.remote_actors.by_handle(f"@{handle}")
        except FedsocialError:
            return None  # an unknown account stays plain text, as on Mastodon
        url = getattr(remote, "url", None)
        return ResolvedMention(handle, remote.id, url if isinstance(url, str) else remote.id)

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

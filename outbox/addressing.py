"""Outbox layer: visibility and addressing, Mastodon's way (DESIGN.md §3).

A post's visibility decides its ``to`` and ``cc``; reading ``to``/``cc`` back gives the
visibility. Delivery then needs the actual recipients (Public and ourselves dropped) and one
inbox per server where a shared inbox exists.

    visibility  to                  cc
    public      [Public]            [followers, *mentions]
    unlisted    [followers]         [Public, *mentions]
    followers   [followers]         [*mentions]
    direct      [*mentions]         []
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from fedsocial.activity_json import AS_PUBLIC, get_ids, is_public, unique

__all__ = [
    "Addressing",
    "Visibility",
    "address",
    "boost_addressing",
    "dedupe_inboxes",
    "delivery_targets",
    "visibility_of",
]


class Visibility(StrEnum):
    """Who may see a post; the values match Mastodon's API names except ``followers``
    (Mastodon says ``private``)."""

    PUBLIC = "public"
    UNLISTED = "unlisted"
    FOLLOWERS = "followers"
    DIRECT = "direct"


@dataclass(frozen=True, slots=True)
class Addressing:
    """The ``to`` and ``cc`` of an object or activity, each without duplicates."""

    to: tuple[str, ...]
    cc: tuple[str, ...]

    def as_json(self) -> dict[str, list[str]]:
        """Return ``{"to": [...], "cc": [...]}`` ready to merge into an activity."""
        return {"to": list(self.to), "cc": list(self.cc)}


def address(
    visibility: Visibility,
    *,
    followers_url: str,
    mentions: Sequence[str],
) -> Addressing:
    """Return ``to``/``cc`` for a post of ``visibility`` by an actor whose followers collection is
    ``followers_url`` and which mentions the actor ids ``mentions`` (see the module table).

    Duplicates are removed keeping first positions, and an IRI never appears in both lists
    (``to`` wins).
    """
    mentioned = unique(mentions)
    if visibility is Visibility.PUBLIC:
        to, cc = [AS_PUBLIC], [followers_url, *mentioned]
    elif visibility is Visibility.UNLISTED:
        to, cc = [followers_url], [AS_PUBLIC, *mentioned]
    elif visibility is Visibility.FOLLOWERS:
        to, cc = [followers_url], mentioned
    else:
        to, cc = mentioned, []
    to = unique(to)
    in_to = set(to)
    return Addressing(to=tuple(to), cc=tuple(iri for iri in unique(cc) if iri not in in_to))


def boost_addressing(
    visibility: Visibility,
    *,
    followers_url: str,
    object_author: str,
) -> Addressing:
    """Return ``to``/``cc`` for an Announce: like :func:`address` with no mentions, and the
    boosted object's author cc'd first, as Mastodon does. Direct boosts do not exist: a
    ``direct`` visibility raises :class:`ValueError`."""
    if visibility is Visibility.DIRECT:
        raise ValueError("a direct post cannot be boosted")
    base = address(visibility, followers_url=followers_url, mentions=())
    cc = unique([object_author, *base.cc])
    return Addressing(to=base.to, cc=tuple(iri for iri in cc if iri not in base.to))


def visibility_of(
    obj_or_activity: Mapping[str, Any],
    *,
    followers_urls: Collection[str] = (),
) -> Visibility:
    """Derive the visibility of an object or activity from its ``to``/``cc``, as Mastodon does
    when it receives a Create.

    Public in ``to`` means public; else Public in ``cc`` means unlisted; else a followers
    collection in ``to`` — one of ``followers_urls`` (the author's, when known) or any IRI whose
    path ends in ``/followers`` — means followers; anything else is direct. Every spelling of
    Public is recognised. Malformed ``to``/``cc`` values count as empty.
    """
    to = get_ids(obj_or_activity.get("to"))
    if any(is_public(iri) for iri in to):
        return Visibility.PUBLIC
    if any(is_public(iri) for iri in get_ids(obj_or_activity.get("cc"))):
        return Visibility.UNLISTED
    if any(iri in followers_urls or _looks_like_followers(iri) for iri in to):
        return Visibility.FOLLOWERS
    return Visibility.DIRECT


def _looks_like_followers(iri: str) -> bool:
    """Tell whether an IRI's path ends in ``/followers`` (query and fragment ignored)."""
    path = iri.split("#", 1)[0].split("?", 1)[0]
    return path.rstrip("/").endswith("/followers")


def delivery_targets(
    to: Iterable[str],
    cc: Iterable[str],
    *,
    exclude: Collection[str],
) -> list[str]:
    """Return every recipient IRI of ``to`` then ``cc`` once, in order, without the Public
    collection (any spelling), empty strings, or the ids in ``exclude`` (such as ourselves).

    Collections (followers) stay in the list: expanding them to members is the caller's job.
    """
    targets: dict[str, None] = {}
    for iri in (*to, *cc):
        if iri and not is_public(iri) and iri not in exclude:
            targets.setdefault(iri, None)
    return list(targets)


def dedupe_inboxes(recipients: Iterable[tuple[str, str | None]]) -> list[str]:
    """Return the inboxes to POST to for ``(inbox, shared_inbox)`` pairs, in first-seen order.

    A recipient with a shared inbox is reached through it, so many followers on one server cost
    one delivery; each inbox appears once. Empty inboxes are skipped.
    """
    inboxes: dict[str, None] = {}
    for inbox, shared_inbox in recipients:
        target = shared_inbox or inbox
        if target:
            inboxes.setdefault(target, None)
    return list(inboxes)

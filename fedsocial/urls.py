"""Core layer: every URL this instance serves, built from one base URL, and their inverse."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote

INSTANCE_ACTOR_NAME = "instance.actor"


@dataclass(frozen=True, slots=True)
class Urls:
    """Builds and recognises the ids of local things, e.g. ``http://127.0.0.1:8080/users/alice``."""

    base: str

    def actor(self, name: str) -> str:
        """The id of a local actor (the instance actor lives at /actor)."""
        if name == INSTANCE_ACTOR_NAME:
            return f"{self.base}/actor"
        return f"{self.base}/users/{name}"

    def key_id(self, name: str) -> str:
        """The id of an actor's RSA key (a fragment of the actor, as Mastodon expects)."""
        return f"{self.actor(name)}#main-key"

    def ed25519_key_id(self, name: str) -> str:
        """The id of an actor's Ed25519 Multikey (FEP-521a)."""
        return f"{self.actor(name)}#ed25519-key"

    def inbox(self, name: str) -> str:
        """An actor's inbox."""
        return f"{self.actor(name)}/inbox"

    def outbox(self, name: str) -> str:
        """An actor's outbox."""
        return f"{self.actor(name)}/outbox"

    def followers(self, name: str) -> str:
        """An actor's followers collection."""
        return f"{self.actor(name)}/followers"

    def following(self, name: str) -> str:
        """An actor's following collection."""
        return f"{self.actor(name)}/following"

    def featured(self, name: str) -> str:
        """An actor's featured (pinned) collection."""
        return f"{self.actor(name)}/collections/featured"

    def profile(self, name: str) -> str:
        """An actor's HTML profile page (Mastodon-style @name)."""
        return f"{self.base}/@{name}"

    def status(self, name: str, status_id: str) -> str:
        """The id of one of an actor's objects."""
        return f"{self.actor(name)}/statuses/{status_id}"

    def activity(self, name: str, activity_id: str) -> str:
        """The id of one of an actor's activities."""
        return f"{self.actor(name)}/activities/{activity_id}"

    @property
    def shared_inbox(self) -> str:
        """The instance-wide inbox."""
        return f"{self.base}/inbox"

    def tag(self, tag: str) -> str:
        """The page of a hashtag."""
        return f"{self.base}/tags/{quote(tag.lower())}"

    @property
    def about(self) -> str:
        """The instance's about page (the instance actor's `url`)."""
        return f"{self.base}/about"

    @property
    def tag_base(self) -> str:
        """The prefix of hashtag pages."""
        return f"{self.base}/tags"

    def local_actor_name(self, iri: str) -> str | None:
        """Return the local actor name an actor IRI points to, or None if it is not ours."""
        if iri == f"{self.base}/actor":
            return INSTANCE_ACTOR_NAME
        prefix = f"{self.base}/users/"
        if not iri.startswith(prefix):
            return None
        rest = iri[len(prefix) :].split("#", 1)[0]
        return rest if re.fullmatch(r"[a-z0-9_]{1,30}", rest) else None

    def is_local(self, iri: str) -> bool:
        """True when the IRI is on this instance."""
        return (
            iri == self.base or iri.startswith(self.base + "/") or iri.startswith(self.base + "#")
        )

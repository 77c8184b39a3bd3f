"""Actors layer: local actors with their keys, created once and loaded once per process."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fedsocial.clock import Clock
from fedsocial.config import validate_actor_name
from fedsocial.crypto.keys import (
    ed25519_to_multibase,
    generate_ed25519_key,
    generate_rsa_key,
    load_private_key,
    private_key_to_pem,
    public_key_to_pem,
)
from fedsocial.errors import NotFound, ValidationError
from fedsocial.federation.signing import SigningKey
from fedsocial.storage import local_actors
from fedsocial.storage.database import Database
from fedsocial.storage.local_actors import LocalActorRow
from fedsocial.urls import INSTANCE_ACTOR_NAME, Urls

ACTOR_TYPES = ("Person", "Service", "Group", "Application", "Organization")


@dataclass(frozen=True, slots=True)
class LocalActor:
    """A local actor with its private keys loaded and ready to sign."""

    row: LocalActorRow
    rsa_key: RSAPrivateKey
    ed25519_key: Ed25519PrivateKey
    ed25519_multibase: str

    @property
    def name(self) -> str:
        """The actor's local name."""
        return self.row.name

    @property
    def is_instance(self) -> bool:
        """True for the instance's own Application actor."""
        return self.row.kind == "instance"

    def signing_key(self, urls: Urls) -> SigningKey:
        """The RSA key this actor signs HTTP requests and LD signatures with."""
        return SigningKey(key_id=urls.key_id(self.row.name), private_key=self.rsa_key)


def _load(row: LocalActorRow) -> LocalActor:
    rsa_key = load_private_key(row.rsa_private_pem)
    ed_key = load_private_key(row.ed25519_private_pem)
    if not isinstance(rsa_key, RSAPrivateKey) or not isinstance(ed_key, Ed25519PrivateKey):
        raise ValidationError(f"actor {row.name!r} has keys of the wrong kind")
    return LocalActor(
        row=row,
        rsa_key=rsa_key,
        ed25519_key=ed_key,
        ed25519_multibase=ed25519_to_multibase(ed_key.public_key()),
    )


def _same_keys(old: LocalActorRow, new: LocalActorRow) -> bool:
    return (
        old.rsa_private_pem == new.rsa_private_pem
        and old.ed25519_private_pem == new.ed25519_private_pem
    )


def new_actor_row(
    name: str,
    *,
    now: float,
    kind: str = "user",
    actor_type: str = "Person",
    display_name: str = "",
    summary: str = "",
    manually_approves: bool = False,
) -> LocalActorRow:
    """Return a new actor row with fresh RSA-2048 and Ed25519 keys (not yet stored)."""
    if actor_type not in ACTOR_TYPES:
        raise ValidationError(f"actor type must be one of {', '.join(ACTOR_TYPES)}")
    rsa_key = generate_rsa_key()
    ed_key = generate_ed25519_key()
    return LocalActorRow(
        name=name,
        kind=kind,
        type=actor_type,
        display_name=display_name,
        summary=summary,
        manually_approves=manually_approves,
        discoverable=kind == "user",
        rsa_private_pem=private_key_to_pem(rsa_key),
        rsa_public_pem=public_key_to_pem(rsa_key.public_key()),
        ed25519_private_pem=private_key_to_pem(ed_key),
        also_known_as=(),
        moved_to=None,
        created_at=now,
        updated_at=now,
    )


async def create_actor(
    db: Database,
    clock: Clock,
    name: str,
    *,
    actor_type: str = "Person",
    display_name: str = "",
    summary: str = "",
    manually_approves: bool = False,
) -> LocalActorRow:
    """Create and store a local user actor; raise ValidationError or Conflict on a bad name."""
    try:
        validate_actor_name(name)
    except ValueError as exc:
        raise ValidationError(str(exc)) from exc
    row = new_actor_row(
        name,
        now=clock.now(),
        actor_type=actor_type,
        display_name=display_name,
        summary=summary,
        manually_approves=manually_approves,
    )
    await local_actors.insert(db, row)
    return row


async def ensure_instance_actor(db: Database, clock: Clock) -> bool:
    """Create the instance's Application actor if it is missing; return True if created."""
    if await local_actors.get(db, INSTANCE_ACTOR_NAME) is not None:
        return False
    row = new_actor_row(
        INSTANCE_ACTOR_NAME,
        now=clock.now(),
        kind="instance",
        actor_type="Application",
        display_name="",
        summary="",
        manually_approves=True,
    )
    await local_actors.insert(db, row)
    return True


# How long a cached actor is trusted before its row is read again. The CLI changes profiles,
# aliases and `movedTo` in another process, and the server must serve them without a restart.
REFRESH_SECONDS = 2.0


class LocalActors:
    """Per-application cache of local actors with loaded keys (key loading costs milliseconds).

    A cached actor's row is re-read when ``fresh`` is asked for (serving the actor's document)
    and otherwise at most every ``REFRESH_SECONDS`` (measured with the monotonic clock: this is
    about the process's cache, not the domain's time); its keys are loaded again only when
    they changed.
    """

    def __init__(self, db: Database) -> None:
        self._db = db
        self._cache: dict[str, tuple[LocalActor, float]] = {}
        self._lock = asyncio.Lock()

    async def get(self, name: str, *, fresh: bool = False) -> LocalActor | None:
        """Return the local actor with this name, or None; ``fresh`` re-reads its row now."""
        cached = self._cache.get(name)
        if not fresh and cached is not None and time.monotonic() - cached[1] <= REFRESH_SECONDS:
            return cached[0]
        async with self._lock:
            cached = self._cache.get(name)
            if not fresh and cached is not None and time.monotonic() - cached[1] <= REFRESH_SECONDS:
                return cached[0]
            row = await local_actors.get(self._db, name)
            if row is None:
                self._cache.pop(name, None)
                return None
            old = cached[0] if cached is not None else None
            if old is not None and _same_keys(old.row, row):
                actor = old if old.row == row else dataclasses.replace(old, row=row)
            else:
                # Loading validates the RSA key (tens of ms): keep it off the event loop.
                actor = await asyncio.to_thread(_load, row)
            self._cache[name] = (actor, time.monotonic())
            return actor

    async def require(self, name: str, *, fresh: bool = False) -> LocalActor:
        """Return the local actor with this name, or raise NotFound (``fresh`` as for get)."""
        actor = await self.get(name, fresh=fresh)
        if actor is None:
            raise NotFound(f"no local actor named {name!r}")
        return actor

    async def instance_actor(self) -> LocalActor:
        """Return the instance actor (created at init)."""
        return await self.require(INSTANCE_ACTOR_NAME)

    def forget(self, name: str) -> None:
        """Drop a cached actor so its next use reloads it (after a profile change)."""
        self._cache.pop(name, None)

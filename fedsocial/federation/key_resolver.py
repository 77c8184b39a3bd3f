"""Core layer: from a keyId to a trusted public key and its owner, and request verification.

Where a key comes from, fastest first:

1. an in-memory LRU of loaded key objects (loading costs; the inbox verifies every POST);
2. our own actors, read from the database without HTTP (``urls.local_actor_name``);
3. the ``remote_keys`` cache;
4. a signed fetch of the keyId without its fragment. The answer is either the actor (the key is
   found in ``publicKey`` or ``assertionMethod`` by id) or a key document whose ``owner`` /
   ``controller`` names the actor; then the owner is fetched too and must list the same key.
   The actor is cached with its keys. A 410 or a Tombstone marks the actor deleted.

No lock is held across a fetch: concurrent look-ups of one key share a single fetch task, and a
fetch never waits for anything but the remote server, so two instances fetching each other's
keys cannot deadlock. When a signature fails its cryptographic check, the key is fetched again
(it may have been rotated), at most once per minute per key.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field

from fedsocial.activity_json import get_id, origin
from fedsocial.clock import Clock
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import PublicKey, load_private_key, load_public_key
from fedsocial.crypto.signature_input import SignatureInput
from fedsocial.crypto.verify import Policy, VerifiedSignature, parse_signatures, verify_signature
from fedsocial.errors import FedsocialError, Gone, SignatureError, StorageError, ValidationError
from fedsocial.federation.actor_documents import (
    KeyMaterial,
    authority,
    find_key,
    is_actor,
    is_tombstone,
    parse_actor,
    strip_fragment,
)
from fedsocial.federation.http_client import HttpClient
from fedsocial.storage import local_actors, remote_actors
from fedsocial.storage.database import Database
from fedsocial.storage.remote_actors import RemoteKeyRow
from fedsocial.urls import Urls

log = logging.getLogger("fedsocial.federation.keys")

CACHE_SIZE = 4096
REFETCH_INTERVAL = 60.0
# A remote key in memory is checked against the database this often, so that a key replaced or
# deleted by another process (a second `serve` process, the CLI) stops being trusted here too.
RECHECK_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class ResolvedKey:
    """A public key we trust, the id it goes by, and the actor that owns it."""

    key_id: str
    owner: str
    public_key: PublicKey
    # For remote keys: the stored key material, to tell a changed key from the one in memory.
    material: str | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class _Cached:
    """A key in memory and when the database last confirmed it (remote keys only)."""

    key: ResolvedKey
    checked_at: float


def _with_owner(verified: VerifiedSignature, owner: str) -> VerifiedSignature:
    """The verified signature with its owner filled in.

    Built field by field because `dataclasses.replace` costs several µs on every inbox POST; a
    unit test checks that this list follows the dataclass.
    """
    return VerifiedSignature(
        scheme=verified.scheme,
        key_id=verified.key_id,
        algorithm=verified.algorithm,
        components=verified.components,
        created=verified.created,
        owner=owner,
    )


def _failed(message: str) -> SignatureError:
    return SignatureError("key_fetch_failed", message)


class KeyResolver:
    """Resolves keyIds to trusted keys and verifies signed requests (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        urls: Urls,
        clock: Clock,
        http: HttpClient,
        *,
        cache_size: int = CACHE_SIZE,
    ) -> None:
        self._db = db
        self._urls = urls
        self._clock = clock
        self._http = http
        self._cache_size = cache_size
        self._cache: OrderedDict[str, _Cached] = OrderedDict()
        self._refetched: dict[str, float] = {}
        self._inflight: dict[str, asyncio.Task[ResolvedKey]] = {}

    async def resolve(self, key_id: str, *, refresh: bool = False) -> ResolvedKey:
        """The trusted key named ``key_id``; with ``refresh``, remote keys are fetched anew.

        Raises ``SignatureError("key_fetch_failed")`` when the key cannot be found or trusted.
        """
        if not refresh:
            cached = self._cache.get(key_id)
            if cached is not None:
                self._cache.move_to_end(key_id)
                material = cached.key.material
                if material is None or self._clock.now() - cached.checked_at < RECHECK_SECONDS:
                    return cached.key
                row = await remote_actors.get_key(self._db, key_id)
                if row is not None and (row.owner, row.material) == (cached.key.owner, material):
                    cached.checked_at = self._clock.now()
                    return cached.key
                del self._cache[key_id]
        if self._urls.is_local(key_id):
            key = await self._local(key_id)
        elif not refresh and (stored := await self._stored(key_id)) is not None:
            key = stored
        else:
            key = await self._fetch_shared(key_id)
        self._remember(key)
        return key

    async def verify_request(
        self, parts: HttpRequestParts, *, policy: Policy = Policy.MASTODON
    ) -> VerifiedSignature:
        """Verify a request's signature and say who signed it (``owner`` is filled).

        Tries each signature on the request (RFC 9421 first) whose key resolves, and returns the
        first that verifies. A cryptographically invalid signature makes the key be fetched
        again once (rotation), at most once per minute per key. Raises ``SignatureError`` with
        the reason of the first failure.
        """
        first_error: SignatureError | None = None
        for sig in parse_signatures(parts):
            try:
                return await self._verify_one(parts, sig, policy=policy)
            except SignatureError as exc:
                first_error = first_error or exc
        raise first_error or SignatureError("missing", "the request carries no signature")

    def forget_owner(self, owner: str) -> None:
        """Drop the cached keys of ``owner`` from memory (its document changed)."""
        for key_id in [k for k, v in self._cache.items() if v.key.owner == owner]:
            del self._cache[key_id]

    async def _verify_one(
        self, parts: HttpRequestParts, sig: SignatureInput, *, policy: Policy
    ) -> VerifiedSignature:
        if not sig.key_id:
            raise SignatureError("invalid", "the signature names no key")
        key = await self.resolve(sig.key_id)
        now = self._clock.now()
        try:
            verified = verify_signature(parts, sig, key.public_key, now=now, policy=policy)
        except SignatureError as exc:
            if (
                exc.reason != "invalid"
                or sig.unusable is not None
                or not self._may_refetch(sig.key_id, now)
            ):
                raise
            log.info("signature by %s failed; fetching the key again", sig.key_id)
            key = await self.resolve(sig.key_id, refresh=True)
            verified = verify_signature(parts, sig, key.public_key, now=now, policy=policy)
        return _with_owner(verified, key.owner)

    def _may_refetch(self, key_id: str, now: float) -> bool:
        if self._urls.is_local(key_id):
            return False
        last = self._refetched.get(key_id)
        if last is not None and now - last < REFETCH_INTERVAL:
            return False
        if len(self._refetched) >= self._cache_size:
            cutoff = now - REFETCH_INTERVAL
            self._refetched = {k: t for k, t in self._refetched.items() if t > cutoff}
        self._refetched[key_id] = now
        return True

    def _remember(self, key: ResolvedKey) -> None:
        self._cache[key.key_id] = _Cached(key, self._clock.now())
        self._cache.move_to_end(key.key_id)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    async def _local(self, key_id: str) -> ResolvedKey:
        name = self._urls.local_actor_name(strip_fragment(key_id))
        row = await local_actors.get(self._db, name) if name else None
        if name is None or row is None:
            raise _failed(f"{key_id} is not a key of an actor on this server")
        try:
            if key_id == self._urls.key_id(name):
                public: PublicKey = load_public_key(row.rsa_public_pem)
            elif key_id == self._urls.ed25519_key_id(name):
                private = load_private_key(row.ed25519_private_pem)
                public = private.public_key()
            else:
                raise _failed(f"{key_id} is not a key of {self._urls.actor(name)}")
        except ValueError as exc:
            raise _failed(f"local key {key_id} cannot be loaded: {exc}") from exc
        return ResolvedKey(key_id=key_id, owner=self._urls.actor(name), public_key=public)

    async def _stored(self, key_id: str) -> ResolvedKey | None:
        row = await remote_actors.get_key(self._db, key_id)
        if row is None:
            return None
        try:
            public = KeyMaterial(row.key_id, row.owner, row.kind, row.material).load()
        except ValueError:
            return None
        return ResolvedKey(key_id=key_id, owner=row.owner, public_key=public, material=row.material)

    async def _fetch_shared(self, key_id: str) -> ResolvedKey:
        """Fetch ``key_id``, sharing one fetch among concurrent callers."""
        task = self._inflight.get(key_id)
        if task is None:
            task = asyncio.ensure_future(self._fetch(key_id))
            self._inflight[key_id] = task
            task.add_done_callback(lambda _t: self._inflight.pop(key_id, None))
        # Shielded, so one cancelled caller does not cancel the fetch the others wait for.
        return await asyncio.shield(task)

    async def _fetch(self, key_id: str) -> ResolvedKey:
        url = strip_fragment(key_id)
        document = await self._fetch_document(url, what=f"key {key_id}")
        doc_id = get_id(document) or ""
        try:
            same_origin = origin(doc_id) == origin(url)
        except ValidationError:
            same_origin = False
        if not same_origin:
            raise _failed(f"the document at {url} claims the id {doc_id!r} of another origin")
        material = find_key(document, key_id)
        if material is None:
            raise _failed(f"the document at {url} does not contain the key {key_id}")
        owner = material.owner or (doc_id if is_actor(document) else None)
        if owner is None:
            raise _failed(f"the key {key_id} names no owner")
        if origin(owner) != origin(key_id):
            raise _failed(f"the key {key_id} claims an owner on another origin: {owner}")
        actor = document
        if owner != doc_id or not is_actor(document):
            # A key document: trusted only when its owner lists the very same key.
            actor = await self._fetch_document(owner, what=f"owner {owner} of key {key_id}")
            listed = find_key(actor, key_id) if get_id(actor) == owner else None
            if listed is None or listed.material != material.material:
                raise _failed(f"{owner} does not list the key {key_id} as its own")
            material = listed
        try:
            public = material.load()
        except ValueError as exc:
            raise _failed(f"the key {key_id} cannot be loaded: {exc}") from exc
        await self._store(key_id, owner, material, actor)
        return ResolvedKey(
            key_id=key_id, owner=owner, public_key=public, material=material.material
        )

    async def _fetch_document(self, url: str, *, what: str) -> dict[str, object]:
        try:
            document = await self._http.fetch_json(url)
        except Gone as exc:
            await self._mark_deleted(url)
            raise _failed(f"{what}: {url} is gone") from exc
        except StorageError:
            # Ours, not the key's (e.g. a database locked by the CLI): a 401 would tell the
            # sender never to retry, a 503 tells it to come back.
            raise
        except FedsocialError as exc:
            raise _failed(f"{what}: {exc.message}") from exc
        if is_tombstone(document):
            await self._mark_deleted(url)
            raise _failed(f"{what}: {url} is a Tombstone")
        return document

    async def _mark_deleted(self, actor_id: str) -> None:
        try:
            domain = authority(actor_id)
        except ValidationError:
            return
        await remote_actors.mark_deleted(self._db, actor_id, domain=domain, now=self._clock.now())
        self.forget_owner(actor_id)

    async def _store(
        self, key_id: str, owner: str, material: KeyMaterial, actor: dict[str, object]
    ) -> None:
        """Cache the owner with its keys; a key its actor document does not carry is kept too."""
        now = self._clock.now()
        saved: set[str] = set()
        try:
            row, keys = parse_actor(dict(actor), now=now, fetched_from=owner)
        except ValidationError as exc:
            log.info("key %s trusted, but its owner is not a usable actor: %s", key_id, exc)
        else:
            await remote_actors.save(self._db, row, keys)
            saved = {k.key_id for k in keys}
        if key_id not in saved:
            key = RemoteKeyRow(key_id, owner, material.kind, material.material, now)
            await remote_actors.save_key(self._db, key)

"""Core layer: reading remote actor documents and the public keys they carry (pure, no I/O).

Keys come from ``publicKey`` (an object or a list, with ``publicKeyPem``) and from
``assertionMethod`` Multikeys (FEP-521a, Ed25519 ``publicKeyMultibase``). A document may also be
a key on its own (a key document with ``owner`` or ``controller``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fedsocial.activity_json import as_list, first_str, get_id, origin, same_origin
from fedsocial.crypto.keys import PublicKey, load_public_key, multibase_to_ed25519
from fedsocial.errors import ValidationError
from fedsocial.storage.remote_actors import RemoteActorRow, RemoteKeyRow

ACTOR_TYPES = frozenset({"Person", "Service", "Group", "Application", "Organization"})


@dataclass(frozen=True, slots=True)
class KeyMaterial:
    """One public key as a document states it, not yet loaded."""

    key_id: str
    owner: str | None
    kind: str
    material: str

    def load(self) -> PublicKey:
        """Load the key object; raise ValueError when the material is not a usable key."""
        if self.kind == "pem":
            return load_public_key(self.material)
        return multibase_to_ed25519(self.material)


def strip_fragment(url: str) -> str:
    """The URL without its ``#fragment``."""
    return url.split("#", 1)[0]


def authority(url: str) -> str:
    """``host[:port]`` of a URL in lowercase, the port left out when it is the default one."""
    return origin(url).split("://", 1)[1]


def _key_of(node: Any, *, owner_field: str) -> KeyMaterial | None:
    if not isinstance(node, dict):
        return None
    key_id = get_id(node)
    if not key_id:
        return None
    owner = get_id(node.get(owner_field)) or get_id(node.get("controller"))
    pem = node.get("publicKeyPem")
    if isinstance(pem, str) and pem.strip():
        return KeyMaterial(key_id, owner, "pem", pem)
    multibase = node.get("publicKeyMultibase")
    if isinstance(multibase, str) and multibase.startswith("z"):
        return KeyMaterial(key_id, owner, "multikey", multibase)
    return None


def document_keys(document: dict[str, Any]) -> list[KeyMaterial]:
    """Every key a document offers: its own (a key document), publicKey, assertionMethod."""
    found: list[KeyMaterial] = []
    own = _key_of(document, owner_field="owner")
    if own is not None:
        found.append(own)
    for node in as_list(document.get("publicKey")):
        key = _key_of(node, owner_field="owner")
        if key is not None:
            found.append(key)
    for node in as_list(document.get("assertionMethod")):
        key = _key_of(node, owner_field="controller")
        if key is not None:
            found.append(key)
    return found


def find_key(document: dict[str, Any], key_id: str) -> KeyMaterial | None:
    """The key named ``key_id`` in ``document``, or None.

    When ``key_id`` is the document's own id without a fragment (some servers use the actor id
    as keyId), the document's single ``publicKey`` is the one meant.
    """
    keys = document_keys(document)
    for key in keys:
        if key.key_id == key_id:
            return key
    doc_id = get_id(document)
    pems = [k for k in keys if k.kind == "pem"]
    if doc_id == key_id and len(pems) == 1:
        return pems[0]
    return None


def is_actor(document: dict[str, Any]) -> bool:
    """True when the document has an actor type and an inbox."""
    types = {t for t in as_list(document.get("type")) if isinstance(t, str)}
    return bool(types & ACTOR_TYPES) and isinstance(document.get("inbox"), str)


def is_tombstone(document: dict[str, Any]) -> bool:
    """True when the document is a Tombstone (a deleted thing)."""
    return "Tombstone" in as_list(document.get("type"))


def _http_url(value: Any, what: str) -> str:
    if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https"):
        raise ValidationError(f"actor {what} must be an http(s) URL, got {value!r}")
    origin(value)  # raises ValidationError for a URL without a host
    return value


def parse_actor(
    document: dict[str, Any], *, now: float, fetched_from: str | None = None
) -> tuple[RemoteActorRow, list[RemoteKeyRow]]:
    """Validate an actor document and return its cache row and keys.

    Rules: an id (same origin as ``fetched_from`` when given), an actor type, an http(s) inbox
    and at least one usable key owned by the actor (keys whose ids are on another origin are
    left out). Raises ValidationError naming what is wrong.
    """
    actor_id = get_id(document)
    if not actor_id:
        raise ValidationError("actor document has no id")
    _http_url(actor_id, "id")
    if fetched_from is not None and origin(actor_id) != origin(fetched_from):
        raise ValidationError(f"actor id {actor_id} is not on the origin of {fetched_from}")
    types = [t for t in as_list(document.get("type")) if isinstance(t, str)]
    actor_type = next((t for t in types if t in ACTOR_TYPES), None)
    if actor_type is None:
        raise ValidationError(f"{actor_id} is not an actor (type {types or 'missing'})")
    if "inbox" not in document:
        raise ValidationError(f"actor {actor_id} has no inbox")
    inbox = _http_url(document.get("inbox"), "inbox")
    keys = [
        RemoteKeyRow(
            key_id=k.key_id, owner=actor_id, kind=k.kind, material=k.material, fetched_at=now
        )
        for k in document_keys(document)
        # A key id on another origin is not the actor's to claim: it could replace the key
        # cached for someone else's key id.
        if k.key_id != actor_id
        and k.owner in (None, actor_id)
        and same_origin(k.key_id, actor_id)
        and _loads(k)
    ]
    if not keys:
        raise ValidationError(f"actor {actor_id} has no usable public key")
    endpoints = document.get("endpoints")
    shared = get_id(endpoints.get("sharedInbox")) if isinstance(endpoints, dict) else None
    row = RemoteActorRow(
        id=actor_id,
        type=actor_type,
        preferred_username=first_str(document.get("preferredUsername")),
        domain=authority(actor_id),
        inbox=inbox,
        shared_inbox=shared,
        followers=get_id(document.get("followers")),
        url=_profile_url(document.get("url")),
        document=document,
        moved_to=get_id(document.get("movedTo")),
        fetched_at=now,
    )
    return row, keys


def _loads(key: KeyMaterial) -> bool:
    try:
        key.load()
    except ValueError:
        return False
    return True


def _profile_url(value: Any) -> str | None:
    for item in as_list(value):
        if isinstance(item, str):
            return item
        if isinstance(item, dict) and isinstance(item.get("href"), str):
            return str(item["href"])
    return None

"""The key resolver against a loopback peer playing a remote server."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from actors.local import ensure_instance_actor
from fedsocial.clock import FixedClock
from fedsocial.crypto.cavage import sign_cavage
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import generate_rsa_key, public_key_to_pem
from fedsocial.crypto.verify import VerifiedSignature
from fedsocial.errors import SignatureError
from fedsocial.federation.key_resolver import RECHECK_SECONDS, KeyResolver, _with_owner
from fedsocial.storage import remote_actors
from fedsocial.storage.database import Database
from fedsocial.urls import INSTANCE_ACTOR_NAME, Urls
from tests.unit.federation.conftest import OpenServices

AiohttpServer = Any
DOCS = web.AppKey("docs", dict[str, tuple[int, dict[str, Any]]])
HITS = web.AppKey("hits", list[str])


@pytest.fixture(scope="module")
def rsa_keys() -> list[RSAPrivateKey]:
    """Three remote RSA keys: the current one, its replacement, and a stranger's."""
    return [generate_rsa_key() for _ in range(3)]


class Peer:
    """A loopback server answering whatever documents the test puts at its paths."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.base = f"http://127.0.0.1:{server.port}"

    @property
    def hits(self) -> list[str]:
        """The paths requested so far."""
        return list(self.server.app[HITS])

    def serve(self, path: str, document: dict[str, Any], status: int = 200) -> None:
        """Answer ``path`` with ``document``."""
        self.server.app[DOCS][path] = (status, document)

    def actor(self, name: str, key: RSAPrivateKey, **extra: Any) -> dict[str, Any]:
        """Serve and return an actor whose key is ``#main-key`` unless ``publicKey`` is given."""
        actor_id = f"{self.base}/users/{name}"
        document = {
            "id": actor_id,
            "type": "Person",
            "preferredUsername": name,
            "inbox": f"{actor_id}/inbox",
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": public_key_to_pem(key),
            },
            **extra,
        }
        self.serve(f"/users/{name}", document)
        return document


@pytest.fixture
async def peer(aiohttp_server: AiohttpServer) -> Peer:
    """A fresh loopback peer."""

    async def handler(request: web.Request) -> web.Response:
        request.app[HITS].append(request.path)
        status, document = request.app[DOCS].get(request.path, (404, {}))
        return web.json_response(document, status=status, content_type="application/activity+json")

    app = web.Application()
    app[DOCS] = {}
    app[HITS] = []
    app.router.add_get("/{tail:.*}", handler)
    return Peer(await aiohttp_server(app))


@pytest.fixture
async def resolver(open_services: OpenServices) -> KeyResolver:
    """A key resolver whose fetches go unsigned (the peer does not check)."""
    return (await open_services()).keys


def _signed_post(key: RSAPrivateKey, key_id: str, *, now: float) -> HttpRequestParts:
    parts = HttpRequestParts("POST", "https://local.test/inbox", {}, b'{"type": "Like"}')
    return parts.with_headers(sign_cavage(parts, key_id=key_id, private_key=key, now=now))


async def test_a_key_that_is_a_fragment_of_its_actor(
    resolver: KeyResolver,
    open_services: OpenServices,
    db: Database,
    peer: Peer,
    rsa_keys: list[RSAPrivateKey],
) -> None:
    # Given a remote actor whose key is #main-key
    bob = peer.actor("bob", rsa_keys[0])

    # When the key is resolved, then resolved again by a new resolver on the same database
    key = await resolver.resolve(f"{bob['id']}#main-key")
    again = await (await open_services()).keys.resolve(f"{bob['id']}#main-key")

    # Then the owner is bob, the actor was fetched once and cached with its key
    assert key.owner == again.owner == bob["id"]
    assert public_key_to_pem(key.public_key) == bob["publicKey"]["publicKeyPem"]
    assert peer.hits == ["/users/bob"]
    cached = await remote_actors.get(db, bob["id"])
    assert cached is not None and cached.inbox == bob["inbox"]


async def test_a_separate_key_document_confirmed_by_its_owner(
    resolver: KeyResolver, peer: Peer, rsa_keys: list[RSAPrivateKey]
) -> None:
    # Given a key document at its own URL whose owner lists it
    key_id = f"{peer.base}/users/carol/main-key"
    carol = peer.actor("carol", rsa_keys[0])
    carol["publicKey"]["id"] = key_id
    peer.serve(
        "/users/carol/main-key",
        {"id": key_id, "type": "Key", "owner": carol["id"], **_pem(rsa_keys[0])},
    )

    # When it is resolved
    key = await resolver.resolve(key_id)

    # Then the key document and the owner were both read, and the owner is carol
    assert key.owner == carol["id"]
    assert peer.hits == ["/users/carol/main-key", "/users/carol"]


async def test_a_key_document_whose_owner_does_not_list_it_is_not_trusted(
    resolver: KeyResolver, peer: Peer, rsa_keys: list[RSAPrivateKey]
) -> None:
    # Given a key document claiming eve as owner, while eve's actor lists another key
    key_id = f"{peer.base}/keys/1"
    eve = peer.actor("eve", rsa_keys[1])
    peer.serve("/keys/1", {"id": key_id, "owner": eve["id"], **_pem(rsa_keys[0])})

    # When it is resolved / Then it is refused
    with pytest.raises(SignatureError) as caught:
        await resolver.resolve(key_id)
    assert caught.value.reason == "key_fetch_failed"
    assert "does not list" in caught.value.message


async def test_an_actor_claiming_anothers_key_or_origin_is_not_trusted(
    resolver: KeyResolver, peer: Peer, rsa_keys: list[RSAPrivateKey]
) -> None:
    # Given an actor document whose key names another owner, and one served under another origin
    mallory = peer.actor("mallory", rsa_keys[0])
    mallory["publicKey"]["owner"] = f"{peer.base}/users/bob"
    peer.actor("bob", rsa_keys[1])
    peer.serve("/users/spoof", {**mallory, "id": "https://elsewhere.example/users/spoof"})

    # When their keys are resolved / Then both are refused
    for key_id in (f"{mallory['id']}#main-key", f"{peer.base}/users/spoof#main-key"):
        with pytest.raises(SignatureError) as caught:
            await resolver.resolve(key_id)
        assert caught.value.reason == "key_fetch_failed"


@pytest.mark.parametrize("gone", ["410", "tombstone"])
async def test_a_gone_actor_is_marked_deleted(
    resolver: KeyResolver, db: Database, peer: Peer, gone: str
) -> None:
    # Given an actor that answers 410, or a Tombstone
    actor_id = f"{peer.base}/users/gone"
    if gone == "410":
        peer.serve("/users/gone", {}, status=410)
    else:
        peer.serve("/users/gone", {"id": actor_id, "type": "Tombstone"})

    # When its key is resolved
    with pytest.raises(SignatureError) as caught:
        await resolver.resolve(f"{actor_id}#main-key")

    # Then resolution fails and the actor is recorded as deleted
    assert caught.value.reason == "key_fetch_failed"
    row = await remote_actors.get(db, actor_id)
    assert row is not None and row.deleted_at is not None


async def test_a_rotated_key_is_refetched_at_most_once_a_minute(
    resolver: KeyResolver, clock: FixedClock, peer: Peer, rsa_keys: list[RSAPrivateKey]
) -> None:
    # Given bob's old key is cached, then bob rotates to a new key
    old, new, stranger = rsa_keys
    bob = peer.actor("bob", old)
    key_id = f"{bob['id']}#main-key"
    await resolver.resolve(key_id)
    peer.actor("bob", new)

    # When a request signed with the new key arrives
    verified = await resolver.verify_request(_signed_post(new, key_id, now=clock.now()))

    # Then the key was fetched again and the signature verifies
    assert verified.owner == bob["id"]
    assert peer.hits == ["/users/bob", "/users/bob"]

    # When a forged request follows within the minute, then another after it
    with pytest.raises(SignatureError) as soon:
        await resolver.verify_request(_signed_post(stranger, key_id, now=clock.now()))
    hits_within_minute = len(peer.hits)
    clock.advance(61)
    with pytest.raises(SignatureError) as later:
        await resolver.verify_request(_signed_post(stranger, key_id, now=clock.now()))

    # Then both are invalid, and only the one after the minute caused a fetch
    assert soon.value.reason == later.value.reason == "invalid"
    assert hits_within_minute == 2 and len(peer.hits) == 3


async def test_a_key_in_memory_follows_the_database_changed_by_another_process(
    resolver: KeyResolver,
    open_services: OpenServices,
    db: Database,
    clock: FixedClock,
    peer: Peer,
) -> None:
    # Given bob's key in this resolver's memory
    bob = peer.actor("bob", generate_rsa_key())
    key_id = f"{bob['id']}#main-key"
    await resolver.resolve(key_id)

    # When another process (another resolver on the same file) learns bob is gone
    peer.serve("/users/bob", {}, status=410)
    with pytest.raises(SignatureError):
        await (await open_services()).keys.resolve(key_id, refresh=True)

    # Then this resolver still answers from memory for a moment, without asking the database
    assert (await resolver.resolve(key_id)).owner == bob["id"]
    # And once the recheck interval has passed it sees the key is gone, and refuses it
    clock.advance(RECHECK_SECONDS + 1)
    with pytest.raises(SignatureError) as caught:
        await resolver.resolve(key_id)
    assert caught.value.reason == "key_fetch_failed"
    assert await remote_actors.get_key(db, key_id) is None


async def test_an_unchanged_key_is_rechecked_without_fetching(
    resolver: KeyResolver, clock: FixedClock, peer: Peer, rsa_keys: list[RSAPrivateKey]
) -> None:
    # Given bob's key in memory
    bob = peer.actor("bob", rsa_keys[0])
    key_id = f"{bob['id']}#main-key"
    first = await resolver.resolve(key_id)

    # When it is used again after the recheck interval
    clock.advance(RECHECK_SECONDS + 1)
    again = await resolver.resolve(key_id)

    # Then the very same key object is used (the database agreed) and nothing was fetched
    assert again is first
    assert peer.hits == ["/users/bob"]


def test_the_owner_is_added_without_losing_a_field() -> None:
    # _with_owner copies VerifiedSignature field by field (fast); a new field must be copied too
    verified = VerifiedSignature(
        scheme="rfc9421",
        key_id="https://a.example/k",
        algorithm="ed25519",
        components=("@method",),
        created=12.0,
    )
    assert _with_owner(verified, "https://a.example/u") == dataclasses.replace(
        verified, owner="https://a.example/u"
    )
    assert {f.name for f in dataclasses.fields(VerifiedSignature)} == {
        "scheme",
        "key_id",
        "algorithm",
        "components",
        "created",
        "owner",
    }


async def test_our_own_keys_come_from_the_database(
    resolver: KeyResolver, db: Database, clock: FixedClock
) -> None:
    # Given our instance actor
    await ensure_instance_actor(db, clock)
    urls = Urls("https://local.test")

    # When its RSA and Ed25519 keys are resolved (no server exists at local.test)
    rsa = await resolver.resolve(urls.key_id(INSTANCE_ACTOR_NAME))
    ed = await resolver.resolve(urls.ed25519_key_id(INSTANCE_ACTOR_NAME))

    # Then both are found locally, owned by the instance actor; an unknown local key is refused
    assert rsa.owner == ed.owner == "https://local.test/actor"
    with pytest.raises(SignatureError):
        await resolver.resolve("https://local.test/users/nobody#main-key")


async def test_verify_request_names_the_owner_and_reports_failures(
    resolver: KeyResolver, clock: FixedClock, peer: Peer, rsa_keys: list[RSAPrivateKey]
) -> None:
    # Given a remote actor
    bob = peer.actor("bob", rsa_keys[0])
    key_id = f"{bob['id']}#main-key"

    # When a request signed by bob, an unsigned one and a stale one are verified
    verified = await resolver.verify_request(_signed_post(rsa_keys[0], key_id, now=clock.now()))
    with pytest.raises(SignatureError) as unsigned:
        await resolver.verify_request(HttpRequestParts("POST", "https://local.test/inbox", {}))
    with pytest.raises(SignatureError) as stale:
        await resolver.verify_request(_signed_post(rsa_keys[0], key_id, now=clock.now() - 3 * 3600))

    # Then the first names bob; the others fail with their reasons
    assert (verified.owner, verified.scheme) == (bob["id"], "cavage")
    assert unsigned.value.reason == "missing"
    assert stale.value.reason == "stale"


def _pem(key: RSAPrivateKey) -> dict[str, str]:
    return {"publicKeyPem": public_key_to_pem(key)}

"""Actor documents, content negotiation and collections, through the real app."""

from __future__ import annotations

from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from fedsocial import appkeys
from fedsocial.crypto.keys import multibase_to_ed25519
from fedsocial.storage import follows

AP = {"Accept": "application/activity+json"}
LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}


async def test_actor_document_has_what_mastodon_reads(client: TestClient) -> None:
    # When a server fetches the actor as ActivityStreams JSON
    resp = await client.get("/users/alice", headers=AP)
    # Then it gets JSON with the right type and every field Mastodon reads
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/activity+json")
    doc = await resp.json(content_type=None)
    base = "https://social.example/users/alice"
    assert doc["id"] == base
    assert doc["type"] == "Person"
    assert doc["preferredUsername"] == "alice"
    assert doc["name"] == "Alice"
    assert doc["inbox"] == f"{base}/inbox"
    assert doc["outbox"] == f"{base}/outbox"
    assert doc["followers"] == f"{base}/followers"
    assert doc["following"] == f"{base}/following"
    assert doc["featured"] == f"{base}/collections/featured"
    assert doc["endpoints"] == {"sharedInbox": "https://social.example/inbox"}
    assert doc["manuallyApprovesFollowers"] is False
    assert doc["discoverable"] is True
    assert doc["published"].endswith("Z")
    assert doc["url"] == "https://social.example/@alice"
    key = doc["publicKey"]
    assert key["id"] == f"{base}#main-key" and key["owner"] == base
    loaded = load_pem_public_key(key["publicKeyPem"].encode())
    assert isinstance(loaded, RSAPublicKey) and loaded.key_size == 2048
    method = doc["assertionMethod"][0]
    assert method["type"] == "Multikey" and method["controller"] == base
    multibase_to_ed25519(method["publicKeyMultibase"])
    context = doc["@context"]
    assert context[0] == "https://www.w3.org/ns/activitystreams"
    assert "https://w3id.org/security/v1" in context
    assert "toot" in context[-1]


async def test_ld_json_profile_gets_ld_json(client: TestClient) -> None:
    resp = await client.get("/users/alice", headers=LD)
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/ld+json")
    assert 'profile="https://www.w3.org/ns/activitystreams"' in resp.headers["Content-Type"]


async def test_browser_gets_html_profile(client: TestClient) -> None:
    resp = await client.get("/users/alice", headers={"Accept": "text/html,*/*;q=0.8"})
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("text/html")
    text = await resp.text()
    assert "@alice@social.example" in text
    # The summary is escaped, never injected
    assert "<b>x</b>" not in text


async def test_unknown_actor_is_404_json(client: TestClient) -> None:
    resp = await client.get("/users/nobody", headers=AP)
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"
    # The instance actor is not reachable as a user
    resp = await client.get("/users/instance.actor", headers=AP)
    assert resp.status == 404


async def test_instance_actor(client: TestClient) -> None:
    resp = await client.get("/actor", headers=AP)
    doc = await resp.json(content_type=None)
    assert doc["id"] == "https://social.example/actor"
    assert doc["type"] == "Application"
    assert doc["publicKey"]["id"] == "https://social.example/actor#main-key"


async def test_followers_collection_pages(client: TestClient) -> None:
    # Given 45 accepted followers
    db = client.app[appkeys.DB]
    alice = "https://social.example/users/alice"
    for i in range(45):
        await follows.upsert(
            db,
            f"https://remote.example/users/u{i}",
            alice,
            activity_id=None,
            state="accepted",
            now=i,
        )
    await follows.upsert(
        db, "https://remote.example/users/pending", alice, activity_id=None, state="pending", now=99
    )
    # When the collection is fetched
    resp = await client.get("/users/alice/followers", headers=AP)
    coll = await resp.json(content_type=None)
    # Then it counts only accepted followers and points to its first page
    assert coll["type"] == "OrderedCollection"
    assert coll["totalItems"] == 45
    assert coll["first"] == f"{alice}/followers?page=1"
    # And the pages chain with next/prev and partOf, newest first, covering everyone once
    seen: list[str] = []
    page_url = "/users/alice/followers?page=1"
    pages = 0
    while page_url:
        page = await (await client.get(page_url, headers=AP)).json(content_type=None)
        pages += 1
        assert page["type"] == "OrderedCollectionPage"
        assert page["partOf"] == f"{alice}/followers"
        if pages > 1:
            assert page["prev"] == f"{alice}/followers?page={pages - 1}"
        else:
            assert "prev" not in page
        seen.extend(page["orderedItems"])
        page_url = page.get("next", "").removeprefix("https://social.example")
    assert pages == 3
    assert seen[0] == "https://remote.example/users/u44"
    assert sorted(seen) == sorted(f"https://remote.example/users/u{i}" for i in range(45))


async def test_other_collections_exist_and_are_empty(client: TestClient) -> None:
    for path in ("outbox", "following", "collections/featured"):
        resp = await client.get(f"/users/alice/{path}", headers=AP)
        coll = await resp.json(content_type=None)
        assert coll["totalItems"] == 0, path
        page = await (await client.get(f"/users/alice/{path}?page=1", headers=AP)).json(
            content_type=None
        )
        assert page["orderedItems"] == [] and "next" not in page


async def test_bad_page_is_400(client: TestClient) -> None:
    resp = await client.get("/users/alice/followers?page=-1", headers=AP)
    assert resp.status == 400

"""Inbox receive path: every refusal, drops, duplicates, and the 202 only after storing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aiohttp
import pytest

from fedsocial.config import ModerationConfig
from fedsocial.storage import inbox_queue
from inbox import receive
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, load_payload
from tests.harness import Instance


@pytest.fixture
async def alpha(start_instance: StartInstance) -> Instance:
    instance = await start_instance(
        "alpha", moderation=ModerationConfig(blocked_domains=("blocked.example",))
    )
    await instance.add_actor("alice")
    return instance


def follow_of(bob: PeerActor, alpha: Instance, n: int = 1) -> dict[str, object]:
    return load_payload(
        "mastodon_follow",
        actor=bob.id,
        base=bob.id.rsplit("/users/", 1)[0],
        uuid=f"follow-{n}",
        local=alpha.actor_id("alice"),
    )


async def raw_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, object]]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=headers) as r,
    ):
        text = await r.text()
        return r.status, (json.loads(text) if text.startswith("{") else {})


async def test_signed_follow_is_stored_then_answered_202(alpha: Instance, peer: Peer) -> None:
    # Given a remote actor
    bob = peer.add_actor("bob")
    follow = follow_of(bob, alpha)
    # When it POSTs a signed Follow to alice's inbox
    status, _ = await peer.post(bob, f"{alpha.base}/users/alice/inbox", follow)
    # Then the answer is 202 and the activity is stored with its verified signer
    assert status == 202
    stored = await inbox_queue.get(alpha.db, str(follow["id"]))
    assert stored is not None
    assert stored.signer == bob.id
    assert stored.inbox == f"{alpha.base}/users/alice/inbox"


async def test_duplicate_is_202_and_stored_once(alpha: Instance, peer: Peer) -> None:
    # Given a Follow that was received once
    bob = peer.add_actor("bob")
    follow = follow_of(bob, alpha)
    assert (await peer.post(bob, f"{alpha.base}/inbox", follow))[0] == 202
    # When the same activity arrives again
    status, _ = await peer.post(bob, f"{alpha.base}/inbox", follow)
    # Then it is answered 202 but not stored a second time
    assert status == 202
    count = await alpha.db.fetchval(
        "SELECT count(*) FROM inbox_activities WHERE activity_id = ?", (follow["id"],)
    )
    assert count == 1


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
async def test_other_content_types_get_415(alpha: Instance, peer: Peer, content_type: str) -> None:
    # Given a signed Follow sent with a content type we do not read
    bob = peer.add_actor("bob")
    # When it is posted
    status, body = await peer.post(
        bob, f"{alpha.base}/inbox", follow_of(bob, alpha), content_type=content_type
    )
    # Then it is refused with 415
    assert status == 415
    assert body["error"] == "unsupported_media_type"


@pytest.mark.parametrize(
    "content_type",
    ['application/ld+json; profile="https://www.w3.org/ns/activitystreams"', "application/json"],
)
async def test_ld_json_and_json_are_accepted(
    alpha: Instance, peer: Peer, content_type: str
) -> None:
    # Given a signed Follow sent as ld+json with a profile, or as plain JSON
    bob = peer.add_actor("bob")
    # When it is posted
    status, _ = await peer.post(
        bob, f"{alpha.base}/inbox", follow_of(bob, alpha), content_type=content_type
    )
    # Then it is accepted
    assert status == 202


async def test_content_length_over_1_mib_gets_413_unread(alpha: Instance) -> None:
    # Given a request that announces a body of 2 MiB
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    # When it is posted
    status, body_json = await raw_post(
        f"{alpha.base}/inbox", body, {"Content-Type": "application/activity+json"}
    )
    # Then it is refused with 413
    assert status == 413
    assert body_json["error"] == "payload_too_large"


async def test_a_body_that_stalls_gets_408(
    alpha: Instance, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a body allowed 0.3 s to arrive, and a peer that declares 100 bytes and sends 10
    monkeypatch.setattr(receive, "BODY_SECONDS", 0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", alpha.port)
    try:
        writer.write(
            b"POST /inbox HTTP/1.1\r\nHost: " + alpha.domain.encode() + b"\r\n"
            b'Content-Type: application/activity+json\r\nContent-Length: 100\r\n\r\n{"id": "x'
        )
        await writer.drain()
        # When it stalls, Then it gets a 408 instead of holding the connection forever
        status_line = await asyncio.wait_for(reader.readline(), 10)
        assert status_line.split()[1] == b"408"
    finally:
        writer.close()


async def test_chunked_body_over_1_mib_gets_413(alpha: Instance) -> None:
    # Given a body sent in chunks, with no Content-Length
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(40):
            yield b" " * 64 * 1024

    # When it is posted
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{alpha.base}/inbox",
            data=chunks(),
            headers={"Content-Type": "application/activity+json"},
        ) as response,
    ):
        # Then it is refused with 413 once the limit is passed
        assert response.status == 413


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b'"a string"', "invalid_json"),
        (b"\xff\xfe{}", "invalid_json"),
        (b'{"type": "Follow", "actor": "http://127.0.0.1:9/users/x"}', "invalid"),
        (b'{"id": "http://127.0.0.1:9/1", "actor": "http://127.0.0.1:9/users/x"}', "invalid"),
        (b'{"id": "http://127.0.0.1:9/1", "type": "Follow"}', "invalid"),
    ],
)
async def test_malformed_activities_get_400(alpha: Instance, body: bytes, code: str) -> None:
    # Given a body that is not an activity we can read
    # When it is posted
    status, answer = await raw_post(
        f"{alpha.base}/inbox", body, {"Content-Type": "application/activity+json"}
    )
    # Then it is refused with 400 and a code saying why
    assert status == 400
    assert answer["error"] == code


async def test_unknown_local_actor_gets_404(alpha: Instance, peer: Peer) -> None:
    # Given a signed Follow sent to an inbox of nobody
    bob = peer.add_actor("bob")
    # When it is posted
    status, _ = await peer.post(bob, f"{alpha.base}/users/nobody/inbox", follow_of(bob, alpha))
    # Then it is 404
    assert status == 404


async def test_unsigned_post_gets_401_missing(alpha: Instance, peer: Peer) -> None:
    # Given an unsigned Follow
    bob = peer.add_actor("bob")
    # When it is posted
    status, body = await peer.post(
        bob, f"{alpha.base}/users/alice/inbox", follow_of(bob, alpha), signed=False
    )
    # Then it is 401 with the reason, and nothing is stored
    assert status == 401
    assert body["error"] == "signature_error"
    assert body["reason"] == "missing"
    assert await inbox_queue.count_by_state(alpha.db) == {}
    # And the message names both accepted schemes, not draft-cavage alone
    assert "no HTTP signature" in body["message"]
    assert "Signature-Input" in body["message"] and "draft-cavage" in body["message"]


async def test_signature_by_a_wrong_key_gets_401_invalid(alpha: Instance, peer: Peer) -> None:
    # Given a Follow signed with a key that is not the one bob's document publishes
    bob = peer.add_actor("bob")
    impostor = peer.add_actor("impostor")
    body = json.dumps(follow_of(bob, alpha)).encode()
    url = f"{alpha.base}/inbox"
    headers = peer.signed_headers(bob, url, body, key=impostor.key)
    # When it is posted
    status, answer = await raw_post(url, body, headers)
    # Then it is 401 invalid
    assert status == 401
    assert answer["reason"] == "invalid"


async def test_tampered_body_gets_401_bad_digest(alpha: Instance, peer: Peer) -> None:
    # Given a correctly signed request whose body is changed afterwards
    bob = peer.add_actor("bob")
    body = json.dumps(follow_of(bob, alpha)).encode()
    url = f"{alpha.base}/inbox"
    headers = peer.signed_headers(bob, url, body)
    # When a different body is sent with those headers
    status, answer = await raw_post(url, body.replace(b"Follow", b"Block "), headers)
    # Then it is 401 bad_digest
    assert status == 401
    assert answer["reason"] == "bad_digest"


async def test_key_owner_other_than_actor_gets_401_not_owner(alpha: Instance, peer: Peer) -> None:
    # Given a Follow claiming to be by bob but signed (validly) by carol's key
    bob = peer.add_actor("bob")
    carol = peer.add_actor("carol")
    # When it is posted
    status, answer = await peer.post(
        bob, f"{alpha.base}/inbox", follow_of(bob, alpha), signer=carol
    )
    # Then it is 401 not_owner, and nothing is stored
    assert status == 401
    assert answer["reason"] == "not_owner"
    assert await inbox_queue.count_by_state(alpha.db) == {}


async def test_activity_id_on_another_origin_gets_400(alpha: Instance, peer: Peer) -> None:
    # Given a signed Follow whose id is on another server than its actor
    bob = peer.add_actor("bob")
    follow = follow_of(bob, alpha)
    follow["id"] = "https://elsewhere.example/follows/1"
    # When it is posted
    status, answer = await peer.post(bob, f"{alpha.base}/inbox", follow)
    # Then it is refused with 400
    assert status == 400
    assert "origin" in str(answer["message"])


async def test_blocked_domain_is_202_and_dropped(alpha: Instance) -> None:
    # Given an activity from a domain blocked in the config (unsigned: it is never checked)
    follow = {
        "id": "https://blocked.example/follows/1",
        "type": "Follow",
        "actor": "https://blocked.example/users/mallory",
        "object": alpha.actor_id("alice"),
    }
    # When it is posted
    status, _ = await raw_post(
        f"{alpha.base}/inbox",
        json.dumps(follow).encode(),
        {"Content-Type": "application/activity+json"},
    )
    # Then it is answered 202, recorded as dropped, and never applied
    assert status == 202
    stored = await inbox_queue.get(alpha.db, follow["id"])
    assert stored is not None
    assert stored.state == "dropped"
    assert await alpha.drain_once() == 0


async def test_domain_blocked_in_the_database_is_dropped(alpha: Instance, peer: Peer) -> None:
    # Given the peer's domain blocked with the database (as `fedsocial domain block` does)
    from fedsocial.federation.setup import domain_blocks
    from fedsocial.storage import domain_blocks as stored_blocks

    assert alpha.app is not None
    await stored_blocks.add(alpha.db, "127.0.0.1", now=0)
    await domain_blocks(alpha.app).refresh()
    bob = peer.add_actor("bob")
    follow = follow_of(bob, alpha)
    # When bob posts a signed Follow
    status, _ = await peer.post(bob, f"{alpha.base}/inbox", follow)
    # Then it is 202 and dropped
    assert status == 202
    stored = await inbox_queue.get(alpha.db, str(follow["id"]))
    assert stored is not None and stored.state == "dropped"


async def test_forwarded_activity_with_the_actors_ld_signature_is_accepted(
    alpha: Instance, peer: Peer
) -> None:
    # Given bob's Create, LD-signed by bob, and forwarded by carol (HTTP-signed by carol)
    from fedsocial.crypto.ld_signature import sign_ld

    bob, carol = peer.add_actor("bob"), peer.add_actor("carol")
    create = load_payload(
        "mastodon_create_note",
        actor=bob.id,
        base=peer.base,
        n="1",
        local=alpha.actor_id("alice"),
    )
    signed = sign_ld(
        create, private_key=bob.key, creator=bob.key_id, created="2024-05-01T10:00:00Z"
    )
    # When carol posts it
    status, _ = await peer.post(bob, f"{alpha.base}/inbox", signed, signer=carol)
    # Then it is accepted, with carol recorded as the signer of the request
    assert status == 202
    stored = await inbox_queue.get(alpha.db, create["id"])
    assert stored is not None and stored.signer == carol.id
    # When a forged copy (text changed after signing) is forwarded the same way
    forged = dict(signed, id=f"{create['id']}-forged")
    status, answer = await peer.post(bob, f"{alpha.base}/inbox", forged, signer=carol)
    # Then it is refused: the proof does not hold, and carol's key is not bob's
    assert status == 401 and answer["reason"] == "not_owner"

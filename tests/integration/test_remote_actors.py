"""Remote actors: fetched by id or handle between live instances, validated, cached."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp import web

from actors.remote import remote_actors
from fedsocial.crypto.keys import generate_rsa_key, public_key_to_pem
from fedsocial.errors import Gone, NotFound, ValidationError
from tests.conftest import StartInstance

AiohttpServer = Any
DOCS = web.AppKey("docs", dict[str, tuple[int, dict[str, Any]]])


async def _fake_remote(aiohttp_server: AiohttpServer) -> Any:
    async def handler(request: web.Request) -> web.Response:
        status, document = request.app[DOCS].get(request.path, (404, {}))
        return web.json_response(document, status=status, content_type="application/activity+json")

    app = web.Application()
    app[DOCS] = {}
    app.router.add_get("/{tail:.*}", handler)
    return await aiohttp_server(app)


def _person(actor_id: str, **changes: Any) -> dict[str, Any]:
    document = {
        "id": actor_id,
        "type": "Person",
        "preferredUsername": "x",
        "inbox": f"{actor_id}/inbox",
        "publicKey": {
            "id": f"{actor_id}#main-key",
            "owner": actor_id,
            "publicKeyPem": public_key_to_pem(generate_rsa_key()),
        },
    }
    document.update(changes)
    return {k: v for k, v in document.items() if v is not None}


async def test_an_actor_by_id_and_by_handle(start_instance: StartInstance) -> None:
    # Given beta with bob, and alpha
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    await beta.add_actor("bob")
    assert alpha.app is not None
    actors = remote_actors(alpha.app)

    # When alpha looks bob up by handle, by id, and in its cache
    by_handle = await actors.by_handle(f"@bob@{beta.domain}")
    by_id = await actors.get(beta.actor_id("bob"))
    cached = await actors.cached(beta.actor_id("bob"))

    # Then all three are bob, with what delivery needs
    assert by_handle == by_id == cached
    assert by_id.shared_inbox == f"{beta.base}/inbox"
    assert by_id.followers == f"{beta.actor_id('bob')}/followers"
    assert (by_id.preferred_username, by_id.domain, by_id.deleted) == ("bob", beta.domain, False)


async def test_local_ids_are_answered_without_http(start_instance: StartInstance) -> None:
    # Given alpha with alice
    alpha = await start_instance("alpha")
    await alpha.add_actor("alice")
    assert alpha.app is not None

    # When alpha asks its remote-actor service for alice and for a missing local actor
    alice = await remote_actors(alpha.app).get(alpha.actor_id("alice"))

    # Then alice is answered from the database in the same shape; the missing one is NotFound
    assert alice.inbox == f"{alpha.actor_id('alice')}/inbox"
    assert alice.document["publicKey"]["owner"] == alice.id
    with pytest.raises(NotFound):
        await remote_actors(alpha.app).get(alpha.actor_id("nobody"))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"id": "http://elsewhere.example/users/x"}, "origin"),
        ({"inbox": None}, "no inbox"),
        ({"publicKey": None}, "no usable public key"),
        ({"type": "Note"}, "not an actor"),
    ],
)
async def test_invalid_actor_documents_are_refused(
    start_instance: StartInstance,
    aiohttp_server: AiohttpServer,
    changes: dict[str, Any],
    message: str,
) -> None:
    # Given a remote server serving a broken actor document
    alpha = await start_instance("alpha")
    remote = await _fake_remote(aiohttp_server)
    actor_id = f"http://127.0.0.1:{remote.port}/users/x"
    remote.app[DOCS]["/users/x"] = (200, _person(actor_id, **changes))
    assert alpha.app is not None

    # When alpha fetches it / Then it is refused, saying why, and nothing is cached
    with pytest.raises(ValidationError, match=message):
        await remote_actors(alpha.app).get(actor_id)
    assert await remote_actors(alpha.app).cached(actor_id) is None


async def test_a_gone_actor_is_marked_deleted(
    start_instance: StartInstance, aiohttp_server: AiohttpServer
) -> None:
    # Given a remote actor that was cached, then deleted (410)
    alpha = await start_instance("alpha")
    remote = await _fake_remote(aiohttp_server)
    actor_id = f"http://127.0.0.1:{remote.port}/users/x"
    remote.app[DOCS]["/users/x"] = (200, _person(actor_id))
    assert alpha.app is not None
    actors = remote_actors(alpha.app)
    await actors.get(actor_id)
    remote.app[DOCS]["/users/x"] = (410, {})

    # When it is refreshed
    with pytest.raises(Gone):
        await actors.get(actor_id, refresh=True)

    # Then it is cached as deleted, and later look-ups say Gone without asking
    cached = await actors.cached(actor_id)
    assert cached is not None and cached.deleted
    with pytest.raises(Gone):
        await actors.get(actor_id)


async def test_embedded_documents_moves_and_deletions_are_recorded(
    start_instance: StartInstance,
) -> None:
    # Given alpha
    alpha = await start_instance("alpha")
    assert alpha.app is not None
    actors = remote_actors(alpha.app)
    actor_id = "https://remote.example/users/zed"

    # When an embedded actor document is stored, marked moved, then deleted
    stored = await actors.store(_person(actor_id, name="Zed"))
    await actors.set_moved_to(actor_id, "https://new.example/users/zed")
    moved = await actors.cached(actor_id)
    await actors.mark_deleted(actor_id)
    deleted = await actors.cached(actor_id)

    # Then each step is visible in the cache; a local document cannot be stored
    assert stored.document["name"] == "Zed" and stored.domain == "remote.example"
    assert moved is not None and moved.moved_to == "https://new.example/users/zed"
    assert deleted is not None and deleted.deleted
    with pytest.raises(ValidationError):
        await actors.store(_person(alpha.actor_id("admin")))


async def test_an_unknown_handle_is_not_found(start_instance: StartInstance) -> None:
    # Given two instances
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    assert alpha.app is not None

    # When alpha looks up a handle beta does not have, or a malformed one
    with pytest.raises(NotFound):
        await remote_actors(alpha.app).by_handle(f"nobody@{beta.domain}")
    with pytest.raises(ValidationError):
        await remote_actors(alpha.app).by_handle("not a handle")

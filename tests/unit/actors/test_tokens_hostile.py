"""Client-to-server bearer tokens against hostile clients: 401/403 with a message, never a 500."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from actors.local import create_actor
from fedsocial import appkeys
from fedsocial.app import create_app
from fedsocial.cli import main
from fedsocial.config import Config, InstanceConfig, StorageConfig
from fedsocial.storage import tokens

NOTE = {"type": "Note", "content": "hi", "to": ["https://www.w3.org/ns/activitystreams#Public"]}


async def token_for(client: TestClient, name: str) -> str:
    return await tokens.create(client.app[appkeys.DB], name, now=client.app[appkeys.CLOCK].now())


async def raw_request(client: TestClient, head: bytes) -> bytes:
    """Send bytes aiohttp's client would refuse to build (header values that are not UTF-8)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    writer.write(head)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return answer


@pytest.mark.parametrize("token", [b"\xff\xfe", b"\xed\xa0\x80", b"fst_\xc3\xa9"])
@pytest.mark.parametrize("method_path", [b"GET /users/alice/inbox", b"POST /users/alice/outbox"])
async def test_token_bytes_that_are_not_utf8_are_401(
    client: TestClient, token: bytes, method_path: bytes
) -> None:
    # Given an Authorization header whose token is not UTF-8 text
    head = (
        method_path + b" HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + b"\r\n"
        b"Content-Type: application/activity+json\r\nContent-Length: 2\r\n"
        b"Connection: close\r\n\r\n{}"
    )
    # When it is sent
    answer = await raw_request(client, head)
    # Then it is an unknown token (401 with a challenge), not a 500 from hashing it
    assert answer.startswith(b"HTTP/1.1 401"), answer[:200]
    assert b'WWW-Authenticate: Bearer realm="fedsocial"' in answer


@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer   ", "Basic YWxpY2U6eA==", "Bearer fst_nope"]
)
async def test_outbox_without_a_live_token_is_401_with_a_challenge(
    client: TestClient, authorization: str | None
) -> None:
    # Given a POST to an outbox with no token, another scheme or an unknown token
    headers = {} if authorization is None else {"Authorization": authorization}
    response = await client.post("/users/alice/outbox", json=NOTE, headers=headers)
    # Then 401 says why and how to authenticate (RFC 9110: a 401 carries WWW-Authenticate)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="fedsocial"'
    assert (await response.json())["message"]


async def test_revoked_token_and_another_actors_token(client: TestClient) -> None:
    # Given alice's token and bob's token, and alice's token then revoked
    db = client.app[appkeys.DB]
    await create_actor(db, client.app[appkeys.CLOCK], "bob")
    alice, bob = await token_for(client, "alice"), await token_for(client, "bob")
    # When bob's token is used on alice's outbox and inbox
    post = await client.post(
        "/users/alice/outbox", json=NOTE, headers={"Authorization": f"Bearer {bob}"}
    )
    read = await client.get("/users/alice/inbox", headers={"Authorization": f"Bearer {bob}"})
    # Then both are refused with a message, never served
    assert post.status == 403
    assert "does not belong to alice" in (await post.json())["message"]
    assert read.status in (401, 403)
    # And alice's own token works with any case of the scheme and extra spaces...
    own = await client.get("/users/alice/inbox", headers={"Authorization": f"bEaReR   {alice}  "})
    assert own.status == 200
    # ...until it is revoked
    assert await tokens.revoke(db, alice, now=client.app[appkeys.CLOCK].now())
    after = await client.get("/users/alice/inbox", headers={"Authorization": f"Bearer {alice}"})
    assert after.status == 401


async def test_tokens_are_stored_only_as_hashes(client: TestClient) -> None:
    # Given a token just created
    token = await token_for(client, "alice")
    # When the database file is read with plain sqlite3
    path = client.app[appkeys.CONFIG].storage.database
    with sqlite3.connect(path) as conn:
        rows = conn.execute("SELECT token_hash FROM tokens").fetchall()
        dump = "\n".join(conn.iterdump())
    # Then only its SHA-256 is there, never the token itself
    assert rows == [(hashlib.sha256(token.encode()).hexdigest(),)]
    assert token not in dump
    assert token.startswith(tokens.TOKEN_PREFIX) and token.isascii()


async def test_secure_mode_still_lets_a_token_read_its_inbox(
    aiohttp_client: Any, tmp_path: Path
) -> None:
    # Given an instance in secure mode (authorized fetch) and alice's token
    config = Config(
        instance=InstanceConfig(domain="social.example", scheme="https", secure_mode=True),
        storage=StorageConfig(database=str(tmp_path / "secure.sqlite3")),
    )
    app = create_app(config)
    client: TestClient = await aiohttp_client(app)
    await create_actor(app[appkeys.DB], app[appkeys.CLOCK], "alice")
    token = await token_for(client, "alice")
    # When her client, which has a token but no key to sign with, reads her inbox
    own = await client.get("/users/alice/inbox", headers={"Authorization": f"Bearer {token}"})
    # Then the token is what counts: she gets it
    assert own.status == 200, await own.text()
    # And without the token nobody does, secure mode or not
    anonymous = await client.get("/users/alice/inbox")
    assert anonymous.status == 401
    # And the bearer header opens nothing else: the actor document still needs a signature
    actor = await client.get(
        "/users/alice",
        headers={"Authorization": f"Bearer {token}", "Accept": "application/activity+json"},
    )
    assert actor.status == 401


def test_token_cli_refuses_a_label_that_is_not_utf8(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a database with its first actor
    config = tmp_path / "fedsocial.toml"
    config.write_text('[storage]\ndatabase = "t.sqlite3"\n', encoding="utf-8")
    assert main(["--config", str(config), "init"]) == 0
    # When a token is created with a label of bytes that are not UTF-8
    code = main(["--config", str(config), "token", "create", "admin", "--label", "\udcff"])
    # Then it is a clear error and no token is printed, not a traceback from SQLite
    assert code == 2
    out, err = capsys.readouterr()
    assert "label" in err and tokens.TOKEN_PREFIX not in out
    # And revoking such a string is simply "no such token"
    assert main(["--config", str(config), "token", "revoke", "\udcff"]) == 2

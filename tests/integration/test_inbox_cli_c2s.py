"""What a user sees: notifications, timeline, show, tokens and the C2S inbox, domain blocks,
follow requests — through the `fedsocial` command and HTTP, against a live instance."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from fedsocial.storage import follows, tokens
from tests.cli_helpers import run_in_process, write_cli_config
from tests.conftest import StartInstance
from tests.fixtures.inbox.peer import Peer, PeerActor, load_payload
from tests.harness import Instance, drain


@pytest.fixture
async def alpha(start_instance: StartInstance) -> Instance:
    instance = await start_instance("alpha")
    await instance.add_actor("alice")
    await instance.add_actor("carla", manually_approves=True)
    return instance


async def receive_note(peer: Peer, bob: PeerActor, alpha: Instance) -> dict[str, Any]:
    create = load_payload(
        "mastodon_create_note",
        actor=bob.id,
        base=peer.base,
        n="1",
        local=alpha.actor_id("alice"),
    )
    assert (await peer.post(bob, f"{alpha.base}/users/alice/inbox", create))[0] == 202
    await drain(alpha)
    return create


async def test_notifications_timeline_and_show(
    alpha: Instance, peer: Peer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given bob's post mentioning alice was received
    bob = peer.add_actor("bob")
    create = await receive_note(peer, bob, alpha)
    config = write_cli_config(alpha, tmp_path)
    # When alice's notifications are listed
    assert await run_in_process(config, "notifications", "alice", "--json") == 0
    # Then there is the mention
    [mention] = json.loads(capsys.readouterr().out)
    assert mention["kind"] == "mention" and mention["from"] == bob.id
    # When her timeline is shown as text
    assert await run_in_process(config, "timeline", "alice") == 0
    line = capsys.readouterr().out
    # Then it shows the post's text behind its content warning, without markup
    assert "[CW: spoilers ahead]" in line and "hello" in line and "<p>" not in line
    # When the stored note is shown
    assert await run_in_process(config, "show", create["object"]["id"]) == 0
    shown = capsys.readouterr().out
    assert "Note" in shown and "CW: spoilers ahead" in shown and "image/png" in shown
    assert "alert" not in shown
    assert await run_in_process(config, "show", create["object"]["id"], "--json") == 0
    assert "<script" not in json.loads(capsys.readouterr().out)["content"]
    # And the stored remote actor can be shown too
    assert await run_in_process(config, "show", bob.id) == 0
    assert "preferredUsername: bob" in capsys.readouterr().out


async def test_token_and_c2s_inbox(
    alpha: Instance, peer: Peer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given alice received a note and a follow, and has a token
    bob = peer.add_actor("bob")
    create = await receive_note(peer, bob, alpha)
    follow = load_payload(
        "mastodon_follow", actor=bob.id, base=peer.base, uuid="f1", local=alpha.actor_id("alice")
    )
    await peer.post(bob, f"{alpha.base}/users/alice/inbox", follow)
    await drain(alpha)
    config = write_cli_config(alpha, tmp_path)
    assert await run_in_process(config, "token", "create", "alice") == 0
    token = capsys.readouterr().out.strip()
    inbox = f"{alpha.base}/users/alice/inbox"
    async with aiohttp.ClientSession() as session:
        # When alice reads her inbox with the token
        auth = {"Authorization": f"Bearer {token}"}
        async with session.get(inbox, headers=auth) as response:
            collection = await response.json(content_type=None)
        async with session.get(f"{inbox}?page=1", headers=auth) as response:
            page = await response.json(content_type=None)
        # Then she gets an OrderedCollection of both, newest first
        assert collection["type"] == "OrderedCollection" and collection["totalItems"] == 2
        assert [a["id"] for a in page["orderedItems"]] == [follow["id"], create["id"]]
        # And without a token it is 401; with another actor's token 403, as on the outbox
        async with session.get(inbox) as response:
            assert response.status == 401
            assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert await run_in_process(config, "token", "create", "carla") == 0
        other = capsys.readouterr().out.strip()
        async with session.get(inbox, headers={"Authorization": f"Bearer {other}"}) as response:
            assert response.status == 403
            assert (await response.json())["message"] == "this token does not belong to alice"
        # When the token is revoked, Then it no longer works
        assert await run_in_process(config, "token", "revoke", token) == 0
        async with session.get(inbox, headers=auth) as response:
            assert response.status == 401


async def test_domain_block_commands(
    alpha: Instance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given the CLI
    config = write_cli_config(alpha, tmp_path)
    # When a domain is blocked (given as a URL) and listed
    assert await run_in_process(config, "domain", "block", "https://Spam.Example/users/x") == 0
    assert await run_in_process(config, "domain", "list") == 0
    # Then the host is listed; and unblocking removes it
    assert capsys.readouterr().out.splitlines() == ["blocked spam.example", "spam.example"]
    assert await run_in_process(config, "domain", "unblock", "spam.example") == 0
    assert await run_in_process(config, "domain", "list") == 0
    assert capsys.readouterr().out.splitlines() == ["unblocked spam.example"]


async def test_follow_request_accepted_from_the_cli(
    alpha: Instance, peer: Peer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given bob asked to follow carla, who approves by hand
    bob = peer.add_actor("bob")
    carla = alpha.actor_id("carla")
    follow = load_payload("mastodon_follow", actor=bob.id, base=peer.base, uuid="f", local=carla)
    await peer.post(bob, f"{alpha.base}/users/carla/inbox", follow)
    await drain(alpha)
    config = write_cli_config(alpha, tmp_path)
    # When carla lists her requests
    assert await run_in_process(config, "follow-requests", "carla") == 0
    assert capsys.readouterr().out.splitlines() == [
        "FOLLOWER\tACTIVITY",
        f"{bob.id}\t{follow['id']}",
    ]
    # And accepts bob's
    assert await run_in_process(config, "follow-requests", "carla", "accept", bob.id) == 0
    await drain(alpha)
    # Then bob follows her, and the server delivered an Accept of bob's Follow
    assert await follows.get_state(alpha.db, bob.id, carla) == "accepted"
    accepts = [a for a in peer.received if a.get("type") == "Accept"]
    assert len(accepts) == 1 and accepts[0]["object"]["id"] == follow["id"]


async def test_tokens_never_look_like_options_and_old_ones_revoke_after_dashes(
    alpha: Instance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_cli_config(alpha, tmp_path)
    # When tokens are created, Then each starts with the fst_ prefix (never with "-")
    for _ in range(5):
        assert await run_in_process(config, "token", "create", "alice") == 0
        token = capsys.readouterr().out.strip()
        assert token.startswith("fst_") and len(token) == 4 + 43, token
        # And revoking it from the command line works
        assert await run_in_process(config, "token", "revoke", token) == 0
        assert capsys.readouterr().out == "revoked\n"
        assert await tokens.actor_for(alpha.db, token) is None
    # Given a token from before the prefix that starts with "-"
    old = "-h7GyL9sVDfqvTe6RU5a-6ZBMEHppArSe6U8q0aT1YI"
    await alpha.db.execute(
        "INSERT INTO tokens (token_hash, actor_name, label, created_at) VALUES (?,?,?,?)",
        (tokens.hash_token(old), "alice", "", 0.0),
    )
    assert await tokens.actor_for(alpha.db, old) == "alice"
    # When it is revoked after "--", Then it no longer works
    assert await run_in_process(config, "token", "revoke", "--", old) == 0
    assert await tokens.actor_for(alpha.db, old) is None

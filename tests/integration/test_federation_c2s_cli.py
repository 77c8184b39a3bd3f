"""Client-to-server posting and the outbox CLI against live instances."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from actors.remote import remote_actors
from actors.state import local_actors
from fedsocial.clock import SystemClock
from fedsocial.storage import deliveries, follows, objects, tokens
from outbox import service as outbox_service
from outbox.service import outbox_of
from tests.cli_helpers import run_cli, write_cli_config
from tests.conftest import StartInstance
from tests.harness import Instance, drain
from tests.unit.outbox.sink import Sink


async def _token(instance: Instance, name: str) -> str:
    return await tokens.create(instance.db, name, now=0.0)


async def test_c2s_bare_note_is_wrapped_in_create_and_federated(
    start_instance: StartInstance,
) -> None:
    # Given amy on alpha with a token, followed by bob on beta
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    amy = await alpha.add_actor("amy")
    await beta.add_actor("bob")
    assert beta.app is not None
    bob = await local_actors(beta.app).require("bob")
    await outbox_of(beta.app).follow(bob, amy)
    await drain(alpha, beta)
    token = await _token(alpha, "amy")
    # When a client posts a bare Note to amy's outbox
    note = {
        "type": "Note",
        "content": "<p>hello from a client</p>",
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
    }
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{amy}/outbox", json=note, headers={"Authorization": f"Bearer {token}"}
        ) as resp:
            status, location = resp.status, resp.headers.get("Location", "")
        # Then it answers 201 with the Create's id, which serves the Create
        assert status == 201 and location.startswith(f"{amy}/activities/")
        async with session.get(location, headers={"Accept": "application/activity+json"}) as got:
            create = await got.json(content_type=None)
    assert create["type"] == "Create" and create["actor"] == amy
    object_id = create["object"]["id"]
    assert create["object"]["content"] == "<p>hello from a client</p>"
    # And the follower's server receives it
    await drain(alpha, beta)
    assert await objects.get(beta.db, object_id) is not None


async def test_c2s_refuses_missing_wrong_and_foreign_tokens(start_instance: StartInstance) -> None:
    # Given two actors on alpha, each with a token
    alpha = await start_instance("alpha")
    amy = await alpha.add_actor("amy")
    await alpha.add_actor("cid")
    cids = await _token(alpha, "cid")
    note = {"type": "Note", "content": "x", "to": []}
    async with aiohttp.ClientSession() as session:
        # When posting without a token, with an unknown one, or with cid's for amy
        cases = [({}, 401), ({"Authorization": "Bearer nope"}, 401)]
        cases.append(({"Authorization": f"Bearer {cids}"}, 403))
        for headers, expected in cases:
            async with session.post(f"{amy}/outbox", json=note, headers=headers) as resp:
                # Then each gets the matching refusal, never a 500
                assert resp.status == expected
        # When the body is not JSON or the activity unsupported
        auth = {"Authorization": f"Bearer {await _token(alpha, 'amy')}"}
        async with session.post(f"{amy}/outbox", data=b"{nope", headers=auth) as resp:
            assert resp.status == 400
        async with session.post(
            f"{amy}/outbox", json={"type": "Dance", "object": amy}, headers=auth
        ) as resp:
            assert resp.status == 400


async def test_cli_post_is_delivered_by_the_running_server(
    start_instance: StartInstance, tmp_path: Path
) -> None:
    # Given bob on beta follows amy on alpha, and a config file for alpha's database
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    amy = await alpha.add_actor("amy")
    await beta.add_actor("bob")
    config = write_cli_config(alpha, tmp_path)
    code, out, err = await run_cli("--config", str(config), "follow", "amy", beta.actor_id("bob"))
    assert code == 0, err
    await drain(alpha, beta)
    # (amy followed bob through the CLI; now bob follows amy the same way from beta's side)
    beta_config = write_cli_config(beta, tmp_path)
    code, _, err = await run_cli("--config", str(beta_config), "follow", "bob", amy)
    assert code == 0, err
    await drain(alpha, beta)
    # When amy posts from the CLI, in another process
    code, out, err = await run_cli(
        "--config", str(config), "post", "amy", "hello #cli", "--visibility", "unlisted"
    )
    # Then it prints the new object's id, and the running server delivers it
    assert code == 0, err
    object_id = out.strip()
    assert object_id.startswith(f"{amy}/statuses/")
    await drain(alpha, beta)
    copy = await objects.get(beta.db, object_id)
    assert copy is not None and copy.visibility == "unlisted"
    # And `deliveries --json` shows the delivered row with its status
    code, out, err = await run_cli("--config", str(config), "deliveries", "--json")
    assert code == 0, err
    assert '"state": "delivered"' in out and '"last_status": 202' in out
    rows = await deliveries.list_rows(alpha.db, state="failed")
    assert rows == []
    code, out, _ = await run_cli("--config", str(config), "deliveries", "--failed")
    assert code == 0 and out.splitlines() == [
        "ID\tSTATE\tATTEMPTS\tSTATUS\tNEXT_ATTEMPT\tACTIVITY\tINBOX\tERROR"
    ]


async def test_cli_move_to_an_account_on_another_instance(
    start_instance: StartInstance, tmp_path: Path
) -> None:
    # Given bob on beta follows amy on alpha, and dora on beta is where amy is moving to
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    amy = await alpha.add_actor("amy")
    await beta.add_actor("bob")
    dora = await beta.add_actor("dora")
    alpha_config, beta_config = write_cli_config(alpha, tmp_path), write_cli_config(beta, tmp_path)
    code, _, err = await run_cli("--config", str(beta_config), "follow", "bob", amy)
    assert code == 0, err
    await drain(alpha, beta)
    # When dora names amy as an alias from the CLI (by handle), and amy moves there
    code, _, err = await run_cli(
        "--config", str(beta_config), "profile", "dora", "--also-known-as", f"@amy@{alpha.domain}"
    )
    assert code == 0, err
    await drain(alpha, beta)
    code, out, err = await run_cli("--config", str(alpha_config), "move", "amy", dora)
    # Then the move is accepted and printed, and amy's actor points at dora
    assert code == 0, err
    assert out.strip() == dora
    async with (
        aiohttp.ClientSession() as session,
        session.get(amy, headers={"Accept": "application/activity+json"}) as resp,
    ):
        assert (await resp.json(content_type=None))["movedTo"] == dora
    async with (
        aiohttp.ClientSession() as session,
        session.get(dora, headers={"Accept": "application/activity+json"}) as resp,
    ):
        assert (await resp.json(content_type=None))["alsoKnownAs"] == [amy]
    # And amy's follower bob now follows dora instead
    await drain(alpha, beta)
    bob = beta.actor_id("bob")
    assert await follows.get_state(beta.db, bob, dora) == "accepted"
    assert await follows.get_state(beta.db, bob, amy) is None


async def test_the_server_notices_a_cli_post_without_waiting_for_its_poll(
    start_instance: StartInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a running server whose delivery worker would poll only once an hour
    monkeypatch.setattr(outbox_service, "POLL_SECONDS", 3600.0)
    alpha = await start_instance("alpha")
    amy = await alpha.add_actor("amy")
    assert alpha.app is not None
    key = (await local_actors(alpha.app).require("amy")).rsa_key.public_key()
    sink = await Sink(SystemClock(), {f"{amy}#main-key": key}.get).start()
    try:
        follower = await remote_actors(alpha.app).store(
            sink.actor_document("ann", shared_inbox=False)
        )
        await follows.upsert(alpha.db, follower.id, amy, activity_id=None, state="accepted", now=0)
        # When amy posts from the CLI, another process with its own database connection
        code, _, err = await run_cli(
            "--config", str(write_cli_config(alpha, tmp_path)), "post", "amy", "hi"
        )
        assert code == 0, err
        # Then the server sees the other process's commit and delivers without being drained
        await asyncio.wait_for(sink.arrived.wait(), timeout=20)
        assert [r.path for r in sink.received] == ["/users/ann/inbox"]
        assert sink.received[0].signature_ok
    finally:
        await sink.stop()

"""The `fedsocial` command as a user meets it, against live instances on loopback: follow
requests settled by handle, listings with a header line, `show` with the visibility, and a
`profile` call with nothing to change."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from actors.state import local_actors
from fedsocial.cli import main
from fedsocial.storage import activities, deliveries, follows
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.cli_helpers import run_in_process, write_cli_config
from tests.conftest import StartInstance
from tests.harness import Instance, drain


async def follow(source: Instance, name: str, target: str) -> None:
    """`name` on `source` asks to follow `target`; the queues are not drained."""
    assert source.app is not None
    actor = await local_actors(source.app).require(name)
    await outbox_of(source.app).follow(actor, target)


async def test_follow_requests_are_settled_by_handle(
    start_instance: StartInstance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given carla on alpha approves followers by hand, and bob and dan on beta asked to follow
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    carla = await alpha.add_actor("carla", manually_approves=True)
    bob, dan = await beta.add_actor("bob"), await beta.add_actor("dan")
    await follow(beta, "bob", carla)
    await follow(beta, "dan", carla)
    await drain(alpha, beta)
    config = write_cli_config(alpha, tmp_path)
    # When carla accepts bob by his handle and rejects dan by his handle without the first @
    assert (
        await run_in_process(config, "follow-requests", "carla", "accept", f"@bob@{beta.domain}")
        == 0
    )
    assert (
        await run_in_process(config, "follow-requests", "carla", "reject", f"dan@{beta.domain}")
        == 0
    )
    await drain(alpha, beta)
    # Then each command names the actor it settled, by id
    assert capsys.readouterr().out.splitlines() == [f"accepted {bob}", f"rejected {dan}"]
    # And bob follows carla on both sides, while dan's request is gone on both sides
    assert await follows.get_state(alpha.db, bob, carla) == "accepted"
    assert await follows.get_state(beta.db, bob, carla) == "accepted"
    assert await follows.get_state(alpha.db, dan, carla) is None
    assert await follows.get_state(beta.db, dan, carla) is None


async def test_listings_start_with_a_header_and_json_is_unchanged(
    start_instance: StartInstance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given amy (manual approval) on alpha, followed by bob on beta, whose post mentions her
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    amy = await alpha.add_actor("amy", manually_approves=True)
    await beta.add_actor("bob")
    await follow(beta, "bob", amy)
    assert beta.app is not None
    bob_actor = await local_actors(beta.app).require("bob")
    await outbox_of(beta.app).post(bob_actor, NoteDraft(f"hi @amy@{alpha.domain}"))
    await drain(alpha, beta)
    config = write_cli_config(alpha, tmp_path)
    headers = {
        ("notifications", "amy"): "AT\tKIND\tFROM\tOBJECT",
        ("timeline", "amy"): "AT\tPOST",
        ("follow-requests", "amy"): "FOLLOWER\tACTIVITY",
        ("relay", "list"): "URL\tSTATE\tINBOX\tSINCE",
        ("actor", "list"): "NAME\tTYPE\tID\tAPPROVAL",
        ("deliveries",): "ID\tSTATE\tATTEMPTS\tSTATUS\tNEXT_ATTEMPT\tACTIVITY\tINBOX\tERROR",
    }
    for argv, header in headers.items():
        # When each listing is printed as text
        assert await run_in_process(config, *argv) == 0
        lines = capsys.readouterr().out.splitlines()
        # Then its first line names the columns, and every line has that many columns
        assert lines[0] == header, argv
        assert all(line.count("\t") == header.count("\t") for line in lines), argv
    # And the rows are still there under the header
    assert await run_in_process(config, "actor", "list") == 0
    assert capsys.readouterr().out.splitlines()[1:] == [
        f"amy\tPerson\t{amy}\tmanual",
    ]
    assert await run_in_process(config, "notifications", "amy") == 0
    kinds = {line.split("\t")[1] for line in capsys.readouterr().out.splitlines()[1:]}
    assert "mention" in kinds
    # And `--json` output (where a listing has it) is bare JSON, without a header
    for argv in headers:
        if argv == ("follow-requests", "amy"):
            continue
        assert await run_in_process(config, *argv, "--json") == 0
        assert isinstance(json.loads(capsys.readouterr().out), list), argv


async def test_show_prints_the_visibility(
    start_instance: StartInstance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given amy's followers-only note
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    note = await outbox_of(alpha.app).post(
        amy, NoteDraft("for friends", visibility=Visibility.FOLLOWERS)
    )
    # When it is shown
    assert await run_in_process(write_cli_config(alpha, tmp_path), "show", note) == 0
    # Then the visibility is one of the fields printed
    assert "visibility: followers" in capsys.readouterr().out.splitlines()


async def test_profile_with_nothing_to_change_sends_nothing(
    start_instance: StartInstance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given amy on alpha, followed by bob on beta
    alpha = await start_instance("alpha")
    beta = await start_instance("beta")
    amy = await alpha.add_actor("amy")
    await beta.add_actor("bob")
    await follow(beta, "bob", amy)
    await drain(alpha, beta)
    before = await deliveries.list_rows(alpha.db)
    config = write_cli_config(alpha, tmp_path)
    # When `fedsocial profile amy` runs without any option
    code = await asyncio.to_thread(main, ["--config", str(config), "profile", "amy"])
    # Then it says there is nothing to change and exits 2
    assert code == 2
    assert "nothing to change" in capsys.readouterr().err
    # And no Update was stored or queued
    assert await deliveries.list_rows(alpha.db) == before
    assert await activities.find_local(alpha.db, amy, "Update", amy) is None

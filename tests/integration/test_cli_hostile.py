"""The `fedsocial` command and the remote actor cache against hostile peers and careless users:
WebFinger answers naming another domain's actor, escape sequences in remote text, and a config
whose database cannot be opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from actors.remote import remote_actors
from fedsocial.cli import main
from fedsocial.cli.tables import table_lines
from fedsocial.crypto.keys import generate_rsa_key, public_key_to_pem
from fedsocial.errors import ValidationError
from fedsocial.storage import deliveries
from tests.cli_helpers import run_cli, write_cli_config
from tests.conftest import StartInstance

AiohttpServer = Any
# resource (acct:…) -> JRD, and path -> actor document, for a fake remote server.
JRDS = web.AppKey("jrds", dict[str, dict[str, Any]])
ACTORS = web.AppKey("actors", dict[str, dict[str, Any]])
ESC = "\x1b"


async def _fake_host(aiohttp_server: AiohttpServer) -> Any:
    async def webfinger(request: web.Request) -> web.Response:
        jrd = request.app[JRDS].get(request.query.get("resource", ""))
        if jrd is None:
            return web.Response(status=404)
        return web.json_response(jrd, content_type="application/jrd+json")

    async def actor(request: web.Request) -> web.Response:
        document = request.app[ACTORS].get(request.path)
        if document is None:
            return web.Response(status=404)
        return web.json_response(document, content_type="application/activity+json")

    app = web.Application()
    app[JRDS], app[ACTORS] = {}, {}
    app.router.add_get("/.well-known/webfinger", webfinger)
    app.router.add_get("/{tail:.*}", actor)
    return await aiohttp_server(app)


def _authority(server: Any) -> str:
    return f"127.0.0.1:{server.port}"


def _jrd(user: str, host: str, href: str) -> dict[str, Any]:
    return {
        "subject": f"acct:{user}@{host}",
        "links": [{"rel": "self", "type": "application/activity+json", "href": href}],
    }


def _serve_actor(server: Any, name: str, **changes: Any) -> str:
    actor_id = f"http://{_authority(server)}/users/{name}"
    document = {
        "id": actor_id,
        "type": "Person",
        "preferredUsername": name,
        "inbox": f"{actor_id}/inbox",
        "publicKey": {
            "id": f"{actor_id}#main-key",
            "owner": actor_id,
            "publicKeyPem": public_key_to_pem(generate_rsa_key()),
        },
        **changes,
    }
    server.app[ACTORS][f"/users/{name}"] = document
    return actor_id


@pytest.mark.parametrize("confirmation", ["none", "another actor"])
async def test_a_handle_pointing_to_an_unconfirmed_actor_elsewhere_is_refused(
    start_instance: StartInstance, aiohttp_server: AiohttpServer, confirmation: str
) -> None:
    # Given evil, whose WebFinger says alice@evil is victim's carol, and victim, which serves
    # carol but whose own WebFinger does not name her as carol@victim
    alpha = await start_instance("alpha")
    evil, victim = await _fake_host(aiohttp_server), await _fake_host(aiohttp_server)
    carol = _serve_actor(victim, "carol")
    evil.app[JRDS][f"acct:alice@{_authority(evil)}"] = _jrd("alice", _authority(evil), carol)
    if confirmation == "another actor":
        other = _serve_actor(victim, "dave")
        victim.app[JRDS][f"acct:carol@{_authority(victim)}"] = _jrd(
            "carol", _authority(victim), other
        )
    assert alpha.app is not None

    # When alpha looks up @alice@evil / Then it is refused, naming the actor not confirmed
    with pytest.raises(ValidationError, match="does not confirm"):
        await remote_actors(alpha.app).by_handle(f"@alice@{_authority(evil)}")


async def test_a_handle_on_a_split_domain_is_confirmed_by_the_actors_host(
    start_instance: StartInstance, aiohttp_server: AiohttpServer
) -> None:
    # Given a Mastodon with LOCAL_DOMAIN example and WEB_DOMAIN social: example's WebFinger
    # points to carol on social, and social's WebFinger confirms carol@social is her
    alpha = await start_instance("alpha")
    example, social = await _fake_host(aiohttp_server), await _fake_host(aiohttp_server)
    carol = _serve_actor(social, "carol")
    example.app[JRDS][f"acct:carol@{_authority(example)}"] = _jrd(
        "carol", _authority(example), carol
    )
    social.app[JRDS][f"acct:carol@{_authority(social)}"] = _jrd("carol", _authority(example), carol)
    assert alpha.app is not None

    # When alpha looks up @carol@example
    actor = await remote_actors(alpha.app).by_handle(f"@carol@{_authority(example)}")

    # Then it is carol on social
    assert actor.id == carol


async def test_follow_of_an_unconfirmed_handle_queues_nothing(
    start_instance: StartInstance,
    aiohttp_server: AiohttpServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given evil's WebFinger naming victim's carol as alice@evil, unconfirmed by victim
    alpha = await start_instance("alpha")
    evil, victim = await _fake_host(aiohttp_server), await _fake_host(aiohttp_server)
    carol = _serve_actor(victim, "carol")
    evil.app[JRDS][f"acct:alice@{_authority(evil)}"] = _jrd("alice", _authority(evil), carol)
    config = write_cli_config(alpha, tmp_path)

    # When the admin follows @alice@evil from the command line
    code = await _main_async(str(config), "follow", "admin", f"@alice@{_authority(evil)}")

    # Then the command ends with exit 2 and the reason, and no Follow is queued for carol
    assert code == 2
    assert "does not confirm" in capsys.readouterr().err
    assert await deliveries.list_rows(alpha.db, state=None, limit=10) == []


async def _main_async(config: str, *argv: str) -> int:
    """`main` runs its own event loop: run it in a thread from this test's loop."""
    import asyncio

    return await asyncio.to_thread(main, ["--config", config, *argv])


def test_table_cells_cannot_drive_the_terminal() -> None:
    # Given cells with escape sequences, a C1 CSI, a bell, a backspace and a carriage return
    hostile = f"{ESC}]0;owned{chr(7)}Al{ESC}[31mice\x9b2J\bx\ry"

    # When they are laid out as a table
    lines = table_lines(("NAME", "NOTE"), [(hostile, "a\tb\nc")])

    # Then no control character is left; tabs and line breaks in cells became spaces
    assert len(lines) == 2
    assert not any((ch < " " and ch != "\t") or "\x7f" <= ch <= "\x9f" for ch in lines[1])
    assert lines[1].endswith("\ta b c") and "Al" in lines[1] and "ice" in lines[1]


async def test_show_of_a_hostile_remote_actor_prints_no_control_characters(
    start_instance: StartInstance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a remote actor stored with escape sequences in its name, username and summary
    # (one written as an HTML character reference, which plain_text decodes)
    alpha = await start_instance("alpha")
    assert alpha.app is not None
    actor_id = "https://remote.example/users/mallory"
    await remote_actors(alpha.app).store(
        {
            "id": actor_id,
            "type": "Person",
            "preferredUsername": f"mal{ESC}[2Jlory",
            "name": f"{ESC}]0;pwned{chr(7)}Mallory",
            "summary": "<p>hi &#27;[31mred &#x9b;2J</p>",
            "inbox": f"{actor_id}/inbox",
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": public_key_to_pem(generate_rsa_key()),
            },
        }
    )
    config = write_cli_config(alpha, tmp_path)

    # When the user shows it
    code = await _main_async(str(config), "show", actor_id)

    # Then it is printed without any control character but line feeds
    out = capsys.readouterr().out
    assert code == 0 and "Mallory" in out and "red" in out
    assert not any((ch < " " and ch not in "\n\t") or "\x7f" <= ch <= "\x9f" for ch in out)


@pytest.mark.parametrize("database", ["a-file/x.sqlite3", "a-folder"])
async def test_a_database_that_cannot_be_opened_is_a_message(tmp_path: Path, database: str) -> None:
    # Given a config whose database lies under a file, or is a folder
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    (tmp_path / "a-folder").mkdir()
    config = tmp_path / "c.toml"
    config.write_text(f'[storage]\ndatabase = "{database}"\n', encoding="utf-8")

    # When a command runs with it
    code, out, err = await run_cli("--config", str(config), "actor", "list")

    # Then it ends with exit 1 and one line naming the database, no traceback
    assert code == 1 and out == ""
    assert err.startswith("fedsocial: error: cannot ") and database in err
    assert "Traceback" not in err and len(err.splitlines()) == 1


async def test_show_and_timeline_survive_a_summary_that_is_not_a_string(
    start_instance: StartInstance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a remote actor stored with a list as its summary and an object as its name
    alpha = await start_instance("alpha")
    assert alpha.app is not None
    actor_id = "https://remote.example/users/odd"
    await remote_actors(alpha.app).store(
        {
            "id": actor_id,
            "type": "Person",
            "preferredUsername": "odd",
            "name": {"en": "Odd"},
            "summary": ["<p>one</p>", {"two": 2}],
            "inbox": f"{actor_id}/inbox",
            "publicKey": {
                "id": f"{actor_id}#main-key",
                "owner": actor_id,
                "publicKeyPem": public_key_to_pem(generate_rsa_key()),
            },
        }
    )
    config = write_cli_config(alpha, tmp_path)

    # When the user shows it
    code = await _main_async(str(config), "show", actor_id)

    # Then it is printed (without the unusable fields), not a TypeError traceback
    assert code == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        f"Person {actor_id}",
        "preferredUsername: odd",
    ]


@pytest.mark.parametrize(
    ("target", "code", "message"),
    [
        ("BOB", 0, ""),
        ("ftp://bob", 2, "not an actor: 'ftp://bob'"),
        ("", 2, "not an actor: ''"),
        ("bob smith", 2, "not an actor: 'bob smith'"),
    ],
)
async def test_follow_reads_a_bare_name_as_a_local_actor_in_any_case(
    start_instance: StartInstance,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    target: str,
    code: int,
    message: str,
) -> None:
    # Given alpha with amy and bob
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    await alpha.add_actor("bob")
    config = write_cli_config(alpha, tmp_path)

    # When amy follows a bare name in capitals, or something that is no name at all
    result = await _main_async(str(config), "follow", "amy", target)

    # Then capitals name bob; the rest end with exit 2 and say what to give instead
    assert result == code
    assert message in capsys.readouterr().err

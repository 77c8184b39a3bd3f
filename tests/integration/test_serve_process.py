"""`fedsocial init` and `fedsocial serve` as real subprocesses, as a user runs them."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
from cryptography.hazmat.primitives.serialization import load_pem_public_key

CLI = [sys.executable, "-m", "fedsocial.cli"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(folder: Path, port: int) -> Path:
    path = folder / "fedsocial.toml"
    path.write_text(
        f'[instance]\ndomain = "127.0.0.1:{port}"\nscheme = "http"\n'
        f'[server]\nport = {port}\n[storage]\ndatabase = "db.sqlite3"\n'
        '[first_actor]\nname = "carol"\ndisplay_name = "Carol"\n',
        encoding="utf-8",
    )
    return path


def run(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CLI, "--config", str(config), *args], capture_output=True, text=True, timeout=60
    )


def test_init_is_idempotent_and_actor_commands(tmp_path: Path) -> None:
    config = write_config(tmp_path, 8099)
    first = run(config, "init")
    assert first.returncode == 0, first.stderr
    assert "created actor carol" in first.stdout
    again = run(config, "init")
    assert again.returncode == 0 and "up to date" in again.stdout
    added = run(config, "actor", "add", "dave", "--type", "Service", "--manual-approval")
    assert added.returncode == 0 and added.stdout.strip() == "http://127.0.0.1:8099/users/dave"
    duplicate = run(config, "actor", "add", "dave")
    assert duplicate.returncode != 0 and "already exists" in duplicate.stderr
    invalid = run(config, "actor", "add", "Not-Valid")
    assert invalid.returncode != 0 and "invalid actor name" in invalid.stderr
    listed = run(config, "actor", "list")
    assert "carol" in listed.stdout and "dave\tService" in listed.stdout


def test_bad_config_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[server]\nprot = 1\n")
    result = run(path, "init")
    assert result.returncode == 2
    assert "server.prot: unknown key" in result.stderr and str(path) in result.stderr


async def test_serve_answers_webfinger_and_actor(tmp_path: Path) -> None:
    # Given a config on a free port, and `fedsocial serve` started as a real process
    port = free_port()
    config = write_config(tmp_path, port)
    proc = await asyncio.create_subprocess_exec(
        *CLI,
        "--config",
        str(config),
        "serve",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                try:
                    async with session.get(f"{base}/.well-known/nodeinfo") as resp:
                        if resp.status == 200:
                            break
                except aiohttp.ClientConnectionError:
                    await asyncio.sleep(0.05)
            # When WebFinger and the actor are fetched
            async with session.get(
                f"{base}/.well-known/webfinger",
                params={"resource": f"acct:carol@127.0.0.1:{port}"},
            ) as resp:
                jrd = await resp.json(content_type=None)
            self_link = next(link for link in jrd["links"] if link["rel"] == "self")
            async with session.get(
                self_link["href"], headers={"Accept": "application/activity+json"}
            ) as resp:
                actor = await resp.json(content_type=None)
        # Then the actor is served with a key cryptography can load
        assert actor["id"] == f"{base}/users/carol"
        load_pem_public_key(actor["publicKey"]["publicKeyPem"].encode())
    finally:
        proc.terminate()
        await asyncio.wait_for(proc.wait(), 20)

"""The federation CLI: `fedsocial sig sign`, `sig verify` and `fetch`."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest

from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.cli import main
from fedsocial.clock import iso
from fedsocial.crypto.cavage import sign_cavage
from fedsocial.crypto.http_request import HttpRequestParts, parse_raw_request
from tests.conftest import StartInstance

RAW_POST = (
    b"POST /users/bob/inbox HTTP/1.1\r\n"
    b"Host: remote.example\r\n"
    b"Content-Type: application/activity+json\r\n"
    b"Content-Length: 16\r\n"
    b"\r\n"
    b'{"type": "Like"}'
)


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """A config whose database was initialised with `fedsocial init` (creates `admin`)."""
    path = tmp_path / "fedsocial.toml"
    path.write_text(
        '[instance]\ndomain = "cli.test"\nscheme = "https"\n'
        '[storage]\ndatabase = "cli.sqlite3"\n'
        "[federation]\nallow_private_addresses = true\nallow_http = true\nrequest_timeout = 5.0\n",
        encoding="utf-8",
    )
    assert main(["--config", str(path), "init"]) == 0
    return path


def _admin_pem(config_file: Path, folder: Path) -> Path:
    with sqlite3.connect(config_file.parent / "cli.sqlite3") as conn:
        (pem,) = conn.execute(
            "SELECT rsa_public_pem FROM local_actors WHERE name='admin'"
        ).fetchone()
    path = folder / "admin.pem"
    path.write_text(pem, encoding="ascii")
    return path


def _sign(
    config_file: Path, tmp_path: Path, scheme: str, capsysbinary: pytest.CaptureFixture[bytes]
) -> Path:
    source = tmp_path / "request.http"
    source.write_bytes(RAW_POST)
    capsysbinary.readouterr()
    code = main(
        [
            "--config",
            str(config_file),
            "sig",
            "sign",
            str(source),
            "--as",
            "admin",
            "--scheme",
            scheme,
        ]
    )
    assert code == 0
    signed = tmp_path / f"signed-{scheme}.http"
    signed.write_bytes(capsysbinary.readouterr().out)
    return signed


@pytest.mark.parametrize("scheme", ["cavage", "rfc9421"])
def test_sign_then_verify_with_a_key_file(
    config_file: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], scheme: str
) -> None:
    # Given a raw request signed by `fedsocial sig sign` as admin
    signed = _sign(config_file, tmp_path, scheme, capsysbinary)
    parts = parse_raw_request(signed.read_bytes())
    pem = _admin_pem(config_file, tmp_path)

    # When `fedsocial sig verify` checks it with admin's public key (as the https instance that
    # signed it: the request is read with the configured scheme)
    code = main(["--config", str(config_file), "sig", "verify", str(signed), "--key", str(pem)])
    out = capsysbinary.readouterr().out.decode()

    # Then it is valid, and the report shows the scheme, keyId, components and signing string
    assert parts.body == b'{"type": "Like"}'
    assert code == 0, out
    assert f"scheme:     {scheme}" in out
    assert "keyId:      https://cli.test/users/admin#main-key" in out
    assert "signing string:" in out and "VALID" in out
    assert ("digest" if scheme == "cavage" else "content-digest") in out


def test_a_tampered_body_or_a_late_instant_is_invalid(
    config_file: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # Given a signed request, a copy with its body changed, and admin's public key
    signed = _sign(config_file, tmp_path, "cavage", capsysbinary)
    tampered = tmp_path / "tampered.http"
    tampered.write_bytes(signed.read_bytes().replace(b"Like", b"Boop"))
    pem = str(_admin_pem(config_file, tmp_path))

    # When each is verified (the original also at a much later instant, and now in ISO form)
    bad_body = main(["sig", "verify", str(tampered), "--key", pem])
    bad_body_out = capsysbinary.readouterr().out.decode()
    late = main(["sig", "verify", str(signed), "--key", pem, "--at", str(time.time() + 3 * 3600)])
    late_out = capsysbinary.readouterr().out.decode()
    iso_now = main(["sig", "verify", str(signed), "--key", pem, "--at", iso(time.time())])

    # Then the changed body and the late instant fail with their reasons; ISO time works
    assert (bad_body, late, iso_now) == (1, 1, 0)
    assert "INVALID (bad_digest)" in bad_body_out
    assert "INVALID (stale)" in late_out


def test_policy_spec_accepts_what_mastodon_refuses(
    config_file: Path, tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
) -> None:
    # Given a GET signed over the Date header only, as the spec's examples are
    with sqlite3.connect(tmp_path / "cli.sqlite3") as conn:
        (private_pem,) = conn.execute(
            "SELECT rsa_private_pem FROM local_actors WHERE name='admin'"
        ).fetchone()
    from fedsocial.crypto.keys import load_private_key

    parts = HttpRequestParts("GET", "https://remote.example/notes/1", {})
    added = sign_cavage(
        parts,
        key_id="https://cli.test/users/admin#main-key",
        private_key=load_private_key(private_pem),
        headers=["date"],
        now=time.time(),
    )
    request = tmp_path / "get.http"
    lines = ["GET /notes/1 HTTP/1.1", "Host: remote.example"]
    lines += [f"{k}: {v}" for k, v in added.items() if k != "Host"]
    request.write_bytes(("\r\n".join(lines) + "\r\n\r\n").encode())
    pem = str(_admin_pem(config_file, tmp_path))
    capsysbinary.readouterr()

    # When it is verified under Mastodon's rules, then the spec's
    mastodon = main(["sig", "verify", str(request), "--key", pem])
    mastodon_out = capsysbinary.readouterr().out.decode()
    spec = main(["sig", "verify", str(request), "--key", pem, "--policy", "spec"])

    # Then Mastodon's policy wants more headers signed; the spec's is satisfied
    assert (mastodon, spec) == (1, 0)
    assert "INVALID (missing_header)" in mastodon_out


def test_a_malformed_request_file_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file that is not an HTTP request
    junk = tmp_path / "junk.http"
    junk.write_bytes(b"hello\r\n\r\n")

    # When it is verified / Then the command fails with a message, not a traceback
    assert main(["sig", "verify", str(junk), "--key", str(junk)]) == 2
    assert "junk.http" in capsys.readouterr().err


@pytest.mark.parametrize("action", [["verify"], ["sign", "--as", "admin"]])
def test_a_missing_request_file_is_a_clear_error(
    config_file: Path, tmp_path: Path, action: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a path where there is no file
    missing = tmp_path / "nosuch.http"

    # When it is signed or verified
    code = main(["--config", str(config_file), "sig", action[0], str(missing), *action[1:]])

    # Then the command names the file and the problem instead of printing a traceback
    assert code == 2
    err = capsys.readouterr().err
    assert "nosuch.http" in err and "No such file" in err


async def test_verify_fetches_the_key_and_fetch_prints_documents(
    start_instance: StartInstance,
    config_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given a live instance with alice, and a request alice signed
    alpha = await start_instance("alpha")
    await alpha.add_actor("alice")
    assert alpha.app is not None
    alice = await local_actors(alpha.app).require("alice")
    key = alice.signing_key(alpha.app[appkeys.URLS])
    parts = HttpRequestParts("POST", "https://remote.example/inbox", {}, b"{}")
    added = sign_cavage(parts, key_id=key.key_id, private_key=key.private_key, now=time.time())
    request = tmp_path / "alice.http"
    head = ["POST /inbox HTTP/1.1", "Content-Length: 2", *(f"{k}: {v}" for k, v in added.items())]
    request.write_bytes(("\r\n".join(head) + "\r\n\r\n{}").encode())
    config = ["--config", str(config_file)]

    # When the CLI verifies it (fetching alice's key), fetches alice, and fetches a missing URL
    verified = await asyncio.to_thread(main, [*config, "sig", "verify", str(request)])
    verify_out = capsys.readouterr().out
    fetched = await asyncio.to_thread(main, [*config, "fetch", alpha.actor_id("alice")])
    fetch_out = capsys.readouterr().out
    missing = await asyncio.to_thread(main, [*config, "fetch", alpha.actor_id("nobody")])
    missing_out = capsys.readouterr().out

    # Then the signature is valid and owned by alice, the actor JSON is printed, and the
    # missing one prints its status with exit 1
    assert verified == 0, verify_out
    assert f"key owner {alpha.actor_id('alice')}" in verify_out
    assert fetched == 0 and f'"id": "{alpha.actor_id("alice")}"' in fetch_out
    assert missing == 1 and "HTTP 404" in missing_out


@pytest.mark.parametrize("scheme", ["https", "http"])
def test_sign_and_verify_read_the_request_with_the_instance_scheme(
    tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes], scheme: str
) -> None:
    # Given an instance configured with this scheme, and a raw request without a scheme
    config = tmp_path / f"{scheme}.toml"
    config.write_text(
        f'[instance]\ndomain = "cli.test"\nscheme = "{scheme}"\n'
        '[storage]\ndatabase = "cli.sqlite3"\n',
        encoding="utf-8",
    )
    assert main(["--config", str(config), "init"]) == 0
    source = tmp_path / "request.http"
    source.write_bytes(RAW_POST)
    capsysbinary.readouterr()

    # When it is signed with RFC 9421 (which covers the full URL) and verified, neither given
    # --url-scheme nor --scheme
    cli = ["--config", str(config), "sig"]
    assert main([*cli, "sign", str(source), "--as", "admin", "--scheme", "rfc9421"]) == 0
    signed = tmp_path / "signed.http"
    signed.write_bytes(capsysbinary.readouterr().out)
    pem = str(_admin_pem(config, tmp_path))
    code = main([*cli, "verify", str(signed), "--key", pem])
    out = capsysbinary.readouterr().out.decode()

    # Then the target URI signed and checked has the instance's scheme, and it verifies
    assert f'"@target-uri": {scheme}://remote.example/users/bob/inbox' in out
    assert code == 0 and "VALID" in out

"""`fedsocial lint` on hostile input: a clear error and exit code 2, never a traceback, and
with --json always one JSON report on stdout."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from fedsocial.cli import main
from fedsocial.cli.commands_jsonld import MAX_FILE
from tests.harness import serve_on_loopback

AS = "https://www.w3.org/ns/activitystreams"


def _write_config(folder: Path) -> Path:
    config = folder / "fedsocial.toml"
    config.write_text(
        "[storage]\n"
        f'database = "{folder / "db.sqlite3"}"\n'
        "[federation]\n"
        "allow_private_addresses = false\n"
        "allow_http = true\n"
    )
    return config


def _lint_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["lint", "--json", *args])
    out = capsys.readouterr().out
    return code, json.loads(out)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (bytes(range(256)) * 4, "not UTF-8"),
        (b"{", "not JSON"),
        (b"\xef\xbb\xbf{}", "not JSON"),
        (b'{"x": ' + b"9" * 5000 + b"}", "not JSON"),
    ],
)
def test_unreadable_files_are_one_error_in_valid_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, reason: str
) -> None:
    # Given a file that is not a JSON document (deeply nested, binary, cut, a huge number)
    path = tmp_path / "hostile.json"
    path.write_bytes(content)
    # When it is linted with --json
    code, report = _lint_json(capsys, str(path))
    # Then the exit code is 2 and stdout is one report holding the reason
    assert code == 2 and report["exit_code"] == 2
    assert [f["severity"] for f in report["findings"]] == ["error"]
    assert reason in report["findings"][0]["message"]


def test_a_file_over_the_size_limit_is_refused_without_reading_it_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a file larger than the limit (a valid JSON document, padded)
    path = tmp_path / "big.json"
    path.write_text(
        '{"@context": "' + AS + '", "type": "Note", "content": "' + "x" * MAX_FILE + '"}'
    )
    # When it is linted, with and without --json
    code, report = _lint_json(capsys, str(path))
    # Then it is refused for its size, exit code 2
    assert code == 2 and "larger than" in report["findings"][0]["message"]
    assert main(["lint", str(path)]) == 2
    assert "larger than" in capsys.readouterr().err


def test_a_directory_or_a_missing_file_is_an_error_in_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a directory and a path that does not exist
    # When they are linted with --json, Then each is one error report, exit code 2
    for source in (str(tmp_path), str(tmp_path / "missing.json")):
        code, report = _lint_json(capsys, source)
        assert code == 2 and "cannot read" in report["findings"][0]["message"]


def test_a_document_nested_past_the_limit_is_a_finding_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a note whose content nests arrays 600 deep (valid JSON, too deep for pyld)
    path = tmp_path / "deep.json"
    path.write_text(
        '{"@context": "' + AS + '", "type": "Note", "content": ' + "[" * 600 + "]" * 600 + "}"
    )
    # When it is linted
    code, report = _lint_json(capsys, str(path))
    # Then it is reported as invalid JSON-LD, too deep
    assert code == 2
    assert report["findings"][-1]["code"] == "invalid_jsonld"
    assert "too deep" in report["findings"][-1]["message"]


async def test_a_url_on_a_private_address_is_refused_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a server on loopback serving a note, and a config that does not allow private
    # addresses
    hits: list[str] = []

    async def note(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.json_response({"@context": AS, "id": str(request.url), "type": "Note"})

    app = web.Application()
    app.router.add_get("/{tail:.*}", note)
    runner, port = await serve_on_loopback(app)
    config = _write_config(tmp_path)
    try:
        # When lint fetches it with --json
        capsys.readouterr()
        code = await asyncio.to_thread(
            main, ["--config", str(config), "lint", "--json", f"http://127.0.0.1:{port}/note"]
        )
        report = json.loads(capsys.readouterr().out)
    finally:
        await runner.cleanup()
    # Then nothing is fetched: the address is refused, exit code 2, in valid JSON
    assert hits == []
    assert code == 2 and report["exit_code"] == 2
    assert report["findings"][0]["code"] == "blocked_address"


def test_an_id_that_is_not_a_parseable_url_is_a_finding() -> None:
    # Given a note whose id opens an IPv6 host it never closes (urlsplit raises on it)
    from fedsocial.jsonld.lint import lint_document

    document = {"@context": AS, "id": "http://[x", "type": "Note"}
    # When it is linted, Then the id is reported, not a traceback
    assert "id_not_absolute" in lint_document(document).codes()


def test_the_text_report_cannot_drive_the_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given a note with undefined keys holding an escape sequence, a line feed that fakes
    # a clean report, and a lone surrogate (UTF-8 output cannot encode it)
    path = tmp_path / "hostile.json"
    path.write_text(
        json.dumps(
            {
                "@context": AS,
                "id": "https://e.example/n",
                "type": "Note",
                "\x1b]0;owned\x07\x1b[2J": 1,
                "x\nhostile.json: clean": 2,
                "\ud800": 3,
            }
        )
    )
    # When it is linted as text
    capsys.readouterr()
    code = main(["lint", str(path)])
    out = capsys.readouterr().out
    # Then no control character reaches the terminal, and each finding stays on its line
    assert code == 2
    out.encode("utf-8")
    assert "\x1b" not in out and "\x07" not in out
    assert not any(line.startswith("hostile.json: clean") for line in out.splitlines())

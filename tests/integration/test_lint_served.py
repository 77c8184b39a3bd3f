"""`fedsocial lint` on every kind of document we serve: each one lints clean (exit 0)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from actors.state import local_actors
from fedsocial.cli import main
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.harness import drain

AP = {"Accept": "application/activity+json"}


async def _get(session: aiohttp.ClientSession, url: str) -> dict[str, Any]:
    async with session.get(url, headers=AP) as resp:
        assert resp.status == 200, url
        return dict(await resp.json(content_type=None))


async def _lint_cli(path: Path, *extra: str) -> tuple[int, str]:
    """Run `fedsocial lint` as a subprocess, as a developer would."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fedsocial.cli",
        "lint",
        str(path),
        *extra,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode()


async def _lint_in_process(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """Run the same `fedsocial lint` entry point in this process (no interpreter start-up)."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["lint", str(path)])
    return code, capsys.readouterr().out


async def test_every_served_document_lints_clean(
    start_instance: StartInstance, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given an instance whose actor posted, replied, liked and boosted
    alpha = await start_instance("alpha")
    assert alpha.app is not None
    await alpha.add_actor("alice", display_name="Alice", summary="Hello")
    alice = await local_actors(alpha.app).require("alice")
    outbox = outbox_of(alpha.app)
    note = await outbox.post(
        alice, NoteDraft(text="Hello #fediverse https://example.com", visibility=Visibility.PUBLIC)
    )
    await outbox.post(
        alice,
        NoteDraft(
            text="A reply", visibility=Visibility.UNLISTED, content_warning="cw", in_reply_to=note
        ),
    )
    await outbox.like(alice, note)
    await outbox.boost(alice, note)
    await drain(alpha)
    # When every document kind is fetched as ActivityStreams JSON
    actor_id = alpha.actor_id("alice")
    urls = [
        actor_id,
        f"{alpha.base}/actor",
        note,
        f"{note}/likes",
        f"{note}/shares",
        f"{note}/replies",
    ]
    for collection in ("outbox", "followers", "following", "collections/featured"):
        urls += [f"{actor_id}/{collection}", f"{actor_id}/{collection}?page=1"]
    documents: dict[str, dict[str, Any]] = {}
    async with aiohttp.ClientSession() as session:
        for url in urls:
            documents[url] = await _get(session, url)
        outbox_page = documents[f"{actor_id}/outbox?page=1"]
        assert len(outbox_page["orderedItems"]) >= 3
        for activity in outbox_page["orderedItems"]:
            documents[activity["id"]] = await _get(session, activity["id"])
    assert {doc["type"] for doc in documents.values()} >= {
        "Person",
        "Application",
        "Note",
        "Create",
        "Announce",
        "OrderedCollection",
        "OrderedCollectionPage",
    }
    # Then `fedsocial lint` finds nothing in any of them
    for index, (url, doc) in enumerate(documents.items()):
        path = tmp_path / f"doc{index}.json"
        path.write_text(json.dumps(doc))
        code, out = await _lint_in_process(path, capsys)
        assert code == 0, f"{url}:\n{out}"
        assert out.strip().endswith("clean")


async def test_lint_exit_codes_and_json(tmp_path: Path) -> None:
    # Given a document with an undefined term only, and one missing its id
    warn = tmp_path / "warn.json"
    warn.write_text(
        json.dumps(
            {
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": "https://a.example/notes/1",
                "type": "Note",
                "attributedTo": "https://a.example/users/a",
                "published": "2024-01-01T00:00:00Z",
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "content": "x",
                "undefinedThing": 1,
            }
        )
    )
    error = tmp_path / "error.json"
    error.write_text(
        json.dumps({"@context": "https://www.w3.org/ns/activitystreams", "type": "Note"})
    )
    not_json = tmp_path / "bad.json"
    not_json.write_text("{")
    # Then warnings exit 1, errors 2, and --json carries the findings
    code, out = await _lint_cli(warn, "--json")
    assert code == 1
    report = json.loads(out)
    assert [f["code"] for f in report["findings"]] == ["undefined_term"]
    code, out = await _lint_cli(error)
    assert code == 2 and "missing_id" in out
    code, _ = await _lint_cli(not_json)
    assert code == 2

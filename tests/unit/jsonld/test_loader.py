"""The preloaded-only document loader serves shipped contexts and refuses everything else."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld

from fedsocial.errors import ContextNotAllowed, JsonLdError
from fedsocial.jsonld.loader import (
    CONTEXT_FILES,
    canonical_context_url,
    document_loader,
    is_known_context,
    load_context,
)


@pytest.mark.parametrize("url", sorted(CONTEXT_FILES))
def test_every_shipped_context_loads_as_a_json_ld_context(url: str) -> None:
    # Given a shipped context URL / When it is loaded
    remote = document_loader(url)
    # Then pyld's remote-document shape comes back with an @context in it
    assert remote["documentUrl"] == url
    assert "@context" in remote["document"]


@pytest.mark.parametrize(
    ("variant", "canonical"),
    [
        ("http://www.w3.org/ns/activitystreams", "https://www.w3.org/ns/activitystreams"),
        ("https://www.w3.org/ns/activitystreams/", "https://www.w3.org/ns/activitystreams"),
        ("https://www.w3.org/ns/activitystreams.jsonld", "https://www.w3.org/ns/activitystreams"),
        ("http://w3id.org/security/v1", "https://w3id.org/security/v1"),
        ("https://w3id.org/security/v1/", "https://w3id.org/security/v1"),
        ("https://w3id.org/identity/v1.jsonld", "https://w3id.org/identity/v1"),
        (
            "https://pleroma.example/schemas/litepub-0.1.jsonld",
            "https://litepub.social/litepub/context.jsonld",
        ),
        ("https://gotosocial.org/ns", "https://gotosocial.org/ns"),
    ],
)
def test_url_variants_map_to_the_shipped_file(variant: str, canonical: str) -> None:
    assert canonical_context_url(variant) == canonical
    assert is_known_context(variant)


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example/context.jsonld",
        "https://www.w3.org/ns/activitystreams-evil",
        "https://pleroma.example/schemas/litepub-0.1.jsonld?x=1",
        "ftp://www.w3.org/ns/activitystreams",
        "",
    ],
)
def test_unknown_urls_are_refused_naming_the_url(url: str) -> None:
    with pytest.raises(ContextNotAllowed) as info:
        load_context(url)
    assert repr(url) in str(info.value)


def test_each_call_returns_a_fresh_copy() -> None:
    first = load_context("https://www.w3.org/ns/activitystreams")
    first["@context"]["Note"] = "changed"
    second = load_context("https://www.w3.org/ns/activitystreams")
    assert second["@context"]["Note"] == "as:Note"


def test_pyld_with_our_loader_refuses_unknown_context_without_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given any attempt to open a socket fails the test
    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    doc = {"@context": "https://unknown.example/ns", "id": "https://a.example/1", "name": "x"}
    # When pyld expands it with our loader / Then our refusal surfaces, nothing is fetched
    with pytest.raises(jsonld.JsonLdError) as info:
        jsonld.expand(doc, {"documentLoader": document_loader})
    causes = []
    exc: BaseException | None = info.value
    while exc is not None:
        causes.append(exc)
        exc = getattr(exc, "cause", None) or exc.__cause__
    assert any(isinstance(c, ContextNotAllowed) for c in causes)
    assert issubclass(ContextNotAllowed, JsonLdError)


def test_only_the_processing_module_calls_pyld() -> None:
    # Every pyld call must go through fedsocial.jsonld.processing, which always passes our loader
    root = Path(__file__).parents[3] / "fedsocial"
    users = sorted(
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if re.search(
            r"^\s*(from|import) pyld\b|import_module\(\"pyld", path.read_text("utf-8"), re.MULTILINE
        )
    )
    assert users == ["jsonld/processing.py"]


def test_a_started_server_has_not_loaded_pyld(tmp_path: Path) -> None:
    # pyld is imported when a document first needs it, not by the server starting (memory)
    script = (
        "import asyncio, sys\n"
        "from aiohttp import web\n"
        "from fedsocial.app import create_app\n"
        "from pathlib import Path\n"
        "from tests.harness import loopback_config\n"
        "async def main():\n"
        f"    app = create_app(loopback_config('a', 1, Path({str(tmp_path)!r})))\n"
        "    runner = web.AppRunner(app)\n"
        "    await runner.setup()\n"
        "    print('pyld' in sys.modules)\n"
        "    await runner.cleanup()\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    assert out.strip() == "False"

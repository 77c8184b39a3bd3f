"""Actor documents and public pages with hostile profile text: escaped everywhere, never HTML."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from actors.documents import summary_html
from actors.local import create_actor
from fedsocial import appkeys
from fedsocial.cli import main

AP = {"Accept": "application/activity+json"}
HTML = {"Accept": "text/html"}
EVIL_NAME = '"><script>alert(1)</script>'
EVIL_BIO = "I <3 cats & <dogs>\n<img src=x onerror=alert(1)>\n\nSecond paragraph"


@pytest.fixture
async def mallory(client: TestClient) -> str:
    app = client.app
    await create_actor(
        app[appkeys.DB], app[appkeys.CLOCK], "mallory", display_name=EVIL_NAME, summary=EVIL_BIO
    )
    return "mallory"


async def test_a_plain_text_bio_is_served_as_escaped_html(client: TestClient, mallory: str) -> None:
    # Given a local actor whose bio, typed as plain text, looks like markup
    # When a server fetches the actor document
    doc = await (await client.get(f"/users/{mallory}", headers=AP)).json(content_type=None)
    # Then `summary` is the HTML Mastodon would make of that text: nothing of it is markup
    assert doc["summary"] == (
        "<p>I &lt;3 cats &amp; &lt;dogs&gt;<br />&lt;img src=x onerror=alert(1)&gt;</p>"
        "<p>Second paragraph</p>"
    )
    # And the display name stays plain text, as AS2 `name` is
    assert doc["name"] == EVIL_NAME


@pytest.mark.parametrize("path", ["/users/mallory", "/@mallory", "/", "/about"])
async def test_public_pages_escape_hostile_profiles(
    client: TestClient, mallory: str, path: str
) -> None:
    # When a browser opens a page showing mallory
    response = await client.get(path, headers=HTML)
    text = await response.text()
    # Then neither the name nor the bio becomes markup
    assert response.status == 200 and response.content_type == "text/html"
    assert "<script>" not in text and "<img" not in text
    assert "&lt;script&gt;" in text


def test_summary_html_of_empty_and_blank_text() -> None:
    assert summary_html("") == ""
    assert summary_html(" \n\n ") == ""
    assert summary_html("a\r\nb") == "<p>a<br />b</p>"


@pytest.mark.parametrize(
    "argv",
    [
        ["actor", "add", "bob", "--display-name", "B\udcffob"],
        ["actor", "add", "bob", "--summary", "s\udcfe"],
        ["profile", "admin", "--summary", "s\udcfe"],
        ["profile", "admin", "--display-name", "A\x00"],
    ],
)
def test_profile_text_that_is_not_utf8_is_refused_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    # Given a shell passing bytes that are not UTF-8 (Python makes them lone surrogates) or NUL
    config = tmp_path / "fedsocial.toml"
    config.write_text('[storage]\ndatabase = "t.sqlite3"\n', encoding="utf-8")
    assert main(["--config", str(config), "init"]) == 0
    # When a profile is created or changed with it
    code = main(["--config", str(config), *argv])
    # Then it is a clear error (exit 2), not a UnicodeEncodeError traceback from SQLite
    assert code == 2
    assert "error:" in capsys.readouterr().err

"""No request a client can send gets a 500 or a traceback: odd paths, queries, headers, bodies."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

ODD_NAMES = ["alice", "nobody", "ALICE", "a" * 300, "%00", "%E2%80%AE", "..", "alice%2F..", "☃"]
ODD_QUERIES = [
    "",
    "?page=1",
    "?page=0",
    "?page=-5",
    "?page=99999999999999999999",
    "?page=true",
    "?page=%00",
    "?page=1&page=2",
    "?min_id=x",
]
# Valid JSON nested deeper than Python's parser recurses: a hostile peer's cheapest 500.
DEEP = b"[" * 100000 + b"]" * 100000
ODD_ACCEPTS = [
    "application/activity+json",
    'application/ld+json; profile="https://www.w3.org/ns/activitystreams"',
    "text/html",
    "*/*",
    "application/activity+json;q=abc, text/html;q=",
    ";;;,,,",
    "",
]


@pytest.mark.parametrize("name", ODD_NAMES)
async def test_get_routes_never_500(client: TestClient, name: str) -> None:
    paths = [
        f"/users/{name}",
        f"/@{name}",
        f"/users/{name}/followers",
        f"/users/{name}/following",
        f"/users/{name}/outbox",
        f"/users/{name}/collections/featured",
        f"/users/{name}/statuses/1",
        f"/users/{name}/statuses/{name}/likes",
        f"/users/{name}/activities/1",
        f"/users/{name}/inbox",
    ]
    # Every odd query with an ActivityPub Accept, then every odd Accept without a query.
    combos = [(q, ODD_ACCEPTS[0]) for q in ODD_QUERIES] + [("", a) for a in ODD_ACCEPTS[1:]]
    for path in paths:
        for query, accept in combos:
            resp = await client.get(path + query, headers={"Accept": accept})
            assert resp.status < 500, (path, query, accept, resp.status)
            if resp.status >= 400:
                assert "Traceback" not in await resp.text()


@pytest.mark.parametrize(
    "resource",
    [
        "acct:alice@social.example@x",
        "acct:%",
        "http://",
        "https://social.example/users/",
        "x" * 5000,
    ],
)
async def test_webfinger_never_500(client: TestClient, resource: str) -> None:
    resp = await client.get("/.well-known/webfinger", params={"resource": resource})
    assert 400 <= resp.status < 500


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"", "application/activity+json"),
        (b"{", "application/activity+json"),
        (b"[]", "application/activity+json"),
        (b"null", "application/ld+json"),
        (b'{"type": 5, "id": [], "actor": {}}', "application/activity+json"),
        (b"\xff\xfe\x00", "application/json"),
        (b'{"a": 1}', "text/plain"),
        (b"{" * 10000 + b"}" * 10000, "application/activity+json"),
        (DEEP, "application/activity+json"),
        (
            b'{"id": "https://x.example/1", "type": "Note", "object": ' + DEEP + b"}",
            "application/ld+json",
        ),
    ],
)
async def test_inbox_posts_never_500(client: TestClient, body: bytes, content_type: str) -> None:
    for path in ("/inbox", "/users/alice/inbox", "/users/nobody/inbox", "/actor/inbox"):
        resp = await client.post(path, data=body, headers={"Content-Type": content_type})
        assert 400 <= resp.status < 500, (path, body[:20], resp.status)
        assert "Traceback" not in await resp.text()


async def test_outbox_post_without_token_is_401(client: TestClient) -> None:
    resp = await client.post(
        "/users/alice/outbox", data=b"{}", headers={"Content-Type": "application/activity+json"}
    )
    assert resp.status == 401


async def test_outbox_post_of_deeply_nested_json_is_400(client: TestClient) -> None:
    # Given a valid token for alice
    from fedsocial import appkeys
    from fedsocial.storage import tokens

    app = client.server.app
    token = await tokens.create(app[appkeys.DB], "alice", now=0.0)
    # When a client posts JSON nested deeper than the parser can follow
    resp = await client.post(
        "/users/alice/outbox",
        data=DEEP,
        headers={"Content-Type": "application/activity+json", "Authorization": f"Bearer {token}"},
    )
    # Then it is told the body is bad (400), not a 500
    assert resp.status == 400
    assert "nested" in (await resp.json())["message"]

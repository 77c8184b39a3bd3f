"""WebFinger, host-meta and NodeInfo, including bad input (never a 500)."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient


async def test_webfinger_acct(client: TestClient) -> None:
    resp = await client.get(
        "/.well-known/webfinger", params={"resource": "acct:alice@social.example"}
    )
    assert resp.status == 200
    assert resp.headers["Content-Type"].startswith("application/jrd+json")
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    jrd = await resp.json(content_type=None)
    assert jrd["subject"] == "acct:alice@social.example"
    links = {link["rel"]: link for link in jrd["links"]}
    assert links["self"]["type"] == "application/activity+json"
    assert links["self"]["href"] == "https://social.example/users/alice"
    assert links["http://webfinger.net/rel/profile-page"]["href"] == "https://social.example/@alice"


async def test_webfinger_by_actor_url(client: TestClient) -> None:
    resp = await client.get(
        "/.well-known/webfinger", params={"resource": "https://social.example/users/alice"}
    )
    assert (await resp.json(content_type=None))["subject"] == "acct:alice@social.example"


async def test_webfinger_instance_actor(client: TestClient) -> None:
    resp = await client.get(
        "/.well-known/webfinger", params={"resource": "acct:social.example@social.example"}
    )
    jrd = await resp.json(content_type=None)
    assert jrd["links"][1]["href"] == "https://social.example/actor"


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({}, 400),
        ({"resource": ""}, 400),
        ({"resource": "acct:"}, 400),
        ({"resource": "acct:alice"}, 400),
        ({"resource": "acct:@social.example"}, 400),
        ({"resource": "acct:nobody@social.example"}, 404),
        ({"resource": "acct:alice@other.example"}, 404),
        ({"resource": "https://other.example/users/alice"}, 404),
        ({"resource": "acct:a'; DROP TABLE x;--@social.example"}, 404),
        ({"resource": "acct:\u0000@social.example"}, 404),
    ],
)
async def test_webfinger_bad_resources(
    client: TestClient, params: dict[str, str], status: int
) -> None:
    resp = await client.get("/.well-known/webfinger", params=params)
    assert resp.status == status
    assert "error" in await resp.json(content_type=None)


async def test_host_meta(client: TestClient) -> None:
    resp = await client.get("/.well-known/host-meta")
    assert resp.status == 200
    text = await resp.text()
    assert 'rel="lrdd"' in text
    assert "https://social.example/.well-known/webfinger?resource={uri}" in text


async def test_nodeinfo(client: TestClient) -> None:
    index = await (await client.get("/.well-known/nodeinfo")).json()
    hrefs = [link["href"] for link in index["links"]]
    assert hrefs == ["https://social.example/nodeinfo/2.0", "https://social.example/nodeinfo/2.1"]
    for version in ("2.0", "2.1"):
        resp = await client.get(f"/nodeinfo/{version}")
        doc = await resp.json(content_type=None)
        assert doc["version"] == version
        assert doc["software"]["name"] == "fedsocial"
        assert doc["protocols"] == ["activitypub"]
        assert doc["openRegistrations"] is False
        assert doc["usage"]["users"]["total"] == 1
        assert doc["usage"]["localPosts"] == 0
    assert (await client.get("/nodeinfo/9.9")).status == 404


async def test_unknown_path_is_json_404(client: TestClient) -> None:
    resp = await client.get("/nope")
    assert resp.status == 404
    assert (await resp.json())["error"] == "not_found"


async def test_wrong_method_is_405(client: TestClient) -> None:
    resp = await client.delete("/users/alice")
    assert resp.status == 405

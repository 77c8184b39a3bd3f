"""Discovery against what hostile or sloppy clients send: WebFinger, host-meta, NodeInfo."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from actors.local import create_actor
from actors.webfinger_client import parse_handle
from fedsocial import appkeys
from fedsocial.errors import ValidationError

WF = "/.well-known/webfinger"
AP = {"Accept": "application/activity+json"}


@pytest.mark.parametrize(
    "query",
    [
        "",  # no resource
        "?resource=",
        "?resource=%20",
        "?resource=acct:alice@social.example&resource=acct:bob@social.example",
        "?resource=acct:alice@social.example&resource=acct:alice@social.example",
    ],
)
async def test_missing_empty_or_repeated_resource_is_400(client: TestClient, query: str) -> None:
    # Given a WebFinger query without exactly one resource
    response = await client.get(WF + query)
    # Then it is a 400 with a message (a repeated one is not silently answered for the first)
    assert response.status == 400
    assert (await response.json())["message"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        (WF + "?resource=acct:nobody@social.example", 404),
        (WF + "?resource=acct:alice@other.example", 404),
        (WF + "?resource=", 400),
        ("/.well-known/nothing-here", 404),
        ("/nodeinfo/9.9", 404),
        (WF + "?resource=acct:alice@social.example", 200),
        ("/.well-known/host-meta", 200),
        ("/.well-known/host-meta.json", 200),
        ("/.well-known/nodeinfo", 200),
        ("/nodeinfo/2.1", 200),
    ],
)
async def test_every_discovery_answer_allows_any_origin(
    client: TestClient, path: str, status: int
) -> None:
    # Given a browser client on another origin (Access-Control-Allow-Origin: *, as Mastodon)
    response = await client.get(path, headers={"Origin": "https://app.example"})
    # Then errors carry the header too, so the client can read "no such user"
    assert response.status == status
    assert response.headers.get("Access-Control-Allow-Origin") == "*"


async def test_host_meta_json_links_to_webfinger(client: TestClient) -> None:
    # Given a client that asks for host-meta as JSON (RFC 6415), as Mastodon serves it
    response = await client.get("/.well-known/host-meta.json")
    # Then it gets the lrdd template as JRD
    assert response.status == 200
    assert response.content_type == "application/jrd+json"
    assert await response.json() == {
        "links": [
            {
                "rel": "lrdd",
                "template": "https://social.example/.well-known/webfinger?resource={uri}",
            }
        ]
    }


@pytest.mark.parametrize(
    "handle",
    [
        "@bob@evil.ex\tample",  # yarl drops the tab: another host would be asked
        "@bob@evil.exa\nmple",
        "@bob@evil.example/../x",
        "@bob@evil.example?x=1",
        "@bob@evil.example#x",
        "@bob@evil\\.example",
        "@b ob@evil.example",
        "@b\x00b@evil.example",
        "@bob@",
        "@@evil.example",
        "bob",
    ],
)
def test_parse_handle_refuses_what_is_no_handle(handle: str) -> None:
    # Given a handle a careless user or a hostile client typed / Then it is refused, not fetched
    with pytest.raises(ValidationError):
        parse_handle(handle)


def test_parse_handle_accepts_usual_handles() -> None:
    assert parse_handle("@Bob@Social.Example") == ("Bob", "social.example")
    assert parse_handle("acct:bob@127.0.0.1:8080") == ("bob", "127.0.0.1:8080")
    assert parse_handle("bob@münchen.social") == ("bob", "münchen.social")


async def test_every_actor_loops_back_through_webfinger(client: TestClient) -> None:
    # Given the instance actor, alice, and a user who took the name "actor"
    app = client.app
    await create_actor(app[appkeys.DB], app[appkeys.CLOCK], "actor")
    for path in ("/actor", "/users/alice", "/users/actor"):
        doc = await (await client.get(path, headers=AP)).json(content_type=None)
        # When Mastodon checks the actor as it does: WebFinger for preferredUsername@domain
        resource = f"acct:{doc['preferredUsername']}@social.example"
        response = await client.get(WF, params={"resource": resource})
        # Then the answer names that very actor (else Mastodon refuses it as not looping back)
        assert response.status == 200, (path, resource)
        jrd = await response.json(content_type=None)
        assert jrd["subject"] == resource
        assert [link["href"] for link in jrd["links"] if link["rel"] == "self"] == [doc["id"]]


@pytest.mark.parametrize(
    ("rels", "expected"),
    [
        ([], ["http://webfinger.net/rel/profile-page", "self"]),
        (["self"], ["self"]),
        (
            ["self", "http://webfinger.net/rel/profile-page"],
            ["http://webfinger.net/rel/profile-page", "self"],
        ),
        (["http://ostatus.org/schema/1.0/subscribe"], []),
    ],
)
async def test_rel_narrows_the_links_only(
    client: TestClient, rels: list[str], expected: list[str]
) -> None:
    # Given a WebFinger query with `rel` parameters (RFC 7033 §4.3)
    params = [("resource", "acct:alice@social.example"), *(("rel", r) for r in rels)]
    jrd = await (await client.get(WF, params=params)).json(content_type=None)
    # Then only those links are listed, while subject and aliases stay
    assert [link["rel"] for link in jrd["links"]] == expected
    assert jrd["subject"] == "acct:alice@social.example" and len(jrd["aliases"]) == 2

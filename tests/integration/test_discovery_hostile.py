"""Discovery and public documents of a live instance, as a remote server or a careless client
fetches them over real HTTP: WebFinger spellings, NodeInfo counts that follow what happens,
and outboxes that never list what is not public."""

from __future__ import annotations

from typing import Any

import aiohttp

from actors.state import local_actors
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.harness import Instance

LD = {"Accept": 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'}


async def get(url: str, **options: Any) -> tuple[int, dict[str, str], Any]:
    """GET `url`; the status, the headers and the JSON body (None when not JSON)."""
    async with aiohttp.ClientSession() as session, session.get(url, **options) as resp:
        try:
            body = await resp.json(content_type=None)
        except ValueError:
            body = None
        return resp.status, dict(resp.headers), body


async def post(instance: Instance, name: str, text: str, visibility: Visibility) -> str:
    assert instance.app is not None
    actor = await local_actors(instance.app).require(name)
    return await outbox_of(instance.app).post(actor, NoteDraft(text, visibility=visibility))


async def test_webfinger_spellings_lead_to_the_actor(start_instance: StartInstance) -> None:
    # Given a live instance on a host:port domain, and amy
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    finger = f"{alpha.base}/.well-known/webfinger"
    # When remote servers ask for her in every spelling they use
    spellings = [
        f"acct:amy@{alpha.domain}",
        f"acct:AMY@{alpha.domain.upper()}",
        f"amy@{alpha.domain}",
        f"@amy@{alpha.domain}",
        f"{alpha.base}/users/amy",
        f"{alpha.base}/@amy",
    ]
    for resource in spellings:
        status, headers, jrd = await get(finger, params={"resource": resource})
        # Then each gets her JRD, as JRD, readable from any origin
        assert status == 200, resource
        assert headers["Content-Type"].startswith("application/jrd+json")
        assert headers["Access-Control-Allow-Origin"] == "*"
        assert jrd["subject"] == f"acct:amy@{alpha.domain}"
        href = next(link["href"] for link in jrd["links"] if link["rel"] == "self")
        assert href == alpha.actor_id("amy")
    # And the self link, fetched as JSON-LD, is her actor with what Mastodon reads
    status, headers, actor = await get(href, headers=LD)
    assert status == 200 and headers["Content-Type"].startswith("application/ld+json")
    assert actor["preferredUsername"] == "amy"
    assert actor["publicKey"]["owner"] == href
    assert actor["endpoints"]["sharedInbox"] == f"{alpha.base}/inbox"
    # And another domain, or nobody, is a 404 that a browser client can still read
    for resource in ("acct:amy@elsewhere.example", f"acct:nobody@{alpha.domain}"):
        status, headers, error = await get(finger, params={"resource": resource})
        assert status == 404 and error["message"]
        assert headers["Access-Control-Allow-Origin"] == "*"


async def test_nodeinfo_follows_users_and_posts(start_instance: StartInstance) -> None:
    # Given a live instance with amy
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")

    async def usage() -> dict[str, Any]:
        status, headers, doc = await get(f"{alpha.base}/nodeinfo/2.1")
        assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
        assert doc["software"]["name"] == "fedsocial" and doc["openRegistrations"] is False
        return dict(doc["usage"])

    before = await usage()
    # When a user joins, and amy posts twice and deletes one
    await alpha.add_actor("bo")
    kept = await post(alpha, "amy", "hello", Visibility.PUBLIC)
    gone = await post(alpha, "amy", "oops", Visibility.PUBLIC)
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    await outbox_of(alpha.app).delete(amy, gone)
    # Then NodeInfo counts one more user and one more live post
    after = await usage()
    assert after["users"]["total"] == before["users"]["total"] + 1
    assert after["localPosts"] == before["localPosts"] + 1
    assert kept


async def test_outbox_lists_only_public_and_unlisted(start_instance: StartInstance) -> None:
    # Given amy's posts of every visibility
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    public = await post(alpha, "amy", "for all", Visibility.PUBLIC)
    unlisted = await post(alpha, "amy", "quiet", Visibility.UNLISTED)
    await post(alpha, "amy", "friends only", Visibility.FOLLOWERS)
    await post(alpha, "amy", "@amy just me", Visibility.DIRECT)
    # When anyone reads her outbox, unsigned, with hostile paging too
    outbox = alpha.actor_id("amy") + "/outbox"
    status, _, collection = await get(outbox, headers=LD)
    _, _, page = await get(outbox, params={"page": "1"}, headers=LD)
    # Then it holds the public and unlisted posts only
    assert status == 200 and collection["totalItems"] == 2
    objects = [item["object"]["id"] for item in page["orderedItems"]]
    assert objects == [unlisted, public]
    for bad in ("-1", "0", "99999999999999999999", "x", "1.5", ""):
        status, _, error = await get(outbox, params={"page": bad}, headers=LD)
        assert status == 400 and error["message"], bad
    status, _, far = await get(outbox, params={"page": "1000000"}, headers=LD)
    assert status == 200 and far["orderedItems"] == []

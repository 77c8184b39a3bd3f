"""Pages our documents link to, fetched over real HTTP from a live instance: hashtag pages
(`/tags/{tag}`, HTML and ActivityPub collection), the home page and the instance actor's `url`."""

from __future__ import annotations

import aiohttp

from actors.state import local_actors
from fedsocial.storage import local_actors as stored_actors
from outbox.addressing import Visibility
from outbox.compose import NoteDraft
from outbox.service import outbox_of
from tests.conftest import StartInstance
from tests.harness import Instance

AS_JSON = {"Accept": "application/activity+json"}
HTML = {"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"}


async def get(url: str, headers: dict[str, str]) -> tuple[int, str, str]:
    """GET `url`; return the status, the content type and the body text."""
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as resp:
        return resp.status, resp.content_type, await resp.text()


async def get_json(url: str) -> dict[str, object]:
    """GET `url` as an ActivityPub client; the JSON object (status 200 required)."""
    async with aiohttp.ClientSession() as session, session.get(url, headers=AS_JSON) as resp:
        assert resp.status == 200, await resp.text()
        assert resp.content_type == "application/activity+json"
        document: dict[str, object] = await resp.json(content_type=None)
        return document


async def post(
    instance: Instance,
    name: str,
    text: str,
    *,
    visibility: Visibility = Visibility.PUBLIC,
    content_warning: str | None = None,
) -> str:
    """Publish a note of local actor `name`; return its id."""
    assert instance.app is not None
    actor = await local_actors(instance.app).require(name)
    draft = NoteDraft(text, visibility=visibility, content_warning=content_warning)
    return await outbox_of(instance.app).post(actor, draft)


async def test_hashtag_page_and_collection_list_public_posts_newest_first(
    start_instance: StartInstance,
) -> None:
    # Given amy's posts tagged #python in several spellings (one full-width, NFKC folds it),
    # one not public, one deleted, and one with another tag only
    alpha = await start_instance("alpha")
    await alpha.add_actor("amy")
    first = await post(alpha, "amy", "learning #Python <script>alert(1)</script>")
    second = await post(alpha, "amy", "more #python", content_warning="snakes & <b>")
    third = await post(alpha, "amy", "loud #ＰＹＴＨＯＮ")
    await post(alpha, "amy", "quiet #python", visibility=Visibility.UNLISTED)
    await post(alpha, "amy", "friends #python", visibility=Visibility.FOLLOWERS)
    gone = await post(alpha, "amy", "oops #python")
    assert alpha.app is not None
    amy = await local_actors(alpha.app).require("amy")
    await outbox_of(alpha.app).delete(amy, gone)
    await post(alpha, "amy", "other #rust")
    tag_url = f"{alpha.base}/tags/python"

    # When an ActivityPub client asks for /tags/PYTHON (any case)
    collection = await get_json(f"{alpha.base}/tags/PYTHON")
    page = await get_json(f"{alpha.base}/tags/PYTHON?page=1")
    # Then it is an OrderedCollection at the link our posts carry, of the public posts only
    assert collection["type"] == "OrderedCollection"
    assert collection["id"] == tag_url and collection["totalItems"] == 3
    assert collection["first"] == f"{tag_url}?page=1"
    # And its page lists their ids, newest first
    assert page["type"] == "OrderedCollectionPage" and page["partOf"] == tag_url
    assert page["orderedItems"] == [third, second, first]
    # And the posts' Hashtag links are that very URL
    tags = (await get_json(first))["tag"]
    assert isinstance(tags, list)
    assert [t["href"] for t in tags if t["type"] == "Hashtag"] == [tag_url]

    # When a browser opens the tag page
    status, content_type, html = await get(tag_url, HTML)
    # Then it is an HTML page of the same posts, newest first, their text escaped
    assert (status, content_type) == (200, "text/html")
    assert "<h1>#python</h1>" in html
    assert html.index("loud") < html.index("more") < html.index("learning")
    assert "quiet" not in html and "friends" not in html and "oops" not in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "snakes &amp; &lt;b&gt;" in html

    # And a tag nobody used is an empty collection, not a 404
    empty = await get_json(f"{alpha.base}/tags/nothing")
    assert empty["totalItems"] == 0


async def test_home_page_lists_actors_and_the_instance_actor_url_exists(
    start_instance: StartInstance,
) -> None:
    # Given an instance with a description, and amy (display name with markup) and a hidden bo
    alpha = await start_instance(
        "alpha", instance={"name": "Alpha <Social>", "description": "Small & friendly"}
    )
    await alpha.add_actor("amy", display_name="Amy <3")
    await alpha.add_actor("bo")
    await alpha.db.execute("UPDATE local_actors SET discoverable = 0 WHERE name = 'bo'")
    assert [r.name for r in await stored_actors.list_users(alpha.db)][-2:] == ["amy", "bo"]

    # When a browser opens the home page
    status, content_type, html = await get(f"{alpha.base}/", HTML)
    # Then it names the instance, describes it, links amy's profile with her handle, escaped
    assert (status, content_type) == (200, "text/html")
    assert "Alpha &lt;Social&gt;" in html and "Small &amp; friendly" in html
    assert f'href="{alpha.base}/@amy"' in html and "Amy &lt;3" in html
    assert f"@amy@{alpha.domain}" in html
    # And says how to find people with WebFinger; bo, who is not discoverable, is not listed
    assert "/.well-known/webfinger?resource=acct:" in html
    assert "@bo@" not in html

    # When the instance actor's url (and its WebFinger profile page) is followed
    actor = await get_json(f"{alpha.base}/actor")
    status, content_type, about = await get(str(actor["url"]), HTML)
    # Then it is a page that exists: the about page, the same as the home page
    assert actor["url"] == f"{alpha.base}/about"
    assert (status, content_type) == (200, "text/html") and about == html
    async with (
        aiohttp.ClientSession() as session,
        session.get(
            f"{alpha.base}/.well-known/webfinger",
            params={"resource": f"acct:127.0.0.1@{alpha.domain}"},
        ) as resp,
    ):
        jrd = await resp.json(content_type=None)
    profile = [link["href"] for link in jrd["links"] if link["rel"].endswith("profile-page")]
    assert profile == [f"{alpha.base}/about"]


async def test_home_page_is_open_in_secure_mode(start_instance: StartInstance) -> None:
    # Given an instance in secure mode (ActivityPub reads need a signature)
    alpha = await start_instance("alpha", instance={"secure_mode": True})
    # When the home and about pages are fetched unsigned, without an Accept header
    for path in ("/", "/about"):
        status, content_type, _ = await get(f"{alpha.base}{path}", {})
        # Then they are served: they are HTML pages, nothing there is private
        assert (status, content_type) == (200, "text/html"), path

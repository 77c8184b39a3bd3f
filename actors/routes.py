"""Actors layer: HTTP routes for actor documents and their collections."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from actors.documents import actor_document
from actors.html import ListedActor, home_page, profile_page
from actors.local import LocalActor
from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.errors import NotFound
from fedsocial.paging import AS_CONTEXT
from fedsocial.storage import activities, follows
from fedsocial.storage import local_actors as stored_actors
from fedsocial.web.collections import collection_response
from fedsocial.web.negotiation import activity_response, wants_html


async def _actor_for(request: web.Request) -> LocalActor:
    name = request.match_info["name"]
    # Fresh: a profile, alias or move made with the CLI must show in the very next fetch.
    actor = await local_actors(request.app).require(name, fresh=True)
    if actor.is_instance:
        # The instance actor lives at /actor only.
        raise NotFound(f"no local actor named {name!r}")
    return actor


async def actor_handler(request: web.Request) -> web.StreamResponse:
    """GET /users/{name}: the actor document, or an HTML profile for a browser."""
    actor = await _actor_for(request)
    urls = request.app[appkeys.URLS]
    if wants_html(request):
        count = await follows.count_followers(request.app[appkeys.DB], urls.actor(actor.name))
        domain = request.app[appkeys.CONFIG].instance.domain
        page = profile_page(
            actor,
            actor_id=urls.actor(actor.name),
            handle=f"@{actor.name}@{domain}",
            followers=count,
        )
        return web.Response(text=page, content_type="text/html", headers={"Vary": "Accept"})
    return activity_response(request, actor_document(actor, urls))


async def profile_handler(request: web.Request) -> web.StreamResponse:
    """GET /@{name}: the profile page (or the actor document for an ActivityPub client)."""
    return await actor_handler(request)


async def instance_actor_handler(request: web.Request) -> web.StreamResponse:
    """GET /actor: the instance's Application actor (always open, even in secure mode)."""
    actor = await local_actors(request.app).instance_actor()
    return activity_response(request, actor_document(actor, request.app[appkeys.URLS]))


async def home_handler(request: web.Request) -> web.StreamResponse:
    """GET / and /about: the instance's home page (HTML), which the instance actor's `url`
    points to. Lists the discoverable local actors, as a profile directory would."""
    config = request.app[appkeys.CONFIG]
    urls = request.app[appkeys.URLS]
    rows = await stored_actors.list_users(request.app[appkeys.DB])
    page = home_page(
        title=config.instance.name,
        description=config.instance.description,
        domain=config.instance.domain,
        base_url=urls.base,
        actors=[
            ListedActor(r.name, r.display_name, urls.profile(r.name))
            for r in rows
            if r.discoverable
        ],
    )
    return web.Response(text=page, content_type="text/html")


Counter = Callable[[web.Request, str], Awaitable[int]]
Lister = Callable[[web.Request, str, int, int], Awaitable[list[Any]]]


def _collection_route(
    url_of: Callable[[web.Request, str], str], count: Counter, items: Lister
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handler(request: web.Request) -> web.StreamResponse:
        actor = await _actor_for(request)
        return await collection_response(
            request,
            url_of(request, actor.name),
            total=await count(request, actor.name),
            items=lambda page: items(request, actor.name, page.size, page.offset),
            context_of=_shared_context,
        )

    return handler


def _shared_context(items: list[Any]) -> Any:
    """Lift the items' common @context onto the page, so embedded terms stay defined.

    When the items disagree, each keeps its own @context (valid JSON-LD, scoped to that node).
    """
    contexts = [item.get("@context") for item in items if isinstance(item, dict)]
    if not contexts or contexts[0] is None or any(c != contexts[0] for c in contexts):
        return AS_CONTEXT
    for item in items:
        item.pop("@context")
    return contexts[0]


def _db(request: web.Request) -> Any:
    return request.app[appkeys.DB]


def _id(request: web.Request, name: str) -> str:
    return request.app[appkeys.URLS].actor(name)


async def _count_followers(request: web.Request, name: str) -> int:
    return await follows.count_followers(_db(request), _id(request, name))


async def _list_followers(request: web.Request, name: str, limit: int, offset: int) -> list[Any]:
    return list(
        await follows.list_followers(_db(request), _id(request, name), limit=limit, offset=offset)
    )


async def _count_following(request: web.Request, name: str) -> int:
    return await follows.count_following(_db(request), _id(request, name))


async def _list_following(request: web.Request, name: str, limit: int, offset: int) -> list[Any]:
    return list(
        await follows.list_following(_db(request), _id(request, name), limit=limit, offset=offset)
    )


async def _count_outbox(request: web.Request, name: str) -> int:
    return await activities.count_public_by(_db(request), _id(request, name))


async def _list_outbox(request: web.Request, name: str, limit: int, offset: int) -> list[Any]:
    docs = await activities.list_public_by(
        _db(request), _id(request, name), limit=limit, offset=offset
    )
    return list(docs)


async def _count_featured(request: web.Request, name: str) -> int:
    return len(await activities.list_featured(_db(request), _id(request, name)))


async def _list_featured(request: web.Request, name: str, limit: int, offset: int) -> list[Any]:
    ids = await activities.list_featured(_db(request), _id(request, name))
    return list(ids[offset : offset + limit])


def setup_routes(app: web.Application) -> None:
    """Register the actor and collection routes on `app`."""
    urls_of = {
        "followers": lambda r, n: r.app[appkeys.URLS].followers(n),
        "following": lambda r, n: r.app[appkeys.URLS].following(n),
        "outbox": lambda r, n: r.app[appkeys.URLS].outbox(n),
        "featured": lambda r, n: r.app[appkeys.URLS].featured(n),
    }
    app.router.add_get("/", home_handler)
    app.router.add_get("/about", home_handler)
    app.router.add_get("/actor", instance_actor_handler)
    app.router.add_get("/users/{name}", actor_handler)
    app.router.add_get("/@{name}", profile_handler)
    app.router.add_get(
        "/users/{name}/followers",
        _collection_route(urls_of["followers"], _count_followers, _list_followers),
    )
    app.router.add_get(
        "/users/{name}/following",
        _collection_route(urls_of["following"], _count_following, _list_following),
    )
    app.router.add_get(
        "/users/{name}/collections/featured",
        _collection_route(urls_of["featured"], _count_featured, _list_featured),
    )
    app.router.add_get(
        "/users/{name}/outbox", _collection_route(urls_of["outbox"], _count_outbox, _list_outbox)
    )

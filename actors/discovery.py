"""Actors layer: WebFinger (RFC 7033), host-meta and NodeInfo 2.0/2.1."""

from __future__ import annotations

from html import escape
from typing import Any

from aiohttp import web

from actors.documents import instance_username
from fedsocial import __version__, appkeys
from fedsocial.errors import BadRequest, NotFound
from fedsocial.storage import activities, local_actors
from fedsocial.urls import INSTANCE_ACTOR_NAME
from fedsocial.web.negotiation import json_response

JRD = "application/jrd+json"
CORS = {"Access-Control-Allow-Origin": "*"}


def parse_resource(resource: str, *, domain: str, base_url: str) -> str:
    """Return the local name a WebFinger resource names; raise BadRequest or NotFound.

    Accepts `acct:name@domain`, `name@domain`, and the actor or profile URL.
    """
    value = resource.strip()
    if not value:
        raise BadRequest("resource is empty")
    if value.startswith(("http://", "https://")):
        for prefix in (f"{base_url}/users/", f"{base_url}/@"):
            if value.startswith(prefix):
                name = value[len(prefix) :]
                if name and "/" not in name:
                    return name
        if value == f"{base_url}/actor":
            return INSTANCE_ACTOR_NAME
        raise NotFound(f"{value} is not an actor on this server")
    if value.startswith("acct:"):
        value = value[5:]
    value = value.lstrip("@")
    name, sep, host = value.rpartition("@")
    if not sep or not name or not host:
        raise BadRequest(f"malformed resource {resource!r}: expected acct:name@domain")
    if host.lower() != domain:
        raise NotFound(f"{host} is not this server ({domain})")
    # Mastodon answers WebFinger for the instance actor under the domain's name.
    if name.lower() == instance_username(base_url):
        return INSTANCE_ACTOR_NAME
    return name.lower()


async def webfinger(request: web.Request) -> web.StreamResponse:
    """GET /.well-known/webfinger?resource=...: the JRD for a local actor."""
    config = request.app[appkeys.CONFIG]
    urls = request.app[appkeys.URLS]
    given = request.query.getall("resource", [])
    if not given:
        raise BadRequest("the resource parameter is required")
    if len(given) > 1:
        # Which one to answer would be a guess; RFC 7033 §4.2 has exactly one.
        raise BadRequest("give the resource parameter once")
    resource = given[0]
    name = parse_resource(resource, domain=config.instance.domain, base_url=config.base_url)
    row = await local_actors.get(request.app[appkeys.DB], name)
    if row is None:
        raise NotFound(f"no actor {resource!r} here")
    actor_id = urls.actor(name)
    subject_name = instance_username(config.base_url) if row.kind == "instance" else name
    profile = urls.about if row.kind == "instance" else urls.profile(name)
    links = [
        {"rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": profile},
        {"rel": "self", "type": "application/activity+json", "href": actor_id},
    ]
    # RFC 7033 §4.3: `rel` (repeatable) narrows the links, and only the links.
    wanted = request.query.getall("rel", [])
    jrd: dict[str, Any] = {
        "subject": f"acct:{subject_name}@{config.instance.domain}",
        "aliases": [actor_id, profile],
        "links": [link for link in links if not wanted or link["rel"] in wanted],
    }
    return json_response(jrd, content_type=JRD)


def _webfinger_template(request: web.Request) -> str:
    return f"{request.app[appkeys.CONFIG].base_url}/.well-known/webfinger?resource={{uri}}"


async def host_meta(request: web.Request) -> web.StreamResponse:
    """GET /.well-known/host-meta: XRD pointing at our WebFinger template."""
    template = escape(_webfinger_template(request), quote=True)
    xrd = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<XRD xmlns="http://docs.oasis-open.org/ns/xri/xrd-1.0">\n'
        f'  <Link rel="lrdd" template="{template}"/>\n'
        "</XRD>\n"
    )
    return web.Response(text=xrd, content_type="application/xrd+xml")


async def host_meta_json(request: web.Request) -> web.StreamResponse:
    """GET /.well-known/host-meta.json: the same link as JRD (RFC 6415 §3), as Mastodon serves."""
    return json_response(
        {"links": [{"rel": "lrdd", "template": _webfinger_template(request)}]}, content_type=JRD
    )


async def nodeinfo_index(request: web.Request) -> web.StreamResponse:
    """GET /.well-known/nodeinfo: links to the NodeInfo 2.0 and 2.1 documents."""
    base = request.app[appkeys.CONFIG].base_url
    doc = {
        "links": [
            {
                "rel": f"http://nodeinfo.diaspora.software/ns/schema/{v}",
                "href": f"{base}/nodeinfo/{v}",
            }
            for v in ("2.0", "2.1")
        ]
    }
    return json_response(doc)


async def nodeinfo(request: web.Request) -> web.StreamResponse:
    """GET /nodeinfo/{version}: the NodeInfo document (2.0 or 2.1)."""
    version = request.match_info["version"]
    if version not in ("2.0", "2.1"):
        raise NotFound(f"no NodeInfo version {version}")
    config = request.app[appkeys.CONFIG]
    db = request.app[appkeys.DB]
    users = await local_actors.count_users(db)
    software: dict[str, Any] = {"name": "fedsocial", "version": __version__}
    if version == "2.1":
        software["repository"] = "https://github.com/fedsocial/fedsocial"
    doc = {
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": False,
        "usage": {
            "users": {"total": users, "activeMonth": users, "activeHalfyear": users},
            "localPosts": await activities.count_local_posts(db),
        },
        "metadata": {
            "nodeName": config.instance.name,
            "nodeDescription": config.instance.description,
        },
    }
    profile = f"http://nodeinfo.diaspora.software/ns/schema/{version}#"
    return json_response(doc, content_type=f'application/json; profile="{profile}"')


async def _allow_any_origin(request: web.Request, response: web.StreamResponse) -> None:
    # Browser clients read discovery documents cross-origin (RFC 7033 §5), errors included: a
    # 404 without the header reaches their code as an opaque network error, not as "no user".
    if request.path.startswith(("/.well-known/", "/nodeinfo/")):
        response.headers.update(CORS)


def setup_routes(app: web.Application) -> None:
    """Register the discovery routes on `app`; every answer under them allows any origin."""
    app.on_response_prepare.append(_allow_any_origin)
    app.router.add_get("/.well-known/webfinger", webfinger)
    app.router.add_get("/.well-known/host-meta", host_meta)
    app.router.add_get("/.well-known/host-meta.json", host_meta_json)
    app.router.add_get("/.well-known/nodeinfo", nodeinfo_index)
    app.router.add_get("/nodeinfo/{version}", nodeinfo)

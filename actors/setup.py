"""Actors layer: wires the remote actor service into the application.

Runs after the federation context: it hands the HTTP client the instance actor's key (the
default signer of fetches) and builds ``RemoteActors`` at ``appkeys.REMOTE_ACTORS``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from actors.local import LocalActors
from actors.remote import RemoteActors
from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.federation.setup import http_client, key_resolver
from fedsocial.federation.signing import SigningKey
from fedsocial.urls import Urls


class InstanceKey:
    """An async callable giving the instance actor's signing key (the cache keeps it loaded)."""

    def __init__(self, local: LocalActors, urls: Urls) -> None:
        self._local = local
        self._urls = urls

    async def __call__(self) -> SigningKey:
        """The instance actor's RSA signing key."""
        actor = await self._local.instance_actor()
        return actor.signing_key(self._urls)


async def _actors_ctx(app: web.Application) -> AsyncIterator[None]:
    config = app[appkeys.CONFIG]
    local = local_actors(app)
    http = http_client(app)
    http.set_default_key(InstanceKey(local, app[appkeys.URLS]))
    app[appkeys.REMOTE_ACTORS] = RemoteActors(
        app[appkeys.DB],
        config,
        app[appkeys.CLOCK],
        http=http,
        keys=key_resolver(app),
        local=local,
    )
    yield


def setup(app: web.Application) -> None:
    """Register the actors layer's cleanup context (after the federation one)."""
    app.cleanup_ctx.append(_actors_ctx)

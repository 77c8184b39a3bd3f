"""Core layer: wires outgoing HTTP, domain blocks and key resolution into the application.

One cleanup context opens them after the database and closes the HTTP session on shutdown.
The instance actor's key, which signs fetches by default, is handed to the client later by the
actors layer (core cannot import it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import cast

from aiohttp import web

from fedsocial import appkeys
from fedsocial.federation.domain_blocks import DomainBlocks
from fedsocial.federation.http_client import HttpClient
from fedsocial.federation.key_resolver import KeyResolver
from fedsocial.federation.tools import federation_services


async def _federation_ctx(app: web.Application) -> AsyncIterator[None]:
    async with federation_services(app[appkeys.CONFIG], app[appkeys.DB], app[appkeys.CLOCK]) as fed:
        app[appkeys.DOMAIN_BLOCKS] = fed.domain_blocks
        app[appkeys.HTTP_CLIENT] = fed.http
        app[appkeys.KEY_RESOLVER] = fed.keys
        yield


def setup(app: web.Application) -> None:
    """Register the federation resources' cleanup context on ``app`` (after the database's)."""
    app.cleanup_ctx.append(_federation_ctx)


def http_client(app: web.Application) -> HttpClient:
    """The application's outgoing HTTP client."""
    return cast(HttpClient, app[appkeys.HTTP_CLIENT])


def key_resolver(app: web.Application) -> KeyResolver:
    """The application's key resolver."""
    return cast(KeyResolver, app[appkeys.KEY_RESOLVER])


def domain_blocks(app: web.Application) -> DomainBlocks:
    """The application's domain blocks."""
    return app[appkeys.DOMAIN_BLOCKS]

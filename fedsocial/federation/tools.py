"""Core layer: the federation services built together — for the server and for CLI commands.

``federation_services`` opens the domain blocks, the HTTP client and the key resolver over an
open database, and closes the client on the way out. The server calls it from its cleanup
context; CLI commands (``fedsocial fetch``, ``fedsocial sig verify``) use it outside a server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiohttp.abc import AbstractResolver

from fedsocial.clock import Clock
from fedsocial.config import Config
from fedsocial.federation.domain_blocks import DomainBlocks
from fedsocial.federation.http_client import HttpClient, KeyProvider
from fedsocial.federation.key_resolver import KeyResolver
from fedsocial.storage.database import Database
from fedsocial.urls import Urls


@dataclass(frozen=True, slots=True)
class FederationServices:
    """The domain blocks, HTTP client and key resolver of one application or command."""

    domain_blocks: DomainBlocks
    http: HttpClient
    keys: KeyResolver


@asynccontextmanager
async def federation_services(
    config: Config,
    db: Database,
    clock: Clock,
    *,
    default_key: KeyProvider | None = None,
    resolver: AbstractResolver | None = None,
) -> AsyncIterator[FederationServices]:
    """Open the federation services over ``db``; the HTTP session is closed on exit.

    ``default_key`` signs GETs made without a key (the server sets the instance actor's later).
    """
    blocks = DomainBlocks(db, clock, configured=config.moderation.blocked_domains)
    http = await HttpClient.open(config, clock, db=db, domain_blocks=blocks, resolver=resolver)
    if default_key is not None:
        http.set_default_key(default_key)
    try:
        keys = KeyResolver(db, Urls(config.base_url), clock, http)
        yield FederationServices(domain_blocks=blocks, http=http, keys=keys)
    finally:
        await http.close()

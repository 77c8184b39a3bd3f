"""Inbox layer: wires the inbox into the application (routes, workers, AppKeys).

The cleanup context runs after the database, federation, actors and outbox contexts have
filled their AppKeys; it builds the handler services, the receive path with its batch writer,
and starts the worker (unless `app[appkeys.INBOX_WORKER_ENABLED]` is False: tests that stop
an instance between store and apply set it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from actors.remote import remote_actors
from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.federation.setup import domain_blocks, http_client, key_resolver
from fedsocial.sanitize import HtmlSanitizer
from inbox import c2s
from inbox.batch_writer import BatchWriter
from inbox.block_cache import BlockCache
from inbox.context import Services
from inbox.early_deletes import EarlyDeletes
from inbox.handlers import build_router
from inbox.origins import Origins
from inbox.receive import Receiver
from inbox.service import Inbox, inbox_of
from inbox.worker import Worker
from outbox.service import outbox_of


def _receiver(request: web.Request) -> Receiver:
    receiver = inbox_of(request.app).receiver
    if receiver is None:  # pragma: no cover - the cleanup context always attaches one
        raise web.HTTPServiceUnavailable()
    return receiver


async def _personal(request: web.Request) -> web.StreamResponse:
    return await _receiver(request).personal(request)


async def _shared(request: web.Request) -> web.StreamResponse:
    return await _receiver(request).shared(request)


async def _instance(request: web.Request) -> web.StreamResponse:
    return await _receiver(request).instance(request)


def services_of(app: web.Application, *, early_deletes: EarlyDeletes) -> Services:
    """The services inbox handlers use, from the application's AppKeys."""
    return Services(
        db=app[appkeys.DB],
        urls=app[appkeys.URLS],
        clock=app[appkeys.CLOCK],
        config=app[appkeys.CONFIG],
        local_actors=local_actors(app),
        remote_actors=remote_actors(app),
        http_client=http_client(app),
        outbox=outbox_of(app),
        sanitizer=HtmlSanitizer(),
        early_deletes=early_deletes,
    )


async def _inbox_ctx(app: web.Application) -> AsyncIterator[None]:
    applying = app.get(appkeys.INBOX_WORKER_ENABLED, True)
    # Only the process that applies activities needs (and may prune) the early deletes.
    early = (
        await EarlyDeletes.load(app[appkeys.DB], now=app[appkeys.CLOCK].now())
        if applying
        else EarlyDeletes()
    )
    services = services_of(app, early_deletes=early)
    inbox = Inbox(Worker(services, build_router()))
    writer = BatchWriter(services.db, services.clock, on_commit=inbox.wake)
    inbox.attach(
        Receiver(
            config=services.config,
            urls=services.urls,
            local_actors=services.local_actors,
            domain_blocks=domain_blocks(app),
            key_resolver=key_resolver(app),
            actor_blocks=BlockCache(services.db, local_actor_prefix=services.local_actor_prefix),
            writer=writer,
            origins=Origins(),
        )
    )
    app[appkeys.INBOX] = inbox
    writer.start()
    if applying:
        inbox.start_worker()
    yield
    await writer.stop()
    await inbox.stop_worker()


def setup(app: web.Application) -> None:
    """Register the inbox's routes and background work on `app`."""
    app.router.add_post("/users/{name}/inbox", _personal)
    app.router.add_post("/actor/inbox", _instance)
    app.router.add_post("/inbox", _shared)
    app.router.add_get("/users/{name}/inbox", c2s.inbox_collection)
    app.cleanup_ctx.append(_inbox_ctx)

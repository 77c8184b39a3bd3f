"""Outbox layer: wires the outbox into the application (routes, the service, its worker).

The cleanup context runs after the federation and actors ones: it builds the `Outbox` at
`appkeys.OUTBOX` with the shared HTTP client as its poster, and runs the delivery worker as a
background task, cancelled and awaited on shutdown (before the database closes).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any, cast

from aiohttp import web

from actors.state import local_actors
from fedsocial import appkeys
from fedsocial.federation.setup import domain_blocks, http_client
from fedsocial.storage.shards import WHOLE, Shard
from outbox.recipients import ActorDirectory
from outbox.routes import setup_routes
from outbox.service import Outbox

# Set to False (before start) to run an app without the background delivery worker.
RUN_WORKER = web.AppKey("outbox_run_worker", bool)
# Which part of the delivery queue this process delivers (`serve --workers N` sets one per
# process); the whole queue when unset.
DELIVERY_SHARD = web.AppKey("outbox_delivery_shard", Shard)


def build_outbox(app: web.Application) -> Outbox:
    """The outbox service of a started application (its HTTP client delivers)."""
    http = http_client(app)
    return Outbox(
        app[appkeys.DB],
        app[appkeys.URLS],
        app[appkeys.CLOCK],
        config=app[appkeys.CONFIG],
        remote_actors=cast(ActorDirectory, app[appkeys.REMOTE_ACTORS]),
        local_actors=local_actors(app),
        poster=http,
        fetch_object=http.fetch_json,
        domain_blocks=domain_blocks(app),
        delivery_shard=app.get(DELIVERY_SHARD, WHOLE),
    )


async def _outbox_ctx(app: web.Application) -> AsyncIterator[None]:
    outbox = build_outbox(app)
    app[appkeys.OUTBOX] = outbox
    task: asyncio.Task[Any] | None = None
    if app.get(RUN_WORKER, True):
        task = asyncio.create_task(outbox.run_forever(), name="outbox-delivery")
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def setup(app: web.Application) -> None:
    """Register the outbox's routes and background work on `app`."""
    setup_routes(app)
    app.cleanup_ctx.append(_outbox_ctx)

"""Composition root: build the aiohttp application from a Config. No I/O at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

import actors.setup
import inbox.setup
import outbox.setup
from actors import discovery
from actors import routes as actor_routes
from actors.local import LocalActors, ensure_instance_actor
from fedsocial import appkeys
from fedsocial.clock import Clock, SystemClock
from fedsocial.config import Config
from fedsocial.federation import setup as federation_setup
from fedsocial.federation.secure_mode import secure_mode_middleware
from fedsocial.storage.database import Database
from fedsocial.urls import Urls
from fedsocial.web.errors import error_middleware

# Inbox payloads over 1 MiB are refused (DESIGN.md §3).
MAX_BODY = 1024 * 1024


async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    db = await Database.open(app[appkeys.CONFIG].storage.database)
    app[appkeys.DB] = db
    await ensure_instance_actor(db, app[appkeys.CLOCK])
    app[appkeys.LOCAL_ACTORS] = LocalActors(db)
    yield
    await db.close()


def create_app(config: Config, *, clock: Clock | None = None) -> web.Application:
    """Return the fedsocial application for `config`; resources open when it starts.

    Cleanup contexts run in this order on start (and in reverse on stop): database,
    federation (HTTP client, domain blocks, keys), outbox (delivery workers), inbox (workers).
    """
    app = web.Application(
        middlewares=[error_middleware, secure_mode_middleware], client_max_size=MAX_BODY
    )
    app[appkeys.CONFIG] = config
    app[appkeys.CLOCK] = clock or SystemClock()
    app[appkeys.URLS] = Urls(config.base_url)
    app.cleanup_ctx.append(_database_ctx)
    federation_setup.setup(app)
    actors.setup.setup(app)
    discovery.setup_routes(app)
    actor_routes.setup_routes(app)
    outbox.setup.setup(app)
    inbox.setup.setup(app)
    return app

"""Core layer: every `web.AppKey` the application carries.

Objects owned by higher layers (actor cache, outbox, inbox worker) are typed as `Any` here
because core must not import them: they are typed `object` here and each owner exposes a
typed accessor that casts (`actors.state.local_actors(app)`, ...).
"""

from __future__ import annotations

from aiohttp import web

from fedsocial.clock import Clock
from fedsocial.config import Config
from fedsocial.federation.domain_blocks import DomainBlocks
from fedsocial.storage.database import Database
from fedsocial.urls import Urls

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
DB = web.AppKey("db", Database)
URLS = web.AppKey("urls", Urls)
DOMAIN_BLOCKS = web.AppKey("domain_blocks", DomainBlocks)
# Filled by the layers that own them; read through their typed accessors.
LOCAL_ACTORS = web.AppKey("local_actors", object)
HTTP_CLIENT = web.AppKey("http_client", object)
REMOTE_ACTORS = web.AppKey("remote_actors", object)
KEY_RESOLVER = web.AppKey("key_resolver", object)
OUTBOX = web.AppKey("outbox", object)
INBOX = web.AppKey("inbox", object)
# Set to False before start-up to keep the inbox worker from applying activities (tests).
INBOX_WORKER_ENABLED = web.AppKey("inbox_worker_enabled", bool)

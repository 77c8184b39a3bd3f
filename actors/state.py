"""Actors layer: typed access to the actors objects hanging off the application."""

from __future__ import annotations

from typing import cast

from aiohttp import web

from actors.local import LocalActors
from fedsocial import appkeys


def local_actors(app: web.Application) -> LocalActors:
    """The application's local actor cache."""
    return cast(LocalActors, app[appkeys.LOCAL_ACTORS])

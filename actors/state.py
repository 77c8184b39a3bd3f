"""Actors layer: typed access to the actors objects hanging off the application."""

from __future__ import annotations

from typing import cast

from aiohttp import web

from fedsocial import appkeys

from actors.local import LocalActors


def local_actors(app: web.Application) -> LocalActors:
    """The application's local actor cache."""
    return cast(LocalActors, app[appkeys.LOCAL_ACTORS])

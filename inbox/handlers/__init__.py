"""Inbox layer: one handler module per activity family, and the router that holds them all."""

from __future__ import annotations

from inbox.handlers import (
    actor_update,
    announce,
    block,
    delete,
    featured,
    flag,
    follow,
    move,
    posts,
    reactions,
    undo_other,
)
from inbox.router import Router

FAMILIES = (
    follow,
    posts,
    actor_update,
    delete,
    reactions,
    announce,
    block,
    move,
    flag,
    featured,
    undo_other,
)


def build_router() -> Router:
    """A router with every handler family registered."""
    router = Router()
    for family in FAMILIES:
        family.register(router)
    return router

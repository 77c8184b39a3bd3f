"""Outbox layer: wires the outbox into the application (routes, workers, AppKeys)."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register the outbox's routes and background work on `app`."""

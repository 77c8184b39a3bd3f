"""Core layer: wires outgoing HTTP, domain blocks and key resolution into the application."""

from __future__ import annotations

from aiohttp import web


def setup(app: web.Application) -> None:
    """Register the federation resources' cleanup contexts on `app`."""

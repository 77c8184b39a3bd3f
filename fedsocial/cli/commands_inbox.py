"""Composition root: the inbox subcommands of `fedsocial`."""

from __future__ import annotations

from typing import Any


def register(sub: Any) -> None:
    """Register the inbox subcommands."""

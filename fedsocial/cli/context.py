"""Composition root: what a CLI command needs (config, an open database, the clock)."""

from __future__ import annotations

import argparse
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fedsocial.clock import Clock, SystemClock
from fedsocial.config import Config, resolve_config
from fedsocial.storage.database import Database
from fedsocial.urls import Urls


@dataclass(frozen=True, slots=True)
class CliContext:
    """The configuration and open database one command works with."""

    config: Config
    db: Database
    clock: Clock
    urls: Urls


def config_of(args: argparse.Namespace) -> Config:
    """The configuration named on the command line or in the environment."""
    return resolve_config(getattr(args, "config", None))


@asynccontextmanager
async def open_context(
    args: argparse.Namespace, *, migrate: bool = True
) -> AsyncIterator[CliContext]:
    """Open the configured database for the duration of one command."""
    config = config_of(args)
    db = await Database.open(config.storage.database, migrate=migrate)
    try:
        yield CliContext(config=config, db=db, clock=SystemClock(), urls=Urls(config.base_url))
    finally:
        await db.close()

"""Composition root: `fedsocial init`, `serve`, and `actor add|list`."""

from __future__ import annotations

import argparse
import json
import logging
import os
from typing import Any, Protocol

from fedsocial.cli.context import config_of, open_context
from fedsocial.config import Config
from fedsocial.storage.shards import Shard


class EventLike(Protocol):
    """The part of a multiprocessing Event a serve process uses."""

    def set(self) -> None:
        """Signal the event."""


def register(sub: Any) -> None:
    """Register the administration subcommands."""
    init = sub.add_parser("init", help="create or migrate the database and the first actor")
    init.set_defaults(func=cmd_init)

    serve = sub.add_parser("serve", help="initialise if needed, then serve HTTP")
    serve.add_argument("--host", help="listen address (overrides the config)")
    serve.add_argument("--port", type=int, help="listen port (overrides the config)")
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help="processes answering HTTP on the one port (SO_REUSEPORT, Linux); each delivers to "
        "its share of the remote hosts, the first also applies the inbox (default 1)",
    )
    serve.set_defaults(func=cmd_serve)

    actor = sub.add_parser("actor", help="manage local actors")
    actor_sub = actor.add_subparsers(dest="actor_command", required=True, metavar="ACTION")
    add = actor_sub.add_parser("add", help="create a local actor")
    add.add_argument("name")
    add.add_argument("--display-name", default="")
    add.add_argument("--summary", default="")
    add.add_argument("--type", default="Person", choices=["Person", "Service", "Group"])
    add.add_argument("--manual-approval", action="store_true")
    add.set_defaults(func=cmd_actor_add)
    lst = actor_sub.add_parser("list", help="list local actors")
    lst.add_argument("--json", action="store_true")
    lst.set_defaults(func=cmd_actor_list)


async def initialise(args: argparse.Namespace) -> list[str]:
    """Migrate the database, create the instance actor and the first actor; say what was done."""
    from actors.local import create_actor, ensure_instance_actor
    from fedsocial.storage import local_actors

    done: list[str] = []
    async with open_context(args, migrate=False) as ctx:
        applied = await ctx.db.migrate()
        done.extend(f"applied migration {name}" for name in applied)
        if await ensure_instance_actor(ctx.db, ctx.clock):
            done.append("created the instance actor")
        if await local_actors.count_users(ctx.db) == 0:
            first = ctx.config.first_actor
            await create_actor(
                ctx.db,
                ctx.clock,
                first.name,
                display_name=first.display_name,
                summary=first.summary,
            )
            done.append(f"created actor {first.name} ({ctx.urls.actor(first.name)})")
    return done


async def cmd_init(args: argparse.Namespace) -> int:
    """`fedsocial init`: idempotent set-up of the database."""
    done = await initialise(args)
    print("\n".join(done) if done else "database is up to date")
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def _log_to_stderr() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def cmd_serve(args: argparse.Namespace) -> int:
    """`fedsocial serve`: initialise if needed, then serve until interrupted.

    With `--workers N` (N > 1), N processes listen on the same port with SO_REUSEPORT (the
    kernel spreads connections among them), each with its own event loop, SQLite connection
    and inbox batch writer. Only the first (this) process runs the inbox worker; the others
    store what they receive and the first applies it (it polls the table at least every
    second). Every process runs a delivery worker for its own shard of the remote hosts, so
    signing and sending use N cores while each host is still delivered to by one process. The
    extra processes stop when this one does.
    """
    import asyncio
    import multiprocessing

    from aiohttp import web

    from fedsocial.app import create_app
    from outbox.setup import DELIVERY_SHARD

    _log_to_stderr()
    for line in asyncio.run(initialise(args)):
        print(line, flush=True)
    config = config_of(args)
    host = args.host or config.server.host
    port = args.port or config.server.port
    # spawn, not fork: a fresh interpreter inherits no threads, loops or SQLite handles.
    spawn = multiprocessing.get_context("spawn")
    ready = [spawn.Event() for _ in range(args.workers - 1)]
    extra = [
        spawn.Process(
            target=serve_extra_process,
            args=(config, host, port, os.getpid(), event, Shard(index, args.workers)),
            name=f"fedsocial-serve-{index}",
            daemon=True,
        )
        for index, event in enumerate(ready, start=1)
    ]
    try:
        for process in extra:
            process.start()
        for event, process in zip(ready, extra, strict=True):
            if not event.wait(60) or not process.is_alive():
                raise SystemExit(f"{process.name} did not start")
        print(
            f"fedsocial serving {config.base_url} on http://{host}:{port}"
            + (f" with {args.workers} processes" if extra else ""),
            flush=True,
        )
        app = create_app(config)
        app[DELIVERY_SHARD] = Shard(0, args.workers)
        web.run_app(
            app,
            host=host,
            port=port,
            print=None,
            access_log=None,
            reuse_port=bool(extra) or None,
        )
    finally:
        for process in extra:
            process.terminate()
        for process in extra:
            process.join(10)
    return 0


def serve_extra_process(
    config: Config, host: str, port: int, parent: int, ready: EventLike, shard: Shard
) -> None:
    """One more `serve --workers` process: HTTP, and delivery to the hosts of `shard`; no inbox
    worker (see cmd_serve).

    Sets `ready` once it listens; stops on SIGTERM/SIGINT or when the parent process is gone.
    """
    import asyncio

    from aiohttp import web

    from fedsocial import appkeys
    from fedsocial.app import create_app
    from outbox.setup import DELIVERY_SHARD

    _log_to_stderr()
    app = create_app(config)
    app[appkeys.INBOX_WORKER_ENABLED] = False
    app[DELIVERY_SHARD] = shard

    async def run() -> None:
        # handle_signals: SIGTERM/SIGINT end the loop with GracefulExit, cleaning up below.
        runner = web.AppRunner(app, access_log=None, handle_signals=True)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port, reuse_port=True).start()
            ready.set()
            while os.getppid() == parent:  # noqa: ASYNC110 - no event tells of a parent's death
                await asyncio.sleep(1.0)
        finally:
            await runner.cleanup()

    asyncio.run(run())


async def cmd_actor_add(args: argparse.Namespace) -> int:
    """`fedsocial actor add NAME`: create a local actor with fresh keys."""
    from actors.local import create_actor

    async with open_context(args) as ctx:
        row = await create_actor(
            ctx.db,
            ctx.clock,
            args.name,
            actor_type=args.type,
            display_name=args.display_name,
            summary=args.summary,
            manually_approves=args.manual_approval,
        )
        print(ctx.urls.actor(row.name))
    return 0


async def cmd_actor_list(args: argparse.Namespace) -> int:
    """`fedsocial actor list`: the local actors."""
    from fedsocial.storage import local_actors

    async with open_context(args) as ctx:
        rows = await local_actors.list_users(ctx.db)
        if args.json:
            print(
                json.dumps(
                    [
                        {
                            "name": r.name,
                            "id": ctx.urls.actor(r.name),
                            "type": r.type,
                            "display_name": r.display_name,
                            "manually_approves": r.manually_approves,
                        }
                        for r in rows
                    ],
                    indent=2,
                )
            )
        else:
            from fedsocial.cli.tables import print_table

            print_table(
                ("NAME", "TYPE", "ID", "APPROVAL"),
                [
                    (
                        r.name,
                        r.type,
                        ctx.urls.actor(r.name),
                        "manual" if r.manually_approves else "automatic",
                    )
                    for r in rows
                ],
            )
    return 0

"""Composition root: `fedsocial init`, `serve`, and `actor add|list`."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from fedsocial.cli.context import config_of, open_context
from fedsocial.storage.shards import Shard

if TYPE_CHECKING:
    from aiohttp import web

    from fedsocial.cli.serve_processes import ExtraProcesses


def register(sub: Any) -> None:
    """Register the administration subcommands."""
    init = sub.add_parser("init", help="create or migrate the database and the first actor")
    init.set_defaults(func=cmd_init)

    serve = sub.add_parser("serve", help="initialise if needed, then serve HTTP")
    serve.add_argument("--host", help="listen address (overrides the config)")
    serve.add_argument("--port", type=_port, help="listen port (overrides the config)")
    serve.add_argument(
        "--workers",
        type=_worker_count,
        default=1,
        metavar="N",
        help="processes answering HTTP on the one port (SO_REUSEPORT, Linux); each delivers to "
        "its share of the remote hosts, the first also applies the inbox (default 1)",
    )
    # Internal: how `serve --workers N` starts its other processes (INDEX/COUNT/PARENT_PID).
    serve.add_argument("--extra-worker", type=_extra_worker, help=argparse.SUPPRESS)
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


# Each serve process costs a core's worth of work and tens of MB: far more is a typo.
MAX_WORKERS = 64


def _worker_count(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    if value > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"must be at most {MAX_WORKERS}")
    return value


def _port(text: str) -> int:
    # Checked here: a bad port would otherwise end `serve` with a traceback from bind().
    value = int(text)
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError("must be between 1 and 65535")
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
    first process restarts an extra one that dies, and stops them all when it stops (see
    `fedsocial.cli.serve_processes`).
    """
    import asyncio

    from aiohttp import web

    from fedsocial.app import create_app
    from fedsocial.cli.serve_processes import ExtraProcesses
    from outbox.setup import DELIVERY_SHARD

    _log_to_stderr()
    if args.extra_worker is not None:
        return _serve_extra(args, args.extra_worker)
    for line in asyncio.run(initialise(args)):
        print(line, flush=True)
    config = config_of(args)
    host = args.host or config.server.host
    port = args.port or config.server.port
    options = ["--config", args.config] if args.config else []
    extra = ExtraProcesses(
        [
            sys.executable,
            "-m",
            "fedsocial.cli",
            *options,
            "serve",
            "--host",
            host,
            "--port",
            str(port),
        ],
        count=args.workers,
    )
    try:
        extra.start()
        print(
            f"fedsocial serving {config.base_url} on http://{host}:{port}"
            + (f" with {args.workers} processes" if args.workers > 1 else ""),
            flush=True,
        )
        app = create_app(config)
        app[DELIVERY_SHARD] = Shard(0, args.workers)
        if args.workers > 1:
            app.cleanup_ctx.append(_watching(extra))
        web.run_app(
            app,
            host=host,
            port=port,
            print=None,
            access_log=None,
            reuse_port=args.workers > 1 or None,
        )
    except OSError as exc:
        if not _is_listen_error(exc):
            raise
        # The port is taken or the address is not ours: the user's to fix, not a traceback.
        print(f"fedsocial: error: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return 1
    finally:
        extra.stop()
    return 0


def _is_listen_error(exc: OSError) -> bool:
    """True for the errors of binding a listening socket (address in use or not ours, no
    permission for the port, a host name that does not resolve)."""
    import errno
    import socket

    listen_errors = (errno.EADDRINUSE, errno.EADDRNOTAVAIL, errno.EACCES)
    return isinstance(exc, socket.gaierror) or exc.errno in listen_errors


def _watching(extra: ExtraProcesses) -> Callable[[web.Application], AsyncIterator[None]]:
    """A cleanup context that restarts dead extra processes while the app runs."""

    async def watch(_app: web.Application) -> AsyncIterator[None]:
        import asyncio

        from fedsocial.cli.serve_processes import WATCH_SECONDS

        async def loop() -> None:
            while True:
                await asyncio.sleep(WATCH_SECONDS)
                extra.restart_exited()

        task = asyncio.create_task(loop(), name="serve-watcher")
        yield
        task.cancel()
        await asyncio.wait([task])

    return watch


def _extra_worker(text: str) -> tuple[Shard, int]:
    from fedsocial.cli.serve_processes import parse_extra_worker

    try:
        return parse_extra_worker(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def _serve_extra(args: argparse.Namespace, worker: tuple[Shard, int]) -> int:
    """One more `serve --workers` process: HTTP, and delivery to the hosts of its shard; no
    inbox worker (see cmd_serve). Says it is ready once it listens; stops on SIGTERM/SIGINT or
    when the parent process is gone."""
    import asyncio

    from aiohttp import web

    from fedsocial import appkeys
    from fedsocial.app import create_app
    from fedsocial.cli.serve_processes import say_ready
    from outbox.setup import DELIVERY_SHARD

    shard, parent = worker
    config = config_of(args)
    app = create_app(config)
    app[appkeys.INBOX_WORKER_ENABLED] = False
    app[DELIVERY_SHARD] = shard

    async def run() -> None:
        # handle_signals: SIGTERM/SIGINT end the loop with GracefulExit, cleaning up below.
        runner = web.AppRunner(app, access_log=None, handle_signals=True)
        await runner.setup()
        try:
            await web.TCPSite(runner, args.host, args.port, reuse_port=True).start()
            say_ready()
            while os.getppid() == parent:  # noqa: ASYNC110 - no event tells of a parent's death
                await asyncio.sleep(1.0)
        finally:
            await runner.cleanup()

    asyncio.run(run())
    return 0


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

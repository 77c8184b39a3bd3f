"""Composition root: `fedsocial init`, `serve`, and `actor add|list`."""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from fedsocial.cli.context import config_of, open_context


def register(sub: Any) -> None:
    """Register the administration subcommands."""
    init = sub.add_parser("init", help="create or migrate the database and the first actor")
    init.set_defaults(func=cmd_init)

    serve = sub.add_parser("serve", help="initialise if needed, then serve HTTP")
    serve.add_argument("--host", help="listen address (overrides the config)")
    serve.add_argument("--port", type=int, help="listen port (overrides the config)")
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


def cmd_serve(args: argparse.Namespace) -> int:
    """`fedsocial serve`: initialise if needed, then serve until interrupted."""
    import asyncio

    from aiohttp import web

    from fedsocial.app import create_app

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    for line in asyncio.run(initialise(args)):
        print(line, flush=True)
    config = config_of(args)
    host = args.host or config.server.host
    port = args.port or config.server.port
    print(f"fedsocial serving {config.base_url} on http://{host}:{port}", flush=True)
    web.run_app(create_app(config), host=host, port=port, print=None, access_log=None)
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

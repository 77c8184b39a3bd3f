"""Composition root: `fedsocial relay add|remove|list` — the instance's relay subscriptions.

`relay add URL` makes the instance actor follow a LitePub / Mastodon relay (URL: the relay's
inbox, or its actor document); the running server delivers the Follow and records the relay's
Accept or Reject. `relay remove URL` unsubscribes, `relay list` shows each relay and its state.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from fedsocial.cli.commands_outbox import outbox_command
from fedsocial.cli.tables import print_table


async def _add(args: argparse.Namespace) -> int:
    from actors.local import ensure_instance_actor
    from outbox.relays import subscribe

    async with outbox_command(args) as command:
        await ensure_instance_actor(command.ctx.db, command.ctx.clock)
        row = await subscribe(command.outbox, args.url)
    print(f"{row.url}\t{row.state}\t{row.inbox}")
    return 0


async def _remove(args: argparse.Namespace) -> int:
    from outbox.relays import unsubscribe

    async with outbox_command(args) as command:
        row = await unsubscribe(command.outbox, args.url)
    print(f"{row.url}\tremoved")
    return 0


async def _list(args: argparse.Namespace) -> int:
    from fedsocial.cli.context import open_context
    from fedsocial.clock import iso
    from fedsocial.storage import relays

    async with open_context(args) as ctx:
        rows = await relays.list_all(ctx.db)
    items = [
        {"url": r.url, "inbox": r.inbox, "state": r.state, "since": iso(r.created_at)} for r in rows
    ]
    if args.json:
        print(json.dumps(items, indent=2))
        return 0
    print_table(
        ("URL", "STATE", "INBOX", "SINCE"),
        [(item["url"], item["state"], item["inbox"], item["since"]) for item in items],
    )
    return 0


def register(sub: Any) -> None:
    """Register `relay` and its subcommands."""
    relay = sub.add_parser("relay", help="subscribe the instance to relays")
    verbs = relay.add_subparsers(dest="relay_command", required=True, metavar="ACTION")
    add = verbs.add_parser("add", help="follow a relay (URL: its inbox or actor)")
    add.add_argument("url", metavar="URL")
    add.set_defaults(func=_add)
    remove = verbs.add_parser("remove", help="unsubscribe from a relay")
    remove.add_argument("url", metavar="URL")
    remove.set_defaults(func=_remove)
    listing = verbs.add_parser("list", help="the relays and their state")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_list)

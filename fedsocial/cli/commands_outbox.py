"""Composition root: the outbox subcommands of `fedsocial` (post, follow, like, … deliveries).

They work against the same database as a running `fedsocial serve`: the command stores the
activity and its delivery rows, and the server's delivery worker (which polls every second)
sends them. Nothing is delivered from the command's own process.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fedsocial.cli.context import CliContext, open_context
from fedsocial.cli.tables import print_table

if TYPE_CHECKING:
    from actors.local import LocalActor
    from fedsocial.urls import Urls
    from outbox.recipients import ActorDirectory
    from outbox.service import Outbox


@dataclass(frozen=True, slots=True)
class OutboxCommand:
    """What an outbox command works with."""

    ctx: CliContext
    outbox: Outbox

    async def actor(self, name: str) -> LocalActor:
        """The local actor acting, or NotFound."""
        return await self.outbox.local_actors.require(name)

    async def actor_id(self, handle_or_url: str) -> str:
        """An actor id from a URL, `@user@host` or `user@host` (WebFinger), or a local name."""
        return await resolve_actor_id(
            handle_or_url, urls=self.ctx.urls, directory=self.outbox.remote_actors
        )


async def resolve_actor_id(handle_or_url: str, *, urls: Urls, directory: ActorDirectory) -> str:
    """The actor id a command argument names: a URL as is, `@user@host` or `user@host` through
    WebFinger (a fresh cached actor with that handle answers without it), a bare name as the
    local actor of that name (in any case; ValidationError when it cannot be a name). Raises
    what `directory.by_handle` raises for an unknown handle.
    """
    if handle_or_url.startswith(("http://", "https://")):
        return handle_or_url
    if "@" not in handle_or_url.lstrip("@"):
        from fedsocial.config import validate_actor_name
        from fedsocial.errors import ValidationError

        # Local names are lower case, as handles are read (`@ALICE@ourhost` is alice).
        name = handle_or_url.lstrip("@").lower()
        try:
            return urls.actor(validate_actor_name(name))
        except ValueError as exc:
            raise ValidationError(
                f"not an actor: {handle_or_url!r} (give @user@host, an http(s) URL or a local name)"
            ) from exc
    handle = handle_or_url if handle_or_url.startswith("@") else f"@{handle_or_url}"
    return (await directory.by_handle(handle)).id


@asynccontextmanager
async def outbox_command(args: argparse.Namespace) -> AsyncIterator[OutboxCommand]:
    """Open the database, the federation services and an Outbox without a delivery worker."""
    from actors.local import LocalActors
    from actors.remote import RemoteActors
    from fedsocial.federation.signing import SigningKey
    from fedsocial.federation.tools import federation_services
    from outbox.service import Outbox

    async with open_context(args) as ctx:
        local = LocalActors(ctx.db)

        async def instance_key() -> SigningKey:
            return (await local.instance_actor()).signing_key(ctx.urls)

        async with federation_services(
            ctx.config, ctx.db, ctx.clock, default_key=instance_key
        ) as fed:
            remote = RemoteActors(
                ctx.db, ctx.config, ctx.clock, http=fed.http, keys=fed.keys, local=local
            )
            outbox = Outbox(
                ctx.db,
                ctx.urls,
                ctx.clock,
                config=ctx.config,
                remote_actors=remote,
                local_actors=local,
                fetch_object=fed.http.fetch_json,
                domain_blocks=fed.domain_blocks,
            )
            yield OutboxCommand(ctx, outbox)


Action = Callable[[OutboxCommand, argparse.Namespace], Awaitable[str | None]]


def _runner(action: Action) -> Callable[[argparse.Namespace], Awaitable[int]]:
    async def run(args: argparse.Namespace) -> int:
        async with outbox_command(args) as command:
            printed = await action(command, args)
        if printed:
            print(printed)
        return 0

    return run


async def _post(command: OutboxCommand, args: argparse.Namespace) -> str:
    from outbox.addressing import Visibility
    from outbox.compose import NoteDraft

    draft = NoteDraft(
        text=args.text,
        visibility=Visibility(args.visibility),
        content_warning=args.cw,
        language=args.lang,
        in_reply_to=args.reply_to,
    )
    return await command.outbox.post(await command.actor(args.name), draft)


def _on_actor(method: str) -> Action:
    """An action taking `NAME HANDLE_OR_URL`: the target is resolved, then `Outbox.<method>`."""

    async def action(command: OutboxCommand, args: argparse.Namespace) -> str:
        target = await command.actor_id(args.target)
        result: str = await getattr(command.outbox, method)(await command.actor(args.name), target)
        return result

    return action


def _on_object(method: str) -> Action:
    """An action taking `NAME URL`: `Outbox.<method>` on the object at URL."""

    async def action(command: OutboxCommand, args: argparse.Namespace) -> str:
        result: str = await getattr(command.outbox, method)(
            await command.actor(args.name), args.url
        )
        return result

    return action


async def _edit(command: OutboxCommand, args: argparse.Namespace) -> str:
    return await command.outbox.edit(await command.actor(args.name), args.url, args.text)


async def _profile(command: OutboxCommand, args: argparse.Namespace) -> str:
    from fedsocial.errors import ValidationError

    if args.display_name is None and args.summary is None and not args.also_known_as:
        # An Update with nothing changed would still go to every follower: refuse it (exit 2).
        raise ValidationError(
            "nothing to change: give --display-name, --summary or --also-known-as"
        )
    actor = await command.actor(args.name)
    aliases = None
    if args.also_known_as:
        # Added to the aliases already there: the account being moved here must be listed
        # before it can send its Move (a remote target is one more instance away).
        added = [await command.actor_id(alias) for alias in args.also_known_as]
        aliases = tuple(dict.fromkeys([*actor.row.also_known_as, *added]))
    actor = await command.outbox.update_profile(
        actor, display_name=args.display_name, summary=args.summary, also_known_as=aliases
    )
    return command.ctx.urls.actor(actor.name)


async def _move(command: OutboxCommand, args: argparse.Namespace) -> str:
    target = await command.actor_id(args.target)
    await command.outbox.move(await command.actor(args.name), target)
    return target


def _row_json(row: Any, *, unavailable: bool = False) -> dict[str, Any]:
    from fedsocial.clock import iso

    return {
        "id": row.id,
        "activity": row.activity_id,
        "inbox": row.inbox,
        "state": row.state,
        "attempts": row.attempts,
        "next_attempt": iso(row.next_attempt_at) if row.state == "pending" else None,
        "last_status": row.last_status,
        "last_error": row.last_error,
        "response": row.response_excerpt,
        "host_unavailable": unavailable,
    }


async def cmd_deliveries(args: argparse.Namespace) -> int:
    """`fedsocial deliveries [--failed] [--json]`: the delivery queue, newest first."""
    from fedsocial.storage import deliveries, host_health

    async with open_context(args) as ctx:
        rows = await deliveries.list_rows(
            ctx.db, state="failed" if args.failed else None, limit=args.limit
        )
        unavailable = set(await host_health.unavailable_hosts(ctx.db))
    # A pending row of an unavailable host is skipped until the host answers again: its due
    # time alone would look like a queue that is stuck.
    items = [_row_json(r, unavailable=r.state == "pending" and r.host in unavailable) for r in rows]
    if args.json:
        print(json.dumps(items, indent=2, ensure_ascii=False))
        return 0
    print_table(
        ("ID", "STATE", "ATTEMPTS", "STATUS", "NEXT_ATTEMPT", "ACTIVITY", "INBOX", "ERROR"),
        [
            (
                item["id"],
                item["state"],
                item["attempts"],
                item["last_status"] if item["last_status"] is not None else "-",
                "host unavailable" if item["host_unavailable"] else item["next_attempt"] or "-",
                item["activity"],
                item["inbox"],
                item["last_error"],
            )
            for item in items
        ],
    )
    return 0


def _row_limit(text: str) -> int:
    # SQLite reads a negative LIMIT as no limit at all: the whole queue, thousands of rows.
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return value


def register(sub: Any) -> None:
    """Register the outbox subcommands."""
    post = sub.add_parser("post", help="publish a note; prints its id")
    post.add_argument("name")
    post.add_argument("text")
    post.add_argument(
        "--visibility", default="public", choices=["public", "unlisted", "followers", "direct"]
    )
    post.add_argument("--cw", default=None, help="content warning (summary)")
    post.add_argument("--reply-to", default=None, metavar="URL")
    post.add_argument("--lang", default=None, metavar="xx")
    post.set_defaults(func=_runner(_post))

    for verb, action, what in (
        ("follow", _on_actor("follow"), "follow an actor"),
        ("unfollow", _on_actor("unfollow"), "stop following an actor"),
        ("block", _on_actor("block"), "block an actor"),
        ("unblock", _on_actor("unblock"), "lift a block"),
        ("move", _move, "move this account to another (the target must alias it)"),
    ):
        parser = sub.add_parser(verb, help=what)
        parser.add_argument("name")
        parser.add_argument("target", metavar="HANDLE_OR_URL")
        parser.set_defaults(func=_runner(action))

    for verb, action, what in (
        ("like", _on_object("like"), "like an object"),
        ("unlike", _on_object("unlike"), "take a like back"),
        ("boost", _on_object("boost"), "boost (announce) an object"),
        ("unboost", _on_object("unboost"), "take a boost back"),
        ("delete", _on_object("delete"), "delete one of your objects"),
    ):
        parser = sub.add_parser(verb, help=what)
        parser.add_argument("name")
        parser.add_argument("url", metavar="URL")
        parser.set_defaults(func=_runner(action))

    edit = sub.add_parser("edit", help="replace the text of one of your notes")
    edit.add_argument("name")
    edit.add_argument("url", metavar="URL")
    edit.add_argument("text")
    edit.set_defaults(func=_runner(_edit))

    profile = sub.add_parser("profile", help="change the profile and tell followers")
    profile.add_argument("name")
    profile.add_argument("--display-name", default=None)
    profile.add_argument("--summary", default=None)
    profile.add_argument(
        "--also-known-as",
        action="append",
        metavar="HANDLE_OR_URL",
        help="add an alias (an account that may move here); repeatable",
    )
    profile.set_defaults(func=_runner(_profile))

    queue = sub.add_parser("deliveries", help="show the delivery queue")
    queue.add_argument("--failed", action="store_true", help="only rows that failed")
    queue.add_argument("--json", action="store_true")
    queue.add_argument("--limit", type=_row_limit, default=200, help="at most this many rows")
    queue.set_defaults(func=cmd_deliveries)

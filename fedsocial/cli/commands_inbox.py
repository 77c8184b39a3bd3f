"""Composition root: the inbox subcommands of `fedsocial`.

`notifications NAME`, `timeline NAME`, `show URL` read what the inbox stored; `token create|
revoke` manage C2S bearer tokens; `domain block|unblock|list` manage instance-wide domain
blocks; `follow-requests NAME [accept|reject ACTOR]` settles pending follows (the Accept or
Reject is queued in the database, and the running server delivers it).
"""

from __future__ import annotations

import argparse
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

from fedsocial.cli.context import CliContext, config_of, open_context
from fedsocial.cli.tables import print_table, terminal_text
from fedsocial.clock import iso
from fedsocial.errors import NotFound, ValidationError


def register(sub: Any) -> None:
    """Register the inbox subcommands."""
    notif = sub.add_parser("notifications", help="a local actor's notifications")
    notif.add_argument("name")
    notif.add_argument("--json", action="store_true")
    notif.set_defaults(func=cmd_notifications)

    home = sub.add_parser("timeline", help="a local actor's home timeline")
    home.add_argument("name")
    home.add_argument("--json", action="store_true")
    home.set_defaults(func=cmd_timeline)

    show = sub.add_parser("show", help="an object or actor as stored (sanitised)")
    show.add_argument("url")
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_show)

    token = sub.add_parser("token", help="client-to-server bearer tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True, metavar="ACTION")
    create = token_sub.add_parser("create", help="print a new token for a local actor")
    create.add_argument("name")
    create.add_argument("--label", default="")
    create.set_defaults(func=cmd_token_create)
    revoke = token_sub.add_parser("revoke", help="revoke a token")
    revoke.add_argument("token", help="the token (put -- before a token starting with -)")
    revoke.set_defaults(func=cmd_token_revoke)

    domain = sub.add_parser("domain", help="instance-wide domain blocks")
    domain_sub = domain.add_subparsers(dest="domain_command", required=True, metavar="ACTION")
    for action in ("block", "unblock"):
        parser = domain_sub.add_parser(action, help=f"{action} a domain and its subdomains")
        parser.add_argument("host")
        parser.set_defaults(func=cmd_domain, action=action)
    listing = domain_sub.add_parser("list", help="list blocked domains")
    listing.set_defaults(func=cmd_domain, action="list", host=None)

    requests = sub.add_parser("follow-requests", help="list, accept or reject follow requests")
    requests.add_argument("name")
    requests.add_argument("action", nargs="?", choices=["accept", "reject"])
    requests.add_argument(
        "actor",
        nargs="?",
        metavar="HANDLE_OR_URL",
        help="the requesting actor: its id, or its handle (@user@host)",
    )
    requests.set_defaults(func=cmd_follow_requests)


def _excerpt(document: dict[str, Any] | None, object_id: str) -> str:
    """One line for a post: its text, or a link for types we do not show."""
    from fedsocial.sanitize import plain_text
    from inbox.incoming_objects import STATUS_TYPES

    if document is None or document.get("type") not in STATUS_TYPES:
        return f"[{(document or {}).get('type', 'link')}] {object_id}"
    text = plain_text(str(document.get("content") or "")).replace("\n", " ")
    warning = document.get("summary")
    # A hostile document's summary may be a list or an object: only a string is a warning.
    return f"[CW: {plain_text(warning)}] {text}" if isinstance(warning, str) and warning else text


async def _require_actor(ctx: CliContext, name: str) -> None:
    from fedsocial.storage import local_actors

    if await local_actors.get(ctx.db, name) is None:
        raise NotFound(f"no local actor named {name!r}")


async def cmd_notifications(args: argparse.Namespace) -> int:
    """`fedsocial notifications NAME`: newest first."""
    from fedsocial.storage import notifications

    async with open_context(args) as ctx:
        await _require_actor(ctx, args.name)
        rows = await notifications.list_for(ctx.db, args.name)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "kind": n.kind,
                        "from": n.from_actor,
                        "object": n.object_id,
                        "activity": n.activity_id,
                        "at": iso(n.created_at),
                    }
                    for n in rows
                ],
                indent=2,
            )
        )
    else:
        print_table(
            ("AT", "KIND", "FROM", "OBJECT"),
            [(iso(n.created_at), n.kind, n.from_actor, n.object_id) for n in rows],
        )
    return 0


async def cmd_timeline(args: argparse.Namespace) -> int:
    """`fedsocial timeline NAME`: the home timeline, newest first."""
    from fedsocial.storage import timeline

    async with open_context(args) as ctx:
        await _require_actor(ctx, args.name)
        entries = await timeline.list_for(ctx.db, args.name)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "object": e.object_id,
                        "boosted_by": e.boosted_by,
                        "at": iso(e.created_at),
                        "document": e.document,
                    }
                    for e in entries
                ],
                indent=2,
                ensure_ascii=False,
            )
        )
        return 0
    rows = []
    for e in entries:
        author = (e.document or {}).get("attributedTo", "?")
        boost = f"boosted by {e.boosted_by}: " if e.boosted_by else ""
        rows.append((iso(e.created_at), f"{boost}{author}: {_excerpt(e.document, e.object_id)}"))
    print_table(("AT", "POST"), rows)
    return 0


async def _stored_document(ctx: CliContext, url: str) -> tuple[dict[str, Any] | None, str | None]:
    """An object, remote actor or local actor with this id, as we hold it, and the object's
    visibility as stored (None for an actor or nothing)."""
    from actors.documents import actor_document
    from actors.local import LocalActors
    from fedsocial.storage import objects, remote_actors

    stored = await objects.get(ctx.db, url)
    if stored is not None:
        return stored.document, stored.visibility
    remote = await remote_actors.get(ctx.db, url)
    if remote is not None:
        document: dict[str, Any] = remote.document
        return document, None
    name = ctx.urls.local_actor_name(url)
    local = None if name is None else await LocalActors(ctx.db).get(name)
    return (None if local is None else actor_document(local, ctx.urls)), None


async def cmd_show(args: argparse.Namespace) -> int:
    """`fedsocial show URL`: what we stored for an object or actor."""
    from fedsocial.sanitize import HtmlSanitizer, plain_text
    from inbox.incoming_objects import sanitised_document

    async with open_context(args) as ctx:
        document, visibility = await _stored_document(ctx, args.url)
    if document is None:
        raise NotFound(f"nothing stored for {args.url}")
    document = sanitised_document(document, HtmlSanitizer())
    if args.json:
        print(json.dumps(document, indent=2, ensure_ascii=False))
        return 0

    # Every line holds remote text: none of it may drive the terminal.
    def say(text: str = "") -> None:
        print(terminal_text(text))

    kind = document.get("type")
    say(f"{kind} {document.get('id')}")
    for key in ("attributedTo", "preferredUsername", "name", "published", "updated", "inReplyTo"):
        if isinstance(document.get(key), str):
            say(f"{key}: {document[key]}")
    if visibility is not None:
        # Who may see it (public, unlisted, followers, direct), as we read its addressing.
        say(f"visibility: {visibility}")
    if isinstance(document.get("summary"), str) and document["summary"]:
        label = "CW" if "attributedTo" in document else "summary"
        say(f"{label}: {plain_text(document['summary'])}")
    if isinstance(document.get("content"), str):
        say()
        say(plain_text(document["content"]) or _excerpt(document, str(document.get("id"))))
    for attachment in document.get("attachment") or []:
        if isinstance(attachment, dict):
            say(f"attachment: {attachment.get('mediaType', '')} {attachment.get('url', '')}")
    return 0


async def cmd_token_create(args: argparse.Namespace) -> int:
    """`fedsocial token create NAME`: print a new token (only its hash is stored)."""
    from fedsocial.storage import tokens

    async with open_context(args) as ctx:
        await _require_actor(ctx, args.name)
        print(await tokens.create(ctx.db, args.name, now=ctx.clock.now(), label=args.label))
    return 0


async def cmd_token_revoke(args: argparse.Namespace) -> int:
    """`fedsocial token revoke TOKEN`."""
    from fedsocial.storage import tokens

    async with open_context(args) as ctx:
        if not await tokens.revoke(ctx.db, args.token, now=ctx.clock.now()):
            raise NotFound("no such live token")
    print("revoked")
    return 0


async def cmd_domain(args: argparse.Namespace) -> int:
    """`fedsocial domain block|unblock|list`."""
    from fedsocial.config import is_domain
    from fedsocial.federation.domain_blocks import normalise_domain
    from fedsocial.storage import domain_blocks

    async with open_context(args) as ctx:
        if args.action == "list":
            configured = ctx.config.moderation.blocked_domains
            for domain in sorted(set(await domain_blocks.list_all(ctx.db)) | set(configured)):
                print(f"{domain}\t(config)" if domain in configured else domain)
            return 0
        host = normalise_domain(args.host)
        if not is_domain(host):
            # '*.evil.example' would be stored and block nothing: the domain covers subdomains.
            raise ValidationError(f"not a host: {args.host!r} (subdomains are blocked with it)")
        if args.action == "block":
            done = await domain_blocks.add(ctx.db, host, now=ctx.clock.now())
            print(f"blocked {host}" if done else f"{host} was already blocked")
        else:
            done = await domain_blocks.remove(ctx.db, host)
            print(f"unblocked {host}" if done else f"{host} was not blocked")
    return 0


@asynccontextmanager
async def _offline_app(args: argparse.Namespace) -> AsyncIterator[Any]:
    """The application's services without its server or workers (the server delivers)."""
    from aiohttp import web

    from fedsocial import appkeys
    from fedsocial.app import create_app
    from outbox.setup import RUN_WORKER

    app = create_app(config_of(args))
    app[RUN_WORKER] = False
    app[appkeys.INBOX_WORKER_ENABLED] = False
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        yield app
    finally:
        await runner.cleanup()


async def cmd_follow_requests(args: argparse.Namespace) -> int:
    """`fedsocial follow-requests NAME [accept|reject ACTOR]`."""
    from actors.state import local_actors
    from fedsocial import appkeys
    from fedsocial.cli.commands_outbox import resolve_actor_id
    from fedsocial.storage import follows, inbox_queue
    from outbox.recipients import ActorDirectory
    from outbox.service import outbox_of

    if args.action is not None and not args.actor:
        raise ValidationError(
            f"follow-requests {args.action} needs the requesting actor (handle or id)"
        )
    async with _offline_app(args) as app:
        db, urls = app[appkeys.DB], app[appkeys.URLS]
        actor = await local_actors(app).require(args.name)
        pending = dict(await follows.list_pending_for(db, urls.actor(args.name)))
        if args.action is None:
            print_table(
                ("FOLLOWER", "ACTIVITY"),
                [(follower, activity_id or "") for follower, activity_id in pending.items()],
            )
            return 0
        # A handle is resolved as `follow` resolves it (WebFinger unless cached), so a request
        # is accepted by the name people see, not only by the id the listing prints.
        directory = cast(ActorDirectory, app[appkeys.REMOTE_ACTORS])
        requester = await resolve_actor_id(args.actor, urls=urls, directory=directory)
        if requester not in pending:
            raise NotFound(f"no pending follow request from {args.actor}")
        activity_id = pending[requester]
        stored = None if activity_id is None else await inbox_queue.get(db, activity_id)
        follow = (
            stored.document
            if stored is not None
            else {
                "id": activity_id,
                "type": "Follow",
                "actor": requester,
                "object": urls.actor(args.name),
            }
        )
        if args.action == "accept":
            await outbox_of(app).accept_follow(actor, follow)
        else:
            await outbox_of(app).reject_follow(actor, follow)
    print(f"{args.action}ed {requester}")
    return 0

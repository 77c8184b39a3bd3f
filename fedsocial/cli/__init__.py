"""Composition root: the `fedsocial` command.

Each subcommand imports what it needs when it runs, so `fedsocial --help` stays quick.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

from fedsocial.cli import (
    commands_admin,
    commands_federation,
    commands_inbox,
    commands_jsonld,
    commands_outbox,
    commands_relay,
)
from fedsocial.cli.tables import terminal_text
from fedsocial.errors import ConfigError, FedsocialError


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(prog="fedsocial", description="A small ActivityPub server.")
    parser.add_argument(
        "--config", help="path to the TOML config (else $FEDSOCIAL_CONFIG, else ./fedsocial.toml)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (
        commands_admin,
        commands_federation,
        commands_inbox,
        commands_outbox,
        commands_jsonld,
        commands_relay,
    ):
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fedsocial command line; return the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.func(args)
        if asyncio.iscoroutine(result):
            result = asyncio.run(result)
    except FedsocialError as exc:
        # The message may quote a remote server (a status line, a name): no control characters.
        print(f"fedsocial: error: {terminal_text(exc.message)}", file=sys.stderr)
        # 2: the user's input or config is wrong; 1: something failed while running.
        return 2 if isinstance(exc, ConfigError) or exc.status < 500 else 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`fedsocial ... | head`): not an error worth a traceback.
        return 1
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

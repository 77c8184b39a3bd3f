"""Composition root: `fedsocial lint FILE|URL` for developers testing interoperability."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from fedsocial.errors import InvalidJson


def register(sub: Any) -> None:
    """Register the JSON-LD subcommands."""
    lint = sub.add_parser(
        "lint",
        help="check a JSON-LD document as a careful receiver (and Mastodon) would read it",
        description="Exit 0 when clean, 1 with warnings only, 2 with errors.",
    )
    lint.add_argument("source", help="a file, '-' for stdin, or an http(s) URL (signed GET)")
    lint.add_argument("--as", dest="as_name", help="sign the fetch as this local actor")
    lint.add_argument("--json", action="store_true", help="print the findings as JSON")
    lint.set_defaults(func=cmd_lint)


def parse_document(text: str, *, source: str) -> Any:
    """Parse the JSON text of a document; raise InvalidJson naming the source."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InvalidJson(f"{source} is not JSON: {exc}") from exc


async def _fetch(args: argparse.Namespace) -> Any:
    from fedsocial.cli.commands_federation import federation_tools

    async with federation_tools(args) as tools:
        key = await tools.signing_key(args.as_name)
        return await tools.http.fetch_json(args.source, key=key)


async def cmd_lint(args: argparse.Namespace) -> int:
    """`fedsocial lint`: print the findings; the exit code says how bad they are."""
    from fedsocial.jsonld.lint import lint_document

    source: str = args.source
    if source.startswith(("http://", "https://")):
        document = await _fetch(args)
    elif source == "-":
        document = parse_document(sys.stdin.read(), source="stdin")
    else:
        try:
            text = await asyncio.to_thread(Path(source).read_text, encoding="utf-8")
        except OSError as exc:
            raise InvalidJson(f"cannot read {source}: {exc.strerror}") from exc
        document = parse_document(text, source=source)
    report = lint_document(document)
    if args.json:
        print(
            json.dumps(
                {
                    "source": source,
                    "exit_code": report.exit_code,
                    "findings": [
                        {
                            "severity": f.severity,
                            "code": f.code,
                            "message": f.message,
                            "path": f.path,
                        }
                        for f in report.findings
                    ],
                },
                indent=2,
            )
        )
    else:
        for f in report.findings:
            where = f" at {f.path}" if f.path else ""
            print(f"{f.severity}: {f.code}{where}: {f.message}")
        summary = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        print(f"{source}: {'clean' if not report.findings else summary}")
    return report.exit_code

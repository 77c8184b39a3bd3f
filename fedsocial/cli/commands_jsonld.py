"""Composition root: `fedsocial lint FILE|URL` for developers testing interoperability."""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import sys
from typing import Any

from fedsocial.errors import FedsocialError, InvalidJson

# The largest file (or stdin) lint reads: what the inbox and our fetches accept, 1 MiB.
MAX_FILE = 1024 * 1024


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
    except (ValueError, RecursionError) as exc:
        # RecursionError: arrays nested some thousands deep (the C parser gives up).
        reason = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise InvalidJson(f"{source} is not JSON: {reason}") from exc


def read_text(data: bytes, *, source: str) -> str:
    """The UTF-8 text of a file or stdin read as bytes; InvalidJson when it is too large or
    not UTF-8 (a binary file)."""
    if len(data) > MAX_FILE:
        raise InvalidJson(f"{source} is larger than {MAX_FILE} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidJson(f"{source} is not UTF-8 text: {exc.reason} at byte {exc.start}") from exc


def _read_capped(path: str) -> bytes:
    with open(path, "rb") as file:
        return file.read(MAX_FILE + 1)


async def _fetch(args: argparse.Namespace) -> Any:
    from fedsocial.cli.commands_federation import federation_tools

    async with federation_tools(args) as tools:
        key = await tools.signing_key(args.as_name)
        return await tools.http.fetch_json(args.source, key=key)


async def cmd_lint(args: argparse.Namespace) -> int:
    """`fedsocial lint`: print the findings; the exit code says how bad they are."""
    from fedsocial.jsonld.lint import Finding, LintReport, lint_document

    source: str = args.source
    try:
        document = await _read_document(args, source)
    except FedsocialError as exc:
        if not args.json:
            raise
        # --json promises JSON on stdout: the reason the document could not be read is an error.
        report = LintReport((Finding("error", exc.code, exc.message),))
    else:
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
            print(_printable(f"{f.severity}: {f.code}{where}: {f.message}"))
        summary = f"{len(report.errors)} error(s), {len(report.warnings)} warning(s)"
        print(_printable(f"{source}: {'clean' if not report.findings else summary}"))
    return report.exit_code


async def _read_document(args: argparse.Namespace, source: str) -> Any:
    """The parsed document at `source` (URL, '-' or file); errors from our tree."""
    if source.startswith(("http://", "https://")):
        return await _fetch(args)
    if source == "-":
        data = await asyncio.to_thread(sys.stdin.buffer.read, MAX_FILE + 1)
        return parse_document(read_text(data, source="stdin"), source="stdin")
    try:
        data = await asyncio.to_thread(_read_capped, source)
    except OSError as exc:
        raise InvalidJson(f"cannot read {source}: {exc.strerror}") from exc
    return parse_document(read_text(data, source=source), source=source)


_SURROGATES = re.compile("[\ud800-\udfff]")


def _printable(line: str) -> str:
    """One line of the text report, safe to print: paths and messages quote the document, and
    a hostile one must not drive the terminal, fake lines of the report, or hold a lone
    surrogate (which UTF-8 output cannot encode: a traceback)."""
    from fedsocial.cli.tables import terminal_text

    return _SURROGATES.sub("\ufffd", terminal_text(line)).replace("\n", "\ufffd")

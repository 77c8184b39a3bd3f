"""Composition root: the federation subcommands of `fedsocial` — tools for interoperability work.

- ``fedsocial fetch URL [--as NAME] [--raw]``: a signed GET, as the instance actor or a local one;
- ``fedsocial sig verify FILE``: explain and check the signatures of a raw HTTP request;
- ``fedsocial sig sign FILE --as NAME``: sign a raw HTTP request as a local actor.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fedsocial.cli.context import CliContext, open_context
from fedsocial.cli.tables import terminal_text

if TYPE_CHECKING:
    from fedsocial.crypto.http_request import HttpRequestParts
    from fedsocial.crypto.keys import PublicKey
    from fedsocial.crypto.signature_input import SignatureInput
    from fedsocial.crypto.verify import Policy
    from fedsocial.federation.http_client import HttpClient
    from fedsocial.federation.key_resolver import KeyResolver
    from fedsocial.federation.signing import SigningKey


def register(sub: Any) -> None:
    """Register the federation subcommands."""
    fetch = sub.add_parser("fetch", help="signed GET of an ActivityPub URL")
    fetch.add_argument("url")
    fetch.add_argument("--as", dest="as_name", help="sign as this local actor (default: instance)")
    fetch.add_argument("--raw", action="store_true", help="print status, headers and body as is")
    fetch.set_defaults(func=cmd_fetch)

    sig = sub.add_parser("sig", help="HTTP signature tools")
    sig_sub = sig.add_subparsers(dest="sig_command", required=True, metavar="ACTION")
    verify = sig_sub.add_parser("verify", help="check the signatures of a raw HTTP request file")
    verify.add_argument("file", help="request line, headers, blank line, body ('-' for stdin)")
    verify.add_argument("--key", help="PEM file of the public key (else the keyId is fetched)")
    verify.add_argument("--at", help="check the time window as of this ISO 8601 / Unix time")
    verify.add_argument("--policy", choices=["mastodon", "spec"], default="mastodon")
    verify.add_argument(
        "--scheme",
        choices=["https", "http"],
        default=None,
        help="URL scheme of the request (default: the configured instance.scheme)",
    )
    verify.set_defaults(func=cmd_sig_verify)
    sign = sig_sub.add_parser("sign", help="sign a raw HTTP request file as a local actor")
    sign.add_argument("file", help="request line, headers, blank line, body ('-' for stdin)")
    sign.add_argument("--as", dest="as_name", required=True, help="local actor name")
    sign.add_argument("--scheme", choices=["cavage", "rfc9421"], default="cavage")
    sign.add_argument(
        "--url-scheme",
        choices=["https", "http"],
        default=None,
        help="URL scheme of the request (default: the configured instance.scheme)",
    )
    sign.set_defaults(func=cmd_sig_sign)


@dataclass(frozen=True, slots=True)
class FederationTools:
    """What the federation commands work with outside a server."""

    ctx: CliContext
    http: HttpClient
    keys: KeyResolver

    async def signing_key(self, name: str | None) -> SigningKey:
        """The signing key of a local actor, or of the instance actor when ``name`` is None."""
        from actors.local import LocalActors
        from fedsocial.errors import NotFound

        local = LocalActors(self.ctx.db)
        actor = await (local.instance_actor() if name is None else local.get(name))
        if actor is None:
            raise NotFound(f"no local actor named {name!r} (see `fedsocial actor list`)")
        return actor.signing_key(self.ctx.urls)


@asynccontextmanager
async def federation_tools(args: argparse.Namespace) -> AsyncIterator[FederationTools]:
    """An HTTP client and key resolver over the configured database, for one command.

    Fetches made without a key are signed by the instance actor, as the server signs them.
    """
    from actors.local import LocalActors, ensure_instance_actor
    from actors.setup import InstanceKey
    from fedsocial.federation.tools import federation_services

    async with open_context(args) as ctx:
        # Signed fetches need the instance actor even before `fedsocial init` ran.
        await ensure_instance_actor(ctx.db, ctx.clock)
        provider = InstanceKey(LocalActors(ctx.db), ctx.urls)
        async with federation_services(ctx.config, ctx.db, ctx.clock, default_key=provider) as fed:
            yield FederationTools(ctx=ctx, http=fed.http, keys=fed.keys)


async def cmd_fetch(args: argparse.Namespace) -> int:
    """`fedsocial fetch URL`: print the JSON (or everything with --raw); exit 0 on 2xx."""
    from fedsocial.federation.http_client import ACCEPT_ACTIVITY

    async with federation_tools(args) as tools:
        key = await tools.signing_key(args.as_name)
        response = await tools.http.get(args.url, key=key, accept=ACCEPT_ACTIVITY)
    if args.raw or not response.ok:
        print(f"HTTP {response.status}  {response.url}")
        for name, value in response.headers.items():
            print(f"{name}: {value}")
        print()
        if args.raw or response.body:
            text = response.body.decode("utf-8", errors="replace")
            # --raw prints the body as is; otherwise a hostile body must not drive the terminal.
            print(text if args.raw else terminal_text(text))
        return 0 if response.ok else 1
    try:
        print(json.dumps(json.loads(response.body), indent=2, ensure_ascii=False))
    except (ValueError, RecursionError):
        print(terminal_text(response.body.decode("utf-8", errors="replace")))
    return 0


def url_scheme(args: argparse.Namespace, given: str | None) -> str:
    """The URL scheme a raw request is read with: the one given, else the instance's own
    (`instance.scheme`), so a request to this instance signs and verifies as it is served."""
    from fedsocial.cli.context import config_of

    return given or config_of(args).instance.scheme


def _read_request(file: str, *, scheme: str) -> HttpRequestParts:
    from fedsocial.crypto.http_request import parse_raw_request
    from fedsocial.errors import ValidationError

    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as exc:
        # A wrong path is the user's mistake: name it rather than print a traceback.
        raise ValidationError(f"cannot read {file}: {exc.strerror}") from exc
    try:
        return parse_raw_request(data, scheme=scheme)
    except ValueError as exc:
        raise ValidationError(f"{file}: {exc}") from exc


def parse_instant(text: str) -> float:
    """Unix time from ``--at``: Unix seconds or an ISO 8601 timestamp; ValidationError else."""
    from fedsocial.clock import parse_iso
    from fedsocial.errors import ValidationError

    try:
        return float(text)
    except ValueError:
        pass
    try:
        return parse_iso(text)
    except ValueError as exc:
        raise ValidationError(f"--at: {text!r} is neither Unix seconds nor ISO 8601") from exc


def _load_key_file(path: str) -> PublicKey:
    from fedsocial.crypto.keys import load_public_key
    from fedsocial.errors import ValidationError

    try:
        return load_public_key(Path(path).read_text(encoding="ascii"))
    except (OSError, ValueError) as exc:
        raise ValidationError(f"--key {path}: {exc}") from exc


def _describe(sig: SignatureInput) -> list[str]:
    lines = [
        f"scheme:     {sig.scheme}" + (f" (label {sig.label})" if sig.label else ""),
        f"keyId:      {sig.key_id or '(none)'}",
        f"algorithm:  {sig.algorithm or '(not declared)'}",
        f"components: {' '.join(sig.components) or '(none)'}",
    ]
    if sig.missing_headers:
        lines.append(f"missing:    {' '.join(sig.missing_headers)}")
    if sig.unusable:
        lines.append(f"unusable:   {sig.unusable}")
    lines.append("signing string:")
    lines.extend("  " + line for line in sig.signing_string.decode("utf-8", "replace").split("\n"))
    return lines


async def cmd_sig_verify(args: argparse.Namespace) -> int:
    """`fedsocial sig verify FILE`: print each signature and its verdict; exit 0 if one is valid."""
    import time

    from fedsocial.crypto.verify import Policy, parse_signatures

    parts = _read_request(args.file, scheme=url_scheme(args, args.scheme))
    now = parse_instant(args.at) if args.at else time.time()
    policy = Policy(args.policy)
    signatures = parse_signatures(parts)
    pem_key = _load_key_file(args.key) if args.key else None
    if pem_key is not None:
        verdicts = [
            _verdict(parts, sig, pem_key, None, now=now, policy=policy) for sig in signatures
        ]
    else:
        async with federation_tools(args) as tools:
            verdicts = [
                await _fetched_verdict(tools.keys, parts, sig, now=now, policy=policy)
                for sig in signatures
            ]
    for index, (sig, (_ok, verdict)) in enumerate(zip(signatures, verdicts, strict=True)):
        if index:
            print()
        print("\n".join(_describe(sig)))
        print(f"verdict:    {verdict}")
    return 0 if any(ok for ok, _ in verdicts) else 1


async def _fetched_verdict(
    keys: KeyResolver, parts: HttpRequestParts, sig: SignatureInput, *, now: float, policy: Policy
) -> tuple[bool, str]:
    from fedsocial.errors import SignatureError

    try:
        resolved = await keys.resolve(sig.key_id)
    except SignatureError as exc:
        return False, f"INVALID ({exc.reason}): {exc.message}"
    return _verdict(parts, sig, resolved.public_key, resolved.owner, now=now, policy=policy)


def _verdict(
    parts: HttpRequestParts,
    sig: SignatureInput,
    key: PublicKey,
    owner: str | None,
    *,
    now: float,
    policy: Policy,
) -> tuple[bool, str]:
    from fedsocial.crypto.verify import verify_signature
    from fedsocial.errors import SignatureError

    try:
        verified = verify_signature(parts, sig, key, now=now, policy=policy)
    except SignatureError as exc:
        return False, f"INVALID ({exc.reason}): {exc.message}"
    who = f", key owner {owner}" if owner else ""
    return True, f"VALID ({verified.algorithm}{who}, policy {policy.value})"


async def cmd_sig_sign(args: argparse.Namespace) -> int:
    """`fedsocial sig sign FILE --as NAME`: print the request with signature headers added."""
    from fedsocial.crypto.cavage import sign_cavage
    from fedsocial.crypto.rfc9421 import sign_rfc9421

    parts = _read_request(args.file, scheme=url_scheme(args, args.url_scheme))
    async with federation_tools(args) as tools:
        key = await tools.signing_key(args.as_name)
        now = tools.ctx.clock.now()
    signer = sign_rfc9421 if args.scheme == "rfc9421" else sign_cavage
    try:
        added = signer(parts, key_id=key.key_id, private_key=key.private_key, now=now)
    except ValueError as exc:
        from fedsocial.errors import ValidationError

        raise ValidationError(f"cannot sign: {exc}") from exc
    signed = parts.with_headers(added)
    lines = [f"{parts.method} {parts.target} HTTP/1.1"]
    lines += [f"{_title(name)}: {value}" for name, value in signed.headers.items()]
    sys.stdout.buffer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + parts.body)
    sys.stdout.buffer.flush()
    return 0


def _title(name: str) -> str:
    return "-".join(piece.capitalize() for piece in name.split("-"))

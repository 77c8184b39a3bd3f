"""Test helpers: running `fedsocial` commands against a live test instance's database."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from fedsocial.cli import build_parser
from tests.harness import Instance


def write_cli_config(instance: Instance, folder: Path) -> Path:
    """A config file pointing the CLI at `instance`'s database (loopback http allowed)."""
    config = instance.config
    path = folder / f"{instance.name}.toml"
    path.write_text(
        f'[instance]\ndomain = "{config.instance.domain}"\nscheme = "http"\n'
        f'[storage]\ndatabase = "{config.storage.database}"\n'
        "[federation]\nallow_private_addresses = true\nallow_http = true\n",
        encoding="utf-8",
    )
    return path


async def run_in_process(config: Path, *argv: str) -> int:
    """Run one async subcommand in this process (errors propagate as exceptions)."""
    args = build_parser().parse_args(["--config", str(config), *argv])
    return int(await args.func(args) or 0)


async def run_cli(*args: str) -> tuple[int, str, str]:
    """Run `fedsocial ARGS` as another process; its exit code, stdout and stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "fedsocial.cli",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    return int(proc.returncode or 0), out.decode(), err.decode()

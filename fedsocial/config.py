"""Core layer: the frozen configuration, loaded from TOML and validated with clear errors."""

from __future__ import annotations

import dataclasses
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, get_type_hints
from urllib.parse import urlsplit

from fedsocial.errors import ConfigError

DEFAULT_PATH = Path("fedsocial.toml")
ENV_VAR = "FEDSOCIAL_CONFIG"
_NAME_RE = re.compile(r"[a-z0-9_]{1,30}")
# A lowercase DNS name (underscores allowed, as some local set-ups use them) or a bracketed IPv6
# address, then an optional port: what may stand between `scheme://` and the path of every id.
_DOMAIN_RE = re.compile(r"(?:[a-z0-9_-]+(?:\.[a-z0-9_-]+)*|\[[0-9a-f:.]+\])(?::(\d{1,5}))?")
# More delivery workers than this only queue on sockets and cost memory (one task each).
MAX_DELIVERY_WORKERS = 1000


@dataclass(frozen=True, slots=True)
class InstanceConfig:
    """Who this instance is on the network."""

    domain: str = "localhost:8080"
    scheme: str = "http"
    name: str = "fedsocial"
    description: str = "A small fediverse server"
    secure_mode: bool = False


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """Where the HTTP server listens."""

    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True, slots=True)
class StorageConfig:
    """Where the embedded database lives."""

    database: str = "fedsocial.sqlite3"


@dataclass(frozen=True, slots=True)
class FirstActorConfig:
    """The actor `fedsocial init` creates when the database has none."""

    name: str = "admin"
    display_name: str = "Admin"
    summary: str = ""


@dataclass(frozen=True, slots=True)
class FederationConfig:
    """How we talk to other servers."""

    allow_private_addresses: bool = False
    allow_http: bool = False
    ca_bundle: str = ""
    request_timeout: float = 10.0
    rfc9421_first: bool = False
    delivery_workers: int = 16
    delivery_per_host: int = 4


@dataclass(frozen=True, slots=True)
class ModerationConfig:
    """Instance-wide moderation set in the file (the database holds more)."""

    blocked_domains: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration; `source` names the file it came from."""

    instance: InstanceConfig = field(default_factory=InstanceConfig)
    server: ServerConfig = field(default_factory=ServerConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    first_actor: FirstActorConfig = field(default_factory=FirstActorConfig)
    federation: FederationConfig = field(default_factory=FederationConfig)
    moderation: ModerationConfig = field(default_factory=ModerationConfig)
    source: str = "<built-in defaults>"

    @property
    def base_url(self) -> str:
        """The scheme and authority every local id starts with, without a trailing slash."""
        return f"{self.instance.scheme}://{self.instance.domain}"

    @property
    def user_agent(self) -> str:
        """The User-Agent of every outgoing request."""
        from fedsocial import __version__

        return f"fedsocial/{__version__} (+{self.base_url}/)"


_SECTIONS: dict[str, type[Any]] = {
    "instance": InstanceConfig,
    "server": ServerConfig,
    "storage": StorageConfig,
    "first_actor": FirstActorConfig,
    "federation": FederationConfig,
    "moderation": ModerationConfig,
}


def _coerce(value: Any, expected: Any, where: str) -> Any:
    """Check one value against its declared type; ints are accepted where floats are."""
    if expected is bool:
        ok = isinstance(value, bool)
    elif expected is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif expected is float:
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif expected is str:
        ok = isinstance(value, str)
    elif expected == tuple[str, ...]:
        ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    else:  # pragma: no cover - a programming error in the schema
        raise TypeError(f"unsupported config type {expected!r}")
    if not ok:
        name = getattr(expected, "__name__", "list of strings")
        raise ConfigError(f"{where}: expected {name}, got {type(value).__name__}")
    return value


def _section(cls: type[Any], raw: Any, where: str) -> Any:
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a table")
    hints = get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(f"{where}.{key}: unknown key")
        values[key] = _coerce(value, hints[key], f"{where}.{key}")
    return cls(**values)


def parse_config(data: dict[str, Any], *, source: str) -> Config:
    """Build a validated Config from parsed TOML; raise ConfigError naming the file and key."""
    sections: dict[str, Any] = {}
    for key, raw in data.items():
        if key not in _SECTIONS:
            raise ConfigError(f"{source}: [{key}]: unknown section")
        sections[key] = _section(_SECTIONS[key], raw, f"{source}: {key}")
    config = Config(**sections, source=source)
    _validate(config)
    return config


def _validate(config: Config) -> None:
    src = config.source
    if config.instance.scheme not in ("https", "http"):
        raise ConfigError(f"{src}: instance.scheme: must be 'https' or 'http'")
    domain = config.instance.domain
    match = _DOMAIN_RE.fullmatch(domain)
    if match is None or (match.group(1) is not None and not 0 < int(match.group(1)) < 65536):
        raise ConfigError(
            f"{src}: instance.domain: must be a lowercase host[:port], got {domain!r}"
        )
    for entry in config.moderation.blocked_domains:
        # A wildcard or a typo would block nothing, silently: refuse it here instead.
        if not is_domain(_blocked_host(entry)):
            hint = ""
            if entry.startswith("*"):
                hint = " (write the domain: its subdomains are blocked with it)"
            raise ConfigError(f"{src}: moderation.blocked_domains: {entry!r} is not a domain{hint}")
    if not config.storage.database.strip():
        raise ConfigError(f"{src}: storage.database: must name a file (or ':memory:')")
    if not 0 < config.server.port < 65536:
        raise ConfigError(f"{src}: server.port: must be between 1 and 65535")
    if not _NAME_RE.fullmatch(config.first_actor.name):
        raise ConfigError(f"{src}: first_actor.name: must match [a-z0-9_]{{1,30}}")
    if config.federation.delivery_workers < 1 or config.federation.delivery_per_host < 1:
        raise ConfigError(f"{src}: federation: delivery_workers and delivery_per_host must be ≥ 1")
    if config.federation.delivery_workers > MAX_DELIVERY_WORKERS:
        raise ConfigError(
            f"{src}: federation.delivery_workers: must be at most {MAX_DELIVERY_WORKERS}"
        )
    # TOML has nan and inf: neither is a timeout (nan would pass a `<= 0` check).
    if not 0 < config.federation.request_timeout < math.inf:
        raise ConfigError(f"{src}: federation.request_timeout: must be a positive number")


def is_domain(text: str) -> bool:
    """True when `text` is a lowercase host, optionally with a port (no wildcard, path or
    space): what a domain block or our own domain must be to match anything."""
    return _DOMAIN_RE.fullmatch(text) is not None


def _blocked_host(entry: str) -> str:
    """The host a block list entry names, as domain blocks read it (a URL gives its host)."""
    text = entry.strip().lower()
    if "://" in text:
        try:
            text = urlsplit(text).hostname or ""
        except ValueError:
            return ""
    return text.rstrip(".")


def load_config(path: str | os.PathLike[str]) -> Config:
    """Read and validate one TOML file; raise ConfigError with the file name on any problem."""
    file = Path(path)
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{file}: no such configuration file") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{file}: not UTF-8 text (TOML must be): {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read: {exc}") from exc
    config = parse_config(data, source=str(file))
    # Relative database paths are relative to the config file, so `--config` works from anywhere.
    db = Path(config.storage.database)
    if not db.is_absolute() and config.storage.database != ":memory:":
        db = file.parent / db
        config = dataclasses.replace(config, storage=StorageConfig(database=str(db)))
    return config


def resolve_config(cli_path: str | None, environ: dict[str, str] | None = None) -> Config:
    """Load the config from `--config`, else $FEDSOCIAL_CONFIG, else ./fedsocial.toml.

    Without any of those, the built-in defaults for local use.
    """
    env = os.environ if environ is None else environ
    if cli_path:
        return load_config(cli_path)
    if env.get(ENV_VAR):
        return load_config(env[ENV_VAR])
    if DEFAULT_PATH.exists():
        return load_config(DEFAULT_PATH)
    return Config()


def validate_actor_name(name: str) -> str:
    """Return `name` if it is a valid local actor name, else raise ValueError."""
    # fullmatch: `$` would let a trailing newline through into ids and URLs.
    if not _NAME_RE.fullmatch(name):
        raise ValueError(f"invalid actor name {name!r}: use 1–30 of a-z, 0-9 and _")
    return name

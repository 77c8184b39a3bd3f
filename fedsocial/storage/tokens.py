"""Core layer: SQL for bearer tokens (client-to-server access), stored only as SHA-256 hashes."""

from __future__ import annotations

import hashlib
import secrets

from fedsocial.errors import ValidationError
from fedsocial.storage.database import Database

# Tokens start with a fixed prefix: it tells what a leaked string is (secret scanners look for
# such prefixes), and a token never starts with "-", which a command line would read as an option.
TOKEN_PREFIX = "fst_"


def hash_token(token: str) -> str:
    """The stored form of a token; any string has one, so a hostile one is simply unknown."""
    # surrogatepass: header bytes that are not UTF-8 reach us as lone surrogates, which a plain
    # encode() refuses (a 500); a real token is ASCII and hashes the same either way.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def create(db: Database, actor_name: str, *, now: float, label: str = "") -> str:
    """Create a token for a local actor and return it (``fst_`` and 43 URL-safe characters);
    only its hash is stored. Raise ValidationError for a label that is not storable text (a
    command line makes lone surrogates of bytes that are not UTF-8)."""
    try:
        label.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError("the token label is not valid text (not UTF-8?)") from exc
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await db.execute(
        "INSERT INTO tokens (token_hash, actor_name, label, created_at) VALUES (?,?,?,?)",
        (hash_token(token), actor_name, label, now),
    )
    return token


async def actor_for(db: Database, token: str) -> str | None:
    """The local actor a live token belongs to, or None for an unknown or revoked token."""
    value = await db.fetchval(
        "SELECT actor_name FROM tokens WHERE token_hash = ? AND revoked_at IS NULL",
        (hash_token(token),),
    )
    return None if value is None else str(value)


async def revoke(db: Database, token: str, *, now: float) -> bool:
    """Revoke a token; return False if it was unknown or already revoked."""
    changed = await db.execute(
        "UPDATE tokens SET revoked_at = ? WHERE token_hash = ? AND revoked_at IS NULL",
        (now, hash_token(token)),
    )
    return changed > 0

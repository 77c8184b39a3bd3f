"""Core layer: the key a request is signed with, independent of who owns it."""

from __future__ import annotations

from dataclasses import dataclass

from fedsocial.crypto.keys import PrivateKey


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A private key and the keyId that names its public half."""

    key_id: str
    private_key: PrivateKey

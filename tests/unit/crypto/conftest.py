"""Shared keys and helpers for the crypto tests (keys are generated once per session)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

from fedsocial.crypto.keys import generate_ed25519_key, generate_rsa_key

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "crypto"


@pytest.fixture(scope="session")
def rsa_key() -> RSAPrivateKey:
    return generate_rsa_key()


@pytest.fixture(scope="session")
def other_rsa_key() -> RSAPrivateKey:
    return generate_rsa_key()


@pytest.fixture(scope="session")
def ed_key() -> Ed25519PrivateKey:
    return generate_ed25519_key()


@pytest.fixture(scope="session")
def fixture_text() -> Callable[[str], str]:
    def read(name: str) -> str:
        return (FIXTURES / name).read_text()

    return read

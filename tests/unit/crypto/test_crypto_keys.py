"""Keys: generation, PEM round trips, the public-key cache, FEP-521a multibase."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fedsocial.crypto.keys import (
    base58btc_decode,
    base58btc_encode,
    ed25519_to_multibase,
    load_private_key,
    load_public_key,
    multibase_to_ed25519,
    private_key_to_pem,
    public_key_to_pem,
)


def test_rsa_key_is_2048_bits_and_round_trips_through_pem(rsa_key: RSAPrivateKey) -> None:
    # Given a generated RSA key
    assert rsa_key.key_size == 2048
    # When it goes through PKCS#8 and SubjectPublicKeyInfo PEM
    private_pem = private_key_to_pem(rsa_key)
    public_pem = public_key_to_pem(rsa_key)
    # Then the texts have the expected shapes and load back to the same key
    assert private_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert public_pem.startswith("-----BEGIN PUBLIC KEY-----")
    loaded = load_private_key(private_pem)
    assert isinstance(loaded, RSAPrivateKey)
    assert loaded.private_numbers() == rsa_key.private_numbers()
    public = load_public_key(public_pem)
    assert isinstance(public, RSAPublicKey)
    assert public.public_numbers() == rsa_key.public_key().public_numbers()


def test_ed25519_key_round_trips_through_pem(ed_key: Ed25519PrivateKey) -> None:
    loaded = load_private_key(private_key_to_pem(ed_key))
    assert isinstance(loaded, Ed25519PrivateKey)
    public = load_public_key(public_key_to_pem(ed_key.public_key()))
    assert isinstance(public, Ed25519PublicKey)
    assert public.public_bytes(Encoding.Raw, PublicFormat.Raw) == ed_key.public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw
    )


def test_load_public_key_caches_the_object(rsa_key: RSAPrivateKey) -> None:
    pem = public_key_to_pem(rsa_key)
    assert load_public_key(pem) is load_public_key(pem)


def test_pkcs1_rsa_keys_load(fixture_text: Callable[[str], str]) -> None:
    read = fixture_text
    assert isinstance(load_public_key(read("rfc9421-test-key-rsa-public.pem")), RSAPublicKey)
    assert isinstance(load_private_key(read("rfc9421-test-key-rsa-private.pem")), RSAPrivateKey)


@pytest.mark.parametrize("text", ["", "not a pem", "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END"])
def test_bad_pem_raises_value_error(text: str) -> None:
    with pytest.raises(ValueError):
        load_public_key(text)
    with pytest.raises(ValueError):
        load_private_key(text)


def test_other_key_types_are_refused() -> None:
    ec_key = generate_private_key(SECP256R1())
    with pytest.raises(ValueError, match="unsupported"):
        load_private_key(private_key_to_pem(ec_key))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unsupported"):
        load_public_key(public_key_to_pem(ec_key.public_key()))  # type: ignore[arg-type]


# Test vectors from the IETF base58 draft (draft-msporny-base58, section 5).
@pytest.mark.parametrize(
    ("raw", "encoded"),
    [
        (b"Hello World!", "2NEpo7TZRRrLZSi2U"),
        (
            b"The quick brown fox jumps over the lazy dog.",
            "USm3fpXnKG5EUBx2ndxBDMPVciP5hGey2Jh4NDv6gmeo1LkMeiKrLJUUBk6Z",
        ),
        (bytes.fromhex("0000287fb4cd"), "11233QC4"),
        (b"", ""),
    ],
)
def test_base58btc_vectors(raw: bytes, encoded: str) -> None:
    assert base58btc_encode(raw) == encoded
    assert base58btc_decode(encoded) == raw


def test_base58btc_rejects_characters_outside_the_alphabet() -> None:
    with pytest.raises(ValueError):
        base58btc_decode("0OIl")


def test_multibase_round_trip(ed_key: Ed25519PrivateKey) -> None:
    # Given an Ed25519 public key
    public = ed_key.public_key()
    # When it is encoded as FEP-521a publicKeyMultibase
    encoded = ed25519_to_multibase(public)
    # Then it is base58btc with the ed25519-pub prefix ("z6Mk" for every such key) and decodes back
    assert encoded.startswith("z6Mk")
    decoded = multibase_to_ed25519(encoded)
    assert decoded.public_bytes(Encoding.Raw, PublicFormat.Raw) == public.public_bytes(
        Encoding.Raw, PublicFormat.Raw
    )


def test_multibase_of_rfc8032_test_key() -> None:
    # RFC 8032 §7.1 TEST 1 public key; did:key (same multicodec + base58btc) examples use it.
    raw = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
    key = Ed25519PublicKey.from_public_bytes(raw)
    encoded = ed25519_to_multibase(key)
    assert base58btc_decode(encoded[1:]) == b"\xed\x01" + raw


@pytest.mark.parametrize(
    "value",
    [
        "",
        "u7QE",  # base64url multibase, not base58btc
        "z" + base58btc_encode(b"\x12\x20" + b"\x00" * 32),  # sha2-256 multicodec
        "z" + base58btc_encode(b"\xed\x01" + b"\x01" * 31),  # one byte short
        "z0OIl",
    ],
)
def test_multibase_rejects_bad_values(value: str) -> None:
    with pytest.raises(ValueError):
        multibase_to_ed25519(value)

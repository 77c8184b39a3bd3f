"""Core layer: key generation, PEM import/export and FEP-521a multibase encoding.

Loading a PEM costs milliseconds (DESIGN.md §6), so public keys are cached by their PEM text and
callers are expected to load each private key once and keep the object.
"""

from __future__ import annotations

from functools import lru_cache

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

PublicKey = RSAPublicKey | Ed25519PublicKey
PrivateKey = RSAPrivateKey | Ed25519PrivateKey

_BASE58_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_BASE58_INDEX = {char: index for index, char in enumerate(_BASE58_ALPHABET)}
# Multicodec varint for "ed25519-pub" (0xed), as FEP-521a prescribes.
_ED25519_MULTICODEC = b"\xed\x01"
_PUBLIC_KEY_CACHE_SIZE = 4096


def generate_rsa_key() -> RSAPrivateKey:
    """Return a fresh 2048-bit RSA private key with public exponent 65537."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def generate_ed25519_key() -> Ed25519PrivateKey:
    """Return a fresh Ed25519 private key."""
    return ed25519.Ed25519PrivateKey.generate()


def private_key_to_pem(key: PrivateKey) -> str:
    """Serialise a private key as unencrypted PKCS#8 PEM text."""
    return key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    ).decode("ascii")


def public_key_to_pem(key: PublicKey | PrivateKey) -> str:
    """Serialise a public key (or a private key's public half) as SubjectPublicKeyInfo PEM."""
    public = key.public_key() if isinstance(key, RSAPrivateKey | Ed25519PrivateKey) else key
    return public.public_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PublicFormat.SubjectPublicKeyInfo,
    ).decode("ascii")


def load_private_key(pem: str) -> PrivateKey:
    """Load an unencrypted RSA or Ed25519 private key from PEM (PKCS#8 or PKCS#1).

    Raises ValueError for malformed PEM, encrypted keys and any other key type.
    """
    try:
        key = serialization.load_pem_private_key(pem.strip().encode("ascii"), password=None)
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise ValueError(f"not a usable private key PEM: {exc}") from exc
    if not isinstance(key, RSAPrivateKey | Ed25519PrivateKey):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


def load_public_key(pem: str) -> PublicKey:
    """Load an RSA or Ed25519 public key from PEM (SubjectPublicKeyInfo or PKCS#1 RSA).

    The loaded object is cached by the exact PEM text, so repeated look-ups of the same remote
    key cost a dictionary hit. Raises ValueError for malformed PEM and any other key type.
    """
    return _load_public_key_cached(pem)


@lru_cache(maxsize=_PUBLIC_KEY_CACHE_SIZE)
def _load_public_key_cached(pem: str) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.strip().encode("ascii"))
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        raise ValueError(f"not a usable public key PEM: {exc}") from exc
    if not isinstance(key, RSAPublicKey | Ed25519PublicKey):
        raise ValueError(f"unsupported public key type {type(key).__name__}")
    return key


def base58btc_encode(data: bytes) -> str:
    """Encode bytes in base58 with the Bitcoin alphabet; leading zero bytes become '1's."""
    zeros = len(data) - len(data.lstrip(b"\x00"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_BASE58_ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Decode Bitcoin-alphabet base58 text; raise ValueError on any character outside it."""
    number = 0
    for char in text:
        try:
            number = number * 58 + _BASE58_INDEX[char]
        except KeyError:
            raise ValueError(f"invalid base58btc character {char!r}") from None
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\x00" * zeros + body


def ed25519_to_multibase(public_key: Ed25519PublicKey) -> str:
    """Encode an Ed25519 public key as FEP-521a ``publicKeyMultibase`` ("z" + base58btc)."""
    raw = public_key.public_bytes(
        encoding=serialization.Encoding.Raw, format=serialization.PublicFormat.Raw
    )
    return "z" + base58btc_encode(_ED25519_MULTICODEC + raw)


def multibase_to_ed25519(value: str) -> Ed25519PublicKey:
    """Decode a FEP-521a ``publicKeyMultibase`` value into an Ed25519 public key.

    Raises ValueError unless the value is base58btc ("z"), carries the ed25519-pub multicodec
    prefix and holds exactly 32 key bytes.
    """
    if not value.startswith("z"):
        raise ValueError("multibase value is not base58btc (must start with 'z')")
    decoded = base58btc_decode(value[1:])
    if not decoded.startswith(_ED25519_MULTICODEC):
        raise ValueError("multibase value is not an ed25519-pub multicodec key")
    raw = decoded[len(_ED25519_MULTICODEC) :]
    if len(raw) != 32:
        raise ValueError(f"Ed25519 public key must be 32 bytes, got {len(raw)}")
    return Ed25519PublicKey.from_public_bytes(raw)

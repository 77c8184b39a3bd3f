"""Core layer: the signature primitives both HTTP signature schemes share.

Names follow the RFC 9421 algorithm registry. draft-cavage's ``rsa-sha256`` and an RSA key under
``hs2019`` both mean ``rsa-v1_5-sha256``; ``hs2019`` with an Ed25519 key means ``ed25519``.
"""

from __future__ import annotations

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from fedsocial.crypto.keys import PrivateKey, PublicKey

RSA_V1_5_SHA256 = "rsa-v1_5-sha256"
RSA_PSS_SHA512 = "rsa-pss-sha512"
ED25519 = "ed25519"
SUPPORTED = frozenset({RSA_V1_5_SHA256, RSA_PSS_SHA512, ED25519})
# RFC 9421 §3.3.1: RSASSA-PSS with SHA-512, MGF1 with SHA-512 and a 64-byte salt.
_PSS_SALT_LENGTH = 64


def default_algorithm(key: PublicKey | PrivateKey) -> str:
    """Return the algorithm a key signs with by default: rsa-v1_5-sha256 or ed25519."""
    if isinstance(key, RSAPrivateKey | RSAPublicKey):
        return RSA_V1_5_SHA256
    return ED25519


def key_fits(algorithm: str, key: PublicKey | PrivateKey) -> bool:
    """Tell whether ``key`` is of the type ``algorithm`` needs."""
    if algorithm in (RSA_V1_5_SHA256, RSA_PSS_SHA512):
        return isinstance(key, RSAPrivateKey | RSAPublicKey)
    return algorithm == ED25519 and isinstance(key, Ed25519PrivateKey | Ed25519PublicKey)


def sign_bytes(private_key: PrivateKey, algorithm: str, data: bytes) -> bytes:
    """Sign ``data`` with ``algorithm``; raise ValueError if the key does not fit the algorithm."""
    if not key_fits(algorithm, private_key):
        raise ValueError(f"a {type(private_key).__name__} cannot sign with {algorithm}")
    if isinstance(private_key, Ed25519PrivateKey):
        return private_key.sign(data)
    if algorithm == RSA_PSS_SHA512:
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=_PSS_SALT_LENGTH)
        return private_key.sign(data, pss, hashes.SHA512())
    return private_key.sign(data, padding.PKCS1v15(), hashes.SHA256())


def verify_bytes(public_key: PublicKey, algorithm: str, data: bytes, signature: bytes) -> bool:
    """Return True when ``signature`` is ``algorithm``'s valid signature of ``data`` by the key.

    A key of the wrong type for the algorithm is simply a failed check.
    """
    if not key_fits(algorithm, public_key):
        return False
    try:
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(signature, data)
        elif algorithm == RSA_PSS_SHA512:
            # Accept any salt length when checking: the salt adds nothing an attacker can use.
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA512()), salt_length=padding.PSS.AUTO)
            public_key.verify(signature, data, pss, hashes.SHA512())
        else:
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True

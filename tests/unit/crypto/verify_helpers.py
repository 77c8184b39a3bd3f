"""Shared helpers of the verification tests: requests to sign, and signing/checking shortcuts."""

from __future__ import annotations

import pytest

from fedsocial.crypto.cavage import sign_cavage
from fedsocial.crypto.http_request import HttpRequestParts
from fedsocial.crypto.keys import PrivateKey
from fedsocial.crypto.rfc9421 import sign_rfc9421
from fedsocial.crypto.verify import Policy, VerifiedSignature, parse_signatures, verify_signature
from fedsocial.errors import SignatureError

NOW = 1_700_000_000.0
HOUR = 3600.0
KEY_ID = "https://remote.example/users/bob#main-key"
BODY = b'{"type": "Follow", "actor": "https://remote.example/users/bob"}'


def post(url: str = "https://local.example/users/alice/inbox", **headers: str) -> HttpRequestParts:
    base = {"Content-Type": "application/activity+json"}
    base.update({name.replace("_", "-"): value for name, value in headers.items()})
    return HttpRequestParts("POST", url, base, BODY)


def get(url: str = "https://local.example/users/alice") -> HttpRequestParts:
    return HttpRequestParts("GET", url, {"Accept": "application/activity+json"}, b"")


def check(
    parts: HttpRequestParts,
    key: PrivateKey,
    *,
    now: float = NOW,
    policy: Policy = Policy.MASTODON,
) -> VerifiedSignature:
    sigs = parse_signatures(parts)
    return verify_signature(parts, sigs[0], key.public_key(), now=now, policy=policy)


def reason(parts: HttpRequestParts, key: PrivateKey, **kwargs: object) -> str:
    with pytest.raises(SignatureError) as info:
        check(parts, key, **kwargs)  # type: ignore[arg-type]
    return info.value.reason


def signed_cavage(
    parts: HttpRequestParts, key: PrivateKey, *, now: float = NOW, **kwargs: object
) -> HttpRequestParts:
    return parts.with_headers(
        sign_cavage(parts, key_id=KEY_ID, private_key=key, now=now, **kwargs)  # type: ignore[arg-type]
    )


def signed_rfc9421(
    parts: HttpRequestParts, key: PrivateKey, *, now: float = NOW, **kwargs: object
) -> HttpRequestParts:
    return parts.with_headers(
        sign_rfc9421(parts, key_id=KEY_ID, private_key=key, now=now, **kwargs)  # type: ignore[arg-type]
    )

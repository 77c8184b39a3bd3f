"""Hostile shapes of signature headers and digests, checked without a server."""

from __future__ import annotations

import base64
import hashlib

import pytest

from fedsocial.crypto.digests import check_digest
from fedsocial.errors import SignatureError

BODY = b'{"type": "Follow"}'
GOOD = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
BAD = base64.b64encode(hashlib.sha256(b"another body").digest()).decode()


@pytest.mark.parametrize(
    "value", [f"SHA-256={BAD},SHA-256={GOOD}", f"SHA-256={GOOD}, sha-256={BAD}"]
)
def test_a_digest_offering_one_algorithm_twice_with_different_values_is_refused(
    value: str,
) -> None:
    # Given a Digest header that offers two sha-256 values, one for another body
    # When it is checked against the body
    with pytest.raises(SignatureError) as info:
        check_digest(value, BODY)
    # Then it is refused, whichever comes first
    assert info.value.reason == "bad_digest"


def test_a_digest_repeating_the_same_value_still_matches() -> None:
    # Given a Digest header (or two combined) repeating the same sha-256 value
    # When it is checked, Then it passes
    check_digest(f"SHA-256={GOOD}, SHA-256={GOOD}", BODY)

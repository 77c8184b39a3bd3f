"""Fields an LD signature does not cover are not read as if signed.

RsaSignature2017 signs the normalised graph, so a key the signed document's @context does not
define is not covered (ActivityStreams' `"@vocab": "_:"` makes it a blank-node property, which
RDF leaves out): anyone may add it to a signed activity. Handlers read terms of our canonical
context only, and a term the sender's context does not define is renamed (`_:quote`) when the
document is normalised, so such an addition cannot change what we store.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from fedsocial.crypto.keys import generate_rsa_key
from fedsocial.crypto.ld_signature import sign_ld, verify_ld
from fedsocial.jsonld.normalise import normalise

SIGNED: dict[str, Any] = {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
    "id": "https://e.example/a",
    "type": "Create",
    "actor": "https://e.example/u",
    "object": {
        "id": "https://e.example/n",
        "type": "Note",
        "content": "hi",
        "attributedTo": "https://e.example/u",
    },
}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("quote", "https://victim.example/n"),
        ("sensitive", True),
        ("_misskey_content", "evil"),
        ("interactionPolicy", {"canReply": {"always": ["https://x.example/u"]}}),
        ("directMessage", True),
    ],
)
def test_an_added_uncovered_term_keeps_the_signature_but_is_not_read(key: str, value: Any) -> None:
    # Given a signed activity whose context does not define `key`, and `key` added to its note
    private = generate_rsa_key()
    signed = sign_ld(
        SIGNED, private_key=private, creator="https://e.example/u#k", created="2024-01-01T00:00:00Z"
    )
    forged = copy.deepcopy(signed)
    forged["object"][key] = value
    # When it is verified and normalised
    verify_ld(forged, private.public_key())  # the addition is not covered: it still verifies
    note = normalise(forged)["object"]
    # Then handlers do not find the added field under its name
    assert key not in note

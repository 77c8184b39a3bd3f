"""pyld is only given documents whose cost is bounded: hostile shapes end in a JsonLdError."""

from __future__ import annotations

import time
from typing import Any

import pytest

from fedsocial.crypto.keys import generate_rsa_key
from fedsocial.crypto.ld_signature import sign_ld, verify_ld
from fedsocial.errors import JsonLdError, ProofError
from fedsocial.jsonld.normalise import compact_to_canonical
from fedsocial.jsonld.processing import (
    MAX_DEPTH,
    MAX_VALUES,
    canonical_nquads,
    check_size,
    expand,
    to_nquads,
)

AS = "https://www.w3.org/ns/activitystreams"


def blank_node_clique(size: int) -> dict[str, Any]:
    """A note whose attachments are blank nodes all linked to each other: they look alike at
    every degree, the URDNA2015 worst case (its cost grows with the permutations)."""
    nodes = [
        {"id": f"_:b{i}", "attachment": [{"id": f"_:b{j}"} for j in range(size) if j != i]}
        for i in range(size)
    ]
    return {"@context": AS, "id": "https://evil.example/n", "type": "Note", "attachment": nodes}


def nested(depth: int) -> dict[str, Any]:
    document: dict[str, Any] = {"type": "Note"}
    for _ in range(depth - 1):
        document = {"type": "Note", "inReplyTo": document}
    return {"@context": AS, **document}


def test_a_blank_node_clique_is_refused_quickly() -> None:
    # Given eight blank nodes linked to each other (unbounded, about a minute of URDNA2015)
    document = blank_node_clique(8)
    # When it is canonicalised
    started = time.monotonic()
    with pytest.raises(JsonLdError, match="too costly"):
        canonical_nquads(document)
    # Then it is refused within a fraction of a second
    assert time.monotonic() - started < 2


def test_a_small_clique_and_repeated_tags_still_canonicalise() -> None:
    # Given the shapes real documents have: a few alike blank nodes, many identical tags
    tags = {"@context": AS, "id": "https://e.example/n", "type": "Note"}
    tags["tag"] = [{"type": "Mention", "name": "@a"}] * 300
    # When they are canonicalised, Then they are
    assert canonical_nquads(blank_node_clique(4)).count("_:c14n") > 0
    assert "Mention" in canonical_nquads(tags)


def test_an_ld_signature_over_a_clique_is_a_proof_error() -> None:
    # Given a document with a poison graph and a signature it claims
    key = generate_rsa_key()
    signed = sign_ld(
        {"@context": AS, "id": "https://e.example/n", "type": "Note"},
        private_key=key,
        creator="https://e.example/u#main-key",
        created="2024-01-01T00:00:00Z",
    )
    hostile = {**blank_node_clique(9), "signature": signed["signature"]}
    # When it is verified, Then it is refused as a proof, not checked for minutes
    with pytest.raises(ProofError, match="cannot canonicalise"):
        verify_ld(hostile, key.public_key())


@pytest.mark.parametrize("operation", [expand, to_nquads, canonical_nquads, compact_to_canonical])
def test_too_deep_or_too_large_documents_are_refused_by_every_pyld_operation(
    operation: Any,
) -> None:
    # Given a document nested past the limit, and one with a property of thousands of values
    # (pyld's node map is quadratic in them: 4,000 took 4.7 s)
    deep = nested(MAX_DEPTH + 5)
    wide = {"@context": AS, "id": "https://e.example/n", "type": "Note"}
    wide["to"] = [f"https://e.example/u/{i}" for i in range(MAX_VALUES)]
    # When pyld would process them, Then each is a JsonLdError naming why, not a RecursionError
    with pytest.raises(JsonLdError, match="too deep"):
        operation(deep)
    with pytest.raises(JsonLdError, match="too large"):
        operation(wide)


def test_the_size_check_counts_depth_as_the_inbox_does() -> None:
    # Given documents exactly at the inbox's depth limit and one past it
    # When they are checked, Then the first passes and the second does not
    check_size(nested(MAX_DEPTH))
    with pytest.raises(JsonLdError):
        check_size(nested(MAX_DEPTH + 1))


def test_a_huge_context_is_neither_remembered_nor_read_on_the_fast_path() -> None:
    # Given activities whose inline contexts define 25,000 terms each, all different
    # (about 1 MiB: remembered, each cost about 10 MB and 0.6 s)
    from fedsocial.jsonld.normalise import _memo_reading, normalise

    before = _memo_reading.cache_info().currsize
    for n in range(3):
        terms = {f"t{n}_{i}": f"https://x.example/{i}" for i in range(25_000)}
        document = {"@context": [AS, terms], "id": f"https://e.example/{n}", "type": "Note"}
        # When each is normalised
        started = time.monotonic()
        with pytest.raises(JsonLdError, match="too large"):
            normalise(document)
        # Then it is refused at once, as too large for pyld
        assert time.monotonic() - started < 0.5
    # And nothing of them is kept
    assert _memo_reading.cache_info().currsize == before


def test_a_sender_context_of_usual_size_still_takes_the_fast_path() -> None:
    # Given a note whose inline context defines a few dozen terms, as Mastodon's does
    from fedsocial.jsonld.normalise import is_canonical_shape

    terms = {"toot": "http://joinmastodon.org/ns#", "sensitive": "as:sensitive"}
    terms.update({f"x{i}": f"https://x.example/{i}" for i in range(40)})
    document = {"@context": [AS, terms], "id": "https://e.example/n", "type": "Note"}
    # When it is checked, Then it reads as ours, without pyld
    assert is_canonical_shape(document)


_RELATIVE_CONTEXT = {"@context": [AS, "1.1"], "type": "Note"}  # ValueError in pyld
_INCLUDED_STRING = {"@context": [], "id": "https://e.example/a", "@graph": [{}], "@included": "x"}


@pytest.mark.parametrize(
    ("operation", "document"),
    [
        *[(op, _RELATIVE_CONTEXT) for op in (expand, to_nquads, canonical_nquads)],
        (compact_to_canonical, _RELATIVE_CONTEXT),
        (to_nquads, _INCLUDED_STRING),  # AttributeError in pyld's node map
        (canonical_nquads, _INCLUDED_STRING),
    ],
)
def test_pyld_faults_on_invalid_documents_are_json_ld_errors(
    operation: Any, document: dict[str, Any]
) -> None:
    # Given a document pyld fails on with a ValueError or an AttributeError of its own
    # When it is processed, Then the failure is our JsonLdError (a 400, a finding), no crash
    with pytest.raises(JsonLdError, match="invalid JSON-LD"):
        operation(document)


def test_lint_reports_rdf_that_cannot_be_read_as_a_finding() -> None:
    # Given a language map keyed "@reverse", which pyld writes as a language tag rdflib refuses
    from fedsocial.jsonld.lint import lint_document

    document = {
        "@context": AS,
        "id": "https://e.example/a",
        "type": "Note",
        "contentMap": {"@reverse": "en"},
    }
    # When it is linted, Then it is an error finding, not a traceback
    report = lint_document(document)
    assert "invalid_rdf" in report.codes() and report.exit_code == 2

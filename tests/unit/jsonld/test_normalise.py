"""normalise(): usual shapes pass untouched (fast), odd-but-valid JSON-LD comes out in our shape."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from fedsocial.errors import ContextNotAllowed, JsonLdError
from fedsocial.jsonld.frozen import TooLarge, freeze, thaw
from fedsocial.jsonld.normalise import (
    CANONICAL_CONTEXT,
    canonical_terms,
    compact_to_canonical,
    is_canonical_shape,
    normalise,
)
from fedsocial.jsonld.processing import expand

FIXTURES = Path(__file__).parents[2] / "fixtures" / "jsonld"
AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
FAST_PATH_FIXTURES = [
    "payloads/mastodon_create_note.json",
    "payloads/mastodon_person.json",
    "payloads/gotosocial_create_note.json",
    "payloads/misskey_create_note.json",
    "smithereen/mastodon_actor.json",
]


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text("utf-8")))


def _handler_view(node: dict[str, Any]) -> dict[str, Any]:
    """What a handler reading through as_list() sees: no nulls, every value a list."""
    view: dict[str, Any] = {}
    for key, value in node.items():
        if value is None or key == "@context":
            continue
        items = value if isinstance(value, list) else [value]
        view[key] = [_handler_view(i) if isinstance(i, dict) else i for i in items]
    return view


def test_canonical_context_is_flat_and_complete() -> None:
    terms = canonical_terms().terms
    assert terms["Emoji"].iri == "http://joinmastodon.org/ns#Emoji"
    assert terms["featured"].type == "@id"
    assert terms["focalPoint"].container == "@list"
    assert terms["publicKeyMultibase"].iri == "https://w3id.org/security#publicKeyMultibase"
    assert CANONICAL_CONTEXT[:2] == [AS, "https://w3id.org/security/v1"]


@pytest.mark.parametrize("name", FAST_PATH_FIXTURES)
def test_usual_shapes_take_the_fast_path_unchanged(name: str) -> None:
    # Given a payload shaped as Mastodon / GoToSocial / Misskey send them
    document = _load(name)
    # When normalised / Then the very same object comes back
    assert is_canonical_shape(document)
    assert normalise(document) is document


@pytest.mark.parametrize("name", FAST_PATH_FIXTURES)
def test_fast_path_and_pyld_path_agree(name: str) -> None:
    # Given a fast-path payload
    document = _load(name)
    # When it is also pushed through pyld
    slow = compact_to_canonical(document)
    # Then handlers read the same values either way
    assert _handler_view(slow) == _handler_view(document)
    # And the RDF meaning is identical under the sender's context and ours
    assert expand(slow) == expand(document)


def test_fast_path_costs_microseconds() -> None:
    document = _load("payloads/mastodon_create_note.json")
    runs = 200
    start = time.perf_counter()
    for _ in range(runs):
        normalise(document)
    per_call = (time.perf_counter() - start) / runs
    assert per_call < 0.001  # pyld's compaction alone costs ~2 ms


def test_pleroma_shape_is_compacted_to_ours() -> None:
    # Given a Pleroma Create (instance-hosted LitePub context, @language und)
    document = _load("payloads/pleroma_create_note.json")
    assert not is_canonical_shape(document)  # LitePub types `conversation` as an IRI
    # When normalised
    result = normalise(document)
    # Then handlers read our shape; language tags are not added to plain strings
    assert result["@context"] == CANONICAL_CONTEXT
    note = result["object"]
    assert note["content"] == "Hello from Pleroma"
    assert note["type"] == "Note"
    assert result["to"] == PUBLIC
    assert note["conversation"] == {"id": document["object"]["conversation"]}
    assert result["directMessage"] is False


def test_prefixed_terms_are_understood() -> None:
    document = {
        "@context": AS,
        "id": "https://a.example/notes/1",
        "type": "as:Note",
        "as:content": "hi",
        "as:attributedTo": {"id": "https://a.example/users/alice"},
        "as:to": {"id": "as:Public"},
    }
    assert not is_canonical_shape(document)
    result = normalise(document)
    assert result["type"] == "Note"
    assert result["content"] == "hi"
    assert result["attributedTo"] == "https://a.example/users/alice"
    assert result["to"] == PUBLIC


def test_custom_prefix_in_context_object_is_understood() -> None:
    document = {
        "@context": [
            AS,
            {
                "activity": "https://www.w3.org/ns/activitystreams#",
                "mstdn": "http://joinmastodon.org/ns#",
                "hash": "mstdn:blurhash",
            },
        ],
        "id": "https://a.example/media/1",
        "type": "Document",
        "activity:sensitive": True,
        "hash": "UBL_:rOpGG-oBUNG",
    }
    result = normalise(document)
    assert result["sensitive"] is True
    assert result["blurhash"] == "UBL_:rOpGG-oBUNG"
    assert "hash" not in result


def test_term_aliases_are_understood() -> None:
    document = {
        "@context": [AS, {"identifier": "@id", "kind": "@type", "words": "as:content"}],
        "identifier": "https://a.example/notes/2",
        "kind": "Note",
        "words": "aliased",
    }
    assert not is_canonical_shape(document)
    assert normalise(document) == {
        "@context": CANONICAL_CONTEXT,
        "id": "https://a.example/notes/2",
        "type": "Note",
        "content": "aliased",
    }


def test_single_node_graph_becomes_the_node() -> None:
    document = {
        "@context": AS,
        "@graph": [{"id": "https://a.example/notes/3", "type": "Note", "content": "in a graph"}],
    }
    result = normalise(document)
    assert result["id"] == "https://a.example/notes/3"
    assert result["content"] == "in a graph"
    assert "@graph" not in result


def test_graph_with_several_nodes_is_refused() -> None:
    document = {
        "@context": AS,
        "@graph": [
            {"id": "https://a.example/1", "type": "Note"},
            {"id": "https://a.example/2", "type": "Note"},
        ],
    }
    with pytest.raises(JsonLdError):
        normalise(document)


def test_unknown_remote_context_is_refused() -> None:
    document = {"@context": [AS, "https://evil.example/ns"], "id": "https://a.example/1"}
    with pytest.raises(ContextNotAllowed) as info:
        normalise(document)
    assert "https://evil.example/ns" in str(info.value)


@pytest.mark.parametrize(
    "document",
    [
        {"@context": AS, "id": {"not": "an iri"}, "type": "Note"},
        {"@context": 42, "type": "Note"},
        {"@context": [AS, {"content": {"@id": 7}}], "content": "x"},
    ],
)
def test_invalid_json_ld_is_refused(document: dict[str, Any]) -> None:
    with pytest.raises(JsonLdError):
        normalise(document)


def test_redefined_term_forces_the_pyld_path() -> None:
    # Given a sender that maps `content` somewhere else
    document = {
        "@context": [AS, {"content": "http://example.org/ns#body"}],
        "id": "https://a.example/notes/4",
        "type": "Note",
        "content": "not AS content",
    }
    # Then it is not read as ours, and the foreign property keeps its full IRI
    assert not is_canonical_shape(document)
    result = normalise(document)
    assert "content" not in result
    assert result["http://example.org/ns#body"] == "not AS content"


def test_sender_definitions_of_unused_terms_do_not_matter() -> None:
    # Misskey types `featured` differently, but a Note does not use it
    document = _load("payloads/misskey_create_note.json")
    assert is_canonical_shape(document)
    document["featured"] = "https://misskey.example/users/x/collections/featured"
    assert not is_canonical_shape(document)


def test_missing_context_means_activitystreams() -> None:
    # AS2 Core 2.1: a document without the AS2 context is read as if it had it
    document = {"id": "https://a.example/notes/5", "type": "Note", "content": "no context"}
    assert is_canonical_shape(document)
    assert normalise(document) is document
    assert compact_to_canonical(document)["content"] == "no context"
    with_other = {"@context": "https://w3id.org/security/v1", **document}
    assert normalise(with_other) is with_other


@pytest.mark.parametrize(
    "value",
    [
        AS,
        [AS, "https://w3id.org/security/v1", {"toot": "http://joinmastodon.org/ns#"}],
        [AS, {"a": {"@id": "as:a", "@container": ["@set", "@index"]}, "n": None}],
        {"@version": 1.1, "flag": True, "one": 1, "float": 1.0, "list": [], "dict": {}},
    ],
)
def test_context_memo_key_is_exact(value: Any) -> None:
    # The fast path remembers its reading of a context under an exact image of the JSON value
    frozen = freeze(value, limit=100)
    assert thaw(frozen) == value
    # True, 1 and 1.0 are equal in Python but different JSON: they never share a key
    keys = {freeze(v, limit=100) for v in (True, 1, 1.0, "1", [1])}
    assert len(keys) == 5
    with pytest.raises(TypeError):
        freeze((AS,), limit=100)  # a tuple is not JSON: no key, read without the memo
    # And a value over the limit is refused as soon as the limit is passed
    with pytest.raises(TooLarge):
        freeze([[1, 2], [3]], limit=4)
    assert thaw(freeze([[1, 2], [3]], limit=6)) == [[1, 2], [3]]


def test_non_json_context_is_read_without_the_memo() -> None:
    document = {"@context": (AS,), "id": "https://a.example/notes/6", "type": "Note"}
    # A tuple is not a list to the context reader: not flat, so not the fast path
    assert not is_canonical_shape(document)


@pytest.mark.parametrize("name", FAST_PATH_FIXTURES)
def test_fast_path_answers_the_same_every_time(name: str) -> None:
    # The reading of a context is remembered; a second document with it is judged the same way
    document = _load(name)
    assert is_canonical_shape(document) and is_canonical_shape(_load(name))
    document["content"] = {"not": "a string"}  # `content` is a plain term: walked, still ours
    assert is_canonical_shape(document)
    document["type"] = "as:Note"  # a compact IRI as a type leaves the fast path
    assert not is_canonical_shape(document)

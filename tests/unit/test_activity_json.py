"""Tests for fedsocial.activity_json: reading raw ActivityPub JSON safely."""

from __future__ import annotations

import json

import pytest

from fedsocial.activity_json import (
    AS_PUBLIC,
    as_list,
    first_str,
    get_id,
    get_ids,
    holds_lone_surrogate,
    is_public,
    origin,
    same_origin,
    unique,
)
from fedsocial.errors import ValidationError


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, []),
        ("x", ["x"]),
        ({"id": "x"}, [{"id": "x"}]),
        (["a", "b"], ["a", "b"]),
        (("a",), ["a"]),
        (0, [0]),
        ([], []),
    ],
)
def test_as_list(value: object, expected: list[object]) -> None:
    assert as_list(value) == expected


def test_as_list_copies_lists() -> None:
    # Given a list, When it is passed through, Then mutating the result leaves the input alone
    original = ["a"]
    result = as_list(original)
    result.append("b")
    assert original == ["a"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("https://a.example/1", "https://a.example/1"),
        ({"id": "https://a.example/1", "type": "Note"}, "https://a.example/1"),
        ({"type": "Note"}, None),
        ({"id": 5}, None),
        ("", None),
        (None, None),
        (["https://a.example/1"], None),
        (3, None),
    ],
)
def test_get_id(value: object, expected: str | None) -> None:
    assert get_id(value) == expected


def test_get_ids_mixed() -> None:
    value = ["https://a/1", {"id": "https://a/2"}, {"type": "Link"}, None, 7, "https://a/1"]
    assert get_ids(value) == ["https://a/1", "https://a/2", "https://a/1"]
    assert get_ids("https://a/1") == ["https://a/1"]
    assert get_ids(None) == []


def test_first_str() -> None:
    assert first_str(["", "b"]) == ""
    assert first_str([{"id": "x"}, "b"]) == "b"
    assert first_str("a") == "a"
    assert first_str(None) is None
    assert first_str([1, 2]) is None


def test_is_public_aliases() -> None:
    assert is_public(AS_PUBLIC)
    assert is_public("as:Public")
    assert is_public("Public")
    assert not is_public("https://www.w3.org/ns/activitystreams#public")
    assert not is_public("https://a.example/followers")
    assert not is_public(None)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://Example.COM/users/a", "https://example.com"),
        ("HTTPS://example.com:443/x", "https://example.com"),
        ("http://example.com:80/x", "http://example.com"),
        ("http://127.0.0.1:8081/users/bob", "http://127.0.0.1:8081"),
        ("https://example.com:8443", "https://example.com:8443"),
        ("https://[::1]:8443/x", "https://[::1]:8443"),
        ("https://user:pw@example.com/x", "https://example.com"),
    ],
)
def test_origin(url: str, expected: str) -> None:
    assert origin(url) == expected


@pytest.mark.parametrize("url", ["", "example.com/x", "/relative", "https://", "http://a:99999/"])
def test_origin_rejects_non_absolute(url: str) -> None:
    with pytest.raises(ValidationError):
        origin(url)


def test_same_origin() -> None:
    assert same_origin("https://a.example/users/x", "https://A.example/objects/1")
    assert not same_origin("https://a.example/x", "http://a.example/x")
    assert not same_origin("https://a.example/x", "https://a.example:8443/x")
    assert not same_origin("https://a.example/x", "https://evil.example/x")
    assert not same_origin("https://a.example.evil.example/x", "https://a.example/x")
    assert not same_origin("not a url", "not a url")


def test_unique_keeps_first_position() -> None:
    assert unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


@pytest.mark.parametrize("raw_type", [str, bytes])
def test_holds_lone_surrogate(raw_type: type) -> None:
    def check(text: str) -> bool:
        raw = text if raw_type is str else text.encode()
        return holds_lone_surrogate(json.loads(raw), raw=raw)

    # A lone surrogate escape is caught; a valid pair, plain text and other escapes are not
    assert check('{"a": "\\ud800"}')
    assert check('{"a": ["x", {"b": "\\uDFFF"}]}')
    assert not check('{"a": "\\ud83d\\ude00"}')
    assert not check('{"a": "caf\\u00e9 \\ud7ff"}')
    assert not check('{"a": "plain"}')

"""Receive-path checks that need no I/O: content types, JSON, required fields, origins."""

from __future__ import annotations

import pytest

from fedsocial.errors import InvalidJson, UnsupportedMediaType, ValidationError
from inbox.origins import Origins
from inbox.request_checks import check_content_type, parse_activity


@pytest.mark.parametrize(
    "mimetype",
    [
        "application/activity+json",
        "application/ld+json",
        "application/json",
        "Application/Activity+JSON",
    ],
)
def test_activitystreams_types_are_accepted(mimetype: str) -> None:
    # Given one of the three spellings, When checked, Then nothing is raised
    check_content_type(mimetype)


@pytest.mark.parametrize("mimetype", ["", "text/html", "application/xml", "multipart/form-data"])
def test_other_types_are_415(mimetype: str) -> None:
    # Given another type, When checked, Then it is UnsupportedMediaType (415)
    with pytest.raises(UnsupportedMediaType):
        check_content_type(mimetype)


def test_parse_reads_id_type_and_actor_ids() -> None:
    # Given an activity whose type is a list and whose actor is embedded
    body = (
        b'{"id": "https://a.example/1", "type": ["Like"], "actor": {"id": "https://a.example/u"}}'
    )
    # When parsed
    envelope = parse_activity(body)
    # Then the fields are read as ids and strings, and the raw text is kept
    assert (envelope.activity_id, envelope.type, envelope.actor) == (
        "https://a.example/1",
        "Like",
        "https://a.example/u",
    )
    assert envelope.raw == body.decode()


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", InvalidJson),
        (b"nul", InvalidJson),
        (b"\xc3\x28", InvalidJson),
        (b"[]", InvalidJson),
        (b'{"type": "Like", "actor": "https://a.example/u"}', ValidationError),
        (b'{"id": "", "type": "Like", "actor": "https://a.example/u"}', ValidationError),
        (
            b'{"id": "https://a.example/1", "type": 3, "actor": "https://a.example/u"}',
            ValidationError,
        ),
        (b'{"id": "https://a.example/1", "type": "Like", "actor": ["x", 2]}', ValidationError),
    ],
)
def test_unreadable_activities_are_400(body: bytes, error: type[Exception]) -> None:
    # Given a body that is not a usable activity, When parsed, Then the 400 error says why
    with pytest.raises(error):
        parse_activity(body)


@pytest.mark.parametrize(
    ("iri", "same"),
    [
        ("https://a.example/notes/1", True),
        ("https://a.example", True),
        ("https://A.example:443/notes/1", True),
        ("https://a.example#x", True),
        ("https://a.example.evil.example/notes/1", False),
        ("https://a.examplex/notes/1", False),
        ("http://a.example/notes/1", False),
        ("https://a.example:8443/notes/1", False),
        ("not a url", False),
    ],
)
def test_origins_agree_with_same_origin(iri: str, same: bool) -> None:
    # Given an actor on https://a.example, When an id is checked twice (cold, then cached)
    origins = Origins()
    actor = "https://a.example/users/u"
    # Then the answer matches the origin rule both times
    assert origins.same_origin(iri, actor) is same
    assert origins.same_origin(iri, actor) is same
    assert origins.of(actor) == ("a.example", "https://a.example")


def test_origin_cache_is_bounded() -> None:
    # Given a cache of two entries
    origins = Origins(limit=2)
    # When three actors are seen, Then it keeps working (emptied when full)
    for n in range(3):
        assert origins.of(f"https://h{n}.example/u") == (f"h{n}.example", f"https://h{n}.example")


def _nested(depth: int) -> bytes:
    inner = "[" * (depth - 2) + "]" * (depth - 2)
    return (
        '{"id": "https://r.example/a/1", "type": "Create", "actor": "https://r.example/u",'
        f' "object": {{"junk": {inner}}}}}'
    ).encode()


def test_json_nested_deeper_than_mastodon_reads_is_400() -> None:
    # Given a valid activity whose object nests 900 levels deep (it parses, but every
    # recursive reader after us would blow Python's stack, and Mastodon's parser stops at 100)
    # When parsed / Then it is refused as invalid JSON (400), naming the problem
    with pytest.raises(InvalidJson, match="nested deeper than 100"):
        parse_activity(_nested(900))


def test_json_nested_as_deep_as_mastodon_reads_is_accepted() -> None:
    # Given an activity nested 100 levels deep, When parsed, Then it is read
    assert parse_activity(_nested(100)).type == "Create"

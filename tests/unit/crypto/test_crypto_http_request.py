"""HttpRequestParts and parse_raw_request: what signature code reads from a request."""

from __future__ import annotations

import pytest
from multidict import CIMultiDict, CIMultiDictProxy

from fedsocial.crypto.http_request import Headers, HttpRequestParts, parse_raw_request


def test_headers_are_case_insensitive_and_combined() -> None:
    # Given an aiohttp-style multidict with a repeated field
    source = CIMultiDictProxy(
        CIMultiDict([("Accept", "a/b"), ("X-Thing", " one "), ("x-thing", "two")])
    )
    # When it becomes request parts
    parts = HttpRequestParts("post", "https://example.com/inbox", source, b"")
    # Then lookups ignore case and repeated fields are joined with ", "
    assert parts.method == "POST"
    assert parts.headers["ACCEPT"] == "a/b"
    assert parts.header("x-thing") == "one, two"
    assert "X-THING" in parts.headers
    assert parts.header("missing") is None
    assert list(parts.headers) == ["accept", "x-thing"]


def test_obs_fold_inside_a_value_becomes_one_space() -> None:
    assert Headers({"X": "a\r\n  b"})["x"] == "a b"


def test_url_properties() -> None:
    parts = HttpRequestParts("GET", "https://Example.COM:443/a%20b/c?x=1&y=2", {}, b"")
    assert parts.scheme == "https"
    assert parts.authority == "example.com"
    assert parts.path == "/a%20b/c"
    assert parts.query == "x=1&y=2"
    assert parts.target == "/a%20b/c?x=1&y=2"
    other = HttpRequestParts("GET", "http://example.com:8080", {}, b"")
    assert other.authority == "example.com:8080"
    assert other.path == "/"
    assert other.target == "/"


def test_with_headers_replaces_and_extends() -> None:
    parts = HttpRequestParts("GET", "https://a.example/", {"Date": "x", "Host": "a.example"}, b"")
    changed = parts.with_headers({"date": "y", "Accept": "z"})
    assert changed.header("Date") == "y"
    assert changed.header("accept") == "z"
    assert changed.header("host") == "a.example"
    assert parts.header("date") == "x"


def test_parse_raw_request_with_crlf_and_content_length() -> None:
    raw = (
        b"POST /users/alice/inbox?x=1 HTTP/1.1\r\n"
        b"Host: social.example\r\n"
        b"Content-Type: application/activity+json\r\n"
        b"Content-Length: 2\r\n"
        b"\r\n"
        b"{}\n"
    )
    parts = parse_raw_request(raw)
    assert parts.method == "POST"
    assert parts.url == "https://social.example/users/alice/inbox?x=1"
    assert parts.header("content-type") == "application/activity+json"
    assert parts.body == b"{}"


def test_parse_raw_request_with_lf_fold_and_scheme() -> None:
    raw = b"GET /a HTTP/1.1\nHost: h.example:8080\nX-Long: one\n  two\n\n"
    parts = parse_raw_request(raw, scheme="http")
    assert parts.url == "http://h.example:8080/a"
    assert parts.header("x-long") == "one two"
    assert parts.body == b""


def test_parse_raw_request_absolute_form() -> None:
    parts = parse_raw_request(b"GET https://x.example/p HTTP/1.1\r\n\r\n")
    assert parts.url == "https://x.example/p"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"GARBAGE\r\n\r\n",
        b"GET /a HTTP/1.1\r\n\r\n",  # no Host
        b"GET /a HTTP/1.1\r\nHost: h\r\nbad line\r\n\r\n",
        b"POST /a HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nshort",
        b"POST /a HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ],
)
def test_parse_raw_request_rejects_malformed(raw: bytes) -> None:
    with pytest.raises(ValueError):
        parse_raw_request(raw)

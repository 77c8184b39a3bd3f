"""Received objects as stored: sanitised HTML, visibility, author, mentions, timestamps."""

from __future__ import annotations

import pytest

from fedsocial.errors import ValidationError
from fedsocial.sanitize import HtmlSanitizer
from fedsocial.urls import Urls
from inbox.incoming_objects import attributed_actor, mentioned, object_row
from inbox.retry import BACKOFF_SECONDS, MAX_ATTEMPTS, next_attempt

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"
URLS = Urls("https://us.example")


def test_object_row_sanitises_and_derives_visibility() -> None:
    # Given a followers-only note with hostile HTML in content, contentMap and summary
    note = {
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "https://a.example/notes/1",
        "type": "Note",
        "attributedTo": [{"type": "Person", "id": "https://a.example/u"}],
        "to": ["https://a.example/u/followers"],
        "content": '<p onclick="x()">hi<script>bad()</script></p>',
        "contentMap": {"en": "<iframe src=x></iframe>hi"},
        "summary": "<h1>cw</h1>",
        "inReplyTo": {"id": "https://b.example/notes/9"},
        "published": "2024-05-01T10:00:00Z",
        "updated": "not a date",
    }
    # When it becomes a row
    row = object_row(note, sanitizer=HtmlSanitizer(), urls=URLS)
    # Then HTML is sanitised, visibility is followers, the rest is read safely
    assert "script" not in row.document["content"] and "onclick" not in row.document["content"]
    assert "iframe" not in row.document["contentMap"]["en"]
    assert row.document["summary"] == "<p><strong>cw</strong></p>"
    assert "@context" not in row.document
    assert row.visibility == "followers"
    assert row.attributed_to == "https://a.example/u"
    assert row.in_reply_to == "https://b.example/notes/9"
    assert row.published == 1714557600.0 and row.updated is None
    assert not row.local


def test_object_row_needs_id_and_type() -> None:
    # Given an object without an id, When converted, Then it is refused
    with pytest.raises(ValidationError):
        object_row({"type": "Note"}, sanitizer=HtmlSanitizer(), urls=URLS)


def test_attribution_skips_non_actors_and_mentions_are_unique() -> None:
    # Given an attributedTo list led by a non-actor, and repeated Mention tags
    obj = {
        "attributedTo": [{"type": "Image", "id": "https://a.example/i"}, "https://a.example/u"],
        "tag": [
            {"type": "Mention", "href": "https://us.example/users/alice"},
            {"type": "Hashtag", "href": "https://a.example/tags/x"},
            {"type": "Mention", "href": "https://us.example/users/alice"},
        ],
    }
    # Then the author is the actor, and alice is mentioned once
    assert attributed_actor(obj) == "https://a.example/u"
    assert mentioned(obj) == ["https://us.example/users/alice"]


def test_retry_backs_off_then_gives_up() -> None:
    # Given the retry schedule, When attempts fail, Then each waits longer, then it stops
    delays = [next_attempt(n, now=100.0) for n in range(MAX_ATTEMPTS)]
    assert delays[:-1] == [100.0 + d for d in BACKOFF_SECONDS]
    assert delays[-1] is None
    assert list(BACKOFF_SECONDS) == sorted(BACKOFF_SECONDS)

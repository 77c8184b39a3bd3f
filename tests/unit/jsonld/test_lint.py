"""lint_document(): clean Mastodon shapes pass; real problems are named with a path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from fedsocial.jsonld.lint import Finding, LintReport, lint_document

FIXTURES = Path(__file__).parents[2] / "fixtures" / "jsonld"
AS = "https://www.w3.org/ns/activitystreams"
PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((FIXTURES / name).read_text("utf-8")))


def _note(**changes: Any) -> dict[str, Any]:
    note: dict[str, Any] = {
        "@context": AS,
        "id": "https://a.example/notes/1",
        "type": "Note",
        "attributedTo": "https://a.example/users/alice",
        "published": "2024-05-01T12:00:00Z",
        "to": [PUBLIC],
        "cc": ["https://a.example/users/alice/followers"],
        "content": "<p>hi</p>",
    }
    note.update(changes)
    return {k: v for k, v in note.items() if v is not None}


@pytest.mark.parametrize(
    "name",
    [
        "payloads/mastodon_create_note.json",
        "payloads/mastodon_person.json",
        "payloads/gotosocial_create_note.json",
        "payloads/misskey_create_note.json",
        "smithereen/mastodon_actor.json",
    ],
)
def test_clean_documents_lint_clean(name: str) -> None:
    report = lint_document(_load(name))
    assert report.findings == ()
    assert report.exit_code == 0


def test_minimal_note_is_clean() -> None:
    assert lint_document(_note()).exit_code == 0


def test_undefined_term_is_a_warning() -> None:
    report = lint_document(_note(colour="blue"))
    assert report.codes() == ["undefined_term"]
    assert report.findings[0].path == "/colour"
    assert report.exit_code == 1


def test_undefined_term_in_a_nested_object_has_its_path() -> None:
    create = {
        "@context": AS,
        "id": "https://a.example/notes/1/activity",
        "type": "Create",
        "actor": "https://a.example/users/alice",
        "to": [PUBLIC],
        "object": {k: v for k, v in _note(mood="happy").items() if k != "@context"},
    }
    report = lint_document(create)
    assert [(f.code, f.path) for f in report.findings] == [("undefined_term", "/object/mood")]


def test_non_iri_string_in_an_iri_property_is_an_error() -> None:
    report = lint_document(_note(inReplyTo="not a url"))
    assert "relative_iri" in report.codes()
    finding = next(f for f in report.findings if f.code == "relative_iri")
    assert finding.severity == "error"
    assert "not a url" in finding.message
    assert finding.path == "/inReplyTo"


def test_literal_where_a_node_is_expected_is_an_error() -> None:
    create = {
        "@context": AS,
        "id": "https://a.example/activities/1",
        "type": "Create",
        "actor": {"@value": "https://a.example/users/alice"},
        "to": [PUBLIC],
        "object": "https://a.example/notes/1",
    }
    report = lint_document(create)
    assert "literal_for_object" in report.codes()
    assert report.exit_code == 2


def test_property_outside_its_domain_is_a_warning() -> None:
    # Pleroma puts `actor` on its Note objects; AS2 gives actor the domain Activity
    report = lint_document(_load("payloads/pleroma_create_note.json"))
    assert report.codes() == ["domain"]
    assert report.exit_code == 1


@pytest.mark.parametrize(
    ("missing", "code"),
    [("id", "missing_id"), ("type", "missing_type"), ("attributedTo", "missing_attributed_to")],
)
def test_missing_essentials_are_errors(missing: str, code: str) -> None:
    report = lint_document(_note(**{missing: None}))
    assert code in report.codes()
    assert report.exit_code == 2


def test_missing_published_and_addressing_are_warnings() -> None:
    report = lint_document(_note(published=None, to=None, cc=None))
    assert report.codes() == ["missing_published", "no_addressing"]
    assert report.exit_code == 1


def test_activity_without_actor_and_actor_without_inbox() -> None:
    follow = {
        "@context": AS,
        "id": "https://a.example/follows/1",
        "type": "Follow",
        "object": "https://b.example/users/bob",
    }
    assert lint_document(follow).codes() == ["missing_actor"]
    person = _load("payloads/mastodon_person.json")
    del person["inbox"], person["publicKey"]
    assert lint_document(person).codes() == ["missing_inbox", "missing_public_key"]


def test_unknown_context_is_an_error_and_nothing_is_fetched() -> None:
    report = lint_document(_note(**{"@context": [AS, "https://unknown.example/ns"]}))
    assert report.codes() == ["context_not_allowed"]
    assert "https://unknown.example/ns" in report.findings[0].message
    assert report.exit_code == 2


def test_invalid_json_ld_and_non_objects_are_errors() -> None:
    assert lint_document(_note(id={"nested": True})).codes() == ["invalid_jsonld"]
    assert lint_document(["not", "an", "object"]).codes() == ["not_an_object"]


def test_exit_codes() -> None:
    warning = Finding("warning", "w", "a warning")
    error = Finding("error", "e", "an error")
    assert LintReport().exit_code == 0
    assert LintReport((warning,)).exit_code == 1
    assert LintReport((warning, error)).exit_code == 2
    assert LintReport((warning, error)).errors == (error,)
    assert LintReport((warning, error)).warnings == (warning,)


def test_missing_context_is_a_warning_and_as_is_assumed() -> None:
    note = {k: v for k, v in _note().items() if k != "@context"}
    report = lint_document(note)
    assert report.codes() == ["missing_as_context"]
    assert report.exit_code == 1

"""Inbox layer: the checks of an incoming POST that need no I/O, as pure functions.

Each raises the error from our tree that the answer needs: 415 for a content type we do not
read, 400 for a body that is not a JSON object (or nests deeper than Mastodon reads) or lacks
`id`, `type` or `actor`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fedsocial.activity_json import first_str, get_id, holds_lone_surrogate
from fedsocial.errors import InvalidJson, UnsupportedMediaType, ValidationError

ACCEPTED_TYPES = frozenset({"application/activity+json", "application/ld+json", "application/json"})
# Deepest nesting we read: what Mastodon's JSON parser allows (Ruby's max_nesting). Deeper
# documents would overflow every recursive reader after us (normalisation, sanitising, pyld).
MAX_DEPTH = 100


def _too_deep(document: Any, limit: int) -> bool:
    """True when `document` nests arrays/objects more than `limit` levels (iterative walk)."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


@dataclass(frozen=True, slots=True)
class Envelope:
    """The fields of an activity the receive path needs, read once."""

    activity_id: str
    type: str
    actor: str
    document: dict[str, Any]
    raw: str  # the body as received, stored as it is


def check_content_type(mimetype: str) -> None:
    """Accept ActivityStreams JSON in its three spellings (any parameters); else 415."""
    if mimetype.lower() not in ACCEPTED_TYPES:
        raise UnsupportedMediaType(
            f"content type {mimetype or '(none)'} is not one of {', '.join(sorted(ACCEPTED_TYPES))}"
        )


def parse_activity(body: bytes) -> Envelope:
    """Parse the body and read id, type and actor; raise InvalidJson / ValidationError (400)."""
    try:
        raw = body.decode("utf-8")  # RFC 8259: JSON between systems is UTF-8
        document = json.loads(raw)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidJson(f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        # Valid JSON can nest deeper than the parser recurses: the peer's fault, not ours.
        raise InvalidJson("the body is JSON nested too deeply") from exc
    if not isinstance(document, dict):
        raise InvalidJson("the body must be a JSON object")
    if holds_lone_surrogate(document, raw=raw):
        raise InvalidJson("the body escapes a lone UTF-16 surrogate (not text)")
    # Only a body with that many brackets can nest that deep: the count spares the walk.
    if raw.count("[") + raw.count("{") > MAX_DEPTH and _too_deep(document, MAX_DEPTH):
        raise InvalidJson(f"the body is JSON nested deeper than {MAX_DEPTH} levels")
    activity_id = document.get("id")
    activity_type = first_str(document.get("type"))
    actor = get_id(document.get("actor"))
    if not isinstance(activity_id, str) or not activity_id:
        raise ValidationError("the activity has no id")
    if activity_type is None:
        raise ValidationError("the activity has no type")
    if actor is None:
        raise ValidationError("the activity has no actor")
    return Envelope(
        activity_id=activity_id, type=activity_type, actor=actor, document=document, raw=raw
    )

"""Core layer: the structural rules Mastodon applies to what it receives, as lint findings.

They read the canonical compact shape (after :func:`~fedsocial.jsonld.normalise.normalise`):
every document needs ``id`` and ``type``; activities need ``actor``; posts (Note, Article, …)
need ``attributedTo``, and should have ``published`` and addressing; actors need ``inbox``,
``publicKey`` and ``preferredUsername``. Embedded objects are checked with the same rules.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fedsocial.jsonld.lint_report import Finding

ACTIVITY_TYPES = frozenset(
    {
        "Accept", "Add", "Announce", "Arrive", "Block", "Create", "Delete", "Dislike", "Flag",
        "Follow", "Ignore", "Invite", "Join", "Leave", "Like", "Listen", "Move", "Offer",
        "Question", "Read", "Reject", "Remove", "TentativeAccept", "TentativeReject", "Travel",
        "Undo", "Update", "View", "EmojiReact", "QuoteRequest",
    }
)  # fmt: skip
POST_TYPES = frozenset({"Note", "Article", "Page", "Question", "Image", "Video", "Audio", "Event"})
ACTOR_TYPES = frozenset({"Person", "Service", "Application", "Group", "Organization"})
_ADDRESSED_ACTIVITIES = frozenset({"Create", "Announce"})
_ADDRESSING = ("to", "cc", "bto", "bcc", "audience")


def mastodon_findings(node: dict[str, Any], path: str = "") -> list[Finding]:
    """Check one node (and the object it embeds) against what Mastodon needs to accept it."""
    findings: list[Finding] = []
    types = _types(node)
    node_id = node.get("id")
    if node_id is None:
        findings.append(Finding("error", "missing_id", "the object has no id", path + "/id"))
    elif not _is_absolute_http(node_id):
        findings.append(
            Finding(
                "error", "id_not_absolute", f"id {node_id!r} is not an http(s) URL", path + "/id"
            )
        )
    if not types:
        findings.append(Finding("error", "missing_type", "the object has no type", path + "/type"))
    if types & ACTIVITY_TYPES and "Question" not in types:
        findings.extend(_activity_findings(node, types, path))
    if types & POST_TYPES:
        findings.extend(_post_findings(node, path))
    if types & ACTOR_TYPES:
        findings.extend(_actor_findings(node, path))
    embedded = node.get("object")
    if isinstance(embedded, dict) and types & ACTIVITY_TYPES:
        findings.extend(mastodon_findings(embedded, path + "/object"))
    return findings


def _activity_findings(node: dict[str, Any], types: frozenset[str], path: str) -> list[Finding]:
    findings: list[Finding] = []
    if not node.get("actor"):
        findings.append(
            Finding("error", "missing_actor", "an activity needs an actor", path + "/actor")
        )
    if types & _ADDRESSED_ACTIVITIES and not _addressed(node):
        findings.append(
            Finding(
                "warning",
                "no_addressing",
                "the activity has no to/cc: Mastodon treats it as addressed to nobody",
                path,
            )
        )
    return findings


def _post_findings(node: dict[str, Any], path: str) -> list[Finding]:
    findings: list[Finding] = []
    if not node.get("attributedTo"):
        findings.append(
            Finding(
                "error",
                "missing_attributed_to",
                "a post needs attributedTo (its author)",
                path + "/attributedTo",
            )
        )
    if not node.get("published"):
        findings.append(
            Finding(
                "warning",
                "missing_published",
                "a post should say when it was published",
                path + "/published",
            )
        )
    if not _addressed(node):
        findings.append(
            Finding(
                "warning",
                "no_addressing",
                "the post has no to/cc: Mastodon shows it to nobody but mentions",
                path,
            )
        )
    return findings


def _actor_findings(node: dict[str, Any], path: str) -> list[Finding]:
    findings: list[Finding] = []
    for key, why in (
        ("inbox", "an actor needs an inbox to receive activities"),
        ("publicKey", "an actor needs a publicKey so its signatures can be checked"),
        ("preferredUsername", "Mastodon needs preferredUsername to create the account"),
    ):
        if not node.get(key):
            findings.append(Finding("error", f"missing_{_snake(key)}", why, f"{path}/{key}"))
    return findings


def _types(node: dict[str, Any]) -> frozenset[str]:
    value = node.get("type")
    items = value if isinstance(value, list) else [value]
    return frozenset(item for item in items if isinstance(item, str))


def _addressed(node: dict[str, Any]) -> bool:
    return any(node.get(key) for key in _ADDRESSING)


def _is_absolute_http(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:  # "http://[x": an IPv6 host never closed
        return False
    return parts.scheme in {"http", "https"} and bool(parts.netloc)


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)

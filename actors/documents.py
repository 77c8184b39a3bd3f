"""Actors layer: the JSON-LD documents of local actors, as Mastodon reads them."""

from __future__ import annotations

import re
from html import escape
from typing import Any
from urllib.parse import urlsplit

from actors.local import LocalActor
from fedsocial.clock import iso
from fedsocial.urls import Urls

ACTOR_CONTEXT: list[Any] = [
    "https://www.w3.org/ns/activitystreams",
    "https://w3id.org/security/v1",
    "https://w3id.org/security/data-integrity/v1",
    "https://w3id.org/security/multikey/v1",
    {
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "toot": "http://joinmastodon.org/ns#",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "schema": "http://schema.org#",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        # Not defined at the top level of the security contexts; FEP-521a keys hang off it.
        "assertionMethod": {"@id": "https://w3id.org/security#assertionMethod", "@type": "@id"},
    },
]


def instance_username(base_url: str) -> str:
    """The instance actor's preferredUsername and WebFinger user: the host, as Mastodon names
    its instance actor (``acct:social.example@social.example``). A user may be named "actor", so
    that cannot be it: Mastodon checks that WebFinger for preferredUsername@domain points back."""
    return urlsplit(base_url).hostname or ""


def summary_html(text: str) -> str:
    """The HTML `summary` of a plain-text bio, as Mastodon renders one: escaped, blank lines
    split `<p>` paragraphs, single newlines become `<br />`; empty text gives ``""``."""
    text = text.strip().replace("\r\n", "\n").replace("\r", "\n")
    if not text:
        return ""
    paragraphs = re.split(r"\n\n+", escape(text, quote=False))
    lines = ("<br />".join(line for line in p.strip().split("\n")) for p in paragraphs)
    return "".join(f"<p>{line}</p>" for line in lines)


def actor_document(actor: LocalActor, urls: Urls) -> dict[str, Any]:
    """The actor document served at the actor's id (also its key document, by fragment)."""
    row = actor.row
    actor_id = urls.actor(row.name)
    username = instance_username(urls.base) if actor.is_instance else row.name
    doc: dict[str, Any] = {
        "@context": ACTOR_CONTEXT,
        "id": actor_id,
        "type": row.type,
        "preferredUsername": username,
        "name": row.display_name or username,
        # The bio is stored as the user typed it, plain text; AS2's summary is HTML.
        "summary": summary_html(row.summary),
        "url": urls.about if actor.is_instance else urls.profile(row.name),
        "published": iso(row.created_at),
        "inbox": urls.inbox(row.name),
        "outbox": urls.outbox(row.name),
        "followers": urls.followers(row.name),
        "following": urls.following(row.name),
        "featured": urls.featured(row.name),
        "endpoints": {"sharedInbox": urls.shared_inbox},
        "manuallyApprovesFollowers": row.manually_approves,
        "discoverable": row.discoverable,
        "indexable": row.discoverable,
        "publicKey": {
            "id": urls.key_id(row.name),
            "owner": actor_id,
            "publicKeyPem": row.rsa_public_pem,
        },
        "assertionMethod": [
            {
                "id": urls.ed25519_key_id(row.name),
                "type": "Multikey",
                "controller": actor_id,
                "publicKeyMultibase": actor.ed25519_multibase,
            }
        ],
    }
    if row.also_known_as:
        doc["alsoKnownAs"] = list(row.also_known_as)
    if row.moved_to:
        doc["movedTo"] = row.moved_to
    return doc

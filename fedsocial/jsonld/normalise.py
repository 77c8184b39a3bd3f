"""Core layer: bring incoming JSON-LD into the one shape handlers read.

Handlers read compact JSON keyed by :data:`CANONICAL_CONTEXT` (ActivityStreams, security/v1 and
the Mastodon, GoToSocial, Misskey and LitePub extension terms). Most senders already write that
shape, so :func:`normalise` first asks a cheap, exact question (no pyld, microseconds):

**Fast path rule.** A document is returned unchanged when

1. its ``@context`` is a string or a list of strings and objects, every string a context we ship,
   ActivityStreams among them, and every object a flat list of term definitions (a term mapped
   to an IRI, or to ``{"@id", "@type", "@container"}``; ``@vocab``, ``@version`` and
   ``@language`` allowed) — see :mod:`fedsocial.jsonld.terms`;
2. no key below the top level is a keyword (``@id``, ``@graph``, ``@value``, a nested
   ``@context`` …) and no key contains ``:`` (no ``as:content``, no full IRIs as keys);
3. every key the document uses, and every ``type`` value, means the same in the sender's context
   and in ours: same IRI, same type coercion, same container (undefined in both is the same);
4. every string value of an ``@id``-typed key that looks like a compact IRI (``x:y``) expands
   the same way in both contexts.

A document whose context does not reference ActivityStreams is read as if it did (AS2 Core
section 2.1 says the AS2 context still applies). Sender term definitions the document does not
use are not compared: they cannot change what it
says. Otherwise pyld expands the document with the sender's context and compacts it against
ours (:func:`compact_to_canonical`): prefixed terms, aliases, custom prefixes and a single-node
``@graph`` all come out in our shape, and a context we do not ship is refused
(ContextNotAllowed). Two deliberate departures from plain compaction: a sender's ``@language``
is dropped first (handlers read ``contentMap`` for languages, not tags on every string), and
compact IRIs that compaction makes of ``@id``-typed values (``as:Public``) are written out in
full again.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Mapping
from typing import Any

from fedsocial.crypto.integrity import PROOF_CONTEXT_TERMS
from fedsocial.errors import JsonLdError
from fedsocial.jsonld.loader import AS_CONTEXT, SECURITY_V1, canonical_context_url
from fedsocial.jsonld.processing import compact, with_null_base
from fedsocial.jsonld.terms import ActiveTerms, TermDef, resolve_context

_ID_TYPES = frozenset({"@id", "@vocab"})

CANONICAL_CONTEXT: list[Any] = [
    AS_CONTEXT,
    SECURITY_V1,
    {
        "toot": "http://joinmastodon.org/ns#",
        "schema": "http://schema.org#",
        "ostatus": "http://ostatus.org#",
        "litepub": "http://litepub.social/ns#",
        "misskey": "https://misskey-hub.net/ns#",
        "fedibird": "http://fedibird.com/ns#",
        "gts": "https://gotosocial.org/ns#",
        "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
        "sensitive": "as:sensitive",
        "Hashtag": "as:Hashtag",
        "movedTo": {"@id": "as:movedTo", "@type": "@id"},
        "alsoKnownAs": {"@id": "as:alsoKnownAs", "@type": "@id"},
        "quoteUrl": "as:quoteUrl",
        "Emoji": "toot:Emoji",
        "featured": {"@id": "toot:featured", "@type": "@id"},
        "featuredTags": {"@id": "toot:featuredTags", "@type": "@id"},
        "discoverable": "toot:discoverable",
        "indexable": "toot:indexable",
        "memorial": "toot:memorial",
        "suspended": "toot:suspended",
        "attributionDomains": {"@id": "toot:attributionDomains", "@type": "@id"},
        "blurhash": "toot:blurhash",
        "focalPoint": {"@container": "@list", "@id": "toot:focalPoint"},
        "votersCount": "toot:votersCount",
        "PropertyValue": "schema:PropertyValue",
        "value": "schema:value",
        "conversation": "ostatus:conversation",
        "atomUri": "ostatus:atomUri",
        "inReplyToAtomUri": "ostatus:inReplyToAtomUri",
        "Multikey": "https://w3id.org/security#Multikey",
        "assertionMethod": {"@id": "https://w3id.org/security#assertionMethod", "@type": "@id"},
        "controller": {"@id": "https://w3id.org/security#controller", "@type": "@id"},
        "publicKeyMultibase": {
            "@id": "https://w3id.org/security#publicKeyMultibase",
            "@type": "https://w3id.org/security#multibase",
        },
        "EmojiReact": "litepub:EmojiReact",
        "ChatMessage": "litepub:ChatMessage",
        "directMessage": "litepub:directMessage",
        "quoteUri": "fedibird:quoteUri",
        "_misskey_content": "misskey:_misskey_content",
        "_misskey_quote": "misskey:_misskey_quote",
        "_misskey_reaction": "misskey:_misskey_reaction",
        "_misskey_votes": "misskey:_misskey_votes",
        "_misskey_summary": "misskey:_misskey_summary",
        "isCat": "misskey:isCat",
        "quote": {"@id": "https://w3id.org/fep/044f#quote", "@type": "@id"},
        "quoteAuthorization": {
            "@id": "https://w3id.org/fep/044f#quoteAuthorization",
            "@type": "@id",
        },
        "QuoteRequest": "https://w3id.org/fep/044f#QuoteRequest",
        "QuoteAuthorization": "https://w3id.org/fep/044f#QuoteAuthorization",
        "interactionPolicy": {"@id": "gts:interactionPolicy", "@type": "@id"},
        "canLike": {"@id": "gts:canLike", "@type": "@id"},
        "canReply": {"@id": "gts:canReply", "@type": "@id"},
        "canAnnounce": {"@id": "gts:canAnnounce", "@type": "@id"},
        "canQuote": {"@id": "gts:canQuote", "@type": "@id"},
        "always": {"@id": "gts:always", "@type": "@id"},
        "approvalRequired": {"@id": "gts:approvalRequired", "@type": "@id"},
        "automaticApproval": {"@id": "gts:automaticApproval", "@type": "@id"},
        "manualApproval": {"@id": "gts:manualApproval", "@type": "@id"},
        "approvedBy": {"@id": "gts:approvedBy", "@type": "@id"},
        "webfinger": {
            "@id": "https://purl.archive.org/socialweb/webfinger#webfinger",
            "@type": "http://www.w3.org/2001/XMLSchema#string",
        },
        **PROOF_CONTEXT_TERMS,  # FEP-8b32 proofs, flat (what our own activities carry)
    },
]


@functools.cache
def canonical_terms() -> ActiveTerms:
    """The resolved terms of :data:`CANONICAL_CONTEXT` (computed once, immutable)."""
    resolved = resolve_context(CANONICAL_CONTEXT)
    if resolved is None:  # pragma: no cover - guarded by tests
        raise RuntimeError("CANONICAL_CONTEXT must be a flat context")
    return resolved


def normalise(document: dict[str, Any]) -> dict[str, Any]:
    """Return the document in the canonical compact shape handlers read.

    Documents already in that shape (see the module docstring) come back unchanged, the same
    object, without pyld. Others are expanded and compacted against CANONICAL_CONTEXT. Raises
    ContextNotAllowed for a context we do not ship and JsonLdError for invalid JSON-LD or a
    ``@graph`` of more than one node.
    """
    if not isinstance(document, dict):
        raise JsonLdError("a JSON-LD document to normalise must be a JSON object")
    if is_canonical_shape(document):
        return document
    return compact_to_canonical(document)


def is_canonical_shape(document: dict[str, Any]) -> bool:
    """True when the fast-path rule (module docstring) holds: the document reads as ours."""
    sender = resolve_context(assume_as_context(document).get("@context"))
    if sender is None:
        return False
    return _node_matches(document, sender, canonical_terms(), top=True)


def compact_to_canonical(document: dict[str, Any]) -> dict[str, Any]:
    """Expand with the sender's context and compact against CANONICAL_CONTEXT (pyld path).

    A single-node ``@graph`` becomes that node. Raises ContextNotAllowed / JsonLdError.
    """
    prepared = with_null_base(_without_language(assume_as_context(document)))
    compacted = compact(prepared, CANONICAL_CONTEXT)
    if "@graph" in compacted:
        nodes = compacted["@graph"]
        if not isinstance(nodes, list) or len(nodes) != 1 or not isinstance(nodes[0], dict):
            raise JsonLdError("a document with several top-level nodes is not one object")
        compacted = {"@context": compacted.get("@context", CANONICAL_CONTEXT), **nodes[0]}
    result = _expand_id_values(compacted, canonical_terms())
    assert isinstance(result, dict)
    return result


def _node_matches(
    node: dict[str, Any], sender: ActiveTerms, ours: ActiveTerms, *, top: bool = False
) -> bool:
    sender_terms, our_terms = sender.terms, ours.terms
    for key, value in node.items():
        if key == "@context" and top:
            continue
        if key[:1] == "@" or ":" in key:
            return False
        definition = our_terms.get(key)
        if sender_terms.get(key) != definition:
            return False
        if definition is not None:
            if definition.iri == "@id":
                if not isinstance(value, str):
                    return False
                continue
            if definition.iri == "@type":
                if not _types_match(value, sender, ours):
                    return False
                continue
            if definition.type in _ID_TYPES and not _id_values_match(value, sender, ours):
                return False
            if definition.container == "@language":
                if not isinstance(value, dict | str):
                    return False
                continue
        if isinstance(value, dict | list) and not _children_match(value, sender, ours):
            return False
    return True


def _children_match(value: Any, sender: ActiveTerms, ours: ActiveTerms) -> bool:
    if isinstance(value, list):
        return all(_children_match(item, sender, ours) for item in value)
    if isinstance(value, dict):
        return _node_matches(value, sender, ours)
    return True


def _types_match(value: Any, sender: ActiveTerms, ours: ActiveTerms) -> bool:
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, str) or ":" in item:
            return False
        if sender.terms.get(item) != ours.terms.get(item):
            return False
        if item not in ours.terms and sender.vocab != ours.vocab:
            return False
    return True


def _id_values_match(value: Any, sender: ActiveTerms, ours: ActiveTerms) -> bool:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and ":" in item:
            prefix, _, rest = item.partition(":")
            if rest[:2] != "//" and sender.terms.get(prefix) != ours.terms.get(prefix):
                return False
    return True


def assume_as_context(document: dict[str, Any]) -> dict[str, Any]:
    """Return the document itself if its context references ActivityStreams (or names a context
    we cannot read), else a copy with the AS2 context put first (AS2 Core 2.1 says it applies).
    """
    context = document.get("@context")
    items = context if isinstance(context, list) else [] if context is None else [context]
    resolved = resolve_context(items)
    if resolved is not None and AS_CONTEXT in resolved.urls:
        return document
    if any(isinstance(item, str) and canonical_context_url(item) == AS_CONTEXT for item in items):
        return document
    return {**document, "@context": [AS_CONTEXT, *items]}


def _without_language(document: dict[str, Any]) -> dict[str, Any]:
    context = document.get("@context")
    items = context if isinstance(context, list) else [context]
    if not any(isinstance(item, dict) and "@language" in item for item in items):
        return document
    cleaned = [
        {k: v for k, v in item.items() if k != "@language"} if isinstance(item, dict) else item
        for item in items
    ]
    copied = copy.copy(document)
    copied["@context"] = cleaned if isinstance(context, list) else cleaned[0]
    return copied


def _expand_id_values(value: Any, terms: ActiveTerms, key: str | None = None) -> Any:
    """Write compact IRIs in ``id`` and ``@id``-typed values out in full (``as:Public``)."""
    if isinstance(value, list):
        return [_expand_id_values(item, terms, key) for item in value]
    if isinstance(value, dict):
        return {
            k: v if k == "@context" else _expand_id_values(v, terms, k) for k, v in value.items()
        }
    if isinstance(value, str) and key is not None and _is_id_key(key, terms.terms):
        prefix, sep, rest = value.partition(":")
        if sep and not rest.startswith("//") and prefix in terms.terms:
            return terms.terms[prefix].iri + rest
    return value


def _is_id_key(key: str, terms: Mapping[str, TermDef]) -> bool:
    definition = terms.get(key)
    if definition is None:
        return False
    return definition.iri == "@id" or definition.type in _ID_TYPES

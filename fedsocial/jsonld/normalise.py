"""Core layer: bring incoming JSON-LD into the one shape handlers read.

Handlers read compact JSON keyed by :data:`CANONICAL_CONTEXT` (ActivityStreams, security/v1 and
the Mastodon, GoToSocial, Misskey and LitePub extension terms). Most senders already write that
shape, so :func:`normalise` first asks a cheap, exact question (no pyld, microseconds):

**Fast path rule.** A document is returned unchanged when

1. its ``@context`` is a string or a list of strings and objects, every string a context we ship,
   ActivityStreams among them, and every object a flat list of term definitions (a term mapped
   to an IRI, or to ``{"@id", "@type", "@container"}``; ``@vocab``, ``@version`` and
   ``@language`` allowed) — see :mod:`fedsocial.jsonld.terms` — and it holds at most
   MAX_CONTEXT_VALUES JSON values;
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
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fedsocial.crypto.integrity import PROOF_CONTEXT_TERMS
from fedsocial.errors import JsonLdError
from fedsocial.jsonld.frozen import TooLarge, freeze, thaw
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
    context = document.get("@context")
    try:
        frozen = freeze(context, limit=MAX_CONTEXT_VALUES)
    except TooLarge:
        return False  # no sender needs such a context: pyld reads it, within its bounds
    except TypeError:  # not JSON-shaped: work it out without the memo
        reading = _reading(context)
    else:
        reading = _memo_reading(frozen)
    if reading is None:
        return False
    return _node_matches(document, reading, top=True)


@dataclass(frozen=True, slots=True)
class _Reading:
    """How a sender's (flat) context compares with ours, worked out once per context.

    ``differs`` holds every term the two define differently (or only one defines): a key or type
    outside it means the same to both. It replaces two look-ups and a dataclass comparison per
    key, which made the fast path cost ~40 µs per activity.
    """

    sender: ActiveTerms
    ours: ActiveTerms
    differs: frozenset[str]
    same_vocab: bool
    checks: Mapping[str, int]  # what the walk does with each defined key (see `_checks`)


def _reading(context: Any) -> _Reading | None:
    """The comparison of a document's context with ours; None when it is not flat."""
    items = context if isinstance(context, list) else [] if context is None else [context]
    if not _references_as(items):
        # AS2 Core 2.1: the AS2 context applies anyway (as in `assume_as_context`).
        context = [AS_CONTEXT, *items]
    sender = resolve_context(context)
    if sender is None:
        return None
    ours = canonical_terms()
    names = sender.terms.keys() | ours.terms.keys()
    differs = frozenset(n for n in names if sender.terms.get(n) != ours.terms.get(n))
    checks = MappingProxyType(_checks(differs, ours.terms))
    return _Reading(sender, ours, differs, sender.vocab == ours.vocab, checks)


# The largest @context the fast path reads (and remembers), in JSON values: senders' inline
# contexts hold a few dozen. Each remembered context costs about 200 bytes per value, so
# without a bound a peer sending 1 MiB contexts, each a little different, made the memo hold
# about 10 MB apiece (5 GB when full), and each took 0.6 s to compare.
MAX_CONTEXT_VALUES = 500


@functools.lru_cache(maxsize=256)
def _memo_reading(frozen: Any) -> _Reading | None:
    # Senders use a handful of contexts, so the comparison is computed once per context; the
    # key is an exact, hashable image of the JSON value, thawed back for the computation.
    return _reading(thaw(frozen))


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


# What the walk does with a key, per context (`_Reading.checks`); a key absent from the map is
# defined by neither side: refused if it is a keyword or an IRI, else its value is walked.
_REFUSE, _WALK, _NODE_ID, _NODE_TYPE, _IDS_WALK, _LANGUAGE, _IDS_LANGUAGE = range(7)
_CONTAINERS = (dict, list)
_LANGUAGE_VALUES = (dict, str)


def _checks(differs: frozenset[str], ours: Mapping[str, TermDef]) -> dict[str, int]:
    """The fast-path rule for each key either side defines, decided once per context."""
    checks = dict.fromkeys(differs, _REFUSE)
    for key, definition in ours.items():
        if key in differs or key[:1] == "@" or ":" in key:
            checks[key] = _REFUSE
        elif definition.iri == "@id":
            checks[key] = _NODE_ID
        elif definition.iri == "@type":
            checks[key] = _NODE_TYPE
        else:
            ids = definition.type in _ID_TYPES
            if definition.container == "@language":
                checks[key] = _IDS_LANGUAGE if ids else _LANGUAGE
            else:
                checks[key] = _IDS_WALK if ids else _WALK
    return checks


def _node_matches(node: dict[str, Any], reading: _Reading, *, top: bool = False) -> bool:
    checks = reading.checks
    for key, value in node.items():
        check = checks.get(key)
        if check is None:
            if key == "@context" and top:
                continue
            if key[:1] == "@" or ":" in key:
                return False
            check = _WALK
        if check == _WALK:
            if isinstance(value, _CONTAINERS) and not _children_match(value, reading):
                return False
        elif check == _REFUSE:
            return False
        elif check == _NODE_ID:
            if not isinstance(value, str):
                return False
        elif check == _NODE_TYPE:
            if not _types_match(value, reading):
                return False
        elif check == _IDS_WALK:
            if not _id_values_match(value, reading):
                return False
            if isinstance(value, _CONTAINERS) and not _children_match(value, reading):
                return False
        else:  # a language map, possibly of @id-typed values
            if check == _IDS_LANGUAGE and not _id_values_match(value, reading):
                return False
            if not isinstance(value, _LANGUAGE_VALUES):
                return False
    return True


def _children_match(value: Any, reading: _Reading) -> bool:
    if isinstance(value, list):
        for item in value:
            if isinstance(item, _CONTAINERS) and not _children_match(item, reading):
                return False
        return True
    if isinstance(value, dict):
        return _node_matches(value, reading)
    return True


def _types_match(value: Any, reading: _Reading) -> bool:
    for item in value if isinstance(value, list) else [value]:
        if not isinstance(item, str) or ":" in item or item in reading.differs:
            return False
        if item not in reading.ours.terms and not reading.same_vocab:
            return False
    return True


def _id_values_match(value: Any, reading: _Reading) -> bool:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str) and ":" in item:
            prefix, _, rest = item.partition(":")
            if rest[:2] != "//" and prefix in reading.differs:
                return False
    return True


def _references_as(items: list[Any]) -> bool:
    """True when a context (as a list) brings in ActivityStreams, or names a context we cannot
    read (which then fails on its own)."""
    resolved = resolve_context(items)
    if resolved is not None and AS_CONTEXT in resolved.urls:
        return True
    return any(
        isinstance(item, str) and canonical_context_url(item) == AS_CONTEXT for item in items
    )


def assume_as_context(document: dict[str, Any]) -> dict[str, Any]:
    """Return the document itself if its context references ActivityStreams (or names a context
    we cannot read), else a copy with the AS2 context put first (AS2 Core 2.1 says it applies).
    """
    context = document.get("@context")
    items = context if isinstance(context, list) else [] if context is None else [context]
    if _references_as(items):
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

"""Core layer: a small, exact reader of *flat* JSON-LD contexts (no pyld, microseconds).

It resolves the term definitions of contexts made only of shipped context URLs and plain
term-definition objects (a term mapped to an IRI string, or to ``{"@id", "@type",
"@container"}``) into :class:`TermDef` values: absolute IRI, type coercion and container.
Anything richer (scoped or protected contexts, ``@base``, ``@import``, ``@reverse``, null
definitions, unknown URLs) makes :func:`resolve_context` answer None, meaning "not flat: ask
pyld". The normaliser uses it to decide, cheaply and exactly, whether a document's terms mean
what our canonical context says they mean.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from fedsocial.jsonld.loader import canonical_context_url, load_context

_ALLOWED_DEFINITION_KEYS = frozenset({"@id", "@type", "@container"})
_IGNORED_KEYWORDS = frozenset({"@language", "@version"})
_MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class TermDef:
    """What one term means: its absolute IRI (or keyword), type coercion and container."""

    iri: str
    type: str | None = None
    container: str | tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ActiveTerms:
    """The terms a flat context defines, its ``@vocab``, and the shipped contexts it includes."""

    terms: Mapping[str, TermDef]
    vocab: str | None
    urls: frozenset[str]


def resolve_context(context: Any) -> ActiveTerms | None:
    """Resolve a flat context (string, object or list of them) or return None if it is not flat.

    Strings must name shipped contexts; unknown URLs also give None (pyld then raises
    ContextNotAllowed with the URL).
    """
    terms: dict[str, TermDef] = {}
    state: dict[str, Any] = {"vocab": None, "urls": set()}
    if not _apply(context, terms, state, 0):
        return None
    return ActiveTerms(
        terms=MappingProxyType(terms), vocab=state["vocab"], urls=frozenset(state["urls"])
    )


@functools.cache
def _shipped(canonical_url: str) -> ActiveTerms | None:
    """Resolved terms of one shipped context, computed once (the result is immutable)."""
    return resolve_context(load_context(canonical_url).get("@context"))


def _apply(context: Any, terms: dict[str, TermDef], state: dict[str, Any], depth: int) -> bool:
    if depth > _MAX_DEPTH:
        return False
    if isinstance(context, list):
        return all(_apply(item, terms, state, depth + 1) for item in context)
    if isinstance(context, str):
        canonical = canonical_context_url(context)
        if canonical is None:
            return False
        shipped = _shipped(canonical)
        if shipped is None:
            return False
        terms.update(shipped.terms)
        if shipped.vocab is not None:
            state["vocab"] = shipped.vocab
        state["urls"].update(shipped.urls | {canonical})
        return True
    if isinstance(context, dict):
        return _apply_object(context, terms, state)
    return False


def _apply_object(
    context: dict[str, Any], terms: dict[str, TermDef], state: dict[str, Any]
) -> bool:
    for key, value in context.items():
        if key in _IGNORED_KEYWORDS:
            continue
        if key == "@vocab":
            if not isinstance(value, str):
                return False
            state["vocab"] = value
        elif key.startswith("@"):
            return False
    local: dict[str, TermDef] = {}
    for key, value in context.items():
        if key.startswith("@"):
            continue
        definition = _definition(key, value, context, terms, state["vocab"], set())
        if definition is None:
            return False
        local[key] = definition
    terms.update(local)
    return True


def _definition(
    term: str,
    value: Any,
    local: dict[str, Any],
    active: Mapping[str, TermDef],
    vocab: str | None,
    visiting: set[str],
) -> TermDef | None:
    if term in visiting:
        return None
    visiting = visiting | {term}
    if isinstance(value, str):
        iri = _expand_in(value, local, active, vocab, visiting)
        return None if iri is None else TermDef(iri)
    if not isinstance(value, dict) or not value.keys() <= _ALLOWED_DEFINITION_KEYS:
        return None
    raw_id = value.get("@id")
    if not isinstance(raw_id, str):
        return None
    iri = _expand_in(raw_id, local, active, vocab, visiting)
    raw_type = value.get("@type")
    type_iri: str | None = None
    if raw_type is not None:
        if not isinstance(raw_type, str):
            return None
        type_iri = _expand_in(raw_type, local, active, vocab, visiting)
        if type_iri is None:
            return None
    container = value.get("@container")
    if isinstance(container, list):
        container = tuple(sorted(str(item) for item in container))
    elif container is not None and not isinstance(container, str):
        return None
    return None if iri is None else TermDef(iri, type_iri, container)


def _expand_in(
    value: str,
    local: dict[str, Any],
    active: Mapping[str, TermDef],
    vocab: str | None,
    visiting: set[str],
) -> str | None:
    """Expand an IRI inside a context object, where the object's own terms come first."""
    if value.startswith("@"):
        return value
    prefix, sep, suffix = value.partition(":")
    name = prefix if sep else value
    if sep and (prefix == "_" or suffix.startswith("//")):
        return value
    if name in local and not name.startswith("@"):
        definition = _definition(name, local[name], local, active, vocab, visiting)
        if definition is None:
            return None
        return definition.iri + suffix if sep else definition.iri
    if name in active:
        return active[name].iri + suffix if sep else active[name].iri
    if sep:
        return value
    return vocab + value if vocab is not None else None

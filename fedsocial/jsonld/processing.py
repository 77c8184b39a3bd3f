"""Core layer: the only place fedsocial calls pyld.

Every call passes our preloaded-only :func:`~fedsocial.jsonld.loader.document_loader`
explicitly, so no pyld operation can fetch a context from the network, and every pyld failure is
translated at this boundary: a context we do not ship becomes ContextNotAllowed, anything else
JsonLdError (both 400s).
"""

from __future__ import annotations

import functools
import importlib
from types import ModuleType
from typing import Any

from fedsocial.errors import ContextNotAllowed, JsonLdError
from fedsocial.jsonld.loader import document_loader


def _pyld() -> ModuleType:
    # Imported on first use: pyld costs ~5 MB of memory, and a server whose activities all use
    # the usual contexts (the fast path) may never need it.
    return importlib.import_module("pyld.jsonld")


# What pyld is given at most. pyld's node map checks each new value of a property against all
# the values it already has, so one property with n values costs n² (4,000 values: 4.7 s to
# make RDF); nesting costs Python stack (600 levels: RecursionError). Real activities and actors
# hold about a hundred values and nest a few levels (the inbox refuses over 100).
MAX_VALUES = 2_000
MAX_DEPTH = 100


def check_size(document: Any) -> None:
    """Raise JsonLdError when ``document`` holds more than MAX_VALUES JSON values (objects,
    arrays, scalars) or nests objects and arrays more than MAX_DEPTH levels (counted as the
    inbox counts them); an iterative walk, so it cannot recurse."""
    count = 0
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        count += 1
        if count > MAX_VALUES:
            raise JsonLdError(
                f"invalid JSON-LD (too large): more than {MAX_VALUES} values to process"
            )
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise JsonLdError(f"invalid JSON-LD (too deep): nested over {MAX_DEPTH} levels")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((item, depth + 1) for item in children)


# What pyld raises, besides its JsonLdError, on some invalid documents: a relative context
# IRI ("1.1") is a ValueError, an "@included" string an AttributeError deep in its node map.
PYLD_FAULTS = (ValueError, TypeError, AttributeError, KeyError, IndexError)


def _fault(exc: BaseException) -> JsonLdError:
    message = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
    return JsonLdError(f"invalid JSON-LD (pyld cannot process it): {message}")


def _options(**extra: Any) -> dict[str, Any]:
    return {"documentLoader": document_loader, **extra}


def expand(document: dict[str, Any]) -> list[Any]:
    """Expand a JSON-LD document (JSON-LD 1.1 expansion) using only shipped contexts.

    Raises ContextNotAllowed for a context we do not ship, JsonLdError for invalid JSON-LD or a
    document over :func:`check_size`'s bounds (as every function here does).
    """
    check_size(document)
    jsonld = _pyld()
    try:
        result = jsonld.expand(document, _options())
    except jsonld.JsonLdError as exc:
        raise _translate(exc) from exc
    except PYLD_FAULTS as exc:
        raise _fault(exc) from exc
    return list(result)


def compact(document: dict[str, Any] | list[Any], context: Any) -> dict[str, Any]:
    """Compact a JSON-LD document (or expanded form) against ``context``, shipped contexts only."""
    check_size(document)
    jsonld = _pyld()
    try:
        result = jsonld.compact(document, context, _options())
    except jsonld.JsonLdError as exc:
        raise _translate(exc) from exc
    except PYLD_FAULTS as exc:
        raise _fault(exc) from exc
    return dict(result)


def to_nquads(document: dict[str, Any]) -> str:
    """Return the document's RDF dataset as N-Quads (not canonicalised)."""
    check_size(document)
    jsonld = _pyld()
    try:
        result = jsonld.to_rdf(document, _options(format="application/n-quads"))
    except jsonld.JsonLdError as exc:
        raise _translate(exc) from exc
    except PYLD_FAULTS as exc:
        raise _fault(exc) from exc
    return str(result)


# URDNA2015 work allowed per document, counted in n-degree hashes and related-node hashes. A
# real activity needs none (its blank nodes differ at the first degree) or one per identical
# tag; a few dozen blank nodes that all look alike ("poison" graphs) make the algorithm go
# through their permutations: seven of them took 6 s, eight a minute, on the event loop.
CANONICAL_WORK_LIMIT = 10_000


def canonical_nquads(document: dict[str, Any], *, work_limit: int = CANONICAL_WORK_LIMIT) -> str:
    """Return the URDNA2015 canonical N-Quads of the document (what LD signatures hash).

    Raises JsonLdError when the document is not valid JSON-LD, or when canonicalising it would
    take more than ``work_limit`` steps (blank nodes arranged to make URDNA2015 exponential).
    """
    check_size(document)
    jsonld = _pyld()
    try:
        dataset = jsonld.to_rdf(document, _options(produceGeneralizedRdf=False))
        result = _bounded_urdna2015()(work_limit).main(dataset, {"format": "application/n-quads"})
    except jsonld.JsonLdError as exc:
        raise _translate(exc) from exc
    except PYLD_FAULTS as exc:
        raise _fault(exc) from exc
    return str(result)


@functools.cache
def _bounded_urdna2015() -> Any:
    """pyld's URDNA2015 with a work budget (a class made on first use, as pyld is imported)."""
    canon = importlib.import_module("pyld.canon")

    class BoundedURDNA2015(canon.URDNA2015):  # type: ignore[misc, name-defined]
        def __init__(self, limit: int) -> None:
            super().__init__()
            self._left = limit

        def _spend(self) -> None:
            self._left -= 1
            if self._left < 0:
                raise JsonLdError(
                    "invalid JSON-LD (canonicalisation too costly): its blank nodes are"
                    " arranged so that URDNA2015 would take too long"
                )

        def hash_n_degree_quads(self, id_: Any, issuer: Any) -> Any:
            self._spend()
            return super().hash_n_degree_quads(id_, issuer)

        def hash_related_blank_node(self, *args: Any) -> Any:
            self._spend()
            return super().hash_related_blank_node(*args)

    return BoundedURDNA2015


def with_null_base(document: dict[str, Any]) -> dict[str, Any]:
    """Return a shallow copy whose context starts with ``{"@base": null}``.

    Inbox payloads have no trustworthy base IRI; with a null base, relative IRI references
    (Mastodon's bare ``attributionDomains``, a "not a url" string) stay as written instead of
    being resolved against pyld's placeholder base.
    """
    context = document.get("@context")
    items = context if isinstance(context, list) else [] if context is None else [context]
    return {**document, "@context": [{"@base": None}, *items]}


def _translate(exc: BaseException) -> JsonLdError:
    """Find our own refusal inside pyld's wrapped errors, or describe pyld's error."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, ContextNotAllowed):
            return ContextNotAllowed(current.message)
        for link in (getattr(current, "cause", None), current.__cause__, current.__context__):
            if isinstance(link, BaseException):
                pending.append(link)
    code = getattr(exc, "code", None)
    message = str(getattr(exc, "message", None) or exc).splitlines()[0]
    return JsonLdError(f"invalid JSON-LD ({code or 'error'}): {message}")

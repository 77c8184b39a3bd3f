"""Core layer: the only place fedsocial calls pyld.

Every call passes our preloaded-only :func:`~fedsocial.jsonld.loader.document_loader`
explicitly, so no pyld operation can fetch a context from the network, and every pyld failure is
translated at this boundary: a context we do not ship becomes ContextNotAllowed, anything else
JsonLdError (both 400s).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from fedsocial.errors import ContextNotAllowed, JsonLdError
from fedsocial.jsonld.loader import document_loader


def _pyld() -> ModuleType:
    # Imported on first use: pyld costs ~5 MB of memory, and a server whose activities all use
    # the usual contexts (the fast path) may never need it.
    return importlib.import_module("pyld.jsonld")


def _options(**extra: Any) -> dict[str, Any]:
    return {"documentLoader": document_loader, **extra}


def expand(document: dict[str, Any]) -> list[Any]:
    """Expand a JSON-LD document (JSON-LD 1.1 expansion) using only shipped contexts."""
    jsonld = _pyld()
    try:
        result = jsonld.expand(document, _options())
    except jsonld.JsonLdError as exc:
        raise _translate(exc) from exc
    return list(result)


def compact(document: dict[str, Any] | list[Any], context: Any) -> dict[str, Any]:
    """Compact a JSON-LD document (or expanded form) against ``context``, shipped contexts only."""
    jsonld = _pyld()
    try:
        result = jsonld.compact(document, context, _options())
    except jsonld.JsonLdError as exc:
        raise _translate(exc) from exc
    return dict(result)


def to_nquads(document: dict[str, Any]) -> str:
    """Return the document's RDF dataset as N-Quads (not canonicalised)."""
    jsonld = _pyld()
    try:
        result = jsonld.to_rdf(document, _options(format="application/n-quads"))
    except jsonld.JsonLdError as exc:
        raise _translate(exc) from exc
    return str(result)


def canonical_nquads(document: dict[str, Any]) -> str:
    """Return the URDNA2015 canonical N-Quads of the document (what LD signatures hash)."""
    jsonld = _pyld()
    try:
        result = jsonld.normalize(
            document, _options(algorithm="URDNA2015", format="application/n-quads")
        )
    except jsonld.JsonLdError as exc:
        raise _translate(exc) from exc
    return str(result)


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

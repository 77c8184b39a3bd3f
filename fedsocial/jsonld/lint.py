"""Core layer: lint a JSON-LD document the way a careful receiver would read it.

Checks, in order (a failure in the first two stops the run):

1. the document is a JSON object, every context is one we ship (else ``context_not_allowed``)
   and pyld can expand it (else ``invalid_jsonld``) — errors;
2. terms the context does not define (``undefined_term``): keys dropped by expansion, or kept
   only as ``_:term`` through ActivityStreams' ``"@vocab": "_:"`` — warnings;
3. IRIs: a value where the context expects an IRI that is not one — a relative reference or text
   such as "not a url" (``relative_iri``, an error when it has spaces or is the object's ``id``,
   otherwise a warning); Mastodon's ``attributionDomains`` holds bare domain names on purpose and
   is skipped;
4. the RDF graph (rdflib, from pyld's N-Quads) against the AS2 ontology: a literal where an AS
   object property expects a node (``literal_for_object``, error); an AS property on a subject
   whose AS types are all outside the property's domain (``domain``, warning). ``width`` and
   ``height`` are left out of the domain check: the ontology puts them on Link, but Mastodon and
   most servers send them on attachments;
5. what Mastodon needs (:mod:`fedsocial.jsonld.lint_mastodon`), on the normalised document.
"""

from __future__ import annotations

import warnings
from typing import Any

from rdflib import RDF, BNode, Dataset, Literal, URIRef
from rdflib.exceptions import Error as RdflibError

from fedsocial.errors import ContextNotAllowed, JsonLdError
from fedsocial.jsonld.lint_mastodon import mastodon_findings
from fedsocial.jsonld.lint_report import Finding, LintReport, Severity
from fedsocial.jsonld.normalise import assume_as_context, canonical_terms, normalise
from fedsocial.jsonld.processing import expand, to_nquads, with_null_base
from fedsocial.jsonld.terms import ActiveTerms, resolve_context
from fedsocial.jsonld.vocabulary import AS_NS, Ontology, as2_ontology

__all__ = ["Finding", "LintReport", "lint_document"]

_SKIP_RELATIVE = frozenset({"http://joinmastodon.org/ns#attributionDomains"})
_SKIP_DOMAIN = frozenset({AS_NS + "width", AS_NS + "height"})


def lint_document(document: Any) -> LintReport:
    """Lint one JSON-LD document; never raises for bad input, reports it instead."""
    if not isinstance(document, dict):
        return LintReport((Finding("error", "not_an_object", "the document is not an object"),))
    findings: list[Finding] = []
    if assume_as_context(document) is not document:
        findings.append(
            Finding(
                "warning",
                "missing_as_context",
                "the @context does not reference ActivityStreams; it is assumed (AS2 Core 2.1)",
                "/@context",
            )
        )
        document = assume_as_context(document)
    prepared = with_null_base(document)
    try:
        expanded = expand(prepared)
        nquads = to_nquads(prepared)
    except ContextNotAllowed as exc:
        findings.append(Finding("error", "context_not_allowed", exc.message, "/@context"))
        return LintReport(tuple(findings))
    except JsonLdError as exc:
        findings.append(Finding("error", "invalid_jsonld", exc.message))
        return LintReport(tuple(findings))
    findings.extend(_undefined_terms(document, expanded))
    findings.extend(_relative_iris(expanded))
    try:
        findings.extend(_ontology_findings(nquads, as2_ontology()))
    except RdflibError as exc:
        # pyld writes some invalid input out as N-Quads rdflib cannot read (a language map
        # keyed "@reverse" becomes the language tag "@reverse").
        message = str(exc).splitlines()[0][:200]
        findings.append(Finding("error", "invalid_rdf", f"the RDF graph is not valid: {message}"))
    try:
        findings.extend(mastodon_findings(normalise(document)))
    except JsonLdError as exc:
        findings.append(Finding("error", "invalid_jsonld", exc.message))
    return LintReport(tuple(findings))


def _undefined_terms(document: dict[str, Any], expanded: list[Any]) -> list[Finding]:
    """Keys the sender's context does not define (first occurrence of each)."""
    sender = resolve_context(document.get("@context"))
    found: dict[str, str] = {}
    if sender is not None:
        _walk_undefined(document, sender, "", found)
    else:
        for name in sorted(_blank_properties(expanded)):
            found.setdefault(name, "")
    return [
        Finding(
            "warning",
            "undefined_term",
            f"{name!r} is not defined by the document's @context; JSON-LD readers ignore it",
            path,
        )
        for name, path in found.items()
    ]


def _walk_undefined(value: Any, sender: ActiveTerms, path: str, found: dict[str, str]) -> None:
    if isinstance(value, list):
        for index, item in enumerate(value):
            _walk_undefined(item, sender, f"{path}/{index}", found)
        return
    if not isinstance(value, dict) or "@value" in value:
        return
    for key, item in value.items():
        if key.startswith("@"):
            continue
        definition = sender.terms.get(key)
        if definition is None and ":" not in key:
            found.setdefault(key, f"{path}/{key}")
            continue
        if definition is not None and definition.container in {"@language", "@index"}:
            continue
        _walk_undefined(item, sender, f"{path}/{key}", found)


def _blank_properties(value: Any) -> set[str]:
    names: set[str] = set()
    if isinstance(value, list):
        for item in value:
            names |= _blank_properties(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            if key.startswith("_:"):
                names.add(key[2:])
            names |= _blank_properties(item)
    return names


def _relative_iris(expanded: list[Any]) -> list[Finding]:
    findings: list[Finding] = []
    _walk_iris(expanded, "", "", findings)
    return findings


def _walk_iris(value: Any, prop: str, path: str, findings: list[Finding]) -> None:
    if isinstance(value, list):
        for item in value:
            _walk_iris(item, prop, path, findings)
        return
    if not isinstance(value, dict):
        return
    iri = value.get("@id")
    if isinstance(iri, str) and not _is_absolute(iri) and prop not in _SKIP_RELATIVE:
        is_own_id = len(value) > 1 or not prop
        severity: Severity = "error" if (" " in iri or is_own_id) else "warning"
        where = "the object's id" if is_own_id else _term_name(prop)
        findings.append(
            Finding(
                severity,
                "relative_iri",
                f"a string where an IRI is expected: {iri!r} in {where}",
                path or "/",
            )
        )
    for key, item in value.items():
        if not key.startswith("@") or key in {"@list", "@set", "@graph"}:
            name = key if key.startswith("@") else _term_name(key)
            _walk_iris(item, key if not key.startswith("@") else prop, f"{path}/{name}", findings)


def _ontology_findings(nquads: str, ontology: Ontology) -> list[Finding]:
    dataset = Dataset()
    with warnings.catch_warnings():
        # rdflib's own N-Quads parser still calls its deprecated Dataset.default_context.
        warnings.simplefilter("ignore", DeprecationWarning)
        dataset.parse(data=nquads, format="nquads")
    types: dict[Any, set[str]] = {}
    triples = [(s, p, o) for s, p, o, _ in dataset.quads((None, None, None, None))]
    for s, p, o in triples:
        if p == RDF.type and isinstance(o, URIRef):
            types.setdefault(s, set()).add(str(o))
    findings: list[Finding] = []
    for s, p, o in triples:
        prop = str(p)
        if not prop.startswith(AS_NS):
            continue
        name = _term_name(prop)
        if prop in ontology.object_properties and isinstance(o, Literal):
            findings.append(
                Finding(
                    "error",
                    "literal_for_object",
                    f"a string where an IRI is expected: {name} holds the literal {str(o)!r}",
                    f"{_subject_label(s)}/{name}",
                )
            )
        domain = ontology.domains.get(prop)
        subject_types = [t for t in types.get(s, ()) if ontology.is_known_class(t)]
        if (
            domain
            and subject_types
            and prop not in _SKIP_DOMAIN
            and not _in_domain(ontology, subject_types, domain)
        ):
            shown = ", ".join(sorted(_term_name(t) for t in subject_types))
            findings.append(
                Finding(
                    "warning",
                    "domain",
                    f"{name} is not expected on a {shown} (AS2 domain:"
                    f" {', '.join(sorted(_term_name(d) for d in domain))})",
                    f"{_subject_label(s)}/{name}",
                )
            )
    return findings


def _in_domain(ontology: Ontology, types: list[str], domain: frozenset[str]) -> bool:
    return any(ontology.is_a(t, d) for t in types for d in domain)


def _term_name(iri: str) -> str:
    for term, definition in canonical_terms().terms.items():
        if definition.iri == iri and ":" not in term:
            return term
    return iri.removeprefix(AS_NS)


def _subject_label(subject: Any) -> str:
    return "" if isinstance(subject, BNode) else str(subject)


def _is_absolute(iri: str) -> bool:
    if iri.startswith("_:"):
        return True
    scheme, sep, _ = iri.partition(":")
    return bool(sep) and scheme[:1].isalpha() and all(c.isalnum() or c in "+-." for c in scheme)

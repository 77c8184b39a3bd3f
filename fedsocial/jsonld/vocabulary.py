"""Core layer: facts read once from the shipped ActivityStreams 2.0 ontology (``as2.ttl``).

rdflib parses the Turtle file the first time a fact is needed; what the linter uses is then kept
as immutable values: which AS properties are object properties, each property's domain (a set of
classes, unions unfolded), and each class's superclasses (transitively closed).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType

from rdflib import OWL, RDF, RDFS, BNode, Graph, URIRef
from rdflib.collection import Collection

AS_NS = "https://www.w3.org/ns/activitystreams#"


@dataclass(frozen=True, slots=True)
class Ontology:
    """What the AS2 ontology says about properties and classes (IRIs as strings)."""

    object_properties: frozenset[str]
    domains: Mapping[str, frozenset[str]]
    superclasses: Mapping[str, frozenset[str]]

    def is_known_class(self, iri: str) -> bool:
        """True when the ontology defines the class ``iri``."""
        return iri in self.superclasses

    def is_a(self, iri: str, ancestor: str) -> bool:
        """True when class ``iri`` is ``ancestor`` or one of its subclasses."""
        return iri == ancestor or ancestor in self.superclasses.get(iri, frozenset())


@functools.cache
def as2_ontology() -> Ontology:
    """Parse the shipped AS2 ontology once and return its immutable facts."""
    text = (resources.files("fedsocial.jsonld") / "contexts" / "as2.ttl").read_text("utf-8")
    graph = Graph()
    graph.parse(data=text, format="turtle")
    object_properties = frozenset(
        str(s) for s in graph.subjects(RDF.type, OWL.ObjectProperty) if isinstance(s, URIRef)
    )
    domains: dict[str, frozenset[str]] = {}
    for prop, domain in graph.subject_objects(RDFS.domain):
        if isinstance(prop, URIRef):
            domains[str(prop)] = _class_set(graph, domain)
    direct: dict[str, set[str]] = {}
    for cls in graph.subjects(RDF.type, OWL.Class):
        if isinstance(cls, URIRef):
            direct.setdefault(str(cls), set())
    for cls, parent in graph.subject_objects(RDFS.subClassOf):
        if isinstance(cls, URIRef):
            direct.setdefault(str(cls), set()).update(_superclass_set(graph, parent))
    superclasses = {cls: frozenset(_closure(cls, direct)) for cls in direct}
    return Ontology(
        object_properties=object_properties,
        domains=MappingProxyType(domains),
        superclasses=MappingProxyType(superclasses),
    )


def _class_set(graph: Graph, node: object) -> frozenset[str]:
    if isinstance(node, URIRef):
        return frozenset({str(node)})
    if isinstance(node, BNode):
        members: set[str] = set()
        for union in graph.objects(node, OWL.unionOf):
            for item in Collection(graph, union):
                members |= _class_set(graph, item)
        return frozenset(members)
    return frozenset()


def _superclass_set(graph: Graph, node: object) -> frozenset[str]:
    # X ⊆ (A ∩ restriction) makes A a superclass of X: OrderedCollection is declared that way.
    named = set(_class_set(graph, node))
    if isinstance(node, BNode):
        for intersection in graph.objects(node, OWL.intersectionOf):
            for item in Collection(graph, intersection):
                if isinstance(item, URIRef):
                    named.add(str(item))
    return frozenset(named)


def _closure(cls: str, direct: Mapping[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    pending = list(direct.get(cls, ()))
    while pending:
        parent = pending.pop()
        if parent not in seen:
            seen.add(parent)
            pending.extend(direct.get(parent, ()))
    return seen

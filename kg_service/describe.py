"""Descriptions of resources, the ontology documentation and the VoID description.

A resource's description (as Pubby and LodView give it) is one rdflib graph holding:
its outgoing triples, the blank-node closure of their objects (OWL restrictions, lists),
its incoming triples from named resources, and the labels (and, for cited papers, the
title and citation) of every IRI it mentions. :class:`View` turns such a graph into plain
rows for the HTML templates. The core never imports Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD
from rdflib.term import Node

from kg_service.errors import NotFound
from kg_service.namespaces import (
    BIBO,
    CKM,
    ONTOLOGY_GRAPH,
    ONTOLOGY_IRI,
    PREFIXES,
)
from kg_service.store import KGStore

# name -> (media type, file suffix, rdflib format)
RDF_FORMATS: dict[str, tuple[str, str, str]] = {
    "turtle": ("text/turtle", ".ttl", "turtle"),
    "jsonld": ("application/ld+json", ".jsonld", "json-ld"),
    "rdfxml": ("application/rdf+xml", ".rdf", "xml"),
    "ntriples": ("application/n-triples", ".nt", "nt"),
}
LABEL_PROPS = (RDFS.label, SKOS.prefLabel, DCTERMS.title)
CITATION_PROPS = (DCTERMS.title, DCTERMS.bibliographicCitation, BIBO.doi)
_BUILTIN_LABELS = {
    RDF.type: "type", RDFS.label: "label", RDFS.comment: "comment",
    RDFS.subClassOf: "subclass of", RDFS.subPropertyOf: "subproperty of",
    RDFS.domain: "domain", RDFS.range: "range", SKOS.definition: "definition",
    SKOS.altLabel: "also known as", SKOS.prefLabel: "preferred label",
    DCTERMS.source: "source", DCTERMS.title: "title", DCTERMS.creator: "creator",
    DCTERMS.license: "license", OWL.equivalentClass: "equivalent class",
    OWL.inverseOf: "inverse of", OWL.propertyChainAxiom: "property chain",
    OWL.disjointWith: "disjoint with", OWL.oneOf: "one of", OWL.onProperty: "on property",
    OWL.hasValue: "has value", OWL.intersectionOf: "intersection of",
    OWL.unionOf: "union of", OWL.someValuesFrom: "some values from",
    OWL.allValuesFrom: "all values from", OWL.Class: "OWL class",
    OWL.NamedIndividual: "named individual", OWL.ObjectProperty: "object property",
    OWL.DatatypeProperty: "datatype property", OWL.AnnotationProperty: "annotation property",
    OWL.FunctionalProperty: "functional property", OWL.Restriction: "restriction",
    OWL.versionIRI: "version IRI", OWL.versionInfo: "version",
}
# Outgoing rows come in this order; the rest follow sorted by label.
_ROW_ORDER = [RDF.type, RDFS.label, SKOS.prefLabel, SKOS.altLabel, SKOS.definition,
              CKM.description, RDFS.comment, RDFS.subClassOf, OWL.equivalentClass]
_SOURCE_PROPS = {DCTERMS.source, CKM.sourceLocator}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the project's prefixes (and paper:, venue:) for readable serialisations."""
    for prefix, iri in PREFIXES.items():
        graph.bind(prefix, iri, override=True, replace=True)
    graph.bind("paper", str(PREFIXES["ckmid"]) + "paper/", override=True, replace=True)
    return graph


def serialize(graph: Graph, fmt: str) -> bytes:
    """``graph`` in one of :data:`RDF_FORMATS`; raises KeyError for another name."""
    bind_prefixes(graph)
    return graph.serialize(format=RDF_FORMATS[fmt][2], encoding="utf-8")


# --------------------------------------------------------------------------- IRIs <-> paths

def iri_for_path(base: str, path: str) -> URIRef:
    """The IRI a server path (``id/company/holcim``, ``ontology``) stands for."""
    return URIRef(base + path.lstrip("/"))


def local_path(base: str, iri: str) -> str | None:
    """This server's path for an IRI under ``base`` (``/ontology#X``), else None."""
    if iri.startswith(base):
        return "/" + iri[len(base):]
    return None


def local_name(iri: str) -> str:
    """The part after the last ``#`` or ``/`` (the id of an item in the JSON API)."""
    return iri.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def curie(iri: str) -> str:
    """``prefix:name`` for an IRI in a known namespace, else the IRI."""
    for prefix, ns in sorted(PREFIXES.items(), key=lambda kv: -len(kv[1])):
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


# --------------------------------------------------------------------------- descriptions

def _fetch_labels(store: KGStore, iris: Iterable[URIRef], graph: Graph,
                  props: Iterable[URIRef] = LABEL_PROPS) -> None:
    iris = sorted({i for i in iris if isinstance(i, URIRef)})
    props = list(props)
    for start in range(0, len(iris), 200):
        chunk = iris[start:start + 200]
        values = " ".join(i.n3() for i in chunk)
        plist = " ".join(p.n3() for p in props)
        for row in store.select(
                f"SELECT ?x ?p ?l WHERE {{ VALUES ?x {{ {values} }} VALUES ?p {{ {plist} }} "
                "?x ?p ?l FILTER(isLiteral(?l)) }"):
            graph.add((row["x"], row["p"], row["l"]))


def _blank_closure(store: KGStore, graph: Graph, start: Iterable[Node]) -> None:
    frontier = [n for n in start if isinstance(n, BNode)]
    seen: set[BNode] = set()
    while frontier:
        node = frontier.pop()
        if node in seen or len(seen) > 5000:
            continue
        seen.add(node)
        for row in store.select("SELECT ?b ?p ?o WHERE { ?b ?p ?o }", b=node):
            graph.add((node, row["p"], row["o"]))
            if isinstance(row["o"], BNode):
                frontier.append(row["o"])


def describe(store: KGStore, iri: str, *, incoming_limit: int = 2000) -> Graph:
    """The description of ``iri`` (see the module docstring) over the union graph.

    Raises NotFound when the graph says nothing about ``iri`` either way (or it is not a
    valid IRI).
    """
    s = URIRef(iri)
    g = bind_prefixes(Graph())
    try:
        outgoing = store.select("SELECT ?s ?p ?o WHERE { ?s ?p ?o }", s=s)
    except ValueError as exc:  # the store refuses a malformed IRI
        raise NotFound(f"Nothing is known about {iri!r}: not a valid IRI ({exc}).",
                       iri=iri) from exc
    for row in outgoing:
        g.add((s, row["p"], row["o"]))
    _blank_closure(store, g, list(g.objects(s, None)))
    incoming = store.select(
        "SELECT ?x ?p ?o WHERE { ?x ?p ?o FILTER(isIRI(?x)) } ORDER BY ?x ?p "
        f"LIMIT {int(incoming_limit)}", o=s)
    for row in incoming:
        g.add((row["x"], row["p"], s))
    if not len(g):
        raise NotFound(f"Nothing is known about <{iri}>.", iri=iri)
    cited = {o for o in g.objects(s, DCTERMS.source) if isinstance(o, URIRef)}
    _fetch_labels(store, cited, g, CITATION_PROPS)
    mentioned = {t for triple in g for t in triple if isinstance(t, URIRef)}
    mentioned |= {o.datatype for o in g.objects() if isinstance(o, Literal) and o.datatype}
    _fetch_labels(store, mentioned, g)
    return g


def ontology_graph(store: KGStore) -> Graph:
    """The ontology as authored (its named graph); NotFound if it is not loaded."""
    g = store.graph(ONTOLOGY_GRAPH)
    if not len(g):
        raise NotFound("The ontology is not loaded.", iri=ONTOLOGY_IRI)
    return bind_prefixes(g)


# --------------------------------------------------------------------------- views for HTML

@dataclass
class Term:
    """One RDF term as a page shows it: a label, a link, or a nested blank node/list."""

    text: str
    kind: str  # iri | literal | bnode | list
    iri: str | None = None
    lang: str | None = None
    datatype: str | None = None
    rows: list[Row] = field(default_factory=list)
    items: list[Term] = field(default_factory=list)


@dataclass
class Row:
    predicate: Term
    values: list[Term]


@dataclass
class Citation:
    paper: Term
    title: str | None
    citation: str | None
    doi: str | None


class View:
    """Turns a description graph into :class:`Term`/:class:`Row` for templates."""

    def __init__(self, graph: Graph) -> None:
        self.g = graph

    def label(self, node: Node) -> str:
        """The best label: rdfs:label (English first), skos:prefLabel, title, built-in, CURIE."""
        best: tuple[int, str] | None = None
        for rank, prop in enumerate(LABEL_PROPS):
            for lit in self.g.objects(node, prop):
                if not isinstance(lit, Literal):
                    continue
                score = rank * 3 + (0 if lit.language in (None, "en") else 1)
                if best is None or score < best[0] or (score == best[0] and str(lit) < best[1]):
                    best = (score, str(lit))
        if best:
            return best[1]
        if node in _BUILTIN_LABELS:
            return _BUILTIN_LABELS[node]  # type: ignore[index]
        return curie(str(node))

    def term(self, node: Node, depth: int = 0) -> Term:
        if isinstance(node, Literal):
            dt = node.datatype
            return Term(str(node), "literal", lang=node.language,
                        datatype=curie(str(dt)) if dt and dt != XSD.string else None)
        if isinstance(node, BNode):
            if depth > 12:
                return Term("…", "bnode")
            if (node, RDF.first, None) in self.g or node == RDF.nil:
                return Term("", "list", items=[self.term(i, depth + 1)
                                               for i in self.g.items(node)])
            return Term("", "bnode", rows=self.rows(node, depth=depth + 1))
        if node == RDF.nil:
            return Term("", "list")
        return Term(self.label(node), "iri", iri=str(node))

    def _sort(self, preds: Iterable[Node]) -> list[Node]:
        order = {p: i for i, p in enumerate(_ROW_ORDER)}
        return sorted(set(preds), key=lambda p: (order.get(p, len(order)),
                                                 self.label(p).lower(), str(p)))

    def _values(self, nodes: Iterable[Node], depth: int) -> list[Term]:
        terms = [self.term(n, depth) for n in nodes]
        return sorted(terms, key=lambda t: (t.kind != "iri", t.text.lower(), t.iri or ""))

    def rows(self, subject: Node, skip: Iterable[Node] = (), depth: int = 0) -> list[Row]:
        """Outgoing rows of ``subject``, grouped by predicate."""
        skipped = set(skip)
        preds = [p for p in self.g.predicates(subject, None) if p not in skipped]
        return [Row(self.term(p), self._values(self.g.objects(subject, p), depth))
                for p in self._sort(preds)]

    def incoming(self, obj: Node, skip: Iterable[Node] = ()) -> list[Row]:
        """Incoming rows of ``obj`` (subjects that name it), grouped by predicate."""
        skipped = set(skip)
        preds = [p for p in self.g.predicates(None, obj)
                 if p not in skipped and not isinstance(p, BNode)]
        out = []
        for p in self._sort(preds):
            subjects = [s for s in self.g.subjects(p, obj) if isinstance(s, URIRef)]
            if subjects:
                out.append(Row(self.term(p), self._values(subjects, 0)))
        return out

    def citations(self, subject: Node) -> list[Citation]:
        """The papers ``subject`` cites (dcterms:source) with their title, citation, DOI."""
        out = []
        for paper in sorted(self.g.objects(subject, DCTERMS.source), key=str):
            def first(p: URIRef, paper: Node = paper) -> str | None:
                values = sorted(str(v) for v in self.g.objects(paper, p))
                return values[0] if values else None
            out.append(Citation(self.term(paper), first(DCTERMS.title),
                                first(DCTERMS.bibliographicCitation), first(BIBO.doi)))
        return out

    def first_text(self, subject: Node, *props: URIRef) -> str | None:
        for p in props:
            values = sorted(str(v) for v in self.g.objects(subject, p)
                             if isinstance(v, Literal) and v.language in (None, "en"))
            if values:
                return values[0]
        return None

    def page(self, iri: str) -> dict[str, Any]:
        """What resource.html shows about ``iri``."""
        s = URIRef(iri)
        definition, shown = None, None
        for prop in (SKOS.definition, CKM.description, RDFS.comment):
            values = list(self.g.objects(s, prop))
            if len(values) == 1 and isinstance(values[0], Literal):
                definition, shown = str(values[0]), prop
                break
        return {
            "iri": iri,
            "title": self.label(s),
            "types": self._values(self.g.objects(s, RDF.type), 0),
            "definition": definition,
            "rows": self.rows(s, skip=[RDF.type, RDFS.label, shown, *_SOURCE_PROPS]),
            "incoming": self.incoming(s),
            "citations": self.citations(s),
            "locators": sorted(str(v) for v in self.g.objects(s, CKM.sourceLocator)),
        }


# --------------------------------------------------------------------------- ontology docs

_SECTIONS = [
    ("classes", "Classes", OWL.Class),
    ("object-properties", "Object properties", OWL.ObjectProperty),
    ("datatype-properties", "Datatype properties", OWL.DatatypeProperty),
    ("annotation-properties", "Annotation properties", OWL.AnnotationProperty),
    ("individuals", "Named individuals", OWL.NamedIndividual),
]


def ontology_page(store: KGStore) -> dict[str, Any]:
    """What ontology.html shows: metadata, then each term of the ontology's namespace.

    Every term has its types, definition, the rest of its triples (blank nodes nested),
    its incoming triples within the ontology (subclasses, domain/range of) and its
    sources. The papers come last as a bibliography. Raises NotFound when not loaded.
    """
    g = ontology_graph(store)
    view = View(g)
    onto = URIRef(ONTOLOGY_IRI)
    meta = view.rows(onto, skip=[RDF.type, DCTERMS.title, DCTERMS.description])
    sections = []
    done: set[Node] = set()
    for anchor, title, cls in _SECTIONS:
        terms = []
        members = {t for t in g.subjects(RDF.type, cls)
                   if isinstance(t, URIRef) and str(t).startswith(str(CKM))}
        for t in sorted(members - done, key=lambda x: view.label(x).lower()):
            done.add(t)
            terms.append({
                "iri": str(t), "anchor": local_name(str(t)), "label": view.label(t),
                "curie": curie(str(t)),
                "types": view._values(g.objects(t, RDF.type), 0),
                "definition": view.first_text(t, SKOS.definition, RDFS.comment),
                "rows": view.rows(t, skip=[RDF.type, RDFS.label, SKOS.definition,
                                           *_SOURCE_PROPS]),
                "incoming": view.incoming(t, skip=[RDF.first]),
                "citations": view.citations(t),
                "locators": sorted(str(v) for v in g.objects(t, CKM.sourceLocator)),
            })
        sections.append({"anchor": anchor, "title": title, "terms": terms})
    papers = sorted((p for p in g.subjects(RDF.type, BIBO.AcademicArticle)
                     if isinstance(p, URIRef)), key=lambda p: view.label(p).lower())
    return {
        "iri": ONTOLOGY_IRI,
        "title": view.first_text(onto, DCTERMS.title) or "Ontology",
        "description": view.first_text(onto, DCTERMS.description),
        "meta": meta,
        "namespace": str(CKM),
        "prefix": "ckm",
        "sections": sections,
        "papers": [{"term": view.term(p), "anchor": "paper-" + local_name(str(p)),
                    "citation": view.first_text(p, DCTERMS.bibliographicCitation),
                    "title": view.first_text(p, DCTERMS.title)} for p in papers],
        "triples": len(g),
    }

"""Take an edited ontology file back (Protégé round trip) as ONE validated changeset.

Formats: Turtle, RDF/XML, N-Triples, JSON-LD (rdflib) and OWL/XML (owlready2 reads it and
hands the triples over as N-Triples). The file's triples are compared with the stored
graph (``graph_diff.graph_delta``: blank-node structures such as restrictions and lists
compare by shape, not label) and the difference goes through ``changes.submit_delta``
like any other write. Two normalisations undo what a round trip through a tool changes
without meaning to: ``"x"^^xsd:string`` is the plain literal ``"x"`` (the same term in RDF
1.1), and owlready2 drops the trailing ``/`` of IRI values (``.../by/4.0/`` comes back as
``.../by/4.0``), which is taken as the stored IRI when that is the only difference.
"""

from __future__ import annotations

import io
from typing import Any

import rdflib
from rdflib import XSD, Literal, URIRef

from kg_service.auth import User
from kg_service.errors import BadData, BadRequest
from kg_service.namespaces import ONTOLOGY_GRAPH

FORMATS = {"turtle": "turtle", "ttl": "turtle", "rdfxml": "xml", "xml": "xml", "nt": "nt",
           "ntriples": "nt", "jsonld": "json-ld", "owlxml": "owlxml", "owx": "owlxml"}
MEDIA = {"text/turtle": "turtle", "application/x-turtle": "turtle",
         "application/rdf+xml": "rdfxml", "application/owl+xml": "owlxml",
         "application/n-triples": "nt", "application/ld+json": "jsonld"}
EXTENSIONS = {".ttl": "turtle", ".rdf": "rdfxml", ".owx": "owlxml", ".nt": "nt",
              ".jsonld": "jsonld"}


def sniff(data: bytes, name: str | None = None, media: str | None = None) -> str:
    """The format of a file from its media type, its name or its first bytes."""
    if media and media.split(";")[0].strip() in MEDIA:
        return MEDIA[media.split(";")[0].strip()]
    for ext, fmt in EXTENSIONS.items():
        if name and name.lower().endswith(ext):
            return fmt
    head = data[:4000].lstrip()
    if b"<Ontology" in head or b"<!DOCTYPE Ontology" in head:
        return "owlxml"
    if head.startswith(b"<") and (b"rdf:RDF" in head or b"<?xml" in head):
        return "rdfxml"
    if head.startswith((b"{", b"[")):
        return "jsonld"
    return "turtle"


def _owlxml_triples(data: bytes) -> bytes:
    import owlready2

    from kg_service.reasoning import _LOCK

    with _LOCK:
        world = owlready2.World()
        try:
            onto = world.get_ontology("http://import.invalid/").load(fileobj=io.BytesIO(data))
            out = io.BytesIO()
            onto.save(file=out, format="ntriples")
            return out.getvalue()
        finally:
            world.close()


def parse_file(data: bytes, fmt: str | None = None, name: str | None = None,
               media: str | None = None) -> rdflib.Graph:
    """The triples of an ontology file. Raises BadData (does not parse), BadRequest
    (unknown format)."""
    fmt = fmt or sniff(data, name, media)
    if fmt not in FORMATS:
        raise BadRequest(f"unknown import format {fmt!r}; one of {', '.join(sorted(FORMATS))}")
    kind = FORMATS[fmt]
    try:
        if kind == "owlxml":
            data, kind = _owlxml_triples(data), "nt"
        g = rdflib.Graph().parse(data=data, format=kind)
    except Exception as exc:  # every parser has its own exceptions
        raise BadData(f"the {fmt} file does not parse: {exc}", file=name) from exc
    return normalise(g)


def normalise(graph: rdflib.Graph) -> rdflib.Graph:
    """``"x"^^xsd:string`` as ``"x"`` (RDF 1.1: the same literal)."""
    out = rdflib.Graph()
    for s, p, o in graph:
        if isinstance(o, Literal) and o.datatype == XSD.string:
            o = Literal(str(o))
        out.add((s, p, o))
    return out


def _undo_slash_loss(old: rdflib.Graph, new: rdflib.Graph) -> rdflib.Graph:
    for s, p, o in list(new):
        if isinstance(o, URIRef) and (s, p, o) not in old:
            slashed = URIRef(str(o) + "/")
            if (s, p, slashed) in old and (s, p, slashed) not in new:
                new.remove((s, p, o))
                new.add((s, p, slashed))
    return new


def import_file(store: Any, data: bytes, *, user: User, fmt: str | None = None,
                name: str | None = None, media: str | None = None,
                graph: str = ONTOLOGY_GRAPH, message: str | None = None,
                if_match: str | None = None) -> Any:
    """Replace ``graph`` (default: the ontology) with the file's triples as one changeset.

    Returns the Change (``empty`` when the file says what the store says). Raises BadData,
    BadRequest, ValidationFailed, PreconditionFailed, ReasonerFailed, Forbidden.
    """
    from kg_service.changes import submit_delta
    from kg_service.graph_diff import graph_delta

    new = parse_file(data, fmt, name, media)
    if not len(new):
        raise BadData("the file holds no triples", file=name)

    def build() -> Any:
        old = store.graph(graph)
        return graph_delta(old, _undo_slash_loss(old, new), graph)

    return submit_delta(store, build, user=user, if_match=if_match, source="import",
                        message=message or f"Import {name or 'a file'} into <{graph}>")

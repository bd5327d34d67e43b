"""Export graphs as files: stable Turtle for git, RDF/XML and OWL/XML for Protégé."""

from __future__ import annotations

import io
import os
import tempfile
from typing import Any

import rdflib

from kg_service.errors import BadRequest
from kg_service.namespaces import ONTOLOGY_GRAPH, PREFIXES

_RDFLIB = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdfxml": "pretty-xml"}
_QUADS = {"nq": "nquads", "trig": "trig"}


def stable_turtle(graph: rdflib.Graph) -> bytes:
    """Turtle with the project's prefixes, subjects and predicates sorted (diff-friendly)."""
    g = rdflib.Graph(bind_namespaces="none")
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    g += graph
    return g.serialize(format="turtle").encode()


def owl_xml(graph: rdflib.Graph) -> bytes:
    """OWL/XML (as Protégé writes it) through owlready2. Raises BadRequest if it fails."""
    import owlready2

    world = owlready2.World()
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.nt")
        graph.serialize(src, format="nt", encoding="utf-8")
        onto = world.get_ontology("file://" + src).load()
        out = io.BytesIO()
        onto.save(file=out, format="owlxml")
    world.close()
    return out.getvalue()


def export_graph(store: Any, fmt: str, graph: str | None = None) -> bytes:
    """One graph (default: the ontology) or, for nq/trig, every graph, as bytes."""
    if fmt in _QUADS:
        dataset = rdflib.Dataset()
        for iri in [graph] if graph else store.named_graphs():
            dataset.graph(rdflib.URIRef(iri)).__iadd__(store.graph(iri))
        return dataset.serialize(format=_QUADS[fmt]).encode()
    g = store.graph(graph or ONTOLOGY_GRAPH)
    if fmt == "ttl":
        return stable_turtle(g)
    if fmt == "owl":
        return owl_xml(g)
    if fmt not in _RDFLIB:
        raise BadRequest(f"unknown export format {fmt!r}")
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    return g.serialize(format=_RDFLIB[fmt]).encode()

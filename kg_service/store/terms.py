"""Conversions between rdflib and pyoxigraph terms (rdflib parses, Oxigraph stores)."""

from __future__ import annotations

import gc
from contextlib import contextmanager
from typing import Any, Iterable, Iterator, Sequence, TypeVar

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.term import Node

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: loading makes millions of objects that live on
    (YAML, terms, quads) and little garbage; the collector's passes over them took a third
    of the parsing time at 100k triples, and a third of converting triples to quads."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def to_ox(term: Node) -> Any:
    """An rdflib term as a pyoxigraph term."""
    if isinstance(term, URIRef):
        return ox.NamedNode(str(term))
    if isinstance(term, BNode):
        return ox.BlankNode(str(term))
    if isinstance(term, Literal):
        if term.language:
            return ox.Literal(str(term), language=term.language)
        if term.datatype is not None:
            return ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype)))
        return ox.Literal(str(term))
    raise TypeError(f"cannot store {term!r}")


def from_ox(term: Any) -> Node:
    """A pyoxigraph term as an rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        dt = term.datatype.value
        return Literal(term.value, datatype=None if dt == XSD_STRING else URIRef(dt))
    raise TypeError(f"cannot convert {term!r}")


def quads_of(graph: Iterable[tuple[Node, Node, Node]], graph_iri: str) -> Iterator[Any]:
    """Triples (an rdflib graph or any iterable) as pyoxigraph quads in named graph
    ``graph_iri``."""
    g = ox.NamedNode(graph_iri)
    for s, p, o in graph:
        yield ox.Quad(to_ox(s), to_ox(p), to_ox(o), g)


def graph_of(triples: Iterable[Any]) -> Graph:
    """pyoxigraph triples or quads as an rdflib graph."""
    out = Graph()
    for t in triples:
        out.add((from_ox(t.subject), from_ox(t.predicate), from_ox(t.object)))
    return out


def nt(term: Node) -> str:
    """An rdflib term in N-Triples syntax."""
    return term.n3()


S = TypeVar("S", bound=Sequence[Any])


def bnode_groups(statements: Iterable[S]) -> tuple[list[S], list[list[S]]]:
    """Statements (triples or quads) without blank nodes, and the others grouped so that
    statements sharing a blank node, directly or through others, are in one group."""
    parent: dict[BNode, BNode] = {}

    def find(x: BNode) -> BNode:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    plain: list[S] = []
    with_b: list[tuple[BNode, S]] = []
    for st in statements:
        bs = [x for x in st if isinstance(x, BNode)]
        if not bs:
            plain.append(st)
            continue
        with_b.append((bs[0], st))
        for b in bs[1:]:
            parent[find(b)] = find(bs[0])
    groups: dict[BNode, list[S]] = {}
    for b, st in with_b:
        groups.setdefault(find(b), []).append(st)
    return plain, list(groups.values())

"""The difference between two versions of a graph, blank-node aware.

Triples without blank nodes are compared as they are. Triples with blank nodes (OWL
restrictions, lists, axioms) are grouped into their connected blank-node structures; a
structure that is the same in both versions (isomorphic, by rdflib's canonical labelling)
is left alone, one that differs is removed with the store's blank nodes and added with
new ones. So a file that went through Protégé or owlready2 unchanged gives an empty
diff, and a changed axiom replaces just that axiom.
"""

from __future__ import annotations

from collections import Counter

import rdflib
from rdflib import BNode
from rdflib.compare import to_canonical_graph

from kg_service.sparql_update import Delta, Triple
from kg_service.store.terms import bnode_groups


def _components(graph: rdflib.Graph) -> tuple[set[Triple], list[list[Triple]]]:
    """Ground triples, and the blank-node triples grouped by connected blank nodes."""
    ground, groups = bnode_groups(graph)
    return set(ground), groups


def _signature(triples: list[Triple]) -> frozenset[str]:
    g = rdflib.Graph()
    for t in triples:
        g.add(t)
    return frozenset(" ".join(x.n3() for x in t) for t in to_canonical_graph(g))


def graph_delta(old: rdflib.Graph, new: rdflib.Graph, graph_iri: str) -> Delta:
    """The Delta that turns ``old`` (the stored graph) into ``new`` in ``graph_iri``."""
    old_ground, old_parts = _components(old)
    new_ground, new_parts = _components(new)
    delta = Delta()
    for t in sorted(old_ground - new_ground):
        delta.remove((*t, graph_iri))
    for t in sorted(new_ground - old_ground):
        delta.add((*t, graph_iri))
    new_sigs = Counter(_signature(p) for p in new_parts)
    old_sigs = Counter()
    for part in old_parts:
        sig = _signature(part)
        if new_sigs[sig] > old_sigs[sig]:
            old_sigs[sig] += 1  # an identical structure exists in the new version
            continue
        for t in part:
            delta.remove((*t, graph_iri))
    kept = Counter(old_sigs)
    for part in new_parts:
        sig = _signature(part)
        if kept[sig] > 0:
            kept[sig] -= 1
            continue
        fresh: dict[BNode, BNode] = {}
        for t in part:
            delta.add((*(fresh.setdefault(x, BNode()) if isinstance(x, BNode) else x
                         for x in t), graph_iri))  # type: ignore[arg-type]
    return delta

"""The inferred graph's change for a commit that only adds data, without reading all data.

The stored inferred graph is the closure of the stored data (every commit and load keeps it
so). Adding facts Δ can only add conclusions, and with the compiled rules of
``kg_service.inference`` every new conclusion is reached from Δ through facts next to it:
each rule's premises share a node (a type and the node's own links; the two links of a
property chain of length two share their middle node). So the closure is extended locally:

1. N = the nodes of Δ; L = the stored facts (asserted and inferred) about N: their own
   triples, and the triples pointing at them through the properties a chain joins on;
2. new = closure(L + Δ) - closure(L); if it names nodes not in N, add them and repeat.

At the fixpoint every new conclusion has its nodes in N and so is in ``new`` (and was not
stored, since L holds everything stored about N). Conclusions filtered out of the stored
graph (owl:Thing memberships, types to blank-node classes) are rederived from L, so the
rules see exactly what owlrl would; ontologies where that does not hold (a transitive
property, a chain longer than two steps, a range or an inverse on a blank node that
another rule uses) make ``added_inferences`` return None and the caller recomputes all.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from rdflib import OWL, RDF, BNode, Literal, URIRef

from kg_service.inference import Rules, Triple, closure
from kg_service.namespaces import HISTORY_GRAPH, INFERRED_GRAPH

_CHUNK = 200
_ROUNDS = 20
_BUILTIN = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            "http://www.w3.org/2000/01/rdf-schema#", str(OWL),
            "http://www.w3.org/2001/XMLSchema#")


def _hidden(x: Any) -> bool:
    """Terms whose facts the stored inferred graph leaves out (reasoning._trivial)."""
    return isinstance(x, BNode) or (isinstance(x, URIRef) and str(x).startswith(_BUILTIN))


def incoming_predicates(rules: Rules) -> set[Any] | None:
    """The properties whose triples pointing at a node the local closure needs (a chain's
    middle node can be the object of a step), or None when the rules are not local."""
    if rules.transitive or any(len(steps) > 2 for _p, steps in rules.chains):
        return None
    used = set(rules.has_value) | set(rules.intersections) | {
        m for ms in rules.intersections.values() for m in ms}
    if any(_hidden(c) and c in used for cs in rules.rng.values() for c in cs):
        return None  # a blank-node class another rule uses comes from a range
    keyed = ({p for p, qs in rules.supp.items() if qs - {p}} | set(rules.dom)
             | set(rules.rng) | rules.symmetric | rules.functional
             | {p for p, _v in rules.has_value_by}
             | {q for _p, steps in rules.chains for _i, q in steps})
    if any(_hidden(p) and p in keyed for p in rules.inv):
        return None  # an inverse property without a name that another rule uses
    out = set()
    for _p, steps in rules.chains:
        if len(steps) == 2:
            (inv0, q0), (inv1, q1) = steps
            if not inv0:
                out.add(q0)  # (x q0 y): y, the middle node, is its object
            if inv1:
                out.add(q1)  # (z q1 y)
    return out


def _nodes(triples: set[Triple]) -> set[Any]:
    """The individuals triples name (not the classes of rdf:type triples)."""
    return {n for s, p, o in triples for n in ((s,) if p == RDF.type else (s, o))
            if isinstance(n, URIRef)}


def _fetch(store: Any, nodes: list[URIRef], incoming: set[Any]
           ) -> tuple[set[Triple], set[Triple]]:
    """(asserted, inferred) stored triples about ``nodes`` (see the module docstring)."""
    asserted: set[Triple] = set()
    inferred: set[Triple] = set()
    skip = (f"FILTER(?g != <{HISTORY_GRAPH}> && !STRSTARTS(STR(?g), \"{HISTORY_GRAPH}/\"))")
    preds = " ".join(p.n3() for p in incoming if isinstance(p, URIRef))
    for i in range(0, len(nodes), _CHUNK):
        values = " ".join(n.n3() for n in nodes[i:i + _CHUNK])
        query = (f"SELECT ?s ?p ?o ?g WHERE {{ {{ VALUES ?s {{ {values} }} GRAPH ?g "
                 f"{{ ?s ?p ?o }} }}")
        if preds:
            query += (f" UNION {{ VALUES ?o {{ {values} }} VALUES ?p {{ {preds} }} "
                      "GRAPH ?g { ?s ?p ?o } }")
        for r in store.select(query + f" {skip} }}"):
            t = (r["s"], r["p"], r["o"])
            (inferred if str(r["g"]) == INFERRED_GRAPH else asserted).add(t)
    return asserted, inferred


def added_inferences(store: Any, rules: Rules, added: Iterable[Triple]
                     ) -> tuple[set[Triple], set[Triple]] | None:
    """(inferred triples to remove, to add) when the data triples ``added`` are asserted,
    or None when only a full recompute can tell (see the module docstring; also when a
    functional property gets a second value, where owlrl derives owl:sameAs).

    ``rules`` are the compiled rules of the (unchanged) ontology. Raises what
    ``store.select`` raises.
    """
    from kg_service.reasoning import _trivial

    incoming = incoming_predicates(rules)
    if incoming is None or not rules.supported:
        return None
    if store.ask(f"ASK {{ GRAPH <{INFERRED_GRAPH}> {{ ?x <{OWL.sameAs}> ?y }} }}"):
        return None
    delta = set(added)
    nodes: set[Any] = set()
    asserted: set[Triple] = set()
    inferred: set[Triple] = set()
    todo = _nodes(delta)
    for _round in range(_ROUNDS):
        a, i = _fetch(store, sorted(todo - nodes), incoming)
        asserted |= a
        inferred |= i
        nodes |= todo
        local = asserted | inferred
        before = closure(rules, local, RDF.type)
        after = closure(rules, local | delta, RDF.type)
        new = after - before
        todo = _nodes(new) - nodes
        if not todo:
            break
    else:
        return None
    values: dict[tuple[Any, Any], Any] = {}
    for s, p, o in after:
        if p in rules.functional and values.setdefault((s, p), o) != o:
            return None
    gone = delta & inferred  # now asserted: the inferred graph holds only what is not
    fresh = {t for t in new - delta - asserted
             if not _trivial(*t) and not isinstance(t[0], Literal)}
    return gone, fresh

"""The inferred graph's change for a data-only commit, without reading all data.

The stored inferred graph is the closure of the stored data (every commit and load keeps it
so). With the compiled rules of ``kg_service.inference`` every rule's premises share a node
(a type and the node's own links; the two links of a property chain of length two share
their middle node), so a commit that removes facts R and adds facts A changes the closure
only near them, and ``changed_inferences`` works on the stored facts (asserted and
inferred) about a node set N, starting from the nodes of R and A (delete and rederive):

1. L = the stored facts about N: their own triples, and the triples pointing at them
   through the properties a chain joins on; before = closure(L);
2. overdelete: gone = the removed triples no longer asserted anywhere, and every fact a
   rule derives from a fact in gone with its other premises in ``before`` (semi-naive),
   except facts still asserted: a superset of what the closure loses;
3. rederive and add: after = closure((before - gone) + asserted after the change + A);
4. if gone or after - before name nodes not in N, add them and repeat;
5. a fact of gone not in ``after`` may still follow from premises away from its nodes:
   a type from the range of a link from any node, a chain's conclusion through any middle
   node. One LIMIT 1 query per such fact looks for a stored premise not in gone; those
   found join L and the steps repeat.

At the fixpoint every fact of gone and every new fact has its nodes in N, so L holds the
partners of every rule application that uses them: gone is exactly closed, and a fact of
gone that the whole closure keeps has a derivation whose lowest facts from gone are
derived in one step from kept facts, found in L or by step 5. Conclusions filtered out of
the stored graph (owl:Thing memberships, types to blank-node classes) are rederived from L,
so the rules see exactly what owlrl would; ontologies where that does not hold (a
transitive property, a chain longer than two steps, a range or an inverse on a blank node
that another rule uses) make ``changed_inferences`` return None and the caller recomputes
all.

It also holds the two entry points a commit or a load reaches first: ``data_only`` (can
the compiled rules decide this change at all?) and ``infer_store`` (the rules over
everything stored, the fallback when the local update cannot be sure, and the closure a
load writes).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import rdflib
from rdflib import OWL, RDF, BNode, Literal, URIRef

from kg_service.inference import (
    ANNOTATIONS,
    AXIOM_NS,
    Rules,
    Triple,
    _chain_ends,
    closure,
    infer,
)
from kg_service.namespaces import HISTORY_GRAPH, INFERRED_GRAPH, ONTOLOGY_GRAPH

_CHUNK = 200
_ROUNDS = 20
_BUILTIN = ("http://www.w3.org/1999/02/22-rdf-syntax-ns#",
            "http://www.w3.org/2000/01/rdf-schema#", str(OWL),
            "http://www.w3.org/2001/XMLSchema#")
Index = dict[Any, dict[Any, set[Any]]]


def _hidden(x: Any) -> bool:
    """Terms whose facts the stored inferred graph leaves out (reasoning._trivial)."""
    return isinstance(x, BNode) or (isinstance(x, URIRef) and str(x).startswith(_BUILTIN))


def _live(g: str) -> str:
    """A filter keeping graph variable ``?g`` to the graphs the closure reads."""
    return f"FILTER(?{g} != <{HISTORY_GRAPH}> && !STRSTARTS(STR(?{g}), \"{HISTORY_GRAPH}/\"))"


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
    if RDF.type in keyed | set(rules.inv):
        return None  # a rule on rdf:type itself would make classes nodes
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
           ) -> tuple[set[tuple[Any, Any, Any, str]], set[Triple]]:
    """(asserted quads, inferred triples) stored about ``nodes`` (see the module docstring)."""
    asserted: set[tuple[Any, Any, Any, str]] = set()
    inferred: set[Triple] = set()
    preds = " ".join(p.n3() for p in incoming if isinstance(p, URIRef))
    for i in range(0, len(nodes), _CHUNK):
        values = " ".join(n.n3() for n in nodes[i:i + _CHUNK])
        query = (f"SELECT ?s ?p ?o ?g WHERE {{ {{ VALUES ?s {{ {values} }} GRAPH ?g "
                 f"{{ ?s ?p ?o }} }}")
        if preds:
            query += (f" UNION {{ VALUES ?o {{ {values} }} VALUES ?p {{ {preds} }} "
                      "GRAPH ?g { ?s ?p ?o } }")
        for r in store.select(query + f" {_live('g')} }}"):
            if str(r["g"]) == INFERRED_GRAPH:
                inferred.add((r["s"], r["p"], r["o"]))
            else:
                asserted.add((r["s"], r["p"], r["o"], str(r["g"])))
    return asserted, inferred


def _consequences(rules: Rules, fact: Triple, by_p: Index, by_o: Index,
                  types: dict[Any, set[Any]]) -> list[Triple]:
    """What one rule application with ``fact`` as a premise derives, its other premises
    taken from the indexed facts (the rules of ``inference.closure``, one step)."""
    s, p, o = fact
    out = [(s, q, o) for q in rules.supp.get(p, ())]
    out += [(o, q, s) for q in rules.inv.get(p, ())]
    out += [(o, p, s)] if p in rules.symmetric else []
    out += [(s, RDF.type, c) for c in rules.dom.get(p, ())]
    out += [(o, RDF.type, c) for c in rules.rng.get(p, ())]
    out += [(s, RDF.type, r) for r in rules.has_value_by.get((p, o), ())]
    if p == RDF.type:
        out += [(s, RDF.type, d) for d in rules.supc.get(o, ())]
        out += [(s, *rules.has_value[o])] if o in rules.has_value else []
        out += [(s, RDF.type, m) for m in rules.intersections.get(o, ())]
        out += [(s, RDF.type, c) for c, ms in rules.intersections.items()
                if o in ms and all(m in types[s] for m in ms)]
    for chain, steps in rules.chains:
        for i, (inverse, q) in enumerate(steps):
            if q == p:
                edge = (o, s) if inverse else (s, o)
                out += [(x, chain, z) for x, z in _chain_ends(steps, i, edge, by_p, by_o)]
    return out


def _overdelete(rules: Rules, lost: set[Triple], facts: set[Triple], kept: set[Triple]
                ) -> set[Triple]:
    """``lost`` and every fact derived from one of them with the other premises in
    ``facts``, to a fixpoint, leaving out the ``kept`` (still asserted) facts."""
    by_p: Index = defaultdict(lambda: defaultdict(set))
    by_o: Index = defaultdict(lambda: defaultdict(set))
    types: dict[Any, set[Any]] = defaultdict(set)
    for s, p, o in facts:
        by_p[p][s].add(o)
        by_o[p][o].add(s)
        if p == RDF.type:
            types[s].add(o)
    out, todo = set(lost), list(lost)
    while todo:
        for t in _consequences(rules, todo.pop(), by_p, by_o, types):
            if t not in out and t not in kept:
                out.add(t)
                todo.append(t)
    return out


def _support(store: Any, rules: Rules, fact: Triple, gone: set[Triple]) -> set[Triple] | None:
    """Stored premises not in ``gone`` from which one rule derives ``fact`` though they
    are not about its nodes (see the module docstring, step 5); None when a premise
    cannot be queried (a property without a name)."""
    s, p, o = fact
    if isinstance(s, Literal):
        return set()  # such facts only derive facts about the literal, none stored
    if p != RDF.type and all(chain != p for chain, _steps in rules.chains):
        return set()  # every premise is about s or o
    if isinstance(s, BNode) or isinstance(o, BNode) and p != RDF.type:
        return None  # a blank node in a query pattern would match any node
    if p == RDF.type:
        preds = {q for q, cs in rules.rng.items() if o in cs}
        if not preds:
            return set()
        if any(not isinstance(q, URIRef) for q in preds):
            return None
        skip = " ".join(f"({x.n3()} {q.n3()})" for x, q, y in gone if y == s and q in preds)
        query = (f"SELECT ?x ?q WHERE {{ VALUES ?q {{ {' '.join(q.n3() for q in preds)} }} "
                 f"GRAPH ?g {{ ?x ?q {s.n3()} }} {_live('g')}"
                 + (f" MINUS {{ VALUES (?x ?q) {{ {skip} }} }}" if skip else "") + " } LIMIT 1")
        return {(r["x"], r["q"], s) for r in store.select(query)}
    out: set[Triple] = set()
    for (inv0, q0), (inv1, q1) in (steps for chain, steps in rules.chains if chain == p):
        if not (isinstance(q0, URIRef) and isinstance(q1, URIRef)):
            return None
        y = URIRef("urn:x-middle")  # stands for ?y in the patterns
        e0, e1 = ((y, q0, s) if inv0 else (s, q0, y)), ((o, q1, y) if inv1 else (y, q1, o))
        skip = set()
        for e in (e0, e1):
            at = e.index(y)
            skip |= {t[at] for t in gone if t[1] == e[1] and t[2 - at] == e[2 - at]}
        pattern = [" ".join("?y" if x == y else x.n3() for x in e) for e in (e0, e1)]
        query = (f"SELECT ?y WHERE {{ GRAPH ?g {{ {pattern[0]} }} GRAPH ?h {{ {pattern[1]} }} "
                 f"{_live('g')} {_live('h')}"
                 + (f" MINUS {{ VALUES ?y {{ {' '.join(n.n3() for n in skip)} }} }}"
                    if skip else "") + " } LIMIT 1")
        for r in store.select(query):
            out |= {tuple(r["y"] if x == y else x for x in e) for e in (e0, e1)}
    return out


def changed_inferences(store: Any, rules: Rules, removed: Iterable[Any],
                       added: Iterable[Any]) -> tuple[set[Triple], set[Triple]] | None:
    """(inferred triples to remove, to add) when the data quads ``removed`` (s, p, o,
    graph) are taken out and the data triples or quads ``added`` put in, or None when only
    a full recompute can tell (see the module docstring; also when a functional property
    gets a second value, where owlrl derives owl:sameAs, or owl:sameAs is inferred).

    ``rules`` are the compiled rules of the (unchanged) ontology; the change must be data
    only (``data_only`` below). Raises what ``store.select`` raises.
    """
    from kg_service.reasoning import _trivial

    incoming = incoming_predicates(rules)
    if incoming is None or not rules.supported:
        return None
    if store.ask(f"ASK {{ GRAPH <{INFERRED_GRAPH}> {{ ?x <{OWL.sameAs}> ?y }} }}"):
        return None
    removed = {(s, p, o, str(g)) for s, p, o, g in removed}
    delta = {t[:3] for t in added}
    nodes: set[Any] = set()
    asserted: set[tuple[Any, Any, Any, str]] = set()
    inferred: set[Triple] = set()
    support: set[Triple] = set()
    todo = _nodes({q[:3] for q in removed} | delta)
    for _round in range(_ROUNDS):
        a, i = _fetch(store, sorted(todo - nodes), incoming)
        asserted |= a
        inferred |= i
        nodes |= todo
        kept = {q[:3] for q in asserted - removed} | delta
        lost = {q[:3] for q in removed} - kept
        if lost & rules.static:
            return None  # an ontology-only conclusion the rules may not rederive
        before = closure(rules, {q[:3] for q in asserted} | inferred | support, RDF.type)
        gone = _overdelete(rules, lost, before, kept)
        after = closure(rules, (before - gone) | kept, RDF.type)
        todo = _nodes(gone | (after - before)) - nodes
        if todo:
            continue
        found: set[Triple] = set()
        for t in gone - after:
            premises = _support(store, rules, t, gone)
            if premises is None:
                return None
            found |= premises - support
        if not found:
            break
        support |= found
    else:
        return None
    values: dict[tuple[Any, Any], Any] = {}
    for s, p, o in after:
        if p in rules.functional and values.setdefault((s, p), o) != o:
            return None
    drop = (inferred & kept) | ((inferred & gone) - after)  # now asserted, or no longer true
    fresh = {t for t in ((after - before) | (lost & after)) - kept
             if not _trivial(*t) and not isinstance(t[0], Literal)}
    return drop, fresh


def read_store(store: Any) -> tuple[rdflib.Graph, list[Any], list[Triple]]:
    """(the ontology graph, the asserted data quads, the inferred triples) of a store, in
    pyoxigraph terms (a quad's graph as its IRI string), read in one dump: much faster than
    building rdflib graphs. Raises what ``store.dump`` does.
    """
    import io

    import pyoxigraph as ox

    from kg_service.sparql_update import is_protected
    from kg_service.store.terms import from_ox

    buf = io.BytesIO()
    store.dump(buf)
    buf.seek(0)
    ontology = rdflib.Graph()
    data: list[Any] = []
    inferred: list[Triple] = []
    for q in ox.parse(buf, format=ox.RdfFormat.N_QUADS):
        s, p, o, g = tuple(q)
        if not isinstance(g, ox.NamedNode):
            continue
        if g.value == ONTOLOGY_GRAPH:
            ontology.add((from_ox(s), from_ox(p), from_ox(o)))
        elif g.value == INFERRED_GRAPH:
            inferred.append((s, p, o))
        elif not is_protected(g.value):
            data.append((s, p, o, g.value))
    return ontology, data, inferred


def infer_store(store: Any, removed: Iterable[Any] = (), added: Iterable[Any] = ()
                ) -> tuple[set[Triple] | None, set[Triple]]:
    """(``infer`` over everything asserted in ``store`` once the data quads ``removed`` are
    taken out and ``added`` put in, None when owlrl must decide; the inferred graph as
    stored), as rdflib triples. Raises what ``store.dump`` and owlrl (compiling) raise."""
    from kg_service.store.terms import from_ox, gc_paused, to_ox

    with gc_paused():  # every fact of the store in memory at once (100k: 5.6 -> 3.7 s)
        ontology, data, stored = read_store(store)
        quads = set(data)
        quads.difference_update((to_ox(s), to_ox(p), to_ox(o), str(g))
                                for s, p, o, g in removed)
        quads.update((to_ox(s), to_ox(p), to_ox(o), str(g)) for s, p, o, g in added)
        old = {(from_ox(s), from_ox(p), from_ox(o)) for s, p, o in stored}
        facts = {q[:3] for q in quads}
        return infer(ontology, facts, key=to_ox, term=from_ox), old


def data_only(quads: Iterable[tuple[Any, Any, Any, str]]) -> bool:
    """True when no quad can change the ontology's axioms: none is in the ontology graph,
    none has a blank node or a literal subject, and the only RDF/RDFS/OWL terms are
    ``rdf:type`` (to a named, non-builtin class) and annotation predicates. Raises nothing.
    """
    for s, p, o, g in quads:
        if str(g) == ONTOLOGY_GRAPH:
            return False
        if any(isinstance(n, BNode) for n in (s, p, o)) or isinstance(s, Literal):
            return False
        if isinstance(s, URIRef) and str(s).startswith(AXIOM_NS):
            return False
        if p == RDF.type:
            if not isinstance(o, URIRef) or str(o).startswith(AXIOM_NS):
                return False
        elif (str(p).startswith(AXIOM_NS) and p not in ANNOTATIONS) or (
                isinstance(o, URIRef) and str(o).startswith(AXIOM_NS)):
            return False
    return True

"""Checks a changeset must pass before it is applied: SHACL and HermiT.

SHACL (``cases.validate_shacl``) runs on the focus nodes of the change only: the subjects
and objects the change touches, with their neighbourhood (``_neighbourhood``) as the data
will be after the change. Only violations on those nodes that were not there before the
change refuse it. When the ontology changes, or the change touches more than
``_FOCUS_LIMIT`` nodes, all data is checked.

HermiT (``reasoning.check_consistency``) runs when the change adds to the ontology or adds
types, class axioms or links between individuals: on the ontology as it will be plus the
neighbourhood of the individuals the change touches. Removals alone cannot make an OWL
ontology inconsistent or a class unsatisfiable (OWL is monotonic), so they skip HermiT.
pyshacl gets the ontology's axioms from a copy cached per ontology (``_inoculated``).

The neighbourhood of a set of nodes: their own triples; the triples of the nodes they point
at (only their types when there are more than ``_HUB`` of them, e.g. a case's hundreds of
practices); and the triples pointing at them (for a node with more than ``_HUB`` of them,
e.g. a style every practice exhibits, one such triple per predicate and graph). That keeps
what the shapes use — a value's types for ``sh:class``, one incoming triple for
``sh:targetObjectsOf`` — and every type a domain or range gives a node, without handing
thousands of unrelated practices to pyshacl and HermiT. Shapes that look further
(``sh:inversePath``, ``sh:node``, complex paths) get every incoming triple and every
neighbour's triples.
"""

from __future__ import annotations

import time
from typing import Any, Iterable

import rdflib
from rdflib import OWL, RDF, RDFS, BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, SH, SKOS
from rdflib.term import Node

from kg_service.cases import bundled_shapes, validate_shacl
from kg_service.errors import ValidationFailed
from kg_service.namespaces import HISTORY_GRAPH, INFERRED_GRAPH, ONTOLOGY_GRAPH
from kg_service.sparql_update import Quad, is_protected, user_graphs

_FOCUS_LIMIT = 2000
_LABELS = {RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy}
_AXIOMS = {RDFS.subClassOf, RDFS.subPropertyOf, RDFS.domain, RDFS.range}
_CHUNK = 200
_HUB = 100
_WRITABLE = (f"FILTER(?g != <{INFERRED_GRAPH}> && ?g != <{HISTORY_GRAPH}> "
             f"&& !STRSTARTS(STR(?g), \"{HISTORY_GRAPH}/\"))")


def _about(store: Any, nodes: Iterable[Node], incoming: bool = False) -> set[Quad]:
    """Quads (in writable graphs) with these nodes as subject (or, with incoming, object)."""
    nodes = list(dict.fromkeys(n for n in nodes if not isinstance(n, Literal)))
    var = "o" if incoming else "s"
    out: set[Quad] = set()
    plain = [n for n in nodes if isinstance(n, URIRef)]
    for i in range(0, len(plain), _CHUNK):
        values = " ".join(n.n3() for n in plain[i:i + _CHUNK])
        for r in store.select(f"SELECT ?s ?p ?o ?g WHERE {{ VALUES ?{var} {{ {values} }} "
                              "GRAPH ?g { ?s ?p ?o } }"):
            out.add((r["s"], r["p"], r["o"], str(r["g"])))
    for n in nodes:
        if isinstance(n, BNode):
            for r in store.select("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", **{var: n}):
                out.add((r.get("s", n), r["p"], r.get("o", n), str(r["g"])))
    return {q for q in out if not is_protected(q[3])}


def _is_hub(store: Any, node: URIRef) -> bool:
    rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ SELECT ?s WHERE {{ GRAPH ?g {{ "
                        f"?s ?p {node.n3()} }} {_WRITABLE} }} LIMIT {_HUB + 1} }}")
    return int(rows[0]["n"]) > _HUB


_PROPERTY_TYPES = {OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty,
                   RDF.Property, OWL.FunctionalProperty, OWL.InverseFunctionalProperty,
                   OWL.TransitiveProperty, OWL.SymmetricProperty, OWL.AsymmetricProperty,
                   OWL.ReflexiveProperty, OWL.IrreflexiveProperty}


def _meaningful_predicates(ontology: rdflib.Graph) -> set[URIRef]:
    """The properties the ontology or the shapes say anything about (plus rdf:type): an
    edge with any other predicate means nothing to HermiT or SHACL."""
    out = {s for s, o in ontology.subject_objects(RDF.type) if o in _PROPERTY_TYPES}
    for p in (RDFS.subPropertyOf, OWL.equivalentProperty, OWL.inverseOf):
        for s, o in ontology.subject_objects(p):
            out |= {s, o}
    out |= set(ontology.subjects(RDFS.domain)) | set(ontology.subjects(RDFS.range))
    out |= set(ontology.subjects(OWL.propertyChainAxiom)) | set(ontology.objects(None,
                                                                                OWL.onProperty))
    shapes = bundled_shapes()
    for p in (SH.path, SH.targetObjectsOf, SH.targetSubjectsOf):
        out |= set(shapes.objects(None, p))
    return {p for p in out if isinstance(p, URIRef)} | {RDF.type}


def _incoming(store: Any, nodes: set[Node], whole: bool,
              ontology: rdflib.Graph | None) -> set[Quad]:
    """Triples pointing at ``nodes``: all of them, or for a node with more than ``_HUB``
    (unless ``whole``) one per predicate the ontology or shapes name, from the data graphs
    (the ontology graph is checked as a whole anyway): cheap (predicate and object bound)
    and all a domain, range or ``sh:targetObjectsOf`` needs."""
    hubs = set() if whole or ontology is None else {
        n for n in nodes if isinstance(n, URIRef) and _is_hub(store, n)}
    out = _about(store, nodes - hubs, incoming=True)
    if hubs and ontology is not None:
        out |= _one_per_predicate(store, sorted(hubs), sorted(_meaningful_predicates(ontology)))
    return out


def _one_per_predicate(store: Any, hubs: list[Node], preds: list[URIRef]) -> set[Quad]:
    """One quad ``?x p hub`` (if any) per predicate and hub, from the data graphs. Oxigraph
    evaluates them all in one query with LATERAL (SEP-0006): ~0.01 s for a commit's hubs
    at 1M against ~0.1 s for one query per pair, which other stores get."""
    from kg_service.store.embedded import EmbeddedStore

    where = f"GRAPH ?g {{ ?x ?p ?n }} {_WRITABLE} FILTER(?g != <{ONTOLOGY_GRAPH}>)"
    out: set[Quad] = set()
    if isinstance(store, EmbeddedStore):
        for r in store.select(
                f"SELECT ?x ?p ?n ?g WHERE {{ VALUES ?n {{ {' '.join(n.n3() for n in hubs)} }} "
                f"VALUES ?p {{ {' '.join(p.n3() for p in preds)} }} "
                f"LATERAL {{ SELECT ?x ?p ?n ?g WHERE {{ {where} }} LIMIT 1 }} }}"):
            out.add((r["x"], r["p"], r["n"], str(r["g"])))
        return out
    for n in hubs:
        for p in preds:
            for r in store.select(f"SELECT ?x ?g WHERE {{ GRAPH ?g {{ ?x {p.n3()} {n.n3()} }} "
                                  f"{_WRITABLE} FILTER(?g != <{ONTOLOGY_GRAPH}>) }} LIMIT 1"):
                out.add((r["x"], p, n, str(r["g"])))
    return out


def _types(store: Any, nodes: set[Node]) -> set[Quad]:
    """The rdf:type triples of ``nodes`` (in writable graphs)."""
    plain = [n for n in nodes if isinstance(n, URIRef)]
    out: set[Quad] = set()
    for i in range(0, len(plain), _CHUNK):
        values = " ".join(n.n3() for n in plain[i:i + _CHUNK])
        for r in store.select(f"SELECT ?s ?o ?g WHERE {{ VALUES ?s {{ {values} }} "
                              f"GRAPH ?g {{ ?s a ?o }} {_WRITABLE} }}"):
            out.add((r["s"], RDF.type, r["o"], str(r["g"])))
    return out | _about(store, [n for n in nodes if isinstance(n, BNode)])


def _neighbourhood(store: Any, nodes: set[Node], added: set[Quad],
                   ontology: rdflib.Graph | None) -> set[Quad]:
    """The quads around ``nodes`` that SHACL and HermiT look at (see the module docstring),
    as stored now plus the ``added`` quads about them."""
    whole = not _local_shapes()
    own = _about(store, nodes) | {q for q in added if q[0] in nodes}
    near = {q[2] for q in own if not isinstance(q[2], Literal)} - nodes
    described = _about(store, near) if whole or len(near) <= _HUB else _types(store, near)
    return own | described | _incoming(store, nodes, whole, ontology)


def _local_shapes() -> bool:
    """True when the bundled shapes look only at a node's own values, their types and
    whether something points at it (no inverse or longer paths, no nested shapes)."""
    far = {SH.inversePath, SH.node, SH.qualifiedValueShape, SH.alternativePath,
           SH.zeroOrMorePath, SH.oneOrMorePath, SH.zeroOrOnePath}
    return not any(p in far or (p == SH.path and isinstance(o, BNode))
                   for _s, p, o in bundled_shapes())


_INOCULATED: dict[frozenset[Any], rdflib.Graph] = {}  # the last two ontologies' (before/after)


def _inoculated(ontology: rdflib.Graph) -> rdflib.Graph:
    """What pyshacl mixes into the data from ``ontology`` (its ``inoculate``: the RDFS/OWL
    axioms, classes and properties), computed once per ontology content: it depends on the
    ontology alone, and cloning it node by node was ~90% of a commit's SHACL time."""
    from pyshacl.rdfutil.inoculate import inoculate

    key = frozenset(ontology)
    found = _INOCULATED.get(key)
    if found is None:
        found = inoculate(rdflib.Graph(), ontology)
        while len(_INOCULATED) >= 2:
            _INOCULATED.pop(next(iter(_INOCULATED)), None)
        _INOCULATED[key] = found
    return found


def _shacl(data: rdflib.Graph, ontology: rdflib.Graph | None,
           focus: set[Node] | None) -> list[dict[str, str | None]]:
    """``cases.validate_shacl``, validating only the ``focus`` nodes (pyshacl's
    ``focus_nodes``) when given: their neighbours' types are in ``data`` for ``sh:class``,
    and would otherwise be validated too (and fail) for nothing. The ontology's axioms are
    added to ``data`` (which this changes) from ``_inoculated``, as pyshacl would add them.
    Raises what it raises."""
    shapes = bundled_shapes()
    if ontology is not None:
        data += _inoculated(ontology)
        ontology = rdflib.Graph()  # already mixed in
    if (focus is None or not focus or ontology is None
            or any(not isinstance(n, URIRef) for n in focus)):
        return validate_shacl(data, ontology, shapes)
    return validate_shacl(data, ontology, shapes, sorted(focus))


def _after(quads: set[Quad], removed: set[Quad], added: set[Quad],
           keep: Any = None) -> rdflib.Graph:
    g = rdflib.Graph()
    for q in (quads - removed) | {q for q in added if keep is None or keep(q)}:
        if q[3] != ONTOLOGY_GRAPH:
            g.add(q[:3])
    return g


def _graph_of(store: Any, names: Iterable[str]) -> set[Quad]:
    return {(s, p, o, g) for g in names for s, p, o in store.graph(g)}


def ontology_after(store: Any, removed: set[Quad], added: set[Quad]) -> rdflib.Graph:
    """The ontology graph as it will be after the change."""
    g = store.graph(ONTOLOGY_GRAPH)
    for q in removed:
        if q[3] == ONTOLOGY_GRAPH:
            g.remove(q[:3])
    for q in added:
        if q[3] == ONTOLOGY_GRAPH:
            g.add(q[:3])
    return g


def is_annotation(q: Quad) -> bool:
    """A label, comment, definition or other annotation with a literal value."""
    return isinstance(q[2], Literal) and (q[1] in _LABELS or str(q[1]).startswith(
        (str(SKOS), str(DCTERMS))))


def _needs_reasoner(added: set[Quad]) -> bool:
    for q in added:
        _s, p, o, g = q
        if is_annotation(q):
            continue
        if g == ONTOLOGY_GRAPH or p == RDF.type or not isinstance(o, Literal):
            return True
        if str(p).startswith(str(OWL)) or p in _AXIOMS:
            return True
    return False


def _check_shacl(store: Any, ontology: rdflib.Graph, removed: set[Quad], added: set[Quad],
                 focus: set[Node], whole: bool, before: set[Quad]) -> None:
    """SHACL on the data after the change (``before`` as read, minus ``removed``, plus
    ``added``): on the ``focus`` nodes, or all of it when ``whole``. Raises ValidationFailed
    for the violations the change introduces (not those already there)."""
    data = _after(before, removed, added, None if whole else
                  (lambda q: q[0] in focus or q[2] in focus))
    found = [v for v in _shacl(data, ontology, None if whole else focus)
             if v.get("severity") in (None, "Violation")
             and (whole or v["focus"] in {str(n) for n in focus})]
    if found:
        old = _after(before - added, set(), set())
        known = {(v["focus"], v["path"], v["shape"], v["value"])
                 for v in _shacl(old, store.graph(ONTOLOGY_GRAPH), None if whole else focus)}
        found = [v for v in found
                 if (v["focus"], v["path"], v["shape"], v["value"]) not in known]
    if found:
        raise ValidationFailed(
            f"The change breaks {len(found)} SHACL constraint(s): "
            + "; ".join(f"{v['focus']} {v['path'] or ''}: {v['message']}" for v in found[:5]),
            violations=found, nothing_applied=True)


def check_change(store: Any, removed: Iterable[Quad], added: Iterable[Quad]) -> dict[str, Any]:
    """Validate a normalised change against the store; returns what was checked and timings.

    Raises ValidationFailed (SHACL violations with focus node, path, message and shape;
    an inconsistent ontology/ABox; unsatisfiable classes by IRI) and ReasonerFailed when
    HermiT cannot run.
    """
    from kg_service.reasoning import COMMIT_TIMEOUT, check_consistency

    removed, added = set(removed), set(added)
    touched = removed | added
    onto_changed = any(q[3] == ONTOLOGY_GRAPH and not is_annotation(q) for q in touched)
    shacl = onto_changed or any(q[3] != ONTOLOGY_GRAPH or is_annotation(q) for q in touched)
    reason = bool(added) and _needs_reasoner(added)
    report: dict[str, Any] = {"shacl": None, "hermit": None}
    if not (shacl or reason):
        return report
    ontology = ontology_after(store, removed, added)
    focus: set[Node] = set()
    whole, before = False, set()
    if shacl:
        started = time.perf_counter()
        focus = {n for q in touched if q[3] != ONTOLOGY_GRAPH or is_annotation(q)
                 for n in (q[0], q[2]) if not isinstance(n, Literal)}
        whole = onto_changed or len(focus) > _FOCUS_LIMIT
        if whole:
            before = _graph_of(store, [g for g in user_graphs(store) if g != ONTOLOGY_GRAPH])
        else:
            before = _neighbourhood(store, focus, added, ontology)
        _check_shacl(store, ontology, removed, added, focus, whole, before)
        report["shacl"] = {"nodes": "all" if whole else len(focus),
                           "seconds": round(time.perf_counter() - started, 3)}
    if reason:
        individuals = {n for q in added if q[3] != ONTOLOGY_GRAPH for n in (q[0], q[2])
                       if not isinstance(n, Literal)}
        data_added = {q for q in added if q[3] != ONTOLOGY_GRAPH}
        if shacl and not whole and focus == individuals and data_added == added:
            abox = before  # the same nodes and quads: read once (add-only data)
        else:
            abox = _neighbourhood(store, individuals, data_added, ontology)
        graph = ontology + _after(abox, removed, added)
        result = check_consistency(graph, COMMIT_TIMEOUT)
        if not result.ok:
            if not result.consistent:
                detail = "The change makes the ontology and data inconsistent. "
            else:
                detail = ("The change makes these classes unsatisfiable: "
                          + ", ".join(result.unsatisfiable) + ". ")
            raise ValidationFailed(detail + result.explanation, consistent=result.consistent,
                                   unsatisfiable=result.unsatisfiable,
                                   explanation=result.explanation, nothing_applied=True)
        report["hermit"] = {"seconds": round(result.seconds, 3), "triples": len(graph)}
    return report

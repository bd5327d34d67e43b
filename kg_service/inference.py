"""Fast OWL RL inferences for data-only changes.

``materialise_owl_rl`` (owlrl) recomputes the whole closure, which costs seconds at 10k
triples and minutes at 100k. When a change touches only case data (no ontology quad, no
RDF/RDFS/OWL term other than ``rdf:type`` to a named class, no blank node) the ontology's
axioms stay as they are, so this module compiles them once (per ontology content) into a
few forward rules over the data and iterates them to a fixpoint:

* the ontology-only consequences are owlrl's own output on the ontology (cached);
* the TBox used by the rules (sub/equivalent classes and properties, domains, ranges,
  inverses, symmetric/transitive properties, property chains, ``owl:hasValue``
  restrictions and ``owl:intersectionOf``) is read from owlrl's closure of the ontology;
* the result is filtered exactly like ``materialise_owl_rl``.

``infer`` returns None (callers then run owlrl) when the ontology uses a construct the
rules do not cover, or when the data would make owlrl derive ``owl:sameAs`` (two values of
a functional property), so it never returns a different answer than owlrl.
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rdflib
from rdflib import OWL, RDF, RDFS, BNode, Literal, URIRef

from kg_service import disk_cache

Triple = tuple[Any, Any, Any]

#: OWL terms whose rules the engine does not implement; their presence means "use owlrl".
_UNSUPPORTED = {OWL.someValuesFrom, OWL.allValuesFrom, OWL.unionOf, OWL.complementOf,
                OWL.maxCardinality, OWL.maxQualifiedCardinality, OWL.cardinality,
                OWL.qualifiedCardinality, OWL.minCardinality, OWL.hasKey, OWL.sameAs,
                OWL.hasSelf, OWL.onClass, OWL.InverseFunctionalProperty,
                OWL.ReflexiveProperty}

#: the namespaces whose terms can state axioms; the annotation predicates among them.
AXIOM_NS = (str(RDF), str(RDFS), str(OWL))
ANNOTATIONS = {RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy}
_TYPE = RDF.type  # namespace attribute lookups are slow in the inner loops
_LOCK = threading.Lock()
_CACHE: dict[str, Rules] = {}


@dataclass
class Rules:
    """The ontology's axioms compiled for data-level forward chaining."""

    supported: bool = True
    static: set[Triple] = field(default_factory=set)  # owlrl's output on the ontology alone
    supc: dict[Any, set[Any]] = field(default_factory=lambda: defaultdict(set))
    supp: dict[Any, set[Any]] = field(default_factory=lambda: defaultdict(set))
    dom: dict[Any, set[Any]] = field(default_factory=lambda: defaultdict(set))
    rng: dict[Any, set[Any]] = field(default_factory=lambda: defaultdict(set))
    inv: dict[Any, set[Any]] = field(default_factory=lambda: defaultdict(set))
    symmetric: set[Any] = field(default_factory=set)
    transitive: set[Any] = field(default_factory=set)
    functional: set[Any] = field(default_factory=set)
    chains: list[tuple[Any, list[tuple[bool, Any]]]] = field(default_factory=list)
    has_value: dict[Any, tuple[Any, Any]] = field(default_factory=dict)  # R -> (p, v)
    has_value_by: dict[tuple[Any, Any], set[Any]] = field(
        default_factory=lambda: defaultdict(set))  # (p, v) -> {R}
    intersections: dict[Any, list[Any]] = field(default_factory=dict)


def _list(graph: rdflib.Graph, head: Any) -> list[Any] | None:
    try:
        return list(rdflib.collection.Collection(graph, head))
    except Exception:  # noqa: BLE001 (a malformed list: not compilable)
        return None


def compile_rules(ontology: rdflib.Graph) -> Rules:
    """Compile an ontology graph into Rules (``supported`` False when owlrl must run).

    Raises nothing of its own; owlrl errors propagate.
    """
    from owlrl.Namespaces import ERRNS

    from kg_service.reasoning import _closure, _trivial

    rules = Rules()
    if any(p in _UNSUPPORTED or o in _UNSUPPORTED for _s, p, o in ontology):
        rules.supported = False
        return rules
    t = rdflib.Graph()
    for tr in ontology:
        t.add(tr)
    _closure(t)
    errors = set(t.subjects(RDF.type, ERRNS.ErrorMessage))  # as materialise_owl_rl filters
    rules.static = {tr for tr in t if tr not in ontology and tr[0] not in errors
                    and not _trivial(*tr)}
    for sub, equivalent, supers in ((RDFS.subClassOf, OWL.equivalentClass, rules.supc),
                                    (RDFS.subPropertyOf, OWL.equivalentProperty, rules.supp)):
        for a, b in t.subject_objects(sub):
            supers[a].add(b)
        for a, b in t.subject_objects(equivalent):
            supers[a].add(b)
            supers[b].add(a)
    for p, c in t.subject_objects(RDFS.domain):
        rules.dom[p].add(c)
    for p, c in t.subject_objects(RDFS.range):
        rules.rng[p].add(c)
    for p, q in t.subject_objects(OWL.inverseOf):
        rules.inv[p].add(q)
        rules.inv[q].add(p)
    rules.symmetric = set(t.subjects(RDF.type, OWL.SymmetricProperty))
    rules.transitive = set(t.subjects(RDF.type, OWL.TransitiveProperty))
    rules.functional = set(t.subjects(RDF.type, OWL.FunctionalProperty))
    for p, head in t.subject_objects(OWL.propertyChainAxiom):
        steps: list[tuple[bool, Any]] = []
        for step in _list(t, head) or [None]:
            if isinstance(step, URIRef):
                steps.append((False, step))
            elif isinstance(step, BNode) and t.value(step, OWL.inverseOf) is not None:
                steps.append((True, t.value(step, OWL.inverseOf)))
            else:
                rules.supported = False
                return rules
        rules.chains.append((p, steps))
    for r, v in t.subject_objects(OWL.hasValue):
        props = list(t.objects(r, OWL.onProperty))
        if len(props) != 1:
            rules.supported = False
            return rules
        rules.has_value[r] = (props[0], v)
        rules.has_value_by[(props[0], v)].add(r)
    for c, head in t.subject_objects(OWL.intersectionOf):
        members = _list(t, head)
        if not members:
            rules.supported = False
            return rules
        rules.intersections[c] = members
    return rules


def _digest(triples: Iterable[Triple]) -> str:
    """A digest of the ontology's content: a blank node stands for what it says (a hash of
    its own triples, nested), so a restriction whose value changes digests differently,
    while blank-node labels do not matter."""
    triples = list(triples)
    out: dict[Any, list[tuple[Any, Any]]] = {}
    for s, p, o in triples:
        if isinstance(s, BNode):
            out.setdefault(s, []).append((p, o))
    names: dict[Any, str] = {}

    def name(x: Any, seen: frozenset[Any] = frozenset()) -> str:
        if not isinstance(x, BNode):
            return x.n3()
        if x not in names:
            if x in seen:  # a cycle of blank nodes: no OWL construct makes one
                return "_:cycle"
            inner = sorted(p.n3() + " " + name(o, seen | {x}) for p, o in out.get(x, []))
            names[x] = "_:" + hashlib.sha256("\n".join(inner).encode("utf-8")).hexdigest()
        return names[x]

    h = hashlib.sha256()
    for line in sorted(" ".join(name(x) for x in tr) for tr in triples):
        h.update(line.encode("utf-8") + b"\n")
    return h.hexdigest()


@functools.cache
def _code_key() -> str:
    """What the compiled form depends on besides the ontology: this code, owlrl's
    closure (``reasoning``) and the libraries' versions."""
    import owlrl

    from kg_service import reasoning

    h = hashlib.sha256(f"{owlrl.__version__}\0{rdflib.__version__}".encode())
    for module in (__file__, reasoning.__file__):
        h.update(Path(module).read_bytes())
    return h.hexdigest()[:16]


def rules_for(ontology: rdflib.Graph) -> Rules:
    """Compiled Rules for this ontology content, cached by a digest of its triples
    (blank nodes by what they say): in this process, and on disk (``disk_cache``) so a new
    process (a server worker's first commit, a load) skips owlrl's closure of the ontology
    (about a second for the bundled one). Raises what compile_rules does."""
    triples = list(ontology)
    key = _digest(triples)
    with _LOCK:
        hit = _CACHE.get(key)
        if hit is None:
            name = f"owlrl-rules-{key[:32]}-{_code_key()}.pickle"
            cached = disk_cache.read_bytes(name)
            try:
                hit = pickle.loads(cached) if cached is not None else None
            except Exception:  # noqa: BLE001 (a damaged cache file: compile afresh)
                hit = None
            if not isinstance(hit, Rules):
                hit = compile_rules(ontology)
                disk_cache.write_bytes(name, pickle.dumps(hit))
            _CACHE.clear()  # one ontology at a time; avoid unbounded growth
            _CACHE[key] = hit
        return hit


def closure(rules: Rules, facts: Iterable[Triple], rdf_type: Any = _TYPE) -> set[Triple]:
    """All triples the rules derive from ``facts`` (facts included), with ``rdf_type`` the
    term standing for rdf:type (terms may be interned as ints). Raises nothing."""
    by_p: dict[Any, dict[Any, set[Any]]] = defaultdict(lambda: defaultdict(set))
    types: dict[Any, set[Any]] = defaultdict(set)
    known: set[Triple] = set()
    todo: list[Triple] = list(facts)
    joins = bool(rules.chains or rules.transitive or rules.intersections)
    # property -> [(chain number, [(position, step)])]: where a fact can enter a chain
    chain_steps: dict[Any, list[tuple[int, list[tuple[int, tuple[bool, Any]]]]]] = {}
    for n, (_p, steps) in enumerate(rules.chains):
        for q in {q for _i, q in steps}:
            chain_steps.setdefault(q, []).append(
                (n, [(i, st) for i, st in enumerate(steps) if st[1] == q]))
    indexed = set(chain_steps) | set(rules.transitive)
    by_o: dict[Any, dict[Any, set[Any]]] = defaultdict(lambda: defaultdict(set))

    while todo:
        fresh: list[Triple] = []
        for tr in todo:
            if tr not in known:
                known.add(tr)
                fresh.append(tr)
                by_p[tr[1]][tr[0]].add(tr[2])
                if tr[1] in indexed:
                    by_o[tr[1]][tr[2]].add(tr[0])
                if tr[1] == rdf_type:
                    types[tr[0]].add(tr[2])
        new: list[Triple] = []
        for s, p, o in fresh:
            for q in rules.supp.get(p, ()):
                new.append((s, q, o))
            for q in rules.inv.get(p, ()):
                new.append((o, q, s))
            if p in rules.symmetric:
                new.append((o, p, s))
            for c in rules.dom.get(p, ()):
                new.append((s, rdf_type, c))
            for c in rules.rng.get(p, ()):
                new.append((o, rdf_type, c))
            for r in rules.has_value_by.get((p, o), ()):
                new.append((s, rdf_type, r))
            if p == rdf_type:
                for d in rules.supc.get(o, ()):
                    new.append((s, rdf_type, d))
                if o in rules.has_value:
                    hp, hv = rules.has_value[o]
                    new.append((s, hp, hv))
                for m in rules.intersections.get(o, ()):
                    new.append((s, rdf_type, m))
        if joins and fresh:
            for c, members in rules.intersections.items():
                cands = {s for s, p, o in fresh if p == rdf_type and o in members}
                for s in cands:
                    if all(m in types[s] for m in members):
                        new.append((s, rdf_type, c))
            for s, p, o in fresh:  # semi-naive: only joins with a fact new this round
                if p in rules.transitive:
                    new.extend((s, p, o2) for o2 in by_p[p].get(o, ()))
                    new.extend((s0, p, o) for s0 in by_o[p].get(s, ()))
                for n, positions in chain_steps.get(p, ()):
                    chain, steps = rules.chains[n]
                    for i, (inverse, _q) in positions:
                        new.extend((x, chain, z) for x, z in _chain_ends(
                            steps, i, (o, s) if inverse else (s, o), by_p, by_o))
        todo = [tr for tr in new if tr not in known]
    return known


def _chain_ends(steps: list[tuple[bool, Any]], i: int, edge: tuple[Any, Any],
                by_p: dict[Any, dict[Any, set[Any]]], by_o: dict[Any, dict[Any, set[Any]]]
                ) -> list[tuple[Any, Any]]:
    """(start, end) of every path along ``steps`` whose step ``i`` is ``edge`` (its two
    nodes in the chain's direction), the other steps taken from the known facts."""
    def along(nodes: set[Any], inverse: bool, q: Any, forward: bool) -> set[Any]:
        index = by_p[q] if inverse != forward else by_o[q]
        return {m for n in nodes for m in index.get(n, ())}

    lefts, rights = {edge[0]}, {edge[1]}
    for inverse, q in reversed(steps[:i]):
        lefts = along(lefts, inverse, q, forward=False)
    for inverse, q in steps[i + 1:]:
        rights = along(rights, inverse, q, forward=True)
    return [(x, z) for x in lefts for z in rights]


def _same(x: Any) -> Any:
    return x


def infer(ontology: rdflib.Graph, data: Iterable[Triple], *,
          key: Callable[[Any], Any] = _same, term: Callable[[Any], Any] = _same
          ) -> set[Triple] | None:
    """The triples ``materialise_owl_rl(ontology + data)`` returns, or None when only
    owlrl can tell: an unsupported ontology construct, data that is not "data only" (see
    ``data_only``: a blank node, an RDF/RDFS/OWL term), or a functional property with two
    values (owlrl then derives owl:sameAs).

    ``data`` holds the asserted triples of every graph but the ontology, inferred and
    history graphs, as rdflib terms or as any hashable form of them: ``key`` maps an rdflib
    term to that form and ``term`` back (e.g. pyoxigraph terms, read without rdflib).
    Raises nothing of its own; owlrl errors (compiling) propagate.
    """
    from kg_service.reasoning import NOISE_CLASSES, _trivial

    rules = rules_for(ontology)
    if not rules.supported:
        return None
    ids: dict[Any, int] = {}
    terms: list[Any] = []

    def code(x: Any) -> int:  # rdflib terms compare slowly: the loops run on ints
        i = ids.get(x)
        if i is None:
            i = ids[x] = len(terms)
            terms.append(x)
        return i

    data_codes = {(code(s), code(p), code(o)) for s, p, o in data}
    if not _data_only_codes(data_codes, [term(x) for x in terms], ids.get(key(_TYPE))):
        return None
    asserted = set(data_codes)

    def ckey(x: Any) -> int:
        return code(key(x))

    asserted.update((ckey(s), ckey(p), ckey(o)) for s, p, o in ontology)
    derived = closure(_encode(rules, ckey), asserted, ckey(_TYPE))
    seen: dict[tuple[int, int], int] = {}
    functional = {ckey(p) for p in rules.functional}
    for s, p, o in derived:
        if p in functional and seen.setdefault((p, s), o) != o:
            return None
    derived -= asserted
    rdf_type = ckey(_TYPE)  # memberships _trivial drops anyway, skipped before converting
    noise = {ids[k] for k in map(key, NOISE_CLASSES) if k in ids}
    out = {(term(terms[s]), term(terms[p]), term(terms[o])) for s, p, o in derived
           if p != rdf_type or o not in noise}
    out = {tr for tr in out if not _trivial(*tr)}
    out.update(tr for tr in rules.static if (ckey(tr[0]), ckey(tr[1]), ckey(tr[2]))
               not in asserted)
    return out


def _data_only_codes(triples: set[tuple[int, int, int]], terms: list[Any],
                     rdf_type: int | None) -> bool:
    """``data_only`` for triples of term codes (``terms[i]`` the rdflib term of code i)."""
    bnode = {i for i, t in enumerate(terms) if isinstance(t, BNode)}
    literal = {i for i, t in enumerate(terms) if isinstance(t, Literal)}
    builtin = {i for i, t in enumerate(terms)
               if isinstance(t, URIRef) and str(t).startswith(AXIOM_NS)}
    bad_node = bnode | literal | builtin  # as a subject, or as the class of rdf:type
    bad_predicate = bnode | {i for i in builtin if terms[i] not in ANNOTATIONS}
    bad_object = bnode | builtin
    for s, p, o in triples:
        if s in bad_node:
            return False
        if p == rdf_type:
            if o in bad_node:
                return False
        elif p in bad_predicate or o in bad_object:
            return False
    return True


def _encode(rules: Rules, code: Any) -> Rules:
    """``rules`` with every term replaced by ``code(term)``."""
    def rel(d: dict[Any, set[Any]]) -> dict[Any, set[Any]]:
        return {code(k): {code(v) for v in vs} for k, vs in d.items()}

    out = Rules(supc=rel(rules.supc), supp=rel(rules.supp), dom=rel(rules.dom),
                rng=rel(rules.rng), inv=rel(rules.inv),
                symmetric={code(p) for p in rules.symmetric},
                transitive={code(p) for p in rules.transitive},
                chains=[(code(p), [(i, code(q)) for i, q in steps])
                        for p, steps in rules.chains],
                has_value={code(r): (code(p), code(v))
                           for r, (p, v) in rules.has_value.items()},
                intersections={code(c): [code(m) for m in ms]
                               for c, ms in rules.intersections.items()})
    for (p, v), rs in rules.has_value_by.items():
        out.has_value_by[(code(p), code(v))] = {code(r) for r in rs}
    return out

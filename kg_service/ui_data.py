"""What the web page shows, read from the store: counts, the class tree, a resource's
links and a neighbourhood for the graph pictures. No Flask here; the UI views call these.

Every function takes a :class:`~kg_service.store.KGStore` and raises whatever the store
raises (``KGError`` subclasses) and nothing else unless it says so.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rdflib import Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS

from kg_service.errors import NotFound
from kg_service.namespaces import CKM, ID, ONTOLOGY_GRAPH, PREFIXES
from kg_service.store import KGStore

_ONTO = f"<{ONTOLOGY_GRAPH}>"


def label_of(iri: str, labels: dict[str, str]) -> str:
    """A label for ``iri``: its rdfs:label, else its local name."""
    if iri in labels:
        return labels[iri]
    return iri.rstrip("/#").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or iri


def curie(iri: str) -> str:
    """``ckm:Company`` for a known namespace, else the IRI itself."""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def labels(store: KGStore) -> dict[str, str]:
    """Every rdfs:label (English or plain first) by IRI."""
    out: dict[str, str] = {}
    for row in store.select("SELECT ?s ?l WHERE { ?s rdfs:label ?l FILTER(isIRI(?s)) }"):
        lit = row["l"]
        lang = lit.language if isinstance(lit, Literal) else None
        if str(row["s"]) not in out or lang in (None, "en"):
            out[str(row["s"])] = str(lit)
    return out


@dataclass
class StyleCount:
    iri: str
    label: str
    practices: int
    companies: int


@dataclass
class Overview:
    statements: int
    classes: int
    companies: int
    cases: int
    practices: int
    graphs: int
    styles: list[StyleCount]


def overview_styles(store: KGStore) -> list[StyleCount]:
    """Practices and companies per style."""
    return [StyleCount(str(r["s"]), str(r["l"]), int(r["np"]), int(r["nc"]))
            for r in store.select("""
        SELECT ?s (SAMPLE(?lab) AS ?l) (COUNT(DISTINCT ?p) AS ?np) (COUNT(DISTINCT ?c) AS ?nc)
        WHERE { ?s a ckm:CKMStyle ; rdfs:label ?lab .
                OPTIONAL { ?p ckm:exhibitsStyle ?s } OPTIONAL { ?c ckm:appliesStyle ?s } }
        GROUP BY ?s""")]


def overview(store: KGStore) -> Overview:
    """The counts for the home page."""
    def count(query: str) -> int:
        rows = store.select(query)
        return int(rows[0]["n"]) if rows else 0

    return Overview(
        statements=len(store),
        classes=count("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { GRAPH " + _ONTO
                      + " { ?c a owl:Class } FILTER(isIRI(?c)) }"),
        companies=count("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a ckm:Company }"),
        cases=count("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a ckm:CaseStudy }"),
        practices=count("SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE { ?c a ckm:CKMPractice }"),
        graphs=len(store.named_graphs()),
        styles=sorted(overview_styles(store), key=lambda x: x.label.lower()),
    )


@dataclass
class ClassNode:
    iri: str
    label: str
    instances: list[tuple[str, str]] = field(default_factory=list)  # (iri, label)
    children: list[ClassNode] = field(default_factory=list)
    also_under: list[str] = field(default_factory=list)  # other parents' labels


def class_tree(store: KGStore) -> list[ClassNode]:
    """The ontology's classes as a forest (roots: no parent among the ontology's classes).

    A class with several parents appears under each; equivalent classes (mutual
    subclasses) are not expanded twice. Each instance is listed under its most specific
    classes only.
    """
    names = labels(store)
    classes = {str(r["c"]) for r in store.select(
        "SELECT DISTINCT ?c WHERE { GRAPH " + _ONTO + " { ?c a owl:Class } FILTER(isIRI(?c)) }")}
    parents: dict[str, set[str]] = defaultdict(set)
    for r in store.select("SELECT ?c ?p WHERE { GRAPH " + _ONTO + " { ?c rdfs:subClassOf ?p } "
                          "FILTER(isIRI(?p)) }"):
        c, p = str(r["c"]), str(r["p"])
        if c in classes and p in classes and c != p:
            parents[c].add(p)
    children: dict[str, set[str]] = defaultdict(set)
    for c, ps in parents.items():
        for p in ps:
            children[p].add(c)

    def ancestors(c: str) -> set[str]:
        seen: set[str] = set()
        todo = list(parents.get(c, ()))
        while todo:
            p = todo.pop()
            if p not in seen:
                seen.add(p)
                todo.extend(parents.get(p, ()))
        return seen

    types: dict[str, set[str]] = defaultdict(set)
    for r in store.select("SELECT DISTINCT ?x ?c WHERE { ?x a ?c FILTER(isIRI(?x)) }"):
        if str(r["c"]) in classes and str(r["x"]) not in classes:
            types[str(r["x"])].add(str(r["c"]))
    instances: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for x, ts in types.items():
        general = set().union(*(ancestors(t) - {t} for t in ts))
        for t in ts:
            if t not in general or t in ancestors(t):  # keep members of cycles
                instances[t].append((x, label_of(x, names)))

    def build(c: str, path: frozenset[str]) -> ClassNode:
        node = ClassNode(c, label_of(c, names),
                         sorted(instances.get(c, []), key=lambda t: t[1].lower()))
        node.also_under = sorted(label_of(p, names) for p in parents.get(c, ()) if p not in path)
        for k in sorted(children.get(c, ()), key=lambda k: label_of(k, names).lower()):
            if k not in path:
                node.children.append(build(k, path | {c}))
        return node

    forest = [build(c, frozenset()) for c in classes if not parents.get(c)]
    return sorted(forest, key=lambda n: n.label.lower())


@dataclass
class Link:
    predicate: str
    predicate_label: str
    iri: str | None  # the other end, when it is an IRI
    label: str  # the other end's label, or the literal's text
    lang: str | None = None


@dataclass
class Resource:
    iri: str
    label: str
    types: list[tuple[str, str]]
    is_class: bool
    outgoing: list[Link]
    incoming: list[Link]


def resource(store: KGStore, iri: str, limit: int = 300) -> Resource:
    """A resource's types, outgoing and incoming links (labels resolved), for browsing.

    Raises NotFound when the store says nothing about ``iri``.
    """
    names = labels(store)
    node = URIRef(iri)
    out_rows = store.select(f"SELECT DISTINCT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {limit:d}",
                            s=node)
    in_rows = store.select("SELECT DISTINCT ?o ?s ?p WHERE { ?s ?p ?o FILTER(isIRI(?s)) } "
                           f"LIMIT {limit:d}", o=node)
    if not out_rows and not in_rows:
        raise NotFound(f"Nothing is known about <{iri}>.")
    types: list[tuple[str, str]] = []
    outgoing: list[Link] = []
    is_class = False
    for r in out_rows:
        p, o = str(r["p"]), r["o"]
        if r["p"] == RDF.type and isinstance(o, URIRef):
            types.append((str(o), label_of(str(o), names)))
            is_class = is_class or o in (OWL.Class, RDFS.Class)
            continue
        if isinstance(o, URIRef):
            outgoing.append(Link(p, label_of(p, names), str(o), label_of(str(o), names)))
        elif isinstance(o, Literal):
            outgoing.append(Link(p, label_of(p, names), None, str(o), o.language))
    incoming = [Link(str(r["p"]), label_of(str(r["p"]), names), str(r["s"]),
                     label_of(str(r["s"]), names)) for r in in_rows]
    order = {str(RDFS.label): 0, str(CKM.description): 1}
    outgoing.sort(key=lambda k: (order.get(k.predicate, 2), k.predicate_label.lower(),
                                 k.label.lower()))
    incoming.sort(key=lambda k: (k.predicate_label.lower(), k.label.lower()))
    return Resource(iri, label_of(iri, names), sorted(types, key=lambda t: t[1]), is_class,
                    outgoing, incoming)


# Neighbourhoods for the graph pictures --------------------------------------------------

KINDS: list[tuple[str, str]] = [  # (class IRI, kind), most specific first
    (str(CKM.Company), "company"), (str(CKM.CKMPractice), "practice"),
    (str(CKM.CKMStyle), "style"), (str(CKM.CaseStudy), "case"),
    (str(CKM.ValueNetwork), "network"), (str(CKM.ProductServiceSystem), "pss"),
    (str(CKM.NetworkActor), "actor"), (str(CKM.Capability), "capability"),
    (str(CKM.BusinessITAlignment), "alignment"), (str(CKM.KnowledgeProcess), "process"),
]
KNOWLEDGE_TYPES = {str(CKM.KnowledgeAboutCustomer), str(CKM.KnowledgeFromCustomer),
                   str(CKM.KnowledgeForCustomer), str(CKM.CustomerKnowledge)}
SKIPPED = {str(CKM.describes), str(CKM.aboutCompany)}  # case -> everything: noise


@dataclass
class Neighbourhood:
    center: str
    nodes: dict[str, tuple[str, str, int]]  # iri -> (label, kind, depth)
    edges: list[tuple[str, str, str]]  # (subject, predicate, object)
    truncated: bool = False


def _kind(iri: str, types: set[str], elements: set[str]) -> str:
    if iri in KNOWLEDGE_TYPES:
        return "knowledge"
    if iri in elements:
        return "element"
    for cls, kind in KINDS:
        if cls in types:
            return kind
    return "other"


def neighbourhood(store: KGStore, iri: str, depth: int = 2, max_nodes: int = 40) -> Neighbourhood:
    """The things linked to ``iri`` by ckm: properties, up to ``depth`` hops.

    Only things under the data namespace (``.../id/``) are expanded: styles, knowledge
    types and business-model elements are ends, so a company's picture is its practices
    and what they exhibit, involve and support, not every other company of a style.
    Raises NotFound when ``iri`` has no such links.
    """
    ckm = str(CKM)
    nodes: dict[str, int] = {iri: 0}
    edges: set[tuple[str, str, str]] = set()
    frontier = [iri]
    truncated = False
    for d in range(1, depth + 1):
        nxt: list[str] = []
        for x in frontier:
            if x != iri and not x.startswith(str(ID)):
                continue
            rows = store.select("SELECT ?x ?p ?o WHERE { ?x ?p ?o FILTER(isIRI(?o)) }",
                                x=URIRef(x))
            links = [(x, str(r["p"]), str(r["o"])) for r in rows]
            rows = store.select("SELECT ?x ?s ?p WHERE { ?s ?p ?x FILTER(isIRI(?s)) }",
                                x=URIRef(x))
            links += [(str(r["s"]), str(r["p"]), x) for r in rows]
            for s, p, o in sorted(links):
                if not p.startswith(ckm) or p in SKIPPED:
                    continue
                other = o if s == x else s
                if other not in nodes:
                    if len(nodes) >= max_nodes:
                        truncated = True
                        continue
                    nodes[other] = d
                    nxt.append(other)
                edges.add((s, p, o))
        frontier = nxt
    if len(nodes) == 1:
        raise NotFound(f"<{iri}> has no links to draw.")
    names = labels(store)
    types: dict[str, set[str]] = defaultdict(set)
    for r in store.select("SELECT ?x ?c WHERE { ?x a ?c }"):
        if str(r["x"]) in nodes:
            types[str(r["x"])].add(str(r["c"]))
    elements = {str(r["c"]) for r in store.select(
        "SELECT ?c WHERE { ?c rdfs:subClassOf* ckm:BusinessModelElement }")}
    # one edge per pair: inverse duplicates (hasPractice beside practicedBy) dropped
    seen_pairs: set[frozenset[str]] = set()
    kept = []
    for s, p, o in sorted(edges, key=lambda e: (e[1] == str(CKM.hasPractice), e)):
        pair = frozenset((s, o))
        if p == str(CKM.hasPractice) and pair in seen_pairs:
            continue
        seen_pairs.add(pair)
        kept.append((s, p, o))
    return Neighbourhood(
        iri, {n: (label_of(n, names), _kind(n, types[n], elements), d)
              for n, d in nodes.items()}, kept, truncated)


def style_grid(store: KGStore) -> list[dict[str, object]]:
    """Each style with its label, intensities, knowledge forms and practice count."""
    rows = store.select("""
        SELECT ?s ?l ?i ?f WHERE { ?s a ckm:CKMStyle ; rdfs:label ?l .
          OPTIONAL { ?s ckm:interactionIntensity ?i } OPTIONAL { ?s ckm:knowledgeForm ?f } }""")
    out: dict[str, dict[str, object]] = {}
    for r in rows:
        item = out.setdefault(str(r["s"]), {"iri": str(r["s"]), "label": str(r["l"]),
                                            "intensity": set(), "form": set()})
        if r.get("i") is not None:
            item["intensity"].add(str(r["i"]).rsplit("#", 1)[-1])  # type: ignore[attr-defined]
        if r.get("f") is not None:
            item["form"].add(str(r["f"]).rsplit("#", 1)[-1])  # type: ignore[attr-defined]
    counts = {s.iri: s for s in overview_styles(store)}
    for iri, item in out.items():
        item["practices"] = counts[iri].practices if iri in counts else 0
        item["companies"] = counts[iri].companies if iri in counts else 0
    return sorted(out.values(), key=lambda x: str(x["label"]))


def completion_terms(store: KGStore) -> dict[str, list[str]]:
    """Local names of the ontology's terms by prefix, for the editor's completion."""
    out: dict[str, set[str]] = defaultdict(set)
    for r in store.select("SELECT DISTINCT ?s WHERE { GRAPH " + _ONTO + " { ?s ?p ?o } "
                          "FILTER(isIRI(?s)) }"):
        c = curie(str(r["s"]))
        if ":" in c and not c.startswith("http"):
            prefix, local = c.split(":", 1)
            if local and "/" not in local:
                out[prefix].add(local)
    return {k: sorted(v) for k, v in out.items()}

"""The REST editing API's JSON documents turned into changesets (no Flask here).

Tools that do not speak RDF send JSON; each function returns the :class:`Delta` that makes
the store agree with the document, for ``changes.submit_delta``. Terms are never pasted
into query text: values become rdflib terms.

Class: ``{"name": "CustomerJourney", "label": "...", "definition": "...",
"parents": ["ckm:CustomerKnowledge"], "disjointWith": ["ckm:..."]}``.
Property: ``{"name": "hasTouchpoint", "kind": "object"|"datatype"|"annotation", "label",
"definition", "domain", "range", "parents", "inverseOf"}``.
Individual (company, practice, case): ``{"id": "acme", "label": "...", "case": "holcim-hbk",
"values": {"ckm:practicedBy": "ckmid:company/acme", "ckm:benefit": ["...", "..."]}}``;
a value is a string, number, boolean, ``{"@id": iri}`` or ``{"@value", "@language"|"@type"}``;
strings are IRIs (CURIE or full) for object properties and literals otherwise.
In an update, each field given replaces that field's values; fields left out are kept.
"""

from __future__ import annotations

import re
from typing import Any

from rdflib import BNode, Literal, URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from kg_service.errors import BadRequest, Conflict, NotFound
from kg_service.namespaces import CASE_GRAPH_PREFIX, CKM, ID, ONTOLOGY_GRAPH, PREFIXES
from kg_service.sparql_update import Delta, Quad

KINDS = {"companies": ("company", CKM.Company, CKM.aboutCompany),
         "practices": ("practice", CKM.CKMPractice, CKM.hasPractice),
         "cases": ("case", CKM.CaseStudy, None)}
_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,80}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
_PROPERTY_KINDS = {"object": OWL.ObjectProperty, "datatype": OWL.DatatypeProperty,
                   "annotation": OWL.AnnotationProperty}


def expand(value: str, field: str = "value") -> URIRef:
    """A CURIE (``ckm:Company``) or full IRI as a URIRef; raises BadRequest otherwise."""
    value = str(value).strip()
    if re.match(r"^https?://[^\s<>\"{}|\\^`]+$", value):
        return URIRef(value)
    prefix, sep, local = value.partition(":")
    if sep and prefix in PREFIXES and re.match(r"^[\w\-./#]*$", local):
        return URIRef(PREFIXES[prefix] + local)
    raise BadRequest(f"{field}: {value!r} is not an IRI or a known CURIE "
                     f"({', '.join(sorted(PREFIXES))})", field=field)


def _list(doc: dict[str, Any], key: str) -> list[Any] | None:
    if key not in doc:
        return None
    v = doc[key]
    return [] if v is None else (v if isinstance(v, list) else [v])


def _current(store: Any, s: URIRef, p: URIRef, graph: str) -> list[Node]:
    return [r["o"] for r in store.select("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
                                         s=s, p=p, g=URIRef(graph))]


def _set(store: Any, delta: Delta, s: URIRef, p: URIRef, values: list[Node] | None,
         graph: str) -> None:
    """Make ``s p *`` in ``graph`` exactly ``values`` (None: leave alone)."""
    if values is None:
        return
    old = [o for o in _current(store, s, p, graph) if not isinstance(o, BNode)]
    for o in old:
        if o not in values:
            delta.remove((s, p, o, graph))
    for o in values:
        if o not in old:
            delta.add((s, p, o, graph))


def _exists(store: Any, s: URIRef) -> bool:
    return store.ask("ASK { GRAPH ?g { ?s ?p ?o } }", s=s)


def _lang(text: Any) -> list[Node] | None:
    return None if text is None else [Literal(str(text), lang="en")]


# ----------------------------------------------------------------------- classes, properties

def _term_iri(name: str, field: str) -> URIRef:
    if ":" in name:
        return expand(name, field)
    if not _NAME.match(name):
        raise BadRequest(f"{field}: {name!r} is not a name (letters, digits, _)", field=field)
    return CKM[name]


def class_delta(store: Any, doc: dict[str, Any], iri: str | None = None, *,
                create: bool) -> tuple[URIRef, Delta]:
    """The change that creates (or updates) a class. Raises BadRequest, Conflict, NotFound."""
    s = _term_iri(iri or str(doc.get("name") or ""), "name")
    present = _exists(store, s)
    if create and present:
        raise Conflict(f"<{s}> already exists; PUT /api/v1/classes/... to change it.", iri=str(s))
    if not create and not store.ask("ASK { GRAPH ?g { ?s a owl:Class } }", s=s,
                                    g=URIRef(ONTOLOGY_GRAPH)):
        raise NotFound(f"no class <{s}> in the ontology")
    if create and not doc.get("label"):
        raise BadRequest("'label' is required", field="label")
    d, g = Delta(), ONTOLOGY_GRAPH
    if create:
        d.add((s, RDF.type, OWL.Class, g))
    _set(store, d, s, RDFS.label, _lang(doc.get("label")), g)
    _set(store, d, s, SKOS.definition, _lang(doc.get("definition")), g)
    parents = _list(doc, "parents") if "parents" in doc else _list(doc, "parent")
    _set(store, d, s, RDFS.subClassOf, None if parents is None else
         [expand(p, "parents") for p in parents], g)
    disjoint = _list(doc, "disjointWith")
    _set(store, d, s, OWL.disjointWith, None if disjoint is None else
         [expand(p, "disjointWith") for p in disjoint], g)
    return s, d


def property_delta(store: Any, doc: dict[str, Any], iri: str | None = None, *,
                   create: bool) -> tuple[URIRef, Delta]:
    """The change that creates (or updates) a property. Raises BadRequest, Conflict, NotFound."""
    s = _term_iri(iri or str(doc.get("name") or ""), "name")
    if create and _exists(store, s):
        raise Conflict(f"<{s}> already exists", iri=str(s))
    if not create and not _exists(store, s):
        raise NotFound(f"no property <{s}>")
    d, g = Delta(), ONTOLOGY_GRAPH
    kind = doc.get("kind", "object" if create else None)
    if kind is not None:
        if kind not in _PROPERTY_KINDS:
            raise BadRequest("'kind' is one of object, datatype, annotation", field="kind")
        _set(store, d, s, RDF.type, [_PROPERTY_KINDS[kind]], g)
    if create and not doc.get("label"):
        raise BadRequest("'label' is required", field="label")
    _set(store, d, s, RDFS.label, _lang(doc.get("label")), g)
    _set(store, d, s, SKOS.definition, _lang(doc.get("definition")), g)
    for key, p in (("domain", RDFS.domain), ("range", RDFS.range),
                   ("parents", RDFS.subPropertyOf), ("inverseOf", OWL.inverseOf)):
        values = _list(doc, key)
        _set(store, d, s, p, None if values is None else [expand(v, key) for v in values], g)
    return s, d


def delete_term(store: Any, iri: str, *, kind: str) -> tuple[URIRef, Delta]:
    """Remove a class or property (its triples and blank-node axioms in the ontology).

    Raises NotFound, Conflict (still used by data or by other terms).
    """
    s = _term_iri(iri, "id")
    g = ONTOLOGY_GRAPH
    if not store.ask("ASK { GRAPH ?g { ?s ?p ?o } }", s=s, g=URIRef(g)):
        raise NotFound(f"no {kind} <{s}> in the ontology")
    users = store.select("SELECT DISTINCT ?x ?s WHERE { GRAPH ?h { ?x ?p ?s } "
                         "FILTER(isIRI(?x) && ?h != <https://w3id.org/ckm/inferred> "
                         "&& !STRSTARTS(STR(?h), 'https://w3id.org/ckm/history')) } LIMIT 20",
                         s=s)
    used = store.select("SELECT DISTINCT ?x ?s WHERE { GRAPH ?h { ?x ?s ?o } "
                        "FILTER(?h != <https://w3id.org/ckm/inferred>) } LIMIT 20", s=s)
    names = sorted({str(r["x"]) for r in users + used} - {str(s)})
    if names:
        raise Conflict(f"<{s}> is still used by {', '.join(names[:10])}; change those first.",
                       used_by=names)
    d = Delta()
    for q in closure(store, s, g):
        d.remove(q)
    return s, d


def closure(store: Any, s: Node, graph: str) -> list[Quad]:
    """Triples of ``s`` in ``graph`` and of the blank nodes they lead to."""
    out: list[Quad] = []
    todo, seen = [s], set()
    while todo:
        n = todo.pop()
        if n in seen:
            continue
        seen.add(n)
        for o in store.select("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", s=n, g=URIRef(graph)):
            out.append((n, o["p"], o["o"], graph))
            if isinstance(o["o"], BNode):
                todo.append(o["o"])
    return out


# ----------------------------------------------------------------------- individuals

def _object_property(store: Any, p: URIRef) -> bool:
    return p == RDF.type or store.ask("ASK { GRAPH ?g { ?p a owl:ObjectProperty } }", p=p,
                                      g=URIRef(ONTOLOGY_GRAPH))


def _value(store: Any, p: URIRef, v: Any, key: str) -> Node:
    if isinstance(v, dict):
        if "@id" in v:
            return expand(v["@id"], key)
        if "@value" in v:
            if "@language" in v:
                return Literal(str(v["@value"]), lang=v["@language"])
            return Literal(v["@value"], datatype=expand(v["@type"], key) if "@type" in v
                           else None)
        raise BadRequest(f"{key}: an object value needs @id or @value", field=key)
    if isinstance(v, bool | int | float):
        return Literal(v)
    if _object_property(store, p):
        return expand(str(v), key)
    return Literal(str(v))


def individual_iri(collection: str, item_id: str) -> URIRef:
    """The IRI of an item of a collection from its slug (or a full IRI / CURIE)."""
    if ":" in item_id:
        return expand(item_id, "id")
    if not _SLUG.match(item_id):
        raise BadRequest("'id': lower-case letters, digits and '-' only", field="id")
    return ID[f"{KINDS[collection][0]}/{item_id}"]


def _home(store: Any, s: URIRef) -> str | None:
    rows = store.select("SELECT ?g ?s WHERE { GRAPH ?g { ?s a ?t } FILTER(STRSTARTS(STR(?g), "
                        f"'{CASE_GRAPH_PREFIX}')) }} ORDER BY ?g LIMIT 1", s=s)
    return str(rows[0]["g"]) if rows else None


def individual_delta(store: Any, collection: str, doc: dict[str, Any],
                     item_id: str | None = None, *, create: bool) -> tuple[URIRef, Delta]:
    """The change that creates (or updates) a company, practice or case.

    Raises BadRequest (bad field), Conflict (exists), NotFound (unknown item or case).
    """
    kind, cls, link = KINDS[collection]
    s = individual_iri(collection, item_id or str(doc.get("id") or ""))
    if create:
        if _exists(store, s):
            raise Conflict(f"<{s}> already exists", iri=str(s))
        if not doc.get("label"):
            raise BadRequest("'label' is required", field="label")
        if kind == "case":
            graph = str(s)
        else:
            case = doc.get("case")
            if not case:
                raise BadRequest("'case': the case (id or IRI) this belongs to", field="case")
            graph = str(individual_iri("cases", str(case)))
            if not store.ask("ASK { GRAPH ?g { ?g a ckm:CaseStudy } }", g=URIRef(graph)):
                raise NotFound(f"no case <{graph}>", field="case")
    else:
        home = _home(store, s)
        if home is None:
            raise NotFound(f"no {kind} <{s}>")
        graph = home
    d = Delta()
    if create:
        d.add((s, RDF.type, cls, graph))
        if link is not None:
            d.add((URIRef(graph), link, s, graph))
    if "label" in doc:
        _set(store, d, s, RDFS.label, [Literal(str(doc["label"]))], graph)
    values = doc.get("values") or {}
    if not isinstance(values, dict):
        raise BadRequest("'values' is an object {property: value(s)}", field="values")
    for key, raw in values.items():
        p = expand(key, "values")
        items = raw if isinstance(raw, list) else [raw]
        _set(store, d, s, p, [_value(store, p, v, key) for v in items if v is not None], graph)
    return s, d


def delete_individual(store: Any, collection: str, item_id: str) -> tuple[URIRef, Delta]:
    """Remove a company, practice or case: its triples and the links to it.

    Raises NotFound.
    """
    s = individual_iri(collection, item_id)
    if KINDS[collection][0] == "case":
        triples = [(r["s"], r["p"], r["o"], str(s)) for r in store.select(
            "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", g=s)]
        if not triples:
            raise NotFound(f"no case <{s}>")
    else:
        rows = store.select("SELECT * WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?g != "
                            "<https://w3id.org/ckm/inferred> && !STRSTARTS(STR(?g), "
                            "'https://w3id.org/ckm/history')) }", s=s)
        rows_in = store.select("SELECT * WHERE { GRAPH ?g { ?x ?p ?s } FILTER(?g != "
                               "<https://w3id.org/ckm/inferred> && !STRSTARTS(STR(?g), "
                               "'https://w3id.org/ckm/history')) }", s=s)
        if not rows:
            raise NotFound(f"no {KINDS[collection][0]} <{s}>")
        triples = ([(s, r["p"], r["o"], str(r["g"])) for r in rows]
                   + [(r["x"], r["p"], s, str(r["g"])) for r in rows_in])
    d = Delta()
    for q in triples:
        d.remove(q)
    return s, d

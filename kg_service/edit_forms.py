"""The web page's edit forms turned into SPARQL Updates (one changeset each).

A form is a dict of fields (what the page posts as JSON). :func:`plan` reads what is in
the store now and returns the exact ``DELETE DATA`` / ``INSERT DATA`` that makes the
thing look like the form, so the researcher sees every triple before committing. Values
are RDF terms serialised by rdflib (never pasted text), so a label cannot inject SPARQL.
No Flask here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS
from rdflib.term import Node

from kg_service.errors import BadRequest
from kg_service.namespaces import CKM, ID, ONTOLOGY_GRAPH
from kg_service.store import KGStore

Triple = tuple[Node, Node, Node]
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")
CLASS_NAME = re.compile(r"^[A-Z][A-Za-z0-9]{0,80}$")


@dataclass
class Plan:
    kind: str
    iri: str
    graph: str
    removed: list[Triple] = field(default_factory=list)
    added: list[Triple] = field(default_factory=list)
    existing: bool = False

    @property
    def update(self) -> str:
        """The SPARQL Update text of the plan."""
        def block(triples: list[Triple]) -> str:
            lines = "\n".join(f"    {s.n3()} {p.n3()} {o.n3()} ." for s, p, o in triples)
            return f"  GRAPH <{self.graph}> {{\n{lines}\n  }}"
        parts = []
        if self.removed:
            parts.append("DELETE DATA {\n" + block(self.removed) + "\n}")
        if self.added:
            parts.append("INSERT DATA {\n" + block(self.added) + "\n}")
        return " ;\n".join(parts) + "\n"

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "iri": self.iri, "graph": self.graph,
                "existing": self.existing, "update": self.update,
                "removed": len(self.removed), "added": len(self.added)}


def slugify(text: str) -> str:
    """``"Quality control & product"`` -> ``"quality-control-product"``."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def _text(form: dict[str, Any], name: str, required: bool = True) -> str:
    value = form.get(name)
    value = "" if value is None else str(value).strip()
    if required and not value:
        raise BadRequest(f"'{name}' is required.", field=name)
    return value


def _iris(form: dict[str, Any], name: str) -> list[URIRef]:
    values = form.get(name) or []
    if isinstance(values, str):
        values = [values]
    out = []
    for v in values:
        v = str(v).strip()
        if v:
            if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", v):
                raise BadRequest(f"'{name}': {v!r} is not an IRI.", field=name)
            out.append(URIRef(v))
    return out


def _iri(form: dict[str, Any], name: str, required: bool = True) -> URIRef | None:
    values = _iris(form, name)
    if not values:
        if required:
            raise BadRequest(f"'{name}' is required.", field=name)
        return None
    return values[0]


def _graph_of(store: KGStore, iri: URIRef) -> str | None:
    rows = store.select("SELECT ?x ?g WHERE { GRAPH ?g { ?x a ?t } } ORDER BY ?g LIMIT 1", x=iri)
    return str(rows[0]["g"]) if rows else None


def _current(store: KGStore, iri: URIRef, graph: str, props: list[URIRef]) -> list[Triple]:
    out: list[Triple] = []
    for p in props:
        for r in store.select("SELECT ?x ?p ?o ?g WHERE { GRAPH ?g { ?x ?p ?o } }", x=iri, p=p,
                              g=URIRef(graph)):
            out.append((iri, p, r["o"]))
    return out


def _diff(plan: Plan, before: list[Triple], after: list[Triple]) -> Plan:
    b, a = set(before), set(after)
    plan.removed = [t for t in before if t not in a]
    plan.added = [t for t in after if t not in b]
    return plan


def _sources(form: dict[str, Any], s: URIRef) -> list[Triple]:
    out: list[Triple] = []
    paper = _iri(form, "paper")
    out.append((s, DCTERMS.source, paper))  # type: ignore[arg-type]
    out.append((s, CKM.sourceLocator, Literal(_text(form, "locator"))))
    return out


PRACTICE_PROPS = [RDFS.label, CKM.description, CKM.practicedBy, CKM.exhibitsStyle,
                  CKM.involvesKnowledge, CKM.supportsElement, CKM.benefit, DCTERMS.source,
                  CKM.sourceLocator]
INDIVIDUAL_PROPS = [RDFS.label, CKM.description, DCTERMS.source, CKM.sourceLocator]
CLASS_PROPS = [RDFS.label, SKOS.definition, RDFS.subClassOf]


def plan(store: KGStore, form: dict[str, Any]) -> Plan:
    """The changeset that makes the store agree with ``form``.

    ``form["kind"]`` is ``practice``, ``individual`` or ``class``; ``form["iri"]`` names an
    existing thing to change (else a new one is made from ``slug``/``name``). Raises
    BadRequest for a missing or malformed field (``field`` names it) or an unknown thing.
    """
    kind = _text(form, "kind")
    existing = _iri(form, "iri", required=False)
    if kind == "practice":
        return _practice(store, form, existing)
    if kind == "individual":
        return _individual(store, form, existing)
    if kind == "class":
        return _class(store, form, existing)
    raise BadRequest(f"unknown kind {kind!r}; one of practice, individual, class",
                     field="kind")


def _target(store: KGStore, form: dict[str, Any], existing: URIRef | None, kind: str,
            make: URIRef, default_graph: str | None) -> tuple[URIRef, str, bool]:
    if existing is not None:
        graph = _graph_of(store, existing)
        if graph is None:
            raise BadRequest(f"<{existing}> is not in the graph; nothing to change.", field="iri")
        return existing, graph, True
    if store.ask("ASK { ?x ?p ?o }", x=make):
        raise BadRequest(f"<{make}> already exists; pick it to change it, or another name.",
                         field="slug" if kind != "class" else "name")
    graph = _iri(form, "graph", required=False)
    g = str(graph) if graph is not None else default_graph
    if not g:
        raise BadRequest("'graph' is required: the case this belongs to.", field="graph")
    return make, g, False


def _practice(store: KGStore, form: dict[str, Any], existing: URIRef | None) -> Plan:
    label = _text(form, "label")
    company = _iri(form, "company")
    slug = _text(form, "slug", required=False) or slugify(label)
    if existing is None and not SLUG.match(slug):
        raise BadRequest("'slug': lower-case letters, digits and '-' only.", field="slug")
    s, graph, is_old = _target(store, form, existing, "practice", ID["practice/" + slug],
                               _graph_of(store, company))  # type: ignore[arg-type]
    styles = _iris(form, "styles")
    after: list[Triple] = [(s, RDFS.label, Literal(label)),
                           (s, CKM.practicedBy, company)]  # type: ignore[list-item]
    if text := _text(form, "description", required=False):
        after.append((s, CKM.description, Literal(text)))
    after += [(s, CKM.exhibitsStyle, x) for x in styles]
    after += [(s, CKM.involvesKnowledge, x) for x in _iris(form, "knowledge")]
    after += [(s, CKM.supportsElement, x) for x in _iris(form, "supports")]
    benefits = form.get("benefits") or ""
    if isinstance(benefits, str):
        benefits = benefits.splitlines()
    after += [(s, CKM.benefit, Literal(b.strip())) for b in benefits if str(b).strip()]
    after += _sources(form, s)
    p = Plan("practice", str(s), graph, existing=is_old)
    before = _current(store, s, graph, PRACTICE_PROPS) if is_old else []
    if not is_old:
        after[:0] = [(s, RDF.type, CKM.CKMPractice), (URIRef(graph), CKM.hasPractice, s)]
    return _diff(p, before, after)


def _individual(store: KGStore, form: dict[str, Any], existing: URIRef | None) -> Plan:
    label = _text(form, "label")
    cls = _iri(form, "class", required=existing is None)
    slug = _text(form, "slug", required=False) or slugify(label)
    folder = (str(cls).rsplit("#", 1)[-1].lower() if cls is not None else "thing")
    if existing is None and not SLUG.match(slug):
        raise BadRequest("'slug': lower-case letters, digits and '-' only.", field="slug")
    s, graph, is_old = _target(store, form, existing, "individual", ID[f"{folder}/{slug}"],
                               None)
    after: list[Triple] = [(s, RDFS.label, Literal(label))]
    if text := _text(form, "description", required=False):
        after.append((s, CKM.description, Literal(text)))
    after += _sources(form, s)
    before = _current(store, s, graph, INDIVIDUAL_PROPS) if is_old else []
    if not is_old:
        after[:0] = [(s, RDF.type, cls), (URIRef(graph), CKM.describes, s)]  # type: ignore[list-item]
    return _diff(Plan("individual", str(s), graph, existing=is_old), before, after)


def _class(store: KGStore, form: dict[str, Any], existing: URIRef | None) -> Plan:
    label = _text(form, "label")
    parent = _iri(form, "parent", required=False)
    name = _text(form, "name", required=existing is None)
    if existing is None and not CLASS_NAME.match(name):
        raise BadRequest("'name': an UpperCamelCase name such as CustomerJourney.", field="name")
    form = {**form, "graph": ONTOLOGY_GRAPH}
    s, graph, is_old = _target(store, form, existing, "class", CKM[name or "_"],
                               ONTOLOGY_GRAPH)
    after: list[Triple] = [(s, RDFS.label, Literal(label, lang="en"))]
    if text := _text(form, "definition", required=False):
        after.append((s, SKOS.definition, Literal(text, lang="en")))
    if parent is not None:
        after.append((s, RDFS.subClassOf, parent))
    before = _current(store, s, graph, CLASS_PROPS) if is_old else []
    # restrictions (blank-node superclasses) are not the form's business
    before = [t for t in before if t[1] != RDFS.subClassOf or isinstance(t[2], URIRef)]
    if not is_old:
        after[:0] = [(s, RDF.type, OWL.Class)]
    return _diff(Plan("class", str(s), graph, existing=is_old), before, after)


def choices(store: KGStore) -> dict[str, list[tuple[str, str]]]:
    """The options of the forms' selects: (IRI, label) pairs, sorted by label."""
    def pairs(query: str) -> list[tuple[str, str]]:
        rows = store.select(query)
        return sorted({(str(r["x"]), str(r["l"])) for r in rows}, key=lambda t: t[1].lower())

    return {
        "companies": pairs("SELECT ?x ?l WHERE { ?x a ckm:Company ; rdfs:label ?l }"),
        "styles": pairs("SELECT ?x ?l WHERE { ?x a ckm:CKMStyle ; rdfs:label ?l }"),
        "knowledge": pairs("SELECT ?x ?l WHERE { ?x rdfs:subClassOf ckm:CustomerKnowledge ; "
                           "rdfs:label ?l FILTER(?x != ckm:CustomerKnowledge) }"),
        "elements": pairs("SELECT ?x ?l WHERE { ?x rdfs:subClassOf ckm:BusinessModelElement ; "
                          "rdfs:label ?l FILTER(?x != ckm:BusinessModelElement) }"),
        "papers": pairs("SELECT ?x ?l WHERE { ?x a bibo:AcademicArticle ; rdfs:label ?l }"),
        "cases": pairs("SELECT ?x ?l WHERE { ?x a ckm:CaseStudy ; rdfs:label ?l }"),
        "classes": pairs("SELECT ?x ?l WHERE { GRAPH <" + ONTOLOGY_GRAPH + "> { ?x a owl:Class ; "
                         "rdfs:label ?l } }"),
        "practices": pairs("SELECT ?x ?l WHERE { ?x a ckm:CKMPractice ; rdfs:label ?l }"),
        "individuals": pairs("SELECT ?x ?l WHERE { GRAPH ?g { ?x a ?c ; rdfs:label ?l } "
                             "FILTER(STRSTARTS(STR(?x), STR(ckmid:))) }"),
    }


def current_values(store: KGStore, iri: str) -> dict[str, Any]:
    """An existing thing's values as form fields (to prefill a change form)."""
    s = URIRef(iri)
    fields: dict[str, Any] = {"iri": iri}
    single = {RDFS.label: "label", CKM.description: "description", SKOS.definition: "definition",
              DCTERMS.source: "paper", CKM.sourceLocator: "locator", CKM.practicedBy: "company",
              RDFS.subClassOf: "parent"}
    multi = {CKM.exhibitsStyle: "styles", CKM.involvesKnowledge: "knowledge",
             CKM.supportsElement: "supports", CKM.benefit: "benefits"}
    for r in store.select("SELECT ?x ?p ?o WHERE { ?x ?p ?o }", x=s):
        p, o = r["p"], r["o"]
        if p in single and single[p] not in fields:
            fields[single[p]] = str(o)
        elif p in multi:
            fields.setdefault(multi[p], []).append(str(o))
    if "benefits" in fields:
        fields["benefits"] = "\n".join(fields["benefits"])
    return fields


def quads(p: Plan) -> tuple[list[tuple[Node, Node, Node, str]], list[tuple[Node, Node, Node, str]]]:
    """The plan's (removed, added) as quads in its graph."""
    return ([(*t, p.graph) for t in p.removed], [(*t, p.graph) for t in p.added])


def check(store: KGStore, p: Plan) -> dict[str, Any]:
    """Validate the plan as the commit would (SHACL for data, HermiT for the ontology),
    without applying it. Returns the checks' report; raises ValidationFailed with the
    reasons, or ReasonerFailed when the reasoner cannot run.
    """
    from kg_service.validation import check_change

    removed, added = quads(p)
    return check_change(store, removed, added)

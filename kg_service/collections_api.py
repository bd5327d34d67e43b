"""The JSON collections of the API: styles, companies, cases, practices, classes...

Each collection is a :class:`Collection` spec (a class, fields as SPARQL paths, filters);
:func:`page` and :func:`item` run its queries and return plain JSON-ready dicts whose keys
the JSON-LD context (:func:`jsonld_context`) maps to RDF, so the JSON is also RDF. An
item's id is the last path segment or the local name of its IRI. The core never imports
Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rdflib import Literal, URIRef
from rdflib.term import Node

from kg_service.describe import curie, local_name
from kg_service.errors import BadRequest, NotFound
from kg_service.namespaces import CKM, ONTOLOGY_GRAPH, PREFIXES
from kg_service.store import KGStore

HYDRA = "http://www.w3.org/ns/hydra/core#"


@dataclass(frozen=True)
class Field:
    """One key of an item: ``path`` is a SPARQL path from the item (``^p`` is inverse)."""

    name: str
    path: str
    kind: str = "ref"  # ref (an object with iri/id/label) | text | bool
    many: bool = True
    description: str = ""


@dataclass(frozen=True)
class Collection:
    name: str
    title: str
    pattern: str  # SPARQL pattern that makes ?item a member
    fields: tuple[Field, ...]
    filters: dict[str, str] = field(default_factory=dict)  # query parameter -> SPARQL path


_COMMON = (
    Field("definition", "skos:definition", "text", False, "Definition (skos:definition)."),
    Field("description", "ckm:description", "text", False, "Description from the case data."),
    Field("altLabel", "skos:altLabel", "text", True, "Other names (skos:altLabel)."),
    Field("source", "dcterms:source", "ref", True, "The papers this comes from."),
    Field("sourceLocator", "ckm:sourceLocator", "text", True,
          "Where in the papers: table, box, section or page."),
)
_READING = (
    Field("uncertainReading", "ckm:uncertainReading", "bool", False,
          "True when the reading of the paper is uncertain."),
    Field("readingNote", "ckm:readingNote", "text", False, "Why a reading is uncertain."),
)
_STYLE_ROWS = tuple(Field(n, "ckm:" + n, "text", False, f"Table 3 row ({n}).") for n in (
    "focus", "objective", "processes", "systems", "performanceMeasures", "caseExamples",
    "intensityOfInteraction", "typeOfKnowledge"))

COLLECTIONS: dict[str, Collection] = {c.name: c for c in (
    Collection("styles", "CKM styles (Gibbert et al. 2002, Table 3)",
               "?item a ckm:CKMStyle .",
               _COMMON + _STYLE_ROWS + _READING + (
                   Field("interactionIntensity", "ckm:interactionIntensity"),
                   Field("knowledgeForm", "ckm:knowledgeForm"),
                   Field("appliedBy", "^ckm:appliesStyle", description="Companies applying it."),
                   Field("exhibitedBy", "^ckm:exhibitsStyle",
                         description="Practices exhibiting it."))),
    Collection("companies", "Companies", "?item a ckm:Company .",
               _COMMON + _READING + (
                   Field("industry", "ckm:industry", "text", False),
                   Field("appliesStyle", "ckm:appliesStyle",
                         description="Styles it applies (asserted or derived)."),
                   Field("practices", "^ckm:practicedBy", description="Its CKM practices."),
                   Field("cases", "^ckm:aboutCompany", description="Cases about it.")),
               {"style": "ckm:appliesStyle", "case": "^ckm:aboutCompany"}),
    Collection("cases", "Case studies", "?item a ckm:CaseStudy .",
               _COMMON + (
                   Field("aboutCompany", "ckm:aboutCompany"),
                   Field("hasPractice", "ckm:hasPractice"),
                   Field("describes", "ckm:describes")),
               {"company": "ckm:aboutCompany"}),
    Collection("practices", "CKM practices", "?item a ckm:CKMPractice .",
               _COMMON + _READING + (
                   Field("practicedBy", "ckm:practicedBy", many=False),
                   Field("exhibitsStyle", "ckm:exhibitsStyle"),
                   Field("involvesKnowledge", "ckm:involvesKnowledge"),
                   Field("supportsElement", "ckm:supportsElement"),
                   Field("coProducesWith", "ckm:coProducesWith"),
                   Field("benefit", "ckm:benefit", "text"),
                   Field("citedAfter", "ckm:citedAfter", "text", False),
                   Field("quote", "ckm:quote", "text", False),
                   Field("case", "^ckm:hasPractice", many=False)),
               {"company": "ckm:practicedBy", "style": "ckm:exhibitsStyle",
                "element": "ckm:supportsElement", "knowledge": "ckm:involvesKnowledge",
                "case": "^ckm:hasPractice"}),
    Collection("classes", "Classes of the ontology",
               f"GRAPH <{ONTOLOGY_GRAPH}> {{ ?item a owl:Class }} "
               f'FILTER(STRSTARTS(STR(?item), "{CKM}"))',
               _COMMON + (
                   Field("comment", "rdfs:comment", "text", False),
                   Field("subClassOf", "rdfs:subClassOf"),
                   Field("superClassOf", "^rdfs:subClassOf", description="Direct subclasses.")),
               {"superclass": "rdfs:subClassOf"}),
    Collection("properties", "Properties of the ontology",
               f"GRAPH <{ONTOLOGY_GRAPH}> {{ ?item a ?kind }} "
               "VALUES ?kind { owl:ObjectProperty owl:DatatypeProperty owl:AnnotationProperty }"
               f' FILTER(STRSTARTS(STR(?item), "{CKM}"))',
               _COMMON + (
                   Field("comment", "rdfs:comment", "text", False),
                   Field("domain", "rdfs:domain"),
                   Field("range", "rdfs:range"),
                   Field("subPropertyOf", "rdfs:subPropertyOf")),
               {"domain": "rdfs:domain", "range": "rdfs:range"}),
    Collection("knowledge-types", "Types of customer knowledge",
               "?item a ckm:CustomerKnowledge . FILTER(isIRI(?item))",
               _COMMON + (Field("involvedIn", "^ckm:involvesKnowledge",
                                description="Practices involving it."),)),
    Collection("business-model-elements", "Business-model elements",
               "?item a ckm:BusinessModelElement . FILTER(isIRI(?item))",
               _COMMON + (Field("supportedBy", "^ckm:supportsElement",
                                description="Practices supporting it."),
                          Field("contributedToBy", "^ckm:contributesTo",
                                description="Knowledge, mechanisms and IT roles that "
                                            "contribute to it."))),
)}


def _get(name: str) -> Collection:
    if name not in COLLECTIONS:
        raise NotFound(f"No collection {name!r}; there are: {', '.join(COLLECTIONS)}.")
    return COLLECTIONS[name]


def _id_filter(var: str, value: str, key: str, bindings: dict[str, Node]) -> str:
    """A FILTER matching ``var`` to an id (last segment / local name) or a full IRI."""
    if value.startswith(("http://", "https://")):
        bindings[key] = URIRef(value)
        return f"FILTER(?{var} = ?{key})"
    bindings[key + "s"] = Literal("/" + value)
    bindings[key + "h"] = Literal("#" + value)
    return (f"FILTER(isIRI(?{var}) && (STRENDS(STR(?{var}), ?{key}s) || "
            f"STRENDS(STR(?{var}), ?{key}h)))")


def _where(coll: Collection, filters: dict[str, str], bindings: dict[str, Node]) -> str:
    parts = [coll.pattern, "FILTER(isIRI(?item))"]
    for n, (param, value) in enumerate(sorted(filters.items())):
        if param not in coll.filters:
            raise BadRequest(f"{coll.name} cannot be filtered by {param!r}; filters: "
                             f"{', '.join(coll.filters) or 'none'}.", parameter=param)
        parts.append(f"?item {coll.filters[param]} ?f{n} . "
                     + _id_filter(f"f{n}", value, f"fv{n}", bindings))
    return " ".join(parts)


def _ref(iri: Node, labels: dict[Node, str]) -> dict[str, Any]:
    return {"iri": str(iri), "id": local_name(str(iri)), "label": labels.get(iri)
            or local_name(str(iri))}


def _type_name(iri: str) -> str:
    return iri[len(str(CKM)):] if iri.startswith(str(CKM)) else curie(iri)


def _items(store: KGStore, coll: Collection, iris: list[URIRef]) -> list[dict[str, Any]]:
    if not iris:
        return []
    values = " ".join(i.n3() for i in iris)
    arms = [f'{{ BIND("{f.name}" AS ?f) ?item {f.path} ?v }}' for f in coll.fields]
    arms.append('{ BIND("@type" AS ?f) ?item a ?v FILTER(isIRI(?v)) }')
    rows = store.select(f"SELECT ?item ?f ?v WHERE {{ VALUES ?item {{ {values} }} "
                        + " UNION ".join(arms) + " }")
    refs = {r["v"] for r in rows if isinstance(r.get("v"), URIRef)} | set(iris)
    labels = _labels(store, refs)
    by_name = {f.name: f for f in coll.fields}
    out: dict[Node, dict[str, Any]] = {i: {"iri": str(i), "id": local_name(str(i)),
                                           "type": [], "label": labels.get(i) or
                                           local_name(str(i))} for i in iris}
    for f in coll.fields:
        for doc in out.values():
            doc[f.name] = [] if f.many else None
    for r in rows:
        doc, name, v = out[r["item"]], str(r["f"]), r.get("v")
        if v is None:
            continue
        if name == "@type":
            doc["type"].append(_type_name(str(v)))
            continue
        f = by_name[name]
        if f.kind == "ref":
            if not isinstance(v, URIRef):
                continue
            value: Any = _ref(v, labels)
        elif f.kind == "bool":
            value = bool(v.toPython()) if isinstance(v, Literal) else None
        else:
            value = str(v)
        if f.many:
            if value not in doc[name]:
                doc[name].append(value)
        elif doc[name] is None or str(value) < str(doc[name]):
            doc[name] = value
    for doc in out.values():
        doc["type"] = sorted(set(doc["type"]))
        for f in coll.fields:
            if f.many:
                doc[f.name].sort(key=lambda x: (x["label"].lower(), x["iri"])
                                 if isinstance(x, dict) else x)
    return [out[i] for i in iris]


def _labels(store: KGStore, iris: set[Node]) -> dict[Node, str]:
    found: dict[Node, tuple[int, str]] = {}
    named = sorted(i for i in iris if isinstance(i, URIRef))
    for start in range(0, len(named), 300):
        values = " ".join(i.n3() for i in named[start:start + 300])
        for r in store.select(
                f"SELECT ?x ?l WHERE {{ VALUES ?x {{ {values} }} ?x rdfs:label ?l }}"):
            lit = r["l"]
            rank = 0 if getattr(lit, "language", None) in (None, "en") else 1
            if r["x"] not in found or (rank, str(lit)) < found[r["x"]]:
                found[r["x"]] = (rank, str(lit))
    return {k: v[1] for k, v in found.items()}


def page(store: KGStore, name: str, *, limit: int, offset: int,
         filters: dict[str, str] | None = None) -> dict[str, Any]:
    """One page of collection ``name``: ``{"total", "limit", "offset", "items"}``.

    Items are sorted by label, then IRI. Raises NotFound (no such collection) and
    BadRequest (an unknown filter, a negative offset or a limit below 1).
    """
    coll = _get(name)
    if limit < 1 or offset < 0:
        raise BadRequest("limit must be at least 1 and offset at least 0.")
    bindings: dict[str, Node] = {}
    where = _where(coll, filters or {}, bindings)
    proj = " ".join("?" + k for k in bindings)
    counted = store.select(f"SELECT (COUNT(DISTINCT ?item) AS ?n) {proj} WHERE {{ {where} }}"
                           + (f" GROUP BY {proj}" if proj else ""), **bindings)
    total = int(counted[0].get("n", 0)) if counted else 0
    rows = store.select(
        f"SELECT ?item (SAMPLE(?l) AS ?label) {proj} WHERE {{ {where} "
        f"OPTIONAL {{ ?item rdfs:label ?l }} }} GROUP BY ?item {proj} "
        f"ORDER BY LCASE(STR(?label)) STR(?item) LIMIT {int(limit)} OFFSET {int(offset)}",
        **bindings)
    iris = [r["item"] for r in rows if isinstance(r["item"], URIRef)]
    return {"total": total, "limit": limit, "offset": offset,
            "items": _items(store, coll, iris)}


def item(store: KGStore, name: str, item_id: str) -> dict[str, Any]:
    """The item of collection ``name`` whose id (or full IRI) is ``item_id``.

    Raises NotFound when there is no such collection or item.
    """
    coll = _get(name)
    bindings: dict[str, Node] = {}
    cond = _id_filter("item", item_id, "id", bindings)
    proj = " ".join("?" + k for k in bindings)
    rows = store.select(f"SELECT DISTINCT ?item {proj} WHERE {{ {coll.pattern} {cond} }} "
                        "ORDER BY STR(?item) LIMIT 1", **bindings)
    if not rows:
        raise NotFound(f"No item {item_id!r} in {name}.", collection=name, id=item_id)
    return _items(store, coll, [rows[0]["item"]])[0]


def jsonld_context() -> dict[str, Any]:
    """The JSON-LD context that makes every API response RDF (ckm: as the vocabulary)."""
    ctx: dict[str, Any] = {"@vocab": str(CKM), **{k: v for k, v in PREFIXES.items()
                                                  if k not in ("sd", "sh", "void")},
                           "hydra": HYDRA,
                           "iri": "@id", "type": "@type", "id": "dcterms:identifier",
                           "label": "rdfs:label", "title": "dcterms:title"}
    for coll in COLLECTIONS.values():
        for f in coll.fields:
            prop = f.path.lstrip("^")
            term: dict[str, Any] = ({"@reverse": prop} if f.path.startswith("^")
                                    else {"@id": prop})
            if f.kind == "text" and f.many:
                term["@container"] = "@set"
            ctx.setdefault(f.name, term)
    ctx.update({
        "items": {"@id": "hydra:member", "@container": "@set"},
        "total": "hydra:totalItems", "limit": "hydra:limit", "offset": "hydra:offset",
        "next": {"@id": "hydra:next", "@type": "@id"},
        "prev": {"@id": "hydra:previous", "@type": "@id"},
        "first": {"@id": "hydra:first", "@type": "@id"},
    })
    return {"@context": ctx}

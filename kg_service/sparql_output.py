"""What the SPARQL endpoint says about itself and how the command line prints results.

``service_description`` builds the SPARQL 1.1 Service Description (``sd:Service``) of the
endpoint; ``render_table`` turns SPARQL JSON results into an aligned text table for
``ckmkg query``.
"""

from __future__ import annotations

import json
import re
from typing import Any

import rdflib
from rdflib import BNode, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, XSD

from kg_service.namespaces import PREFIXES, SD, VOID
from kg_service.results import GRAPH_FORMATS, RESULT_FORMATS
from kg_service.settings import Settings
from kg_service.store import KGStore

FORMATS_NS = "http://www.w3.org/ns/formats/"
_FORMAT_IRIS = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML",
                "csv": "SPARQL_Results_CSV", "tsv": "SPARQL_Results_TSV", "turtle": "Turtle",
                "ntriples": "N-Triples", "jsonld": "JSON-LD", "rdfxml": "RDF_XML",
                "trig": "TriG", "nquads": "N-Quads"}


# --------------------------------------------------------------------------- description
_COUNTS: dict[str, list[tuple[str, int]]] = {}


def graph_counts(store: KGStore) -> list[tuple[str, int]]:
    """(graph IRI, triples) of every named graph, cached per store revision."""
    rev = store.revision()
    if rev not in _COUNTS:
        rows = store.select("SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } "
                            "GROUP BY ?g ORDER BY ?g")
        _COUNTS.clear()
        _COUNTS[rev] = [(str(r["g"]), int(r["n"])) for r in rows if isinstance(r["g"], URIRef)]
    return _COUNTS[rev]


def service_description(store: KGStore, endpoint: str, settings: Settings) -> rdflib.Graph:
    """The SPARQL 1.1 Service Description (``sd:Service``) of the endpoint at ``endpoint``."""
    g = rdflib.Graph()
    g.bind("sd", SD)
    g.bind("void", VOID)
    g.bind("dcterms", DCTERMS)
    svc = URIRef(endpoint)
    g.add((svc, RDF.type, SD.Service))
    g.add((svc, SD.endpoint, svc))
    g.add((svc, DCTERMS.title, Literal("CKM knowledge graph SPARQL endpoint", lang="en")))
    for lang in ("SPARQL11Query", "SPARQL11Update"):
        g.add((svc, SD.supportedLanguage, SD[lang]))
    g.add((svc, SD.feature, SD.UnionDefaultGraph))
    if settings.service_allow:
        g.add((svc, SD.feature, SD.BasicFederatedQuery))
    for fmt in [*RESULT_FORMATS, *GRAPH_FORMATS]:
        g.add((svc, SD.resultFormat, URIRef(FORMATS_NS + _FORMAT_IRIS[fmt])))
    g.add((svc, RDFS.comment, Literal(
        f"Queries stop after {settings.query_timeout:g} s (503) and return at most "
        f"{settings.result_limit} rows or triples (a cut result says so in the "
        "KG-Result-Truncated header and in the body). Requests over "
        f"{settings.max_body} bytes are refused (413). SERVICE, LOAD and remote FROM reach "
        "only hosts listed in the service_allow setting. The default graph is the union of "
        "the named graphs.", lang="en")))
    dataset, default = BNode(), BNode()
    g.add((svc, SD.defaultDataset, dataset))
    g.add((dataset, RDF.type, SD.Dataset))
    g.add((dataset, SD.defaultGraph, default))
    g.add((default, RDF.type, SD.Graph))
    total = 0
    for iri, n in graph_counts(store):
        total += n
        named, graph = BNode(), BNode()
        g.add((dataset, SD.namedGraph, named))
        g.add((named, RDF.type, SD.NamedGraph))
        g.add((named, SD.name, URIRef(iri)))
        g.add((named, SD.graph, graph))
        g.add((graph, RDF.type, SD.Graph))
        g.add((graph, VOID.triples, Literal(n, datatype=XSD.integer)))
    g.add((default, RDFS.comment, Literal(
        f"The union of the named graphs ({total} quads in all).", lang="en")))
    return g


def _cell(term: dict[str, Any] | None) -> str:
    if term is None:
        return ""
    value = str(term["value"])
    if term["type"] == "uri":
        for prefix, ns in PREFIXES.items():
            if value.startswith(ns) and re.fullmatch(r"[\w\-./]*", value[len(ns):]):
                return f"{prefix}:{value[len(ns):]}"
        return f"<{value}>"
    if term["type"] == "bnode":
        return f"_:{value}"
    return value


def render_table(body: bytes) -> str:
    """SPARQL JSON results as an aligned text table (ASK: true/false)."""
    data = json.loads(body)
    if "boolean" in data:
        return ("true" if data["boolean"] else "false") + "\n"
    names = data["head"]["vars"]
    rows = [[_cell(b.get(v)) for v in names] for b in data["results"]["bindings"]]
    widths = [max([len(n), *(len(r[i]) for r in rows)]) for i, n in enumerate(names)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()  # noqa: E731
    out = [line(names), line(["-" * w for w in widths]), *map(line, rows)]
    tail = f"({len(rows)} row{'s' if len(rows) != 1 else ''}"
    tail += ", truncated at the result limit)" if data.get("truncated") else ")"
    return "\n".join([*out, tail]) + "\n"



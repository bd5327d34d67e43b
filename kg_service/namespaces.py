"""Namespaces and prefixes used everywhere (ontology, data, queries, serialisers)."""

from __future__ import annotations

from rdflib import Namespace
from rdflib.namespace import DCTERMS, OWL, PROV, RDF, RDFS, SKOS, XSD

ONTOLOGY_IRI = "https://w3id.org/ckm/ontology"
CKM = Namespace(ONTOLOGY_IRI + "#")
ID = Namespace("https://w3id.org/ckm/id/")
BIBO = Namespace("http://purl.org/ontology/bibo/")
ORG = Namespace("http://www.w3.org/ns/org#")
SCHEMA = Namespace("https://schema.org/")
VANN = Namespace("http://purl.org/vocab/vann/")
VOID = Namespace("http://rdfs.org/ns/void#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
SH = Namespace("http://www.w3.org/ns/shacl#")
FOAF = Namespace("http://xmlns.com/foaf/0.1/")

ONTOLOGY_GRAPH = ONTOLOGY_IRI
INFERRED_GRAPH = "https://w3id.org/ckm/inferred"
HISTORY_GRAPH = "https://w3id.org/ckm/history"
CASE_GRAPH_PREFIX = str(ID) + "case/"

PREFIXES: dict[str, str] = {
    "ckm": str(CKM),
    "ckmid": str(ID),
    "rdf": str(RDF),
    "rdfs": str(RDFS),
    "owl": str(OWL),
    "xsd": str(XSD),
    "skos": str(SKOS),
    "dcterms": str(DCTERMS),
    "prov": str(PROV),
    "bibo": str(BIBO),
    "org": str(ORG),
    "schema": str(SCHEMA),
    "vann": str(VANN),
    "void": str(VOID),
    "sd": str(SD),
    "sh": str(SH),
    "foaf": str(FOAF),
}


def sparql_prologue(names: list[str] | None = None) -> str:
    """PREFIX lines for the given prefixes (all when ``names`` is None)."""
    items = PREFIXES.items() if names is None else ((n, PREFIXES[n]) for n in names)
    return "".join(f"PREFIX {n}: <{iri}>\n" for n, iri in items)

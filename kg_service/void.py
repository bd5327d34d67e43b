"""The VoID description of the dataset (``/.well-known/void``): sizes, class and property
partitions, one subset per named graph, the SPARQL endpoint and the license."""

from __future__ import annotations

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF

from kg_service.describe import bind_prefixes
from kg_service.namespaces import (
    CKM,
    HISTORY_GRAPH,
    INFERRED_GRAPH,
    ONTOLOGY_GRAPH,
    ONTOLOGY_IRI,
    SD,
    VOID,
)
from kg_service.store import KGStore


def void_graph(store: KGStore, *, base: str, sparql_url: str, document: str) -> Graph:
    """The VoID description: sizes, class and property partitions, a subset per named
    graph, the SPARQL endpoint and the license. ``document`` is the IRI of the VoID
    document itself (the dataset is ``document#dataset``)."""
    g = bind_prefixes(Graph())
    ds = URIRef(document + "#dataset")
    total = store.select("SELECT (COUNT(*) AS ?n) (COUNT(DISTINCT ?s) AS ?s_n) "
                         "(COUNT(DISTINCT ?p) AS ?p_n) WHERE { ?s ?p ?o }")[0]
    classes = store.select("SELECT ?c (COUNT(DISTINCT ?x) AS ?n) WHERE { ?x a ?c "
                           "FILTER(isIRI(?c)) } GROUP BY ?c ORDER BY ?c")
    props = store.select("SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p "
                         "ORDER BY ?p")
    g.add((ds, RDF.type, VOID.Dataset))
    g.add((ds, DCTERMS.title, Literal("CKM knowledge graph", lang="en")))
    g.add((ds, DCTERMS.description, Literal(
        "An OWL ontology of customer knowledge management and case data from five "
        "research papers, one named graph per case.", lang="en")))
    for lic in store.select("SELECT ?o ?l WHERE { ?o dcterms:license ?l }", o=URIRef(ONTOLOGY_IRI)):
        g.add((ds, DCTERMS.license, lic["l"]))
    g.add((ds, VOID.sparqlEndpoint, URIRef(sparql_url)))
    g.add((ds, VOID.uriSpace, Literal(base)))
    g.add((ds, VOID.vocabulary, URIRef(str(CKM))))
    g.add((ds, VOID.rootResource, URIRef(ONTOLOGY_IRI)))
    g.add((ds, VOID.triples, Literal(int(total["n"]))))
    g.add((ds, VOID.distinctSubjects, Literal(int(total["s_n"]))))
    g.add((ds, VOID.properties, Literal(int(total["p_n"]))))
    g.add((ds, VOID.classes, Literal(len(classes))))
    g.add((ds, VOID.entities, Literal(int(total["s_n"]))))
    for ex in store.select("SELECT ?x WHERE { ?x a ckm:Company } ORDER BY ?x LIMIT 1"):
        g.add((ds, VOID.exampleResource, ex["x"]))
    for n, row in enumerate(classes):
        part = URIRef(f"{document}#class-{n}")
        g.add((ds, VOID.classPartition, part))
        g.add((part, VOID["class"], row["c"]))
        g.add((part, VOID.entities, Literal(int(row["n"]))))
    for n, row in enumerate(props):
        part = URIRef(f"{document}#property-{n}")
        g.add((ds, VOID.propertyPartition, part))
        g.add((part, VOID.property, row["p"]))
        g.add((part, VOID.triples, Literal(int(row["n"]))))
    sizes = {r["g"]: int(r["n"]) for r in store.select(
        "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g")}
    for n, name in enumerate(store.named_graphs()):
        sub = URIRef(f"{document}#graph-{n}")
        g.add((ds, VOID.subset, sub))
        g.add((sub, RDF.type, VOID.Dataset))
        g.add((sub, SD.name, URIRef(name)))
        g.add((sub, VOID.triples, Literal(sizes.get(URIRef(name), 0))))
        kind = ("ontology" if name == ONTOLOGY_GRAPH else "inferred triples (OWL RL)"
                if name == INFERRED_GRAPH else "history of changes"
                if name == HISTORY_GRAPH else "case")
        g.add((sub, DCTERMS.description, Literal(kind, lang="en")))
    return g

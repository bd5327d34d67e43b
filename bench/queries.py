"""The benchmark queries: the same text is sent to every system.

Every query names its prefixes (rdflib-endpoint does not predeclare ours) and reads the
default graph, which is the union of the named graphs on both sides (Oxigraph with
``use_default_graph_as_union``, rdflib with ``Dataset(default_union=True)``). The IRIs are
those the generator always writes (case 0's first company and practice).
"""

from __future__ import annotations

PROLOGUE = """PREFIX ckm: <https://w3id.org/ckm/ontology#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
"""
COMPANY = "<https://w3id.org/ckm/id/company/s00000-c0>"
PRACTICE = "<https://w3id.org/ckm/id/practice/s00000-p0>"
CASE_GRAPH = "https://w3id.org/ckm/id/case/synthetic-00000"

#: name -> (description, query text, kind: "select" or "graph")
QUERIES: dict[str, tuple[str, str, str]] = {
    "lookup": ("every property of one company",
               PROLOGUE + f"SELECT ?p ?o WHERE {{ {COMPANY} ?p ?o }}", "select"),
    "join": ("7 patterns: cases, practices, companies of one industry, high-intensity "
             "styles, knowledge types, value creation",
             PROLOGUE + """SELECT ?case ?practice ?company ?style ?knowledge WHERE {
  ?case ckm:hasPractice ?practice .
  ?practice ckm:practicedBy ?company .
  ?company ckm:industry "telecommunications" .
  ?practice ckm:exhibitsStyle ?style .
  ?style ckm:interactionIntensity ckm:HighIntensity .
  ?practice ckm:involvesKnowledge ?knowledge .
  ?practice ckm:supportsElement ckm:ValueCreation .
}""", "select"),
    "aggregate": ("companies and practices per style over the whole graph",
                  PROLOGUE + """SELECT ?style (COUNT(DISTINCT ?company) AS ?companies)
       (COUNT(?practice) AS ?practices) WHERE {
  ?practice ckm:exhibitsStyle ?style ; ckm:practicedBy ?company .
} GROUP BY ?style ORDER BY DESC(?practices)""", "select"),
    "path": ("co-production network reachable from one company, (^practicedBy/coProducesWith)+",
             PROLOGUE + f"""SELECT DISTINCT ?partner WHERE {{
  {COMPANY} (^ckm:practicedBy/ckm:coProducesWith)+ ?partner .
}}""", "select"),
    "describe": ("DESCRIBE one practice", f"DESCRIBE {PRACTICE}", "graph"),
}

#: media types asked for over HTTP
ACCEPT = {"select": "application/sparql-results+json", "graph": "application/n-triples"}


def edit_update(n: int) -> str:
    """A small SPARQL Update (one triple) on case 0's graph; ``n`` makes it unique."""
    return (PROLOGUE + f'INSERT DATA {{ GRAPH <{CASE_GRAPH}> {{ {PRACTICE} ckm:benefit '
            f'"benchmark edit {n}" }} }}')


def practice_update(n: int) -> str:
    """A new practice of case 0's first company, with its style, knowledge type and source:
    types and links, so SHACL, HermiT and the OWL RL closure all have work."""
    practice = f"<https://w3id.org/ckm/id/practice/bench-new-{n}>"
    return (PROLOGUE + "PREFIX dcterms: <http://purl.org/dc/terms/>\n"
            f"INSERT DATA {{ GRAPH <{CASE_GRAPH}> {{\n"
            f"  {practice} a ckm:CKMPractice ; rdfs:label \"benchmark practice {n}\" ;\n"
            f"    ckm:practicedBy {COMPANY} ; ckm:exhibitsStyle ckm:JointIntellectualProperty ;\n"
            "    ckm:involvesKnowledge ckm:KnowledgeForCustomer ;\n"
            "    dcterms:source <https://w3id.org/ckm/id/paper/paquette-2006> ;\n"
            "    ckm:sourceLocator \"p. 1\" .\n"
            f"  <{CASE_GRAPH}> ckm:hasPractice {practice} . }} }}")


def style_update(n: int) -> str:
    """Practice ``n`` of ``practice_update`` changes style: a link removed and one added, so
    the inferred graph loses and gains conclusions (a removal, not only additions)."""
    practice = f"<https://w3id.org/ckm/id/practice/bench-new-{n}>"
    return (PROLOGUE + f"DELETE {{ GRAPH <{CASE_GRAPH}> {{ {practice} ckm:exhibitsStyle "
            "ckm:JointIntellectualProperty } }\n"
            f"INSERT {{ GRAPH <{CASE_GRAPH}> {{ {practice} ckm:exhibitsStyle "
            "ckm:MutualInnovation } }\n"
            f"WHERE {{ GRAPH <{CASE_GRAPH}> {{ {practice} ckm:exhibitsStyle "
            "ckm:JointIntellectualProperty } }")

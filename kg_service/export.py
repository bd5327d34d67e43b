"""Export graphs as files: stable Turtle for git, RDF/XML and OWL/XML for Protégé.

``stable_turtle`` gives the same bytes for the same triples whatever the store's blank-node
labels (they are canonicalised first), with the prefixes of the bundled ``ontology/ckm.ttl``
and its header comment, so ``ckmkg export --format ttl > ontology/ckm.ttl`` makes a
reviewable git diff. RDF/XML is written flat (every triple kept; rdflib's "pretty" writer
drops statements about list nodes). OWL/XML is written by the OWL API that ships with
owlready2 (owlready2 reads OWL/XML but cannot write it), run with Java.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import rdflib
from rdflib.compare import to_canonical_graph

from kg_service.errors import BadRequest, Unavailable
from kg_service.namespaces import ONTOLOGY_GRAPH, PREFIXES

_RDFLIB = {"ttl": "turtle", "nt": "nt", "jsonld": "json-ld", "rdfxml": "xml"}
_QUADS = {"nq": "nquads", "trig": "trig"}
_PREFIX_LINE = re.compile(r"^@prefix\s+([\w-]*):\s*<([^>]*)>\s*\.\s*$")

_JAVA = """
import java.io.File;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.io.OWLXMLOntologyFormat;
import org.semanticweb.owlapi.model.*;

public class OwlXml {
  public static void main(String[] args) throws Exception {
    OWLOntologyManager m = OWLManager.createOWLOntologyManager();
    OWLOntology o = m.loadOntologyFromOntologyDocument(new File(args[0]));
    OWLXMLOntologyFormat f = new OWLXMLOntologyFormat();
    OWLOntologyFormat src = m.getOntologyFormat(o);
    if (src != null && src.isPrefixOWLOntologyFormat())
      f.copyPrefixesFrom(src.asPrefixOWLOntologyFormat());
    m.saveOntology(o, f, IRI.create(new File(args[1]).toURI()));
  }
}
"""


def ontology_file_layout() -> tuple[str, dict[str, str]]:
    """The header comment and the prefixes of the bundled ontology file."""
    from kg_service.cases import bundled_paths

    header, prefixes = [], {}
    try:
        lines = Path(bundled_paths().ontology).read_text().splitlines()
    except OSError:
        return "", dict(PREFIXES)
    for line in lines:
        if line.startswith("#") and not prefixes:
            header.append(line)
            continue
        m = _PREFIX_LINE.match(line)
        if m:
            prefixes[m.group(1)] = m.group(2)
        elif prefixes and line.strip():
            break
    return "\n".join(header), prefixes or dict(PREFIXES)


def stable_turtle(graph: rdflib.Graph, *, header: str = "",
                  prefixes: dict[str, str] | None = None) -> bytes:
    """Turtle with fixed prefixes, subjects and predicates sorted and canonical blank nodes.

    The same triples always give the same bytes (diff-friendly).
    """
    g = rdflib.Graph(bind_namespaces="none")
    for prefix, ns in (prefixes or PREFIXES).items():
        g.bind(prefix, ns)
    g += to_canonical_graph(graph)
    body = g.serialize(format="turtle")
    return ((header + "\n\n" if header else "") + body).encode()


def _owlapi_jar() -> Path:
    import owlready2

    jar = Path(owlready2.__file__).parent / "pellet" / "owlapi-distribution-3.4.3-bin.jar"
    if not jar.exists():
        raise Unavailable(f"OWL/XML export needs the OWL API jar shipped with owlready2 ({jar})")
    return jar


def owl_xml(graph: rdflib.Graph) -> bytes:
    """OWL/XML (as Protégé writes it), converted by the OWL API.

    Raises Unavailable when Java (a JDK, to run the converter's source) is missing, and
    BadRequest when the OWL API cannot read the graph.
    """
    java = shutil.which("java")
    if java is None:
        raise Unavailable("OWL/XML export needs Java (apt install default-jdk-headless)")
    jar = _owlapi_jar()
    with tempfile.TemporaryDirectory(prefix="ckm-owlxml-") as tmp:
        src, out, code = (os.path.join(tmp, n) for n in ("in.rdf", "out.owx", "OwlXml.java"))
        graph.serialize(src, format="xml", encoding="utf-8")
        Path(code).write_text(_JAVA)
        proc = subprocess.run([java, "-cp", str(jar), code, src, out], capture_output=True,
                              text=True, timeout=120, check=False)
        if proc.returncode != 0 or not os.path.exists(out):
            tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
            raise BadRequest("the OWL API could not convert the ontology to OWL/XML: "
                             + " | ".join(tail))
        return Path(out).read_bytes()


def export_graph(store: Any, fmt: str, graph: str | None = None) -> bytes:
    """One graph (default: the ontology) or, for nq/trig, every graph, as bytes.

    Raises BadRequest (unknown format), Unavailable (OWL/XML without Java).
    """
    if fmt in _QUADS:
        dataset = rdflib.Dataset()
        for iri in [graph] if graph else store.named_graphs():
            dataset.graph(rdflib.URIRef(iri)).__iadd__(store.graph(iri))
        return dataset.serialize(format=_QUADS[fmt]).encode()
    iri = graph or ONTOLOGY_GRAPH
    g = store.graph(iri)
    if fmt == "ttl":
        if iri == ONTOLOGY_GRAPH:
            header, prefixes = ontology_file_layout()
            return stable_turtle(g, header=header, prefixes=prefixes)
        return stable_turtle(g)
    if fmt == "owl":
        return owl_xml(g)
    if fmt not in _RDFLIB:
        raise BadRequest(f"unknown export format {fmt!r}")
    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    return g.serialize(format=_RDFLIB[fmt]).encode()

"""Protégé round trip: stable Turtle export, RDF/XML and OWL/XML out, edited files back in."""

from __future__ import annotations

import io
import re
from pathlib import Path

import owlready2
from click.testing import CliRunner
from rdflib import OWL, RDF, RDFS, Literal

from kg_service import history
from kg_service.auth import User
from kg_service.cli import cli
from kg_service.export import export_graph
from kg_service.importing import import_file, parse_file
from kg_service.namespaces import CKM, ONTOLOGY_GRAPH

ROOT = Path(__file__).resolve().parents[1]
ALICE = User("alice", "editor")


def prefixes(text: str) -> set[tuple[str, str]]:
    return set(re.findall(r"^@prefix\s+([\w-]*):\s*<([^>]*)>", text, re.M))


def test_turtle_export_is_stable_and_round_trips(loaded_store) -> None:
    first = export_graph(loaded_store, "ttl")
    assert first == export_graph(loaded_store, "ttl")
    text = first.decode()
    bundled = (ROOT / "ontology" / "ckm.ttl").read_text()
    assert text.startswith(bundled.split("\n", 1)[0])  # the file's header comment is kept
    assert prefixes(text) <= prefixes(bundled)
    assert {"ckm", "owl", "rdfs", "skos"} <= {p for p, _ in prefixes(text)}
    change = import_file(loaded_store, first, user=ALICE, name="ckm.ttl")
    assert change.empty  # same triples, blank-node axioms included


def test_rdfxml_changed_by_owlready2_gives_exactly_the_edit(loaded_store) -> None:
    rdfxml = export_graph(loaded_store, "rdfxml")
    world = owlready2.World()
    onto = world.get_ontology("https://w3id.org/ckm/ontology").load(
        fileobj=io.BytesIO(rdfxml))
    ckm = onto.get_namespace(str(CKM))
    with onto:
        touch = type("Touchpoint", (ckm.CustomerKnowledge,), {"namespace": ckm})
        touch.label = [owlready2.locstr("touchpoint", "en")]
    out = io.BytesIO()
    onto.save(file=out, format="rdfxml")
    world.close()
    change = import_file(loaded_store, out.getvalue(), user=ALICE, name="ckm.rdf",
                         message="Touchpoint from Protégé")
    got = history.get_change(loaded_store, change.id)
    g = ONTOLOGY_GRAPH
    assert set(got["added_quads"]) == {
        (CKM.Touchpoint, RDF.type, OWL.Class, g),
        (CKM.Touchpoint, RDFS.subClassOf, CKM.CustomerKnowledge, g),
        (CKM.Touchpoint, RDFS.label, Literal("touchpoint", lang="en"), g)}
    assert got["removed_quads"] == [] and got["message"] == "Touchpoint from Protégé"
    assert got["source"] == "import"


def test_owlxml_export_reads_back(loaded_store) -> None:
    owx = export_graph(loaded_store, "owl")
    assert b"<Ontology" in owx and b'ontologyIRI="https://w3id.org/ckm/ontology"' in owx
    g = parse_file(owx, name="ckm.owx")
    assert (CKM.KnowledgeAboutCustomer, RDFS.subClassOf, CKM.CustomerKnowledge) in g
    assert (CKM.Prosumerism, RDF.type, CKM.CKMStyle) in g


def test_cli_import(loaded_store, tmp_path: Path) -> None:
    onto = loaded_store.graph(ONTOLOGY_GRAPH)
    onto.add((CKM.Touchpoint, RDF.type, OWL.Class))
    onto.add((CKM.Touchpoint, RDFS.label, Literal("touchpoint", lang="en")))
    onto.remove((CKM.Prosumerism, RDFS.comment, None))
    path = tmp_path / "edited.ttl"
    onto.serialize(path, format="turtle")
    data_dir = loaded_store.settings.data_dir
    result = CliRunner().invoke(cli, ["--data-dir", data_dir, "import", str(path), "-m",
                                      "edited in Protégé", "--author", "dora"])
    assert result.exit_code == 0, result.output
    assert re.search(r"\+2 -0 triples", result.output)
    items, _ = history.list_changes(loaded_store)
    assert (items[0]["author"], items[0]["message"]) == ("dora", "edited in Protégé")
    again = CliRunner().invoke(cli, ["--data-dir", data_dir, "import", str(path)])
    assert "no change" in again.output

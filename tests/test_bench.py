"""The benchmark data generator and the quick benchmark run (no timing assertions)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from kg_service.cases import load_cases, load_ontology, parse_cases, validate_shacl
from kg_service.namespaces import CKM, ONTOLOGY_GRAPH
from kg_service.store import KGStore
from kg_service.store.terms import quads_of

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # bench/ is not installed with the package

from bench.generate import generate  # noqa: E402


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("gen")
    summary = generate(out, 3000, seed=11, nquads=True)
    return out, summary.to_json()


@pytest.fixture(scope="module")
def parsed(generated: tuple[Path, dict]) -> dict[str, rdflib.Graph]:
    return parse_cases(generated[0])  # schema + vocabulary checks of the real loader


def test_generator_output_conforms_to_the_shapes(generated: tuple[Path, dict],
                                                 parsed: dict[str, rdflib.Graph]) -> None:
    _out, summary = generated
    graphs = parsed
    assert len(graphs) == summary["files"] >= 2
    data = rdflib.Graph()
    for g in graphs.values():
        data += g
    assert len(data) == summary["case_triples"]
    assert validate_shacl(data) == []
    # shaped like the real cases: companies, practices (some key areas), described things
    practices = set(data.subjects(CKM.practicedBy, None))
    assert len(practices) > 40
    assert set(data.subjects(rdflib.RDF.type, CKM.KeyArea)) < practices
    assert set(data.objects(None, CKM.exhibitsStyle)) <= {
        CKM.Prosumerism, CKM.TeamBasedCoLearning, CKM.MutualInnovation,
        CKM.CommunitiesOfCreation, CKM.JointIntellectualProperty}
    assert any(data.triples((None, CKM.alignsITCapability, None)))


def test_nquads_fast_path_holds_exactly_what_the_loader_builds(
        generated: tuple[Path, dict], parsed: dict[str, rdflib.Graph]) -> None:
    out, _summary = generated
    built = {q for iri, g in parsed.items() for q in quads_of(g, iri)}
    fast = list(ox.parse(path=str(out / "cases.nq"), format=ox.RdfFormat.N_QUADS))
    assert {q for q in fast if q.graph_name.value != ONTOLOGY_GRAPH} == built
    assert any(q.graph_name.value == ONTOLOGY_GRAPH for q in fast)


def test_generator_is_deterministic(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", 1500, seed=3)
    b = generate(tmp_path / "b", 1500, seed=3)
    c = generate(tmp_path / "c", 1500, seed=4)
    files = sorted(p.name for p in (tmp_path / "a").glob("*.yaml"))
    assert files == sorted(p.name for p in (tmp_path / "b").glob("*.yaml"))
    assert a.triples == b.triples >= 1500
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / files[0]).read_bytes() != (tmp_path / "c" / files[0]).read_bytes()
    assert c.triples >= 1500


def test_generated_cases_load_through_the_loader(generated: tuple[Path, dict],
                                                store: KGStore) -> None:
    out, summary = generated
    load_ontology(store)
    counts = load_cases(store, out)  # ckmkg load's path (its OWL RL step runs in --quick)
    assert sum(counts.values()) == summary["case_triples"]
    assert len(store) == summary["triples"]
    rows = store.select("SELECT ?label WHERE { "
                        "<https://w3id.org/ckm/id/company/s00000-c0> rdfs:label ?label }")
    assert len(rows) == 1
    # the benchmark's join finds answers in the generated data
    from bench.queries import QUERIES

    assert store.select(QUERIES["join"][1])
    assert len(store.select(QUERIES["aggregate"][1])) == 5  # one row a style


def test_quick_benchmark_runs_to_completion(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--out", str(out),
         "--workdir", str(tmp_path / "work")],
        capture_output=True, text=True, cwd=ROOT, timeout=400)
    assert proc.returncode == 0, proc.stderr[-3000:]
    last = proc.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"speedup over rdflib on joins: \d+\.\dx", last), proc.stdout[-2000:]
    text = out.read_text()
    for heading in ("## Load", "## OWL RL materialisation", "## Queries in process",
                    "## Queries over HTTP", "## HTTP throughput", "## Cost of the HTTP layer",
                    "## Editing", "## Memory of the servers", "## Targets"):
        assert heading in text
    # both systems gave the same answers to the join, in process and over HTTP
    assert re.search(r"\| 10k \| join \| (\d+) / \1 \|", text)
    assert len(re.findall(r"\| 10k \| join \| (\d+) / \1 \|", text)) == 2
    assert (tmp_path / "RESULTS.json").exists()
    # the floors beside ours: the bare Flask lookup answered the same rows and was measured
    # for every client count, and pyoxigraph's own bulk load of the same N-Quads ran
    raw = json.loads((tmp_path / "RESULTS.json").read_text())["sizes"][0]
    floor = raw["http"]["workers"]["floor"]
    assert floor["rows"] == raw["http"]["rows"]["lookup"]["ckmkg"] == 8
    assert all(floor["throughput"][str(n)]["rps"] > 0 for n in (1, 2, 8))
    assert not any(floor["throughput"][str(n)]["errors"] for n in (1, 2, 8))
    assert floor["latency"]["p50"] > 0 and not floor["latency"]["errors"]
    assert re.search(r"\| 10k \| lookup \| 8 \| [\d,]+ \| [\d,]+ \| [\d,]+ \| [\d,]+ \|", text)
    assert raw["oxigraph"]["load"]["bulk_load_seconds"] > 0
    assert "The ceiling of any load into an on-disk Oxigraph here" in text

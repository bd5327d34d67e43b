"""The warm HermiT (kg_service.hermit_server) against HermiT's command line: real Java."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import rdflib
from rdflib import OWL, RDF, RDFS, URIRef

from kg_service import hermit_server, reasoning
from kg_service.cases import load_ontology_graph
from kg_service.errors import ReasonerFailed
from kg_service.namespaces import CKM

CLASH = URIRef("https://w3id.org/ckm/id/thing/clash")
BAD = URIRef(str(CKM) + "AboutAndFrom")


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return load_ontology_graph()


@pytest.fixture(scope="module")
def files(onto: rdflib.Graph, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """N-Triples files: the ontology (consistent), with an individual of two disjoint classes
    (inconsistent), with a subclass of both (an unsatisfiable class)."""
    clash, unsat = rdflib.Graph() + onto, rdflib.Graph() + onto
    clash.add((CLASH, RDF.type, CKM.KnowledgeAboutCustomer))
    clash.add((CLASH, RDF.type, CKM.KnowledgeFromCustomer))
    unsat.add((BAD, RDF.type, OWL.Class))
    unsat.add((BAD, RDFS.subClassOf, CKM.KnowledgeAboutCustomer))
    unsat.add((BAD, RDFS.subClassOf, CKM.KnowledgeFromCustomer))
    out = {}
    for name, g in (("consistent", onto), ("inconsistent", clash), ("unsatisfiable", unsat)):
        path = tmp_path_factory.mktemp("hermit") / f"{name}.nt"
        g.serialize(path, format="nt", encoding="utf-8")
        out[name] = str(path)
    return out


@pytest.fixture()
def fresh() -> Iterator[None]:
    """No warm server before or after the test."""
    hermit_server.shutdown()
    yield
    hermit_server.shutdown()


@pytest.fixture(scope="module", autouse=True)
def _stop_at_end() -> Iterator[None]:
    yield
    hermit_server.shutdown()


def _server() -> hermit_server.HermitServer:
    assert hermit_server._server is not None
    return hermit_server._server


def test_warm_answers_as_the_command_line(files: dict[str, str]) -> None:
    key = reasoning._key()
    for name, path in files.items():
        cli = reasoning._hermit_cli(key, path, 120)
        warm = hermit_server.ask(key, path, 120)
        assert warm is not None
        assert (warm.consistent, warm.lines) == (cli.consistent, cli.lines), name
    assert hermit_server.ask(key, files["consistent"], 120).lines == ["\towl:Nothing"]
    assert hermit_server.ask(key, files["inconsistent"], 120).consistent is False
    assert f"\t<{BAD}>" in hermit_server.ask(key, files["unsatisfiable"], 120).lines


def test_check_consistency_reports(onto: rdflib.Graph) -> None:
    g = rdflib.Graph() + onto
    assert reasoning.check_consistency(g).ok
    pid = _server().proc.pid
    g.add((BAD, RDF.type, OWL.Class))
    g.add((BAD, RDFS.subClassOf, CKM.KnowledgeAboutCustomer))
    g.add((BAD, RDFS.subClassOf, CKM.KnowledgeFromCustomer))
    report = reasoning.check_consistency(g)
    assert report.consistent and report.unsatisfiable == [str(BAD)]
    assert _server().proc.pid == pid  # one JVM for both


def test_unreadable_file_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.nt"
    bad.write_text("this is not RDF <<<\n")
    with pytest.raises(ReasonerFailed):
        hermit_server.ask(reasoning._key(), str(bad), 120)
    with pytest.raises(ReasonerFailed):
        reasoning._hermit_cli(reasoning._key(), str(bad), 120)
    with pytest.raises(ReasonerFailed):
        hermit_server.ask(reasoning._key(), str(tmp_path / "missing.nt"), 120)
    good = tmp_path / "good.nt"
    good.write_text("<http://example.org/a> a <http://example.org/C> .\n")
    answer = hermit_server.ask(reasoning._key(), str(good), 120)  # the server still serves
    assert answer is not None and answer.consistent


def test_restarts_after_the_jvm_is_killed(files: dict[str, str], fresh: None) -> None:
    key = reasoning._key()
    assert hermit_server.ask(key, files["consistent"], 120) is not None
    old = _server().proc
    os.kill(old.pid, signal.SIGKILL)
    old.wait()
    answer = hermit_server.ask(key, files["inconsistent"], 120)
    assert answer is not None and answer.consistent is False
    assert _server().proc.pid != old.pid


def test_dies_mid_request_is_retried(files: dict[str, str], fresh: None) -> None:
    """Killed after the last answer but not yet reaped: the request notices and restarts."""
    key = reasoning._key()
    hermit_server.ask(key, files["consistent"], 120)
    old = _server().proc
    os.kill(old.pid, signal.SIGKILL)  # no wait: poll() may still say it runs
    answer = hermit_server.ask(key, files["consistent"], 120)
    assert answer is not None and answer.consistent
    assert _server().proc.pid != old.pid


def test_timeout_stops_it_and_the_next_request_works(files: dict[str, str],
                                                     fresh: None) -> None:
    key = reasoning._key()
    hermit_server.ask(key, files["consistent"], 120)
    old = _server().proc
    with pytest.raises(ReasonerFailed, match="did not finish within"):
        hermit_server.ask(key, files["unsatisfiable"], 0.001)
    assert old.poll() is not None and hermit_server._server is None
    answer = hermit_server.ask(key, files["unsatisfiable"], 120)
    assert answer is not None and f"\t<{BAD}>" in answer.lines
    with pytest.raises(ReasonerFailed, match="did not finish within"):
        reasoning._hermit_cli(key, files["consistent"], 0.001)


def test_forked_child_starts_its_own(files: dict[str, str], fresh: None) -> None:
    key = reasoning._key()
    hermit_server.ask(key, files["consistent"], 120)
    parent_jvm = _server().proc.pid
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover (runs in the child)
        code = 1
        try:
            os.close(read)
            inherited = hermit_server._server
            answer = hermit_server.ask(key, files["inconsistent"], 120)
            mine = _server().proc.pid
            os.write(write, f"{inherited is None} {answer is not None and not answer.consistent}"
                            f" {mine}".encode())
            hermit_server.shutdown()
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    with os.fdopen(read) as f:
        reply = f.read().split()
    _pid, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert reply[:2] == ["True", "True"]
    assert int(reply[2]) != parent_jvm
    assert _server().proc.pid == parent_jvm and _server().alive  # the parent's is untouched
    answer = hermit_server.ask(key, files["consistent"], 120)
    assert answer is not None and answer.consistent


def test_jvm_ends_with_its_process(files: dict[str, str]) -> None:
    """Exit (atexit) and SIGKILL (end of file on its stdin) both end the JVM."""
    script = ("import sys; from kg_service import hermit_server, reasoning\n"
              f"hermit_server.ask(reasoning._key(), {files['consistent']!r}, 120)\n"
              "print(hermit_server._server.proc.pid, flush=True)\n"
              "sys.stdin.read() if sys.argv[1] == 'wait' else None\n")
    for how in ("exit", "wait"):
        proc = subprocess.Popen([sys.executable, "-c", script, how], stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                cwd=Path(__file__).resolve().parents[1])
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.strip().isdigit(), proc.communicate()[1] if proc.stderr else line
        jvm = int(line)
        if how == "wait":
            proc.kill()
        proc.wait(60)
        deadline = time.monotonic() + 20
        while _running(jvm) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(jvm), how


def _running(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_falls_back_to_the_command_line_without_a_server(files: dict[str, str],
                                                         tmp_path: Path) -> None:
    key = (str(tmp_path / "no-such-java"), 2000, reasoning._key()[2])
    assert hermit_server.ask(key, files["consistent"], 120) is None
    with pytest.raises(ReasonerFailed, match="could not run"):
        reasoning._hermit_cli(key, files["consistent"], 120)

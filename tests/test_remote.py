"""The service on a remote SPARQL store: a private Virtuoso started by the test.

The session fixture copies Debian's ``virtuoso.ini``, points its database, transaction,
temp and log files into a temp dir and both ``ServerPort`` lines at free loopback ports,
caps results at 1000 rows (so the row cap is exercised on the bundled 1844 quads),
starts ``virtuoso-t +foreground``, and with ``isql-vt`` creates the one user allowed to
update (SPARQL_UPDATE, digest auth on ``/sparql-auth``); anonymous ``/sparql`` stays
read-only. The bundled data is loaded THROUGH the service (``create_app`` on an empty
Virtuoso), then the same end-to-end checks as on the embedded store run.
"""

from __future__ import annotations

import io
import re
import secrets
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from rdflib import Literal, URIRef
from rdflib.compare import isomorphic

from kg_service.errors import TimedOut
from kg_service.settings import Settings
from kg_service.store import KGStore, QueryRequest, open_store
from tests.conftest import free_port, opened_app, stop_process

pytestmark = pytest.mark.remote

INI = Path("/etc/virtuoso-opensource-7/virtuoso.ini")
HOLCIM = "https://w3id.org/ckm/id/company/holcim"
ALT = "http://www.w3.org/2004/02/skos/core#altLabel"
CASE = "https://w3id.org/ckm/id/case/holcim-hbk"


class Virtuoso:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.sql_port, self.http_port = free_port(), free_port()
        self.user, self.password = "kgtest", secrets.token_urlsafe(12)
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.ini = root / "virtuoso.ini"
        self.ini.write_text(self._config(INI.read_text()))
        self.log = open(root / "stdout.log", "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [shutil.which("virtuoso-t") or "virtuoso-t", "+configfile", str(self.ini),
             "+foreground"], cwd=root, stdout=self.log, stderr=subprocess.STDOUT)
        self._wait()
        self._setup()

    def _config(self, text: str) -> str:
        out, section = [], ""
        for line in text.splitlines():
            head = re.match(r"\s*\[(.*)\]", line)
            section = head.group(1) if head else section
            key = line.split("=", 1)[0].strip()
            if section in ("Database", "TempDatabase") and key in (
                    "DatabaseFile", "ErrorLogFile", "LockFile", "TransactionFile",
                    "xa_persistent_file"):
                line = f"{key} = {self.root / line.split('=', 1)[1].strip().split('/')[-1]}"
            elif section == "Parameters" and key == "ServerPort":
                line = f"ServerPort = 127.0.0.1:{self.sql_port}"
            elif section == "HTTPServer" and key == "ServerPort":
                line = f"ServerPort = 127.0.0.1:{self.http_port}"
            elif section == "SPARQL" and key == "ResultSetMaxRows":
                line = "ResultSetMaxRows = 1000"
            out.append(line)
        return "\n".join(out) + "\n"

    def _wait(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.root / "stdout.log").read_text()
            try:
                with urllib.request.urlopen(f"{self.url}/sparql?query=ASK%7B%7D", timeout=5):
                    return
            except OSError:
                time.sleep(0.3)
        raise AssertionError("Virtuoso did not start: " + (self.root / "stdout.log").read_text())

    def _setup(self) -> None:
        sql = (f"DB.DBA.USER_CREATE('{self.user}', '{self.password}');\n"
               f'GRANT SPARQL_UPDATE TO "{self.user}";\n'
               "DB.DBA.RDF_DEFAULT_USER_PERMS_SET('nobody', 1);\n"
               f"DB.DBA.RDF_DEFAULT_USER_PERMS_SET('{self.user}', 3);\n")
        (self.root / "setup.sql").write_text(sql)
        subprocess.run([shutil.which("isql-vt") or "isql-vt", f"127.0.0.1:{self.sql_port}",
                        "dba", "dba", str(self.root / "setup.sql")],
                       check=True, capture_output=True, timeout=60)

    def settings(self, data_dir: Path, **overrides: object) -> Settings:
        base = dict(store=f"sparql+{self.url}/sparql", data_dir=str(data_dir),
                    store_update_url=f"{self.url}/sparql-auth",
                    store_graph_store_url=f"{self.url}/sparql-graph-crud-auth",
                    store_user=self.user, store_password=self.password, store_max_rows=1000,
                    query_timeout=5.0, query_workers=0)
        base.update(overrides)
        return Settings.from_env(environ={}, **base)

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


@pytest.fixture(scope="session")
def virtuoso(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Virtuoso]:
    server = Virtuoso(tmp_path_factory.mktemp("virtuoso"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def remote_app(virtuoso: Virtuoso, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Flask]:
    with opened_app(virtuoso.settings(tmp_path_factory.mktemp("remote-app"))) as application:
        yield application


@pytest.fixture
def remote(remote_app: Flask) -> FlaskClient:
    return remote_app.test_client()


def _json_count(resp: object) -> int:
    body = resp.get_json(force=True)  # type: ignore[attr-defined]
    return int(body["results"]["bindings"][0]["n"]["value"])


def test_bundled_data_loaded_through_the_service_equals_the_embedded_store(
        remote_app: Flask, loaded_store: KGStore) -> None:
    store = remote_app.extensions["kg"]
    assert type(store).__name__ == "RemoteStore" and store.virtuoso
    assert len(store) == len(loaded_store) == 1844
    assert store.named_graphs() == loaded_store.named_graphs()
    for iri in loaded_store.named_graphs():  # blank nodes (OWL lists) included
        assert isomorphic(store.graph(iri), loaded_store.graph(iri)), iri


def test_sparql_endpoint_sees_only_our_graphs_in_every_format(remote: FlaskClient) -> None:
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    resp = remote.get("/sparql", query_string={"query": count},
                      headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200 and _json_count(resp) == 1844  # no Virtuoso system graphs
    graphs = remote.get("/sparql", query_string={
        "query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } } ORDER BY ?g",
        "format": "csv"}).get_data(as_text=True).split()
    assert graphs[0] == "g" and len(graphs) == 12
    assert all(g.startswith("https://w3id.org/ckm/") for g in graphs[1:])
    ttl = remote.get("/sparql", headers={"Accept": "text/turtle"}, query_string={
        "query": f"CONSTRUCT {{ <{HOLCIM}> ?p ?o }} WHERE {{ <{HOLCIM}> ?p ?o }}"})
    assert ttl.status_code == 200 and "Holcim" in ttl.get_data(as_text=True)
    bad = remote.get("/sparql", query_string={"query": "SELECT * WHERE {\n ?s ?p ?o .. }"},
                     headers={"Accept": "application/json"})
    assert bad.status_code == 400
    assert bad.get_json()["line"] == 2


def test_a_result_cut_by_the_row_cap_is_marked_truncated(remote: FlaskClient,
                                                          remote_app: Flask) -> None:
    resp = remote.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"},
                      headers={"Accept": "application/sparql-results+json"})
    assert resp.status_code == 200
    assert resp.headers["KG-Result-Truncated"] == "true"
    body = resp.get_json()
    assert body["truncated"] is True and len(body["results"]["bindings"]) == 1000
    # internal reads page past the cap: the whole store, not 1000 quads
    out = io.BytesIO()
    remote_app.extensions["kg"].dump(out)
    assert len(out.getvalue().splitlines()) == 1844


def test_saved_query_and_linked_data_page_match_the_embedded_store(
        remote: FlaskClient, client: FlaskClient) -> None:
    path = "/queries/companies-per-style"
    params = {"style": "https://w3id.org/ckm/ontology#Prosumerism", "format": "csv"}
    on_virtuoso = remote.get(path, query_string=params)
    embedded = client.get(path, query_string=params)
    assert on_virtuoso.status_code == embedded.status_code == 200
    rows = sorted(on_virtuoso.get_data(as_text=True).splitlines())
    # (Virtuoso sends booleans as "0"/"1"^^xsd:boolean: read back as false/true)
    assert rows == sorted(embedded.get_data(as_text=True).splitlines())
    assert len(rows) > 1
    page = remote.get("/id/company/holcim", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "Holcim" in page.get_data(as_text=True)
    nt = remote.get("/id/company/holcim", headers={"Accept": "application/n-triples"})
    assert nt.status_code == 200
    assert f"<{HOLCIM}> <http://www.w3.org/2000/01/rdf-schema#label>" in nt.get_data(
        as_text=True)


def test_edits_are_validated_recorded_and_seen_by_another_process(
        remote_app: Flask, remote: FlaskClient, virtuoso: Virtuoso, tmp_path: Path) -> None:
    store = remote_app.extensions["kg"]
    other = open_store(virtuoso.settings(tmp_path))  # another worker's store object
    token = remote_app.extensions["kg_tokens"].create("remote-editor", "editor")
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/sparql-update"}
    before_rev, before_len = other.revision(), len(store)
    ok = f'INSERT DATA {{ GRAPH <{CASE}> {{ <{HOLCIM}> <{ALT}> "Holcim on Virtuoso"@en }} }}'
    resp = remote.post("/sparql", data=ok, headers=auth)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    change = resp.get_json()
    assert change["added"] == 1
    assert other.revision() != before_rev
    assert other.ask(f'ASK {{ <{HOLCIM}> <{ALT}> "Holcim on Virtuoso"@en }}')
    history = store.graph("https://w3id.org/ckm/history")
    assert (URIRef(f"https://w3id.org/ckm/history/{change['id']}"), None, None) in history
    bad = ('PREFIX ckm: <https://w3id.org/ckm/ontology#> INSERT DATA { GRAPH '
           f'<{CASE}> {{ <https://w3id.org/ckm/id/company/nameless> a ckm:Company }} }}')
    refused = remote.post("/sparql", data=bad, headers={**auth, "Accept": "application/json"})
    assert refused.status_code == 422
    assert not other.ask("ASK { <https://w3id.org/ckm/id/company/nameless> ?p ?o }")
    assert len(store) > before_len  # the accepted edit, its history (and nothing else)


def test_dump_and_restore_round_trip(remote_app: Flask, virtuoso: Virtuoso,
                                     tmp_path: Path) -> None:
    store = open_store(virtuoso.settings(tmp_path))
    dump = io.BytesIO()
    store.dump(dump)
    ontology = store.graph("https://w3id.org/ckm/ontology")
    n = len(store)
    store.apply([(URIRef(HOLCIM), URIRef(ALT), Literal("to be undone", lang="en"), CASE)], [])
    store.replace_graphs({"https://w3id.org/ckm/ontology": ontology - ontology})
    assert len(store) < n
    store.restore(io.BytesIO(dump.getvalue()))
    assert len(store) == n
    assert isomorphic(store.graph("https://w3id.org/ckm/ontology"), ontology)


def test_a_query_past_its_time_limit_is_stopped(virtuoso: Virtuoso, tmp_path: Path) -> None:
    store = open_store(virtuoso.settings(tmp_path))
    # Virtuoso stops it at the deadline and would send partial results (S1TAT): refused
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f FILTER(STR(?c) < STR(?f)) }"
    started = time.monotonic()
    with pytest.raises(TimedOut):
        store.run_query(QueryRequest(slow, "json", timeout=1.0))
    assert time.monotonic() - started < 10
    # one it estimates to run for an hour is refused up front, also as a timeout (503)
    huge = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    with pytest.raises(TimedOut):
        store.run_query(QueryRequest(huge, "json", timeout=1.0))
    assert store.timeouts == 2
    ok = store.run_query(QueryRequest("ASK { ?s ?p ?o }", "json"))
    assert ok.read() == b'{"head":{},"boolean":true}'


def test_a_commit_that_removes_a_link_keeps_the_inferred_graph_exact(
        remote_app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    """A style change (a link removed, another added) on Virtuoso: the inferred graph is
    updated locally (delete and rederive, its queries run by Virtuoso) and equals the
    closure recomputed from all data."""
    from kg_service import incremental
    from kg_service.auth import User
    from kg_service.changes import submit_update
    from kg_service.incremental import infer_store
    from kg_service.namespaces import CKM, INFERRED_GRAPH

    store = remote_app.extensions["kg"]
    prefix = "PREFIX ckm: <https://w3id.org/ckm/ontology#>\n"
    row = store.select(prefix + "SELECT ?p ?s ?g ?c WHERE { GRAPH ?g { ?p ckm:exhibitsStyle ?s "
                       "; ckm:practicedBy ?c } } ORDER BY ?p ?s LIMIT 1")[0]
    p, style, g = row["p"].n3(), row["s"].n3(), row["g"].n3()
    other = CKM.Prosumerism if row["s"] != CKM.Prosumerism else CKM.MutualInnovation

    def full_recompute(*_a: object, **_k: object) -> None:
        raise AssertionError("the full recompute ran")

    monkeypatch.setattr(incremental, "infer_store", full_recompute)
    change = submit_update(store, prefix + f"DELETE {{ GRAPH {g} {{ {p} ckm:exhibitsStyle "
                           f"{style} }} }} INSERT {{ GRAPH {g} {{ {p} ckm:exhibitsStyle "
                           f"{other.n3()} }} }} WHERE {{ GRAPH {g} {{ {p} ckm:exhibitsStyle "
                           f"{style} }} }}", user=User("remote-editor", "editor"),
                           message="change a style on Virtuoso")
    assert (change.added, change.removed) == (1, 1)
    monkeypatch.undo()
    inferred = set(store.graph(INFERRED_GRAPH))
    assert (row["c"], CKM.appliesStyle, other) in inferred
    expected, _old = infer_store(store)
    assert inferred == expected

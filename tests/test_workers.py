"""Several gunicorn workers on one embedded store: `ckmkg serve --workers 2` as a subprocess.

Writes go through one worker, reads through every worker (connections pinned to a
worker with keep-alive sessions, the worker told by /healthz's pid); a worker killed
with SIGKILL under read load is replaced and reads go on; SIGTERM lets a running query
finish.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil
import pytest
import requests

from kg_service.auth import TokenStore
from tests.conftest import copy_loaded, free_port, stop_process

HOLCIM = "https://w3id.org/ckm/id/company/holcim"
GRAPH = "https://w3id.org/ckm/id/case/holcim-hbk"
ALT = "http://www.w3.org/2004/02/skos/core#altLabel"


class Gunicorn:
    """``ckmkg serve --workers N`` on a free loopback port with its own data dir."""

    def __init__(self, data_dir: Path, workers: int = 2, **env: str) -> None:
        self.data_dir = data_dir
        self.token = TokenStore(str(data_dir)).create("worker-test", "editor")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(data_dir / "server.log", "wb")  # noqa: SIM115 - closed in stop()
        environ = {**os.environ, "KG_DATA_DIR": str(data_dir), "KG_QUERY_WORKERS": "1",
                   "KG_QUERY_TIMEOUT": "20", "KG_SHUTDOWN_TIMEOUT": "20", **env}
        environ.pop("KG_CONFIG", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from kg_service.cli import main; main()", "serve",
             "--workers", str(workers), "--threads", "4", "--port", str(self.port)],
            env=environ, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_ready(workers)

    def workers(self) -> list[int]:
        """Pids of the worker processes (the master's direct children)."""
        return sorted(c.pid for c in psutil.Process(self.proc.pid).children()
                      if c.status() != psutil.STATUS_ZOMBIE)

    def wait_ready(self, workers: int, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, (self.data_dir / "server.log").read_text()
            try:
                if requests.get(self.url + "/readyz", timeout=10).status_code == 200 and \
                        len(self.workers()) == workers:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise AssertionError("server did not start: " + (self.data_dir / "server.log").read_text())

    def stop(self) -> None:
        stop_process(self.proc)
        self.log.close()


@pytest.fixture(scope="module")
def server(loaded_template: Path, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[Gunicorn]:
    srv = Gunicorn(copy_loaded(loaded_template, tmp_path_factory.mktemp("workers")))
    yield srv
    srv.stop()


def pid_of(session: requests.Session, url: str) -> int:
    return session.get(url + "/healthz", timeout=10).json()["pid"]


def sessions_per_worker(srv: Gunicorn) -> dict[int, requests.Session]:
    """One keep-alive session pinned to each worker."""
    pinned: dict[int, requests.Session] = {}
    for _ in range(200):
        s = requests.Session()
        pid = pid_of(s, srv.url)
        if pid in pinned:
            s.close()
        else:
            pinned[pid] = s
        if len(pinned) == len(srv.workers()):
            return pinned
    raise AssertionError(f"connections reached only workers {sorted(pinned)}")


def has_label(session: requests.Session, url: str, label: str) -> bool:
    query = f'ASK {{ GRAPH <{GRAPH}> {{ <{HOLCIM}> <{ALT}> "{label}"@en }} }}'
    resp = session.get(url + "/sparql", params={"query": query},
                       headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert resp.status_code == 200, resp.text
    return resp.json()["boolean"]


def write_label(session: requests.Session, srv: Gunicorn, label: str) -> None:
    update = f'INSERT DATA {{ GRAPH <{GRAPH}> {{ <{HOLCIM}> <{ALT}> "{label}"@en }} }}'
    resp = session.post(srv.url + "/sparql", data=update.encode(), timeout=60,
                        headers={"Content-Type": "application/sparql-update",
                                 "Authorization": f"Bearer {srv.token}"})
    assert resp.status_code == 200, resp.text


def test_a_write_through_one_worker_is_read_by_every_worker(server: Gunicorn) -> None:
    pinned = sessions_per_worker(server)
    assert len(pinned) == 2
    for n, (writer_pid, writer) in enumerate(sorted(pinned.items())):
        label = f"seen by all {n}"
        for s in pinned.values():
            assert not has_label(s, server.url, label)
        write_label(writer, server, label)
        assert pid_of(writer, server.url) == writer_pid
        for pid, s in pinned.items():  # the very next read of every worker sees it
            assert has_label(s, server.url, label), f"worker {pid} read a stale state"
            assert pid_of(s, server.url) == pid


def test_concurrent_writes_through_both_workers_all_land(server: Gunicorn) -> None:
    pinned = sessions_per_worker(server)
    labels = {pid: [f"concurrent {pid} {i}" for i in range(3)] for pid in pinned}

    def writes(pid: int) -> None:
        for label in labels[pid]:
            write_label(pinned[pid], server, label)

    with ThreadPoolExecutor(len(pinned)) as pool:
        list(pool.map(writes, pinned))
    for s in pinned.values():
        for group in labels.values():
            assert all(has_label(s, server.url, label) for label in group)
    history = requests.get(server.url + "/sparql", timeout=30, params={
        "query": "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }"},
        headers={"Accept": "application/sparql-results+json"}).json()
    assert int(history["results"]["bindings"][0]["n"]["value"]) > 1844


def _read_load(url: str, count: int, threads: int = 4) -> list[int]:
    query = "SELECT ?l WHERE { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?l } LIMIT 20"

    def one(_: int) -> int:
        try:
            return requests.get(url + "/sparql", params={"query": query}, timeout=30,
                                headers={"Accept": "application/sparql-results+json"}
                                ).status_code
        except requests.RequestException:
            return -1

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(one, range(count)))


def test_a_killed_worker_is_replaced_and_reads_keep_working(server: Gunicorn) -> None:
    before = server.workers()
    victim = before[0]
    statuses: list[int] = []
    loader = threading.Thread(target=lambda: statuses.extend(_read_load(server.url, 300)))
    loader.start()
    time.sleep(0.5)
    os.kill(victim, signal.SIGKILL)
    loader.join(120)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        now = server.workers()
        if len(now) == 2 and victim not in now:
            break
        time.sleep(0.2)
    now = server.workers()
    assert victim not in now and len(now) == 2
    # at most the requests in flight on the killed worker failed during the kill
    assert sum(1 for s in statuses if s != 200) <= 4, statuses
    after = _read_load(server.url, 200)
    assert after == [200] * 200
    assert requests.get(server.url + "/readyz", timeout=10).status_code == 200


def test_sigterm_lets_a_running_query_finish(loaded_template: Path, tmp_path: Path) -> None:
    srv = Gunicorn(copy_loaded(loaded_template, tmp_path / "data"), workers=1)
    try:
        result: dict[str, object] = {}
        query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"

        def slow() -> None:
            resp = requests.get(srv.url + "/sparql", params={"query": query}, timeout=60,
                                headers={"Accept": "application/sparql-results+json"})
            result["status"] = resp.status_code
            result["n"] = resp.json()["results"]["bindings"][0]["n"]["value"]

        t = threading.Thread(target=slow)
        t.start()
        time.sleep(0.4)
        srv.proc.send_signal(signal.SIGTERM)
        t.join(60)
        assert result == {"status": 200, "n": str(1844 * 1844)}
        assert srv.proc.wait(30) == 0
        with pytest.raises(requests.ConnectionError):
            requests.get(srv.url + "/healthz", timeout=5)
    finally:
        srv.stop()


def test_each_request_gets_one_combined_log_format_line(server: Gunicorn) -> None:
    agent = f"access-log-test/{time.time_ns()}"
    resp = requests.get(server.url + "/healthz?probe=1", timeout=10,
                        headers={"User-Agent": agent, "Referer": "http://example.org/from"})
    assert resp.status_code == 200
    line = re.compile(r'^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d [+-]\d{4}\] '
                      r'"GET /healthz\?probe=1 HTTP/1\.1" 200 (\d+) "http://example\.org/from" '
                      f'"{re.escape(agent)}"$', re.MULTILINE)
    deadline = time.monotonic() + 10
    while not (found := line.findall((server.data_dir / "server.log").read_text())):
        assert time.monotonic() < deadline, "no access line for the request"
        time.sleep(0.1)
    assert found == [str(len(resp.content))]


# --- keep-alive connections (kg_service/keepalive_worker.py) ----------------------------

HOLCIM_ASK = f"ASK {{ <{HOLCIM}> ?p ?o }}"
NOBODY_ASK = "ASK { <https://w3id.org/ckm/id/company/nobody> ?p ?o }"


@pytest.fixture(scope="module")
def one_worker(loaded_template: Path, tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[Gunicorn]:
    """One worker with 4 threads: every connection below meets the same thread pool."""
    srv = Gunicorn(copy_loaded(loaded_template, tmp_path_factory.mktemp("keepalive")),
                   workers=1)
    yield srv
    srv.stop()


def _ask(conn: http.client.HTTPConnection, query: str) -> bool:
    conn.request("GET", "/sparql?" + urllib.parse.urlencode({"query": query}),
                 headers={"Accept": "application/sparql-results+json"})
    resp = conn.getresponse()
    body = resp.read()
    assert resp.status == 200, body
    return json.loads(body)["boolean"]


def test_a_keep_alive_connection_is_answered_request_after_request(one_worker: Gunicorn
                                                                   ) -> None:
    assert "Using worker: kg_service.keepalive_worker.KeepAliveWorker" in \
        (one_worker.data_dir / "server.log").read_text()
    conn = http.client.HTTPConnection("127.0.0.1", one_worker.port, timeout=10)
    try:
        assert _ask(conn, HOLCIM_ASK)
        sock = conn.sock
        answers = [_ask(conn, HOLCIM_ASK if i % 2 else NOBODY_ASK) for i in range(60)]
        assert answers == [bool(i % 2) for i in range(60)]
        assert conn.sock is sock  # the same TCP connection throughout
    finally:
        conn.close()


def test_pipelined_requests_are_answered_in_order(one_worker: Gunicorn) -> None:
    def get(query: str) -> bytes:
        return (f"GET /sparql?{urllib.parse.urlencode({'query': query})} HTTP/1.1\r\n"
                "Host: 127.0.0.1\r\nAccept: application/sparql-results+json\r\n\r\n").encode()

    with socket.create_connection(("127.0.0.1", one_worker.port), timeout=10) as s:
        s.sendall(get(NOBODY_ASK) + get(HOLCIM_ASK) + get(NOBODY_ASK))  # one write
        data = b""
        while data.count(b'"boolean":') < 3:
            chunk = s.recv(65536)
            assert chunk, data
            data += chunk
    assert data.count(b"HTTP/1.1 200 ") == 3
    assert re.findall(rb'"boolean":(true|false)', data) == [b"false", b"true", b"false"]


def test_idle_connections_beyond_the_threads_do_not_hold_up_a_request(one_worker: Gunicorn
                                                                      ) -> None:
    idle = [http.client.HTTPConnection("127.0.0.1", one_worker.port, timeout=10)
            for _ in range(10)]  # the worker has 4 threads
    try:
        for conn in idle:
            assert _ask(conn, HOLCIM_ASK)  # then each stays open and quiet
        fresh = http.client.HTTPConnection("127.0.0.1", one_worker.port, timeout=10)
        assert _ask(fresh, HOLCIM_ASK)  # answered at once (the timeout is 10 s)
        fresh.close()
        time.sleep(0.1)
        assert [_ask(conn, NOBODY_ASK) for conn in idle] == [False] * 10
    finally:
        for conn in idle:
            conn.close()

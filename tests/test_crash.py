"""Kill the server during a large changeset: on restart the previous state is intact."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from kg_service.auth import TokenStore
from tests.conftest import free_port

BULK = "https://w3id.org/ckm/id/case/bulk"
N = 30000


class Server:
    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "KG_DATA_DIR": str(data), "KG_MAX_BODY": "100000000",
               "KG_QUERY_WORKERS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from kg_service.cli import main; main()", "serve",
             "--port", str(self.port)], env=env, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 90
        while time.time() < deadline:
            try:
                if requests.get(f"{self.url}/api/v1/changes", timeout=10).status_code == 200:
                    return
            except requests.RequestException:
                time.sleep(0.2)
        self.kill()
        raise AssertionError("the server did not start")

    def kill(self) -> None:
        """SIGKILL the whole process group: master, workers, query processes."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)


def bulk_body() -> bytes:
    return "".join(f'<https://w3id.org/ckm/id/thing/bulk-{i}> '
                   f'<http://www.w3.org/2000/01/rdf-schema#comment> "bulk note {i}" .\n'
                   for i in range(N)).encode()


def test_kill_during_large_changeset_keeps_previous_state(loaded_template: Path,
                                                           tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(loaded_template, data)
    token = TokenStore(data).create("bulk", "editor")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/n-triples",
               "X-Change-Message": "bulk import"}
    url_import = f"/api/v1/import?graph={BULK}"
    body = bulk_body()
    dirty = data / "oxigraph" / "DIRTY"

    server = Server(data)
    try:
        before = requests.get(f"{server.url}/api/v1/changes").json()
        assert before["total"] == 0

        def send() -> None:
            with contextlib.suppress(requests.RequestException):  # the server dies under it
                requests.post(server.url + url_import, data=body, headers=headers, timeout=300)

        sender = threading.Thread(target=send, daemon=True)
        sender.start()
        killed_mid_write = False
        deadline = time.time() + 240
        while time.time() < deadline and sender.is_alive():
            if dirty.exists():  # the store is applying the change right now
                server.kill()
                killed_mid_write = True
                break
            time.sleep(0.002)
        if not killed_mid_write:
            pytest.fail("the changeset finished before the write could be interrupted")
    finally:
        server.kill()
    assert dirty.exists()  # the write really was cut off half way

    server = Server(data)
    try:
        after = requests.get(f"{server.url}/api/v1/changes").json()
        assert after["total"] == 0 and after["revision"] == before["revision"]
        r = requests.get(f"{server.url}/api/v1/revisions/initial/graph",
                         params={"graph": BULK, "format": "ntriples"})
        assert r.headers["KG-Triples"] == "0"
        # the same change goes through now, whole
        ok = requests.post(server.url + url_import, data=body, headers=headers, timeout=300)
        assert ok.status_code == 201, ok.text
        assert ok.json()["change"]["added"] == N
        r = requests.get(f"{server.url}/api/v1/revisions/{ok.json()['change']['id']}/graph",
                         params={"graph": BULK, "format": "ntriples"})
        assert r.headers["KG-Triples"] == str(N)
    finally:
        server.kill()

"""Shared fixtures: real Oxigraph stores in temp dirs, the Flask app, a live server.

- ``settings``: on-disk store in a fresh temp dir, one query process, 5 s timeout.
- ``store``: an empty on-disk store; ``loaded_store``: ontology + bundled cases (fresh copy).
- ``app``/``client``: a read-mostly app over the bundled data, shared by the session.
  Tests that write use ``fresh_app``/``fresh_client`` (their own copy of the data).
- ``live_server``: the session app served on a loopback port by a real WSGI server.
- ``tokens``: {"reader"|"editor"|"admin": bearer token} for the session app;
  ``fresh_tokens`` likewise for ``fresh_app``.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from kg_service import create_app
from kg_service.settings import Settings
from kg_service.store import KGStore, open_store


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def stop_process(proc: subprocess.Popen) -> None:
    """SIGTERM, then SIGKILL if it has not exited within 30 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    base = dict(data_dir=str(data_dir), store="embedded", query_workers=1, query_timeout=5.0)
    base.update(overrides)
    return Settings.from_env(environ={}, **base)


@pytest.fixture(scope="session")
def loaded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data dir with the bundled ontology and cases loaded, built once."""
    from kg_service.bootstrap import ensure_loaded

    path = tmp_path_factory.mktemp("loaded-template")
    store = open_store(make_settings(path, query_workers=0))
    ensure_loaded(store)
    store.close()
    return path


def copy_loaded(template: Path, target: Path) -> Path:
    shutil.copytree(template, target, dirs_exist_ok=True)
    return target


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path / "data")


@pytest.fixture
def store(settings: Settings) -> Iterator[KGStore]:
    s = open_store(settings)
    yield s
    s.close()


@pytest.fixture
def loaded_store(loaded_template: Path, tmp_path: Path) -> Iterator[KGStore]:
    s = open_store(make_settings(copy_loaded(loaded_template, tmp_path / "data")))
    yield s
    s.close()


def _tokens(app: Flask) -> dict[str, str]:
    ts = app.extensions["kg_tokens"]
    return {role: ts.create(f"test-{role}", role) for role in ("reader", "editor", "admin")}


@contextmanager
def opened_app(settings: Settings) -> Iterator[Flask]:
    """An app in testing mode over ``settings``; its store is closed afterwards."""
    application = create_app(settings)
    application.config["TESTING"] = True
    try:
        yield application
    finally:
        application.extensions["kg"].close()


@pytest.fixture(scope="session")
def app(loaded_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    data = copy_loaded(loaded_template, tmp_path_factory.mktemp("session-app"))
    with opened_app(make_settings(data, query_workers=2)) as application:
        yield application


@pytest.fixture(scope="session")
def tokens(app: Flask) -> dict[str, str]:
    return _tokens(app)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def fresh_app(loaded_template: Path, tmp_path: Path) -> Iterator[Flask]:
    with opened_app(make_settings(copy_loaded(loaded_template, tmp_path / "data"))) as app_:
        yield app_


@pytest.fixture
def fresh_client(fresh_app: Flask) -> FlaskClient:
    return fresh_app.test_client()


@pytest.fixture
def fresh_tokens(fresh_app: Flask) -> dict[str, str]:
    return _tokens(fresh_app)


class LiveServer:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture
def fresh_live_server(fresh_app: Flask) -> Iterator[LiveServer]:
    server = LiveServer(fresh_app)
    yield server
    server.stop()

"""Production serving with gunicorn: several workers, graceful shutdown, shared metrics.

``ckmkg serve --workers N`` runs ``run``: the settings in force (defaults, the TOML file
named by ``KG_CONFIG``, ``KG_*`` variables, command-line options) are exported as
``KG_*`` variables, so every worker builds the same app with ``create_app()``.

- Workers are gunicorn's ``gthread`` workers that keep a thread on a busy keep-alive
  connection (``keepalive_worker.py``); each opens the store itself after the fork (the
  embedded store's readers open immutable snapshots; its writers take a file lock, see
  ``store/embedded.py``), so a write accepted by one worker is seen by the next read of
  every worker.
- SIGTERM (or SIGINT): gunicorn stops accepting connections, lets running requests
  finish for up to ``shutdown_timeout`` seconds, then workers close their stores (their
  query processes end) and exit. A worker that dies is replaced by the master.
- Metrics: ``PROMETHEUS_MULTIPROC_DIR`` points at a fresh directory (under the data
  directory) before any worker starts; a dead worker's live gauges are dropped.
"""

from __future__ import annotations

import logging
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from kg_service.settings import SETTINGS, Settings


class _App(BaseApplication):  # type: ignore[misc]
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # e.g. control_socket_disable: gunicorn >= 25.1
                self.cfg.set(key, value)

    def load(self) -> Any:
        from kg_service import create_app

        return create_app()


class AccessLogger(Logger):  # type: ignore[misc]
    """gunicorn's logger, with its default access line (the combined log format) written
    straight to the access log's streams. gunicorn's own ``access`` builds a dict of every
    request header, response header and environ variable, then a ``logging`` record (which
    walks the stack to find its caller): py-spy put the two at 13% and then 16% of a SPARQL
    lookup's time in the worker."""

    _stamp: tuple[int, str] = (0, "")

    def access(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> None:
        if not self.access_log_enabled:
            return
        now = int(time.time())
        if self._stamp[0] != now:  # strftime once a second, not once a request
            self._stamp = (now, time.strftime("[%d/%b/%Y:%H:%M:%S %z]", time.localtime(now)))
        status = resp.status
        if isinstance(status, str):
            status = status.split(None, 1)[0]
        sent = getattr(resp, "sent", None)
        line = (f'{environ.get("REMOTE_ADDR", "-")} - - {self._stamp[1]} '
                f'"{environ["REQUEST_METHOD"]} {environ["RAW_URI"]} '
                f'{environ["SERVER_PROTOCOL"]}" {status} {"-" if sent is None else sent} '
                f'"{environ.get("HTTP_REFERER", "-")}" "{environ.get("HTTP_USER_AGENT", "-")}"')
        for handler in self.access_log.handlers:
            stream = getattr(handler, "stream", None)
            if stream is None:  # not a stream or file handler: through logging
                handler.handle(self.access_log.makeRecord(
                    self.access_log.name, logging.INFO, __file__, 0, line, (), None))
                continue
            with handler.lock:
                stream.write(line + "\n")
                stream.flush()


def _worker_exit(server: Any, worker: Any) -> None:
    """Close the worker's store (its query processes end with it)."""
    app = getattr(worker, "wsgi", None)
    store = getattr(app, "extensions", {}).get("kg") if app is not None else None
    if store is not None:
        store.close()


def _child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the shared metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def export_settings(settings: Settings) -> None:
    """Put every setting into ``KG_*`` environment variables (what workers read)."""
    for s in SETTINGS:
        value = getattr(settings, s.name)
        os.environ[s.env] = ",".join(value) if isinstance(value, list) else str(value)
    os.environ.pop("KG_CONFIG", None)  # everything it said is in KG_* now


def metrics_dir(settings: Settings) -> str:
    """A fresh directory for the workers' shared metrics files."""
    base = Path(settings.data_dir)
    try:
        base.mkdir(parents=True, exist_ok=True)
        path = base / "metrics"
        shutil.rmtree(path, ignore_errors=True)
        path.mkdir()
        return str(path)
    except OSError:  # a read-only data directory (remote store): use a temp dir
        return tempfile.mkdtemp(prefix="kg-metrics-")


def gunicorn_options(settings: Settings, host: str, port: int, workers: int,
                     threads: int) -> dict[str, Any]:
    """The gunicorn configuration ``run`` uses (exposed for tests and docs)."""
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "worker_class": "kg_service.keepalive_worker.KeepAliveWorker",
        # a worker silent this long is restarted; queries are bounded by query_timeout
        "timeout": int(max(60, 2 * settings.query_timeout + 30)),
        "graceful_timeout": max(1, round(settings.shutdown_timeout)),
        "keepalive": 5,
        "accesslog": None if settings.log_json else "-",
        "logger_class": AccessLogger,
        "errorlog": "-",
        "worker_exit": _worker_exit,
        "child_exit": _child_exit,
        "proc_name": "ckmkg",
        # one shared ~/.gunicorn/gunicorn.ctl would be fought over by several servers
        "control_socket_disable": True,
    }


def run(settings: Settings, host: str, port: int, workers: int = 1, threads: int = 8) -> None:
    """Serve until SIGTERM/SIGINT, then finish running requests and stop.

    The calling process is replaced (``exec``) by a fresh interpreter that runs the
    gunicorn master: workers must be forked from a process that never used RocksDB,
    because a fork inherits RocksDB's background thread pool as state without its
    threads, and the child's next ``flush`` waits forever (measured: every write through
    ``ckmkg serve`` hung when the master had loaded the data first). Raises OSError when
    the interpreter cannot be started.
    """
    export_settings(settings)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir(settings)
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, [sys.executable, "-m", "kg_service.server", host, str(port),
                              str(workers), str(threads)])


def main(argv: list[str]) -> None:
    """``python -m kg_service.server HOST PORT WORKERS THREADS`` (settings from KG_*)."""
    host, port, workers, threads = argv
    settings = Settings.from_env()
    _App(gunicorn_options(settings, host, int(port), int(workers), int(threads))).run()


if __name__ == "__main__":
    main(sys.argv[1:])

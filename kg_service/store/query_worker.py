"""Queries in a separate process, so a query past its time limit can really be stopped.

pyoxigraph cannot cancel a running query and ignores signals while it evaluates, so each
server process keeps a small pool of query processes (``python -m
kg_service.store.query_worker``). A query process opens the current immutable snapshot
of the store read-only, evaluates, serialises the (row-limited) result and sends it back;
when the deadline passes first, the parent kills it (SIGKILL) and starts a fresh one. The
frames are 4-byte big-endian lengths followed by JSON headers and raw bodies.
"""

from __future__ import annotations

import io
import json
import os
import re
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
from typing import IO, Any

import pyoxigraph as ox

from kg_service.results import write_result

STARTUP_TIMEOUT = 60.0  # start-up (imports) never counts against a query's time limit
INLINE_MAX = 1 << 20  # larger bodies travel as a temp file, so the worker is freed at once
_POSITION = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.DOTALL)


def parse_term(text: str) -> Any:
    """An N-Triples term (IRI or literal) as a pyoxigraph term."""
    quad = next(iter(ox.parse(f"<urn:x:s> <urn:x:p> {text} .".encode(),
                              format=ox.RdfFormat.N_TRIPLES)))
    return quad.object


def execute(store: ox.Store, req: dict[str, Any], out: IO[bytes]) -> dict[str, Any]:
    """Run one query request against ``store``, writing the body to ``out``.

    Returns the header: kind/count/truncated, or ``error`` with message and position.
    """
    kwargs: dict[str, Any] = {}
    if req.get("default_graph"):
        kwargs["default_graph"] = [ox.NamedNode(g) for g in req["default_graph"]]
    elif req.get("union", True):
        kwargs["use_default_graph_as_union"] = True
    if req.get("named_graphs"):
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in req["named_graphs"]]
    if req.get("substitutions"):
        kwargs["substitutions"] = {ox.Variable(k): parse_term(v)
                                   for k, v in req["substitutions"].items()}
    if req.get("base"):
        kwargs["base_iri"] = req["base"]
    try:
        result = store.query(req["query"], **kwargs)
        written = write_result(out, result, req["format"], req["limit"], req.get("prefixes"),
                               req.get("deadline"))
    except TimeoutError:
        raise
    except SyntaxError as exc:
        msg = str(exc)
        m = _POSITION.match(msg)
        if m:
            return {"error": "syntax", "message": m.group(3), "line": int(m.group(1)),
                    "column": int(m.group(2))}
        return {"error": "syntax", "message": msg}
    except (OSError, ValueError, TypeError, RuntimeError) as exc:
        return {"error": "evaluation", "message": str(exc)}
    return {"kind": written.kind, "count": written.count, "truncated": written.truncated}


def _read_exact(fd: int, n: int) -> bytes:
    chunks = []
    while n:
        chunk = os.read(fd, n)
        if not chunk:
            raise EOFError("query process closed its pipe")
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def _write_frame(fd: int, data: bytes) -> None:
    view = memoryview(struct.pack(">I", len(data)) + data)
    while view:
        view = view[os.write(fd, view):]


def main() -> None:  # pragma: no cover - runs in the child process
    """The query process: read requests on stdin, answer on stdout, until EOF."""
    rfd, wfd = sys.stdin.fileno(), sys.stdout.fileno()
    _write_frame(wfd, b"ready")  # imports done: the parent starts deadlines from here
    stores: dict[str, ox.Store] = {}
    while True:
        try:
            (size,) = struct.unpack(">I", _read_exact(rfd, 4))
        except EOFError:
            return
        req = json.loads(_read_exact(rfd, size))
        snapshot = req["snapshot"]
        if snapshot not in stores:
            stores.clear()
            stores[snapshot] = ox.Store.read_only(snapshot)
        buf = io.BytesIO()
        started = time.perf_counter()
        header = execute(stores[snapshot], req, buf)
        header["elapsed"] = time.perf_counter() - started
        body = buf.getvalue()
        if len(body) > INLINE_MAX:
            fd, path = tempfile.mkstemp(dir=req["tmpdir"], prefix="result-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(body)
            header["path"], body = path, b""
        _write_frame(wfd, json.dumps(header).encode())
        _write_frame(wfd, body)


class QueryProcess:
    """One child process; ``run`` raises TimeoutError after killing it."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kg_service.store.query_worker"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
        assert self.proc.stdin and self.proc.stdout
        self.wfd, self.rfd = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        ready, _, _ = select.select([self.rfd], [], [], STARTUP_TIMEOUT)
        if not ready:
            self.kill()
            raise RuntimeError(f"query process did not start within {STARTUP_TIMEOUT} s")
        (size,) = struct.unpack(">I", _read_exact(self.rfd, 4))
        _read_exact(self.rfd, size)

    def run(self, req: dict[str, Any], timeout: float) -> tuple[dict[str, Any], bytes]:
        deadline = time.monotonic() + timeout
        _write_frame(self.wfd, json.dumps(req).encode())
        ready, _, _ = select.select([self.rfd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            self.kill()
            raise TimeoutError(f"query exceeded {timeout:g} s")
        (size,) = struct.unpack(">I", _read_exact(self.rfd, 4))
        header = json.loads(_read_exact(self.rfd, size))
        (size,) = struct.unpack(">I", _read_exact(self.rfd, 4))
        return header, _read_exact(self.rfd, size)

    def kill(self) -> None:
        self.proc.kill()
        self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe:
                pipe.close()

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None


class QueryPool:
    """At most ``size`` query processes, shared by a server process's threads."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._idle: list[QueryProcess] = []
        self._count = 0
        self._cond = threading.Condition()
        self.killed = 0  # queries stopped at their deadline (for /metrics)

    def _take(self) -> QueryProcess:
        with self._cond:
            while not self._idle and self._count >= self.size:
                self._cond.wait()
            if self._idle:
                return self._idle.pop()
            self._count += 1
        try:
            return QueryProcess()
        except BaseException:
            with self._cond:
                self._count -= 1
                self._cond.notify()
            raise

    def _give(self, proc: QueryProcess | None) -> None:
        with self._cond:
            if proc is not None and proc.alive:
                self._idle.append(proc)
            else:
                self._count -= 1
            self._cond.notify()

    def run(self, req: dict[str, Any], timeout: float) -> tuple[dict[str, Any], bytes]:
        """Run a request in a pooled process; TimeoutError when it was stopped."""
        proc = self._take()
        try:
            result = proc.run(req, timeout)
        except TimeoutError:
            self.killed += 1
            self._give(None)
            # start the replacement now, so the next query does not wait for its imports
            threading.Thread(target=self.warm, daemon=True).start()
            raise
        except BaseException:
            proc.kill()
            self._give(None)
            raise
        self._give(proc)
        return result

    def warm(self) -> None:
        """Start one process ahead of the first query (startup costs ~0.2 s)."""
        self._give(self._take())

    def close(self) -> None:
        with self._cond:
            idle, self._idle = self._idle, []
            self._count -= len(idle)
        for proc in idle:
            proc.kill()


if __name__ == "__main__":  # pragma: no cover
    main()

"""A small HTTP load generator for SPARQL endpoints on loopback.

One keep-alive ``http.client`` connection per client (the cheapest Python client, so the
figures show the servers rather than the client), ``GET {path}?query=...`` with an
``Accept`` header, as the SPARQL 1.1 Protocol says. Concurrent clients are processes, so
the client side does not serialise on one GIL.
"""

from __future__ import annotations

import http.client
import math
import multiprocessing
import time
import urllib.parse
from dataclasses import dataclass


@dataclass
class Latencies:
    """Seconds per request (sorted), and how many requests failed."""

    samples: list[float]
    errors: int = 0
    first_error: str = ""
    first: tuple[int, bytes] | None = None  # status and body of the first answer

    def pct(self, p: float) -> float | None:
        """The p-th percentile (nearest rank), or None without samples."""
        if not self.samples:
            return None
        s = sorted(self.samples)
        k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
        return s[k]


class Client:
    """One keep-alive connection to ``http://127.0.0.1:{port}{path}``."""

    def __init__(self, port: int, path: str, timeout: float = 600.0) -> None:
        self.port, self.path, self.timeout = port, path, timeout
        self.conn: http.client.HTTPConnection | None = None

    def get(self, query: str, accept: str) -> tuple[int, bytes]:
        """One query; returns (status, body). Raises OSError/HTTPException on failure."""
        url = f"{self.path}?{urllib.parse.urlencode({'query': query})}"
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=self.timeout)
            try:
                self.conn.request("GET", url, headers={"Accept": accept})
                resp = self.conn.getresponse()
                body = resp.read()
                if resp.getheader("Connection", "").lower() == "close":
                    self.close()
                return resp.status, body
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()  # the server closed an idle keep-alive connection: once more
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def measure(port: int, path: str, query: str, accept: str, *, runs: int, budget: float,
            warmup: int = 1) -> Latencies:
    """Sequential latencies of one query: up to ``runs`` requests or ``budget`` seconds
    (at least one), after ``warmup`` unmeasured ones. Failed requests are counted."""
    client = Client(port, path)
    out = Latencies([])
    try:
        for _ in range(warmup):
            t0 = time.perf_counter()
            try:
                status, body = client.get(query, accept)
            except (OSError, http.client.HTTPException) as exc:  # e.g. past the client timeout
                out.errors += 1
                out.first_error = f"{exc!r} after {time.perf_counter() - t0:.0f} s"
                return out
            out.first = out.first or (status, body)
            if status == 200 and time.perf_counter() - t0 > budget:
                out.samples.append(time.perf_counter() - t0)  # too slow to repeat
                return out
        started = time.perf_counter()
        while len(out.samples) + out.errors < runs:
            t0 = time.perf_counter()
            try:
                status, body = client.get(query, accept)
            except (OSError, http.client.HTTPException) as exc:
                out.errors += 1
                out.first_error = out.first_error or repr(exc)
                client.close()
            else:
                if status == 200:
                    out.samples.append(time.perf_counter() - t0)
                else:
                    out.errors += 1
                    out.first_error = out.first_error or f"{status}: {body[:200]!r}"
            if time.perf_counter() - started > budget:
                break
    finally:
        client.close()
    return out


def _client_loop(args: tuple[int, str, str, str, float, float]) -> tuple[int, int]:
    port, path, query, accept, start_at, duration = args
    client = Client(port, path)
    done = errors = 0
    while time.time() < start_at:
        time.sleep(0.001)
    end = start_at + duration
    while time.time() < end:
        try:
            status, _ = client.get(query, accept)
            if status == 200:
                done += 1
            else:
                errors += 1
        except (OSError, http.client.HTTPException):
            errors += 1
            client.close()
    client.close()
    return done, errors


def throughput(port: int, path: str, query: str, accept: str, clients: int,
               duration: float) -> tuple[float, int]:
    """Requests per second that ``clients`` concurrent clients complete in ``duration``
    seconds (requests still running at the end are not counted); and the error count."""
    ctx = multiprocessing.get_context("fork")
    start_at = time.time() + 0.3 + 0.05 * clients
    with ctx.Pool(clients) as pool:
        results = pool.map(_client_loop,
                           [(port, path, query, accept, start_at, duration)] * clients)
    done = sum(r[0] for r in results)
    return done / duration, sum(r[1] for r in results)


def wait_ready(port: int, path: str, query: str, accept: str, timeout: float) -> bool:
    """Poll until the endpoint answers ``query`` with 200 or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        client = Client(port, path, timeout=10)
        try:
            status, _ = client.get(query, accept)
            if status == 200:
                return True
        except (OSError, http.client.HTTPException):
            pass
        finally:
            client.close()
        time.sleep(0.2)
    return False

"""Benchmarks: ckmkg (Oxigraph + Flask) against rdflib and rdflib-endpoint, same data, one run.

For each size (triples of ontology + synthetic cases from ``bench/generate.py``):

- load: ``ckmkg load``'s path (YAML case files through ``kg_service.cases`` into the
  on-disk store), ``ckmkg restore``'s path (``EmbeddedStore.restore`` of the same
  triples as N-Quads) and rdflib (``Dataset.parse`` of that N-Quads file): seconds, triples/s and
  peak RSS, each in its own process;
- OWL RL materialisation (``kg_service.bootstrap.refresh_inferred``), under a time cap;
- query latency p50/p95/p99 of five queries (``bench/queries.py``) in process (pyoxigraph
  vs rdflib, rdflib with prepared queries) and over HTTP (``ckmkg serve`` as a real
  process vs rdflib-endpoint under uvicorn, both on loopback), and HTTP throughput with
  1, 2 and 8 concurrent clients for a fixed time;
- the Flask layer's cost: ``/sparql`` against pyoxigraph called directly (query +
  the same SPARQL JSON serialisation);
- one small validated edit (``kg_service.changes.submit_update``) against a raw
  ``store.apply`` of the same triple;
- two floors, the most the stack gives whatever code runs on it: the lookup from
  ``bench/floor_server.py`` (bare Flask under ``--workers N``'s gunicorn), latency and
  throughput, and pyoxigraph's own ``bulk_load`` of the N-Quads into a fresh on-disk store.

Results go to Markdown (``--out``; default ``bench/RESULTS.md``, or
``bench/RESULTS-quick.md`` with ``--quick``) plus the raw figures as JSON next to it. The
last line printed is ``speedup over rdflib on joins: N.Nx`` (rdflib-endpoint's join p50
over ours, over HTTP, at the largest size run).

    python bench/run.py --quick                 # 10k triples, under 3 minutes
    python bench/run.py                         # 10k, 100k, 1M (long)
    python bench/run.py --sizes 10k,100k
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.http_load import Latencies, measure, throughput, wait_ready  # noqa: E402
from bench.queries import (  # noqa: E402
    ACCEPT,
    CASE_GRAPH,
    PRACTICE,
    QUERIES,
    edit_update,
    practice_update,
    style_update,
)

CLIENTS = (1, 2, 8)
THROUGHPUT_QUERIES = ("lookup", "join")
SLOW_IN_PROCESS = 60.0  # s: rdflib-endpoint is not asked a query rdflib took longer on


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Callable[[], Any], runs: int, budget: float) -> tuple[Latencies, Any]:
    """Run ``fn`` once unmeasured, then up to ``runs`` times or ``budget`` seconds; a first
    run longer than ``budget`` is the only sample (rdflib's joins at 1M take minutes)."""
    t0 = time.perf_counter()
    last = fn()
    out = Latencies([])
    if time.perf_counter() - t0 > budget:
        out.samples.append(time.perf_counter() - t0)
        return out, last
    started = time.perf_counter()
    while len(out.samples) < runs:
        t0 = time.perf_counter()
        last = fn()
        out.samples.append(time.perf_counter() - t0)
        if time.perf_counter() - started > budget:
            break
    return out, last


def _lat(lat: Latencies) -> dict[str, Any]:
    return {"p50": lat.pct(50), "p95": lat.pct(95), "p99": lat.pct(99), "n": len(lat.samples),
            "errors": lat.errors, "first_error": lat.first_error}


def _settings(data_dir: str) -> Any:
    from kg_service.settings import Settings

    return Settings.from_env(environ={}, data_dir=data_dir, store="embedded", query_workers=0)


# --- child processes (each measured alone: time and peak RSS) -----------------------------

def _settle(store: Any) -> dict[str, Any]:
    """Wait for the compaction a big write starts in the background: the store a server
    then reads. Its time is reported beside the load's, not in it (readers see the data
    as soon as the write returns)."""
    from kg_service.store.snapshots import table_files

    t0 = time.perf_counter()
    store.disk.settle()  # the write started it if it was due
    files = table_files(store.disk.current_path())[0]
    return {"compact_seconds": time.perf_counter() - t0, "table_files": files}


def child_load_yaml(a: dict[str, Any]) -> dict[str, Any]:
    """``ckmkg load`` without inference: parse the case files, write ontology + cases."""
    from kg_service.cases import case_triples, load_ontology_graph
    from kg_service.namespaces import ONTOLOGY_GRAPH
    from kg_service.store import open_store

    t0 = time.perf_counter()
    store = open_store(_settings(a["data_dir"]))
    ontology = load_ontology_graph()
    graphs = case_triples(a["cases_dir"], ontology=ontology)
    t1 = time.perf_counter()
    store.replace_graphs({ONTOLOGY_GRAPH: ontology, **graphs})  # one write, as load_all
    t2 = time.perf_counter()
    n = len(store)
    settled = _settle(store)
    store.close()
    return {"seconds": t2 - t0, "parse_seconds": t1 - t0, "write_seconds": t2 - t1,
            "triples": n, "rss_mb": _rss_mb(), **settled}


def child_infer(a: dict[str, Any]) -> dict[str, Any]:
    """OWL RL materialisation into the inferred graph, as after ``ckmkg load``."""
    from kg_service.bootstrap import refresh_inferred
    from kg_service.store import open_store

    store = open_store(_settings(a["data_dir"]))
    t0 = time.perf_counter()
    n = refresh_inferred(store)
    seconds = time.perf_counter() - t0
    store.close()
    return {"seconds": seconds, "inferred": n, "rss_mb": _rss_mb()}


def _bulk_load_floor(nq: str, work: Path) -> float:
    """Seconds of pyoxigraph's own ``bulk_load`` of the N-Quads into a fresh on-disk store
    (then removed): the fastest way into an on-disk Oxigraph, so the ceiling of any load
    here. ``ckmkg restore`` cannot use it: it renames blank nodes (README, Benchmarks)."""
    import pyoxigraph as ox

    path = Path(tempfile.mkdtemp(prefix="bulk-floor-", dir=work))
    try:
        t0 = time.perf_counter()
        floor = ox.Store(str(path))
        floor.bulk_load(path=nq, format=ox.RdfFormat.N_QUADS)
        floor.flush()
        seconds = time.perf_counter() - t0
        del floor  # closed before its directory is removed
        return seconds
    finally:
        shutil.rmtree(path, ignore_errors=True)


def child_oxigraph(a: dict[str, Any]) -> dict[str, Any]:
    """Restore the N-Quads into a fresh on-disk store, then time the queries directly."""

    from kg_service.results import write_result
    from kg_service.store import open_store

    store = open_store(_settings(a["data_dir"]))
    t0 = time.perf_counter()
    with open(a["nq"], "rb") as fh:
        store.restore(fh)
    load = {"seconds": time.perf_counter() - t0, "triples": len(store), "rss_mb": _rss_mb()}
    load.update(_settle(store))
    load["bulk_load_seconds"] = _bulk_load_floor(a["nq"], Path(a["data_dir"]).parent)
    reader = store._reader()  # the read-only snapshot a query process opens
    queries: dict[str, Any] = {}
    for name, (_d, text, kind) in QUERIES.items():
        def run(text: str = text) -> int:
            return sum(1 for _ in reader.query(text, use_default_graph_as_union=True))

        def run_json(text: str = text, kind: str = kind) -> int:
            buf = io.BytesIO()
            result = reader.query(text, use_default_graph_as_union=True)
            return write_result(buf, result, "json" if kind == "select" else "ntriples",
                                100_000).count

        lat, rows = _timed(run, a["runs"], a["budget"])
        lat_json, _ = _timed(run_json, a["runs"], a["budget"])
        queries[name] = {**_lat(lat), "rows": rows, "serialised": _lat(lat_json)}
    store.close()
    return {"load": load, "queries": queries}


def child_rdflib(a: dict[str, Any]) -> dict[str, Any]:
    """Parse the N-Quads into an rdflib Dataset (union default graph), then time the
    queries (prepared once, as rdflib-endpoint does)."""
    from rdflib import Dataset
    from rdflib.plugins.sparql import prepareQuery

    t0 = time.perf_counter()
    ds = Dataset(default_union=True)
    ds.parse(a["nq"], format="nquads")
    load = {"seconds": time.perf_counter() - t0, "triples": len(ds), "rss_mb": _rss_mb()}
    queries: dict[str, Any] = {}
    for name, (_d, text, _kind) in QUERIES.items():
        prepared = prepareQuery(text)

        def run(prepared: Any = prepared) -> int:
            return sum(1 for _ in ds.query(prepared))

        lat, rows = _timed(run, a["runs"], a["budget"])
        queries[name] = {**_lat(lat), "rows": rows}
    return {"load": load, "queries": queries}


def child_edit(a: dict[str, Any]) -> dict[str, Any]:
    """One small validated changeset (submit_update) vs a raw store.apply, three times."""
    from rdflib import Literal, URIRef

    from kg_service.auth import User
    from kg_service.namespaces import CKM
    from kg_service.store import open_store

    store = open_store(_settings(a["data_dir"]))
    out: dict[str, Any] = {"triples": len(store)}
    raw = []
    for n in range(3):
        t0 = time.perf_counter()
        store.apply([], [(URIRef(PRACTICE[1:-1]), CKM.benefit, Literal(f"raw edit {n}"),
                          CASE_GRAPH)])
        raw.append(time.perf_counter() - t0)
    out["apply"] = raw
    try:
        from kg_service.changes import submit_update
    except ImportError as exc:
        out["error"] = f"kg_service.changes is not available ({exc})"
        store.close()
        return out
    user = User("benchmark", "editor")
    for key, update in (("submit_update", edit_update), ("practice", practice_update),
                        ("style", style_update)):
        validated: list[float] = []
        try:
            for n in range(a.get("reps", 3)):
                t0 = time.perf_counter()
                change = submit_update(store, update(n), user=user, message="benchmark edit")
                validated.append(time.perf_counter() - t0)
                out[f"{key}_checks"] = getattr(change, "checks", None)
        except Exception as exc:  # noqa: BLE001 (reported in the table, not hidden)
            out["error"] = f"{key}: {type(exc).__name__}: {exc}"[:300]
        out[key] = validated
    out["rss_mb"] = _rss_mb()
    store.close()
    return out


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "load-yaml": child_load_yaml, "infer": child_infer, "oxigraph": child_oxigraph,
    "rdflib": child_rdflib, "edit": child_edit,
}


def run_child(name: str, args: dict[str, Any], timeout: float | None = None
              ) -> dict[str, Any]:
    """Run a child measurement in a fresh process; {"error": ...} when it fails."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", name, json.dumps(args)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"stopped after {timeout:g} s", "timed_out": timeout}
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        return {"error": (proc.stderr.strip().splitlines() or ["failed"])[-1][:300]}
    return json.loads(lines[-1])


# --- servers ------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A server process on loopback, with the peak RSS of its process tree."""

    def __init__(self, name: str, cmd: list[str], port: int, log: Path,
                 env: dict[str, str] | None = None) -> None:
        self.name, self.port = name, port
        self.log = open(log, "wb")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env={**os.environ, **(env or {})})
        self.peak_rss = 0.0
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def rss_mb(self) -> float:
        import psutil

        try:
            root = psutil.Process(self.proc.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return 0.0
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total / 2**20

    def _sample(self) -> None:
        while not self._stop.wait(0.25):
            self.peak_rss = max(self.peak_rss, self.rss_mb())

    def stop(self) -> None:
        self._stop.set()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def _ckmkg() -> list[str]:
    exe = shutil.which("ckmkg")
    return [exe] if exe else [sys.executable, "-c", "from kg_service.cli import main; main()"]


def ckmkg_server(data_dir: Path, work: Path, workers: int) -> Server:
    """``ckmkg serve --workers N`` on a free loopback port, logging into ``work``."""
    port = free_port()
    name, log = ("ckmkg", "ckmkg-serve.log") if workers == 1 else (
        f"ckmkg x{workers}", "ckmkg-serve-workers.log")
    return Server(name, [*_ckmkg(), "--data-dir", str(data_dir), "serve", "--host",
                         "127.0.0.1", "--port", str(port), "--workers", str(workers)],
                  port, work / log)


def _rows(body: bytes, kind: str) -> int:
    if kind == "select":
        return len(json.loads(body)["results"]["bindings"])
    return sum(1 for line in body.splitlines() if line.strip() and not line.startswith(b"#"))


def http_bench(data_dir: Path, nq: Path, work: Path, opts: argparse.Namespace,
               triples: int, too_slow: dict[str, float] | None = None) -> dict[str, Any]:
    """Both servers up, then latencies per query, throughput, and the servers' RSS.

    ``too_slow``: {query: seconds rdflib took in process}; rdflib-endpoint is not asked
    those (one request would take as long, only to show the same)."""
    too_slow = too_slow or {}

    theirs_port = free_port()
    ours = ckmkg_server(data_dir, work, 1)
    theirs = Server("rdflib-endpoint", [sys.executable, str(ROOT / "bench" / "rdflib_server.py"),
                                        str(nq), str(theirs_port)], theirs_port,
                    work / "rdflib-endpoint.log")
    out: dict[str, Any] = {"latency": {}, "throughput": {}, "rows": {}}
    try:
        ask = "ASK { ?s ?p ?o }"
        started = time.perf_counter()
        for srv, limit in ((ours, 120), (theirs, 120 + triples / 2000)):
            if not wait_ready(srv.port, "/sparql", ask, ACCEPT["select"], limit):
                raise RuntimeError(f"{srv.name} did not answer in {limit:g} s; see "
                                   f"{srv.log.name}")
        out["ready_seconds"] = time.perf_counter() - started
        # the floor of a request: gunicorn + Flask + our hooks, no store access
        out["healthz"] = _lat(measure(ours.port, "/healthz", "", "application/json",
                                      runs=opts.runs * 5, budget=opts.budget))
        for name, (_d, text, kind) in QUERIES.items():
            accept = ACCEPT[kind]
            out["latency"][name] = {}
            out["rows"][name] = {}
            for srv in (ours, theirs):
                if srv is theirs and name in too_slow:
                    out["rows"][name][srv.name] = "not run"
                    out["latency"][name][srv.name] = {
                        "skipped": f"rdflib took {too_slow[name]:.0f} s in process"}
                    continue
                lat = measure(srv.port, "/sparql", text, accept, runs=opts.runs,
                              budget=opts.budget)  # the unmeasured first answer: its rows
                status, body = lat.first or (0, b"")
                out["rows"][name][srv.name] = (_rows(body, kind) if status == 200
                                               else f"HTTP {status or lat.first_error}")
                out["latency"][name][srv.name] = _lat(lat)
                _log(f"  http {name:9s} {srv.name:15s} p50 {_ms(lat.pct(50))}")
        for name in THROUGHPUT_QUERIES:
            _d, text, kind = QUERIES[name]
            out["throughput"][name] = {}
            for n in CLIENTS:
                row = {}
                for srv in (ours, theirs):
                    lat_ = out["latency"][name][srv.name]
                    p50 = lat_.get("p50")
                    if lat_.get("skipped") or (p50 is not None and p50 > opts.duration):
                        row[srv.name] = {"rps": None, "errors": 0,  # a window would hold
                                         "skipped": lat_.get("skipped") or  # only a wait
                                         f"one request takes {p50:.0f} s"}
                        continue
                    rate, errors = throughput(srv.port, "/sparql", text, ACCEPT[kind], n,
                                              opts.duration)
                    row[srv.name] = {"rps": rate, "errors": errors}
                out["throughput"][name][n] = row
                _log(f"  throughput {name} x{n}: {row}")
        out["rss_mb"] = {"ckmkg": ours.peak_rss, "rdflib-endpoint": theirs.peak_rss}
    finally:
        ours.stop()
        theirs.stop()
    out["workers"] = workers_throughput(data_dir, work, opts, out["latency"])
    return out


def workers_throughput(data_dir: Path, work: Path, opts: argparse.Namespace,
                       latency: dict[str, Any]) -> dict[str, Any]:
    """Throughput of ``ckmkg serve --workers N`` (N = the machine's cores), alone."""
    workers = os.cpu_count() or 2
    srv = ckmkg_server(data_dir, work, workers)
    port = srv.port
    out: dict[str, Any] = {"workers": workers, "throughput": {}}
    try:
        if not wait_ready(port, "/sparql", "ASK { ?s ?p ?o }", ACCEPT["select"], 120):
            return {**out, "error": f"did not answer in 120 s; see {srv.log.name}"}
        for name in THROUGHPUT_QUERIES:
            _d, text, kind = QUERIES[name]
            p50 = (latency.get(name) or {}).get("ckmkg", {}).get("p50")
            if p50 is None or p50 > opts.duration:
                continue
            out["throughput"][name] = {
                n: dict(zip(("rps", "errors"), throughput(port, "/sparql", text,
                                                          ACCEPT[kind], n, opts.duration),
                            strict=True)) for n in CLIENTS}
            _log(f"  throughput {name} with {workers} workers: {out['throughput'][name]}")
        out["rss_mb"] = srv.peak_rss
    finally:
        srv.stop()
    out["floor"] = floor_throughput(data_dir, work, opts, workers)
    return out


def floor_throughput(data_dir: Path, work: Path, opts: argparse.Namespace,
                     workers: int) -> dict[str, Any]:
    """Lookup latency (one client) and lookups/s of ``bench/floor_server.py`` (the least a
    Flask service does for the query) under gunicorn with ``ckmkg serve --workers N``'s
    worker class, workers and threads, on the same store, alone: the ceiling of the stack,
    not of our code."""
    port = free_port()
    _d, text, kind = QUERIES["lookup"]
    srv = Server(f"floor x{workers}", [
        sys.executable, "-m", "gunicorn", "-k", "kg_service.keepalive_worker.KeepAliveWorker",
        "-w", str(workers), "--threads", "8", "--keep-alive", "5",
        "-b", f"127.0.0.1:{port}", "bench.floor_server:app"], port, work / "floor.log",
        env={"KG_FLOOR_STORE": str(data_dir)})
    try:
        if not wait_ready(port, "/sparql", "ASK { ?s ?p ?o }", ACCEPT["select"], 60):
            return {"error": f"did not answer in 60 s; see {srv.log.name}"}
        lat = measure(port, "/sparql", text, ACCEPT[kind], runs=opts.runs, budget=opts.budget)
        status, body = lat.first or (0, b"")
        out: dict[str, Any] = {"rows": _rows(body, kind) if status == 200 else f"HTTP {status}",
                               "latency": _lat(lat), "throughput": {}}
        for n in CLIENTS:
            rate, errors = throughput(port, "/sparql", text, ACCEPT[kind], n, opts.duration)
            out["throughput"][n] = {"rps": rate, "errors": errors}
        _log(f"  throughput lookup, Flask floor x{workers}: {out['throughput']}")
        return out
    finally:
        srv.stop()


# --- one size -----------------------------------------------------------------------------

def _log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.2f} ms"


def run_size(size: int, work: Path, opts: argparse.Namespace) -> dict[str, Any]:
    """Every measurement at one size; returns the raw figures."""
    from bench.generate import generate

    label = size_label(size)
    base = work / label
    gen = generate(base / "cases", size, opts.seed, nquads=True)
    nq = gen.nquads
    assert nq is not None
    res: dict[str, Any] = {"size": size, "label": label, "generated": gen.to_json(),
                           "loadavg": os.getloadavg(),
                           "yaml_mb": sum(p.stat().st_size for p in (base / "cases").glob(
                               "*.yaml")) / 2**20, "nq_mb": nq.stat().st_size / 2**20}
    _log(f"[{label}] generated {gen.files} case files, {gen.triples} triples "
         f"in {gen.seconds:.1f} s")
    res["load_yaml"] = run_child("load-yaml", {"cases_dir": str(base / "cases"),
                                               "data_dir": str(base / "yaml-store")})
    _log(f"[{label}] ckmkg load (YAML): {res['load_yaml']}")
    shutil.rmtree(base / "yaml-store", ignore_errors=True)
    qargs = {"nq": str(nq), "runs": opts.runs, "budget": opts.budget}
    serve_dir = base / "serve-store"
    # a fresh store: one left by an earlier run in the same --workdir holds that run's edits
    # (its benchmark literal already there makes this run's edit an empty change)
    shutil.rmtree(serve_dir, ignore_errors=True)
    res["oxigraph"] = run_child("oxigraph", {**qargs, "data_dir": str(serve_dir)})
    _log(f"[{label}] Oxigraph restore + queries: {res['oxigraph'].get('load', res['oxigraph'])}")
    res["rdflib"] = run_child("rdflib", qargs)
    _log(f"[{label}] rdflib parse + queries: {res['rdflib'].get('load', res['rdflib'])}")
    slow = {name: q["p50"] for name, q in (res["rdflib"].get("queries") or {}).items()
            if (q.get("p50") or 0) > SLOW_IN_PROCESS}
    res["http"] = http_bench(serve_dir, nq, base, opts, gen.triples, slow)
    # then the inferred graph, as `ckmkg load` leaves it (the edits start from it; the
    # queries above ran on the same triples on both sides)
    res["infer"] = run_child("infer", {"data_dir": str(serve_dir)}, timeout=opts.infer_cap)
    _log(f"[{label}] OWL RL: {res['infer']}")
    if size >= opts.edit_from:
        res["edit"] = run_child("edit", {"data_dir": str(serve_dir), "reps": opts.edit_reps},
                                timeout=opts.edit_cap)
    else:
        res["edit"] = {"error": f"not run below {size_label(opts.edit_from)} triples "
                                "(--edit-from)"}
    _log(f"[{label}] edit: {res['edit']}")
    return res


def size_label(n: int) -> str:
    if n >= 1_000_000 and n % 1_000_000 == 0:
        return f"{n // 1_000_000}M"
    return f"{n // 1000}k" if n % 1000 == 0 else str(n)


def parse_size(text: str) -> int:
    t = text.strip().lower()
    mult = {"k": 1000, "m": 1_000_000}.get(t[-1:], 1)
    return int(float(t.rstrip("km")) * mult)


def main(argv: list[str] | None = None) -> int:
    """Command line (see the module docstring). Returns the exit status."""
    ap = argparse.ArgumentParser(description="ckmkg vs rdflib / rdflib-endpoint benchmarks")
    ap.add_argument("--quick", action="store_true", help="smallest size, short budgets")
    ap.add_argument("--sizes", help="comma-separated sizes (10k,100k,1M)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", help="Markdown results file")
    ap.add_argument("--workdir", help="where to put data (default: a temp dir, removed)")
    ap.add_argument("--infer-cap", type=float, help="seconds OWL RL may run (default 300/900)")
    ap.add_argument("--edit-cap", type=float, help="seconds the edit step may run (300/600)")
    ap.add_argument("--edit-from", type=parse_size, default=100_000,
                    help="smallest size that gets the edit benchmark (default 100k)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("args", nargs="?", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if opts.child:
        print(json.dumps(CHILDREN[opts.child](json.loads(opts.args))))
        return 0
    from bench.report import render

    quick = opts.quick
    sizes = [parse_size(s) for s in (opts.sizes or ("10k" if quick else "10k,100k,1M"))
             .split(",")]
    opts.runs, opts.budget = (30, 1.0) if quick else (200, 10.0)
    opts.duration = 1.0 if quick else 5.0
    opts.edit_reps = 1 if quick else 3
    opts.infer_cap = opts.infer_cap or (300.0 if quick else 900.0)
    opts.edit_cap = opts.edit_cap or (300.0 if quick else 600.0)
    out = Path(opts.out) if opts.out else ROOT / "bench" / (
        "RESULTS-quick.md" if quick else "RESULTS.md")
    work = Path(opts.workdir) if opts.workdir else Path(tempfile.mkdtemp(prefix="ckm-bench-"))
    started = time.perf_counter()
    results: dict[str, Any] = {"command": " ".join(["python bench/run.py", *(argv or
                                                                              sys.argv[1:])]),
                               "sizes": []}
    try:
        for size in sizes:
            results["sizes"].append(run_size(size, work, opts))
            results["seconds"] = time.perf_counter() - started
            markdown, final = render(results)
            out.write_text(markdown, encoding="utf-8")
            out.with_suffix(".json").write_text(json.dumps(results, indent=1, default=str),
                                                encoding="utf-8")
    finally:
        if not opts.workdir:
            shutil.rmtree(work, ignore_errors=True)
    _log(f"wrote {out} in {time.perf_counter() - started:.0f} s")
    print(final)
    return 0


if __name__ == "__main__":
    sys.exit(main())

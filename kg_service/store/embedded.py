"""Embedded Oxigraph store, on disk (default) or in memory.

On disk, writes go to a primary and are published as immutable snapshots that readers
open read-only, in every process; ``snapshots.py`` keeps that directory (and compacts it).
"""

from __future__ import annotations

import io
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, Iterable, Iterator, Mapping

import pyoxigraph as ox
from rdflib import Graph
from rdflib.term import Node

from kg_service.errors import BadQuery, KGError, TimedOut
from kg_service.namespaces import PREFIXES
from kg_service.settings import Settings
from kg_service.store import QueryOutput, QueryRequest, binding_terms
from kg_service.store.query_worker import QueryPool, execute
from kg_service.store.snapshots import StoreDirectory
from kg_service.store.terms import from_ox, gc_paused, graph_of, nt, quads_of, to_ox

_IO_ERRORS = (OSError, ValueError)


class EmbeddedStore:
    """pyoxigraph behind the KGStore protocol (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._thread_lock = threading.RLock()
        self._reader_cache: tuple[str, ox.Store] | None = None
        self._pool: QueryPool | None = None
        self.disk: StoreDirectory | None = None
        if settings.store == "memory":
            self._mem = ox.Store()
            self._generation = 0
            self._modified = time.time()
            return
        self.disk = StoreDirectory(Path(settings.data_dir).resolve() / "oxigraph", settings,
                                   self._thread_lock)
        if settings.query_workers > 0:
            self._pool = QueryPool(settings.query_workers)

    # ------------------------------------------------------------------ reading
    def _reader(self) -> ox.Store:
        if self.disk is None:
            return self._mem
        name = self.disk.current()[0]
        cached = self._reader_cache
        if cached is None or cached[0] != name:
            self._reader_cache = cached = (name, ox.Store.read_only(
                str(self.disk.snapshots / name)))
        return cached[1]

    def revision(self) -> str:
        return f"m{self._generation}" if self.disk is None else self.disk.current()[1]

    def modified(self) -> float:
        return self._modified if self.disk is None else self.disk.current()[2]

    def run_query(self, req: QueryRequest) -> QueryOutput:
        limit = self.settings.result_limit if req.limit is None else req.limit
        timeout = self.settings.query_timeout if req.timeout is None else req.timeout
        payload: dict[str, Any] = {
            "query": req.query, "format": req.format, "limit": limit,
            "default_graph": req.default_graph, "named_graphs": req.named_graphs,
            "union": req.union and not req.default_graph,
            "substitutions": {k: nt(v) for k, v in req.substitutions.items()},
            "prefixes": req.prefixes or None,
        }
        try:
            if self._pool is None or req.point_lookup:  # in process, deadline between rows
                buf = io.BytesIO()
                started = time.perf_counter()
                payload["deadline"] = time.monotonic() + timeout
                header = execute(self._reader(), payload, buf)
                header["elapsed"] = time.perf_counter() - started
                body = buf.getvalue()
            else:
                assert self.disk is not None  # a memory store has no query processes
                payload["snapshot"] = str(self.disk.current_path())
                payload["tmpdir"] = str(self.disk.tmp)
                header, body = self._pool.run(payload, timeout)
        except TimeoutError as exc:
            raise TimedOut(f"The query ran past the {timeout:g} s limit and was stopped.",
                           timeout=timeout) from exc
        if "error" in header:
            if header["error"] == "syntax":
                raise BadQuery(header["message"], line=header.get("line"),
                               column=header.get("column"))
            raise KGError(header["message"])
        return QueryOutput(header["kind"], header["count"], header["truncated"],
                           header["elapsed"], body, header.get("path"))

    @property
    def timeouts(self) -> int:
        return self._pool.killed if self._pool else 0

    def _query(self, query: str, bindings: Mapping[str, Node]) -> Any:
        subs = {ox.Variable(k): to_ox(v) for k, v in binding_terms(bindings).items()}
        try:
            return self._reader().query(query, use_default_graph_as_union=True,
                                        substitutions=subs or None, prefixes=PREFIXES)
        except SyntaxError as exc:
            raise BadQuery(str(exc)) from exc

    def select(self, query: str, **bindings: Node) -> list[dict[str, Node]]:
        result = self._query(query, bindings)
        names = [v.value for v in result.variables]
        return [{n: from_ox(row[n]) for n in names if row[n] is not None} for row in result]

    def ask(self, query: str, **bindings: Node) -> bool:
        return bool(self._query(query, bindings))

    def construct(self, query: str, **bindings: Node) -> Graph:
        return graph_of(self._query(query, bindings))

    def graph(self, iri: str) -> Graph:
        return graph_of(self._reader().quads_for_pattern(None, None, None, ox.NamedNode(iri)))

    def named_graphs(self) -> list[str]:
        return sorted(g.value for g in self._reader().named_graphs()
                      if isinstance(g, ox.NamedNode))

    def __len__(self) -> int:
        return len(self._reader())

    def dump(self, out: IO[bytes]) -> None:
        self._reader().dump(out, format=ox.RdfFormat.N_QUADS)

    # ------------------------------------------------------------------ writing
    @contextmanager
    def _writing(self) -> Iterator[ox.Store]:
        if self.disk is not None:
            with self.disk.writing() as primary:
                yield primary
            return
        with self._thread_lock:
            yield self._mem
            self._generation += 1
            self._modified = time.time()

    def update(self, sparql: str) -> None:
        with self._writing() as store:
            try:
                store.update(sparql)
            except SyntaxError as exc:
                raise BadQuery(str(exc)) from exc

    def replace_graphs(self, graphs: Mapping[str, Iterable[tuple[Node, Node, Node]]]
                       ) -> None:
        # converted first, outside the lock: a term that cannot be stored changes nothing
        with gc_paused():
            quads = [q for iri, graph in graphs.items() for q in quads_of(graph, iri)]
        with self._writing() as store:
            for iri in graphs:
                if store.contains_named_graph(ox.NamedNode(iri)):
                    store.remove_graph(ox.NamedNode(iri))
            store.bulk_extend(quads)  # ~5x extend on disk; readers see it whole (snapshots)

    def apply(self, removed: Iterable[tuple[Node, Node, Node, str]],
              added: Iterable[tuple[Node, Node, Node, str]]) -> None:
        def quads(items: Iterable[tuple[Node, Node, Node, str]]) -> list[Any]:
            return [ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.NamedNode(g))
                    for s, p, o, g in items]

        with self._writing() as store:
            for q in quads(removed):
                store.remove(q)
            store.extend(quads(added))

    def restore(self, data: IO[bytes]) -> None:
        """Replace everything with an N-Quads dump; blank-node labels are kept (``parse``
        + ``bulk_extend``: pyoxigraph's ``bulk_load`` renames them), so a dump round-trips
        exactly. On disk into a fresh primary (``StoreDirectory.replacing``)."""
        quads = ox.parse(data, format=ox.RdfFormat.N_QUADS)
        if self.disk is not None:
            with self.disk.replacing() as store:
                store.bulk_extend(quads)
            return
        quads = list(quads)  # in memory: a broken dump fails here, before anything is cleared
        with self._writing() as store:
            store.clear()
            store.bulk_extend(quads)

    def compact(self, force: bool = True) -> tuple[int, int] | None:
        """Compact now (``force``) or when due: see ``snapshots.StoreDirectory.compact``."""
        return None if self.disk is None else self.disk.compact(force)

    def close(self) -> None:
        if self.disk is not None:
            self.disk.settle()
        if self._pool:
            self._pool.close()
        self._reader_cache = None

    def warm(self) -> None:
        """Start a query process ahead of the first query."""
        if self._pool:
            self._pool.warm()

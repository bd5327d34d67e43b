"""Embedded Oxigraph store, on disk (default) or in memory.

On-disk layout under ``{data_dir}/oxigraph``::

    primary-N/        the RocksDB store that writes go to (named in PRIMARY); opened only
                      while writing
    snapshots/gN/     immutable checkpoints (hard links, ~5 ms); readers only open these
    CURRENT           the name of the snapshot that readers see (replaced by rename)
    write.lock        flock: one writer at a time across every process
    DIRTY             present while a write is under way
    COMPACTED         table files the store had after its last compaction

A write takes the lock, applies its change to ``primary``, checkpoints it as a new
snapshot and publishes the name in ``CURRENT``. Readers in any process (every worker,
every query process) open the snapshot named by CURRENT read-only; nobody ever opens a
directory that another process writes, which is what Oxigraph requires. A crash during
a write leaves DIRTY behind and CURRENT unchanged: the next writer rebuilds ``primary``
from the current snapshot, so a half-applied change is never seen or kept.

Every write adds a RocksDB table file per index that RocksDB only merges while the store
is open, and a write closes it at once: files pile up and range scans slow down with
them. Once there are twice as many as after the last compaction, a thread compacts a copy
of the current snapshot off the write lock and publishes it (``compact``).
"""

from __future__ import annotations

import fcntl
import io
import logging
import os
import shutil
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
from kg_service.store.terms import from_ox, gc_paused, graph_of, nt, quads_of, to_ox

_IO_ERRORS = (OSError, ValueError)
log = logging.getLogger(__name__)


def _link_or_copy(src: str, dst: str) -> None:
    if src.endswith(".sst"):  # RocksDB never rewrites an SST file in place
        os.link(src, dst)
    else:
        shutil.copy2(src, dst)


class EmbeddedStore:
    """pyoxigraph behind the KGStore protocol (see the module docstring)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.memory = settings.store == "memory"
        self._thread_lock = threading.RLock()
        self._reader_cache: tuple[str, ox.Store] | None = None
        self._current_cache: tuple[tuple[int, int], tuple[str, str, float]] | None = None
        self._pool: QueryPool | None = None
        self._compactor: threading.Thread | None = None
        if self.memory:
            self._mem = ox.Store()
            self._generation = 0
            self._modified = time.time()
            return
        self.root = Path(settings.data_dir).resolve() / "oxigraph"
        self._current_file = str(self.root / "CURRENT")
        self.snapshots = self.root / "snapshots"
        self.tmp = self.root / "tmp"
        for d in (self.snapshots, self.tmp):
            d.mkdir(parents=True, exist_ok=True)
        if not (self.root / "CURRENT").exists():
            with self._writing():
                pass
        if settings.query_workers > 0:
            self._pool = QueryPool(settings.query_workers)

    # ------------------------------------------------------------------ reading
    def _current(self) -> tuple[str, str, float]:
        """(snapshot name, revision, time of the write): re-read only when CURRENT was
        replaced. The revision is the snapshot's name unless the snapshot is a compacted
        copy of an earlier one (``CURRENT`` then says ``g9 g7``)."""
        path = self._current_file  # a str: os.stat on it costs a third of Path.stat
        st = os.stat(path)
        key = (st.st_ino, st.st_mtime_ns)
        cached = self._current_cache
        if cached is None or cached[0] != key:
            with open(path, encoding="utf-8") as f:
                name, *rev = f.read().split()
            self._current_cache = cached = (key, (name, rev[0] if rev else name, st.st_mtime))
        return cached[1]

    def _reader(self) -> ox.Store:
        if self.memory:
            return self._mem
        name = self._current()[0]
        cached = self._reader_cache
        if cached is None or cached[0] != name:
            self._reader_cache = cached = (name, ox.Store.read_only(str(self.snapshots / name)))
        return cached[1]

    def revision(self) -> str:
        return f"m{self._generation}" if self.memory else self._current()[1]

    def modified(self) -> float:
        return self._modified if self.memory else self._current()[2]

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
                payload["snapshot"] = str(self.snapshots / self._current()[0])
                payload["tmpdir"] = str(self.tmp)
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
        with self._thread_lock:
            if self.memory:
                yield self._mem
                self._generation += 1
                self._modified = time.time()
                return
            with self._file_lock("write.lock"):
                yield from self._write_locked()
        self._compact_later()

    @contextmanager
    def _file_lock(self, name: str) -> Iterator[None]:
        """An flock on ``root/name``: one holder across every process (and thread)."""
        with open(self.root / name, "a+") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _primary(self) -> Path:
        marker = self.root / "PRIMARY"
        return self.root / (marker.read_text().strip() if marker.exists() else "primary")

    def _new_primary(self) -> Path:
        number = 1 + max((int(p.name.split("-")[1]) for p in self.root.glob("primary-*")),
                         default=0)
        return self.root / f"primary-{number}"

    def _set_primary(self, new: Path) -> None:
        tmp = self.root / "PRIMARY.tmp"
        tmp.write_text(new.name + "\n")
        os.replace(tmp, self.root / "PRIMARY")

    def _publish(self, store: ox.Store, revision: str | None = None,
                 modified: float | None = None) -> None:
        """Checkpoint ``store`` as the next snapshot and name it in CURRENT (write lock held).

        ``revision`` and ``modified`` keep an earlier snapshot's identity for a copy of it.
        """
        current = self.root / "CURRENT"
        previous = self._current()[0] if current.exists() else None
        number = 1 + max((int(p.name[1:]) for p in self.snapshots.glob("g*")), default=0)
        name = f"g{number}"
        store.backup(str(self.snapshots / name))
        tmp = self.root / "CURRENT.tmp"
        tmp.write_text(f"{name} {revision}\n" if revision else name + "\n")
        if modified is not None:
            os.utime(tmp, (modified, modified))
        os.replace(tmp, current)
        if previous:  # its grace period for readers starts now, when it is replaced
            os.utime(self.snapshots / previous)

    def _write_locked(self) -> Iterator[ox.Store]:
        dirty, current = self.root / "DIRTY", self.root / "CURRENT"
        if dirty.exists() or (current.exists() and not self._primary().exists()):
            self._rebuild_primary()
        dirty.touch()
        primary = ox.Store(str(self._primary()))
        try:
            yield primary
            primary.flush()
            self._publish(primary)
        except BaseException:
            # DIRTY stays: the next writer rebuilds the primary from the current snapshot
            del primary
            raise
        del primary
        dirty.unlink(missing_ok=True)
        self._collect_snapshots()

    def _rebuild_primary(self) -> None:
        """Make a fresh primary, a copy of the snapshot readers see (after a failed write).

        The copy goes to a new directory so that a handle still open on the old one (a
        traceback keeps frames alive) cannot get in the way; the old one is then removed.
        """
        old, new = self._primary(), self._new_primary()
        shutil.rmtree(new, ignore_errors=True)
        if (self.root / "CURRENT").exists():
            name = self._current()[0]
            shutil.copytree(self.snapshots / name, new, copy_function=_link_or_copy)
        self._set_primary(new)
        shutil.rmtree(old, ignore_errors=True)

    def _collect_snapshots(self) -> None:
        """Remove snapshots no query can still be reading."""
        keep_for = 2 * self.settings.query_timeout + 60
        name = self._current()[0]
        now = time.time()
        for snap in self.snapshots.glob("g*"):
            if snap.name != name and now - snap.stat().st_mtime > keep_for:
                shutil.rmtree(snap, ignore_errors=True)
        for leftover in self.tmp.glob("result-*"):
            if now - leftover.stat().st_mtime > 3600:
                leftover.unlink(missing_ok=True)

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

    def bulk_load(self, data: IO[bytes] | bytes, fmt: ox.RdfFormat, graph: str | None = None
                  ) -> None:
        """Load a large file fast (non-transactional inside, atomic for readers)."""
        with self._writing() as store:
            to_graph = ox.NamedNode(graph) if graph else None
            store.bulk_load(data, format=fmt, to_graph=to_graph)

    def restore(self, data: IO[bytes]) -> None:
        with self._writing() as store:
            store.clear()  # blank-node labels are kept, so a dump round-trips exactly
            store.bulk_extend(ox.parse(data, format=ox.RdfFormat.N_QUADS))

    # ------------------------------------------------------------------ compaction
    @staticmethod
    def _table_files(directory: Path) -> tuple[int, int]:
        """(number, bytes) of the RocksDB table files in a store directory."""
        count = size = 0
        with os.scandir(directory) as entries:
            for entry in entries:
                if entry.name.endswith(".sst"):
                    count += 1
                    size += entry.stat().st_size
        return count, size

    def compaction_due(self) -> bool:
        """The current snapshot is at least ``compact_min_mb`` and holds more than twice
        (plus 16) the table files the store had after its last compaction."""
        if self.memory or not (self.root / "CURRENT").exists():
            return False
        count, size = self._table_files(self.snapshots / self._current()[0])
        try:
            base = int((self.root / "COMPACTED").read_text())
        except (OSError, ValueError):  # never compacted (or the marker is unreadable)
            base = 0
        return size >= self.settings.compact_min_mb * 2**20 and count > 2 * base + 16

    def compact(self, force: bool = True) -> tuple[int, int] | None:
        """Publish a compacted copy of the current snapshot: (table files before, after).

        The copy (hard links) is compacted without the write lock, so writes go on
        meanwhile; when one is published first the copy is dropped (None) and a later
        write starts another. Revision and time stay, as the content is the same (ETags
        and If-Match hold). ``force=False``: only when ``compaction_due``.
        """
        if self.memory:
            return None
        with self._file_lock("compact.lock"):  # one compaction at a time, any process
            if not (force or self.compaction_due()):
                return None
            name, revision, modified = self._current()
            before = self._table_files(self.snapshots / name)[0]
            work = self.tmp / f"compact-{name}"
            shutil.rmtree(work, ignore_errors=True)
            try:
                shutil.copytree(self.snapshots / name, work, copy_function=_link_or_copy)
                self._optimize(work)
                with self._thread_lock, self._file_lock("write.lock"):
                    if self._current()[0] != name or (self.root / "DIRTY").exists():
                        return None
                    old, new = self._primary(), self._new_primary()
                    os.replace(work, new)
                    store = ox.Store(str(new))
                    self._publish(store, revision, modified)
                    del store
                    self._set_primary(new)
                    shutil.rmtree(old, ignore_errors=True)
                    after = self._table_files(new)[0]
                    (self.root / "COMPACTED").write_text(f"{after}\n")
            finally:
                shutil.rmtree(work, ignore_errors=True)
        self._collect_snapshots()
        return before, after

    @staticmethod
    def _optimize(path: Path) -> None:
        store = ox.Store(str(path))
        store.optimize()  # RocksDB's full compaction: 3-5 s at 1M triples here
        store.flush()

    def _compact_later(self) -> None:
        """After a write: compact in a thread when due (``close`` waits for it)."""
        if self._compactor and self._compactor.is_alive():
            return
        try:
            if not self.compaction_due():
                return
        except OSError:  # the write is done; a compaction can wait for the next one
            log.exception("could not tell whether %s needs compacting", self.root)
            return
        self._compactor = threading.Thread(target=self._compact_logged, name="kg-compact")
        self._compactor.start()

    def _compact_logged(self) -> None:
        try:
            self.compact(force=False)
        except Exception:  # the store stays as it was (uncompacted); the next write retries
            log.exception("background compaction of %s failed", self.root)

    def close(self) -> None:
        if self._compactor:
            self._compactor.join()
        if self._pool:
            self._pool.close()
        self._reader_cache = None

    def warm(self) -> None:
        """Start a query process ahead of the first query."""
        if self._pool:
            self._pool.warm()

"""A remote SPARQL 1.1 store (Virtuoso tested; Fuseki, GraphDB, Stardog, Neptune alike).

``KG_STORE=sparql+http://host:port/sparql``: queries go to the query endpoint with
SPARQLWrapper, writes to the update endpoint (``store_update_url``, with
``store_user``/``store_password``), bulk staging to the Graph Store endpoint when
``store_graph_store_url`` is set. What differs from the embedded store, and how it is met:

- **Union default graph.** Virtuoso's default graph is every graph, its system graphs
  (``virtrdf:``, ``http://localhost:8890/DAV/``...) included. Every query without its own
  dataset is therefore sent with ``default-graph-uri`` *and* ``named-graph-uri`` set to
  the service's graphs: those under ``base_iri`` plus any graph the service wrote
  (registered in the bookkeeping graph ``urn:x-ckm:meta``).
- **Row cap.** Virtuoso returns at most ``ResultSetMaxRows`` rows (``store_max_rows``)
  and says so only in an ``X-SPARQL-MaxRows`` header (SELECT) or not at all
  (CONSTRUCT, Graph Store GET). Internal reads (graphs, dumps, internal SELECTs) page
  with OFFSET/LIMIT under an unchanged revision; a user's result that reaches the cap is
  marked truncated, never passed on as complete.
- **Timeouts.** The HTTP client timeout, plus Virtuoso's ``timeout`` parameter so the
  server stops the work too; Virtuoso then answers 200 with *partial* results and
  ``X-SQL-State: S1TAT``, which is turned into ``TimedOut`` (503), not served.
- **Atomic writes.** Virtuoso 7.2 does not run a multi-operation update request as one
  transaction (measured: the first of two operations stays applied when the second
  fails), so every write (``apply``, ``replace_graphs``, ``restore``) is ONE
  ``DELETE {..} INSERT {..} WHERE {..}`` operation, which Virtuoso runs as one SQL
  statement in one transaction; the revision marker changes in that same operation.
  Virtuoso refuses operations much past ~1000 constant triples ("generated SQL text has
  exceeded 10000 lines"), so writes larger than ``store_chunk`` quads are first staged
  into invisible graphs ``urn:x-ckm:staging:*`` (Graph Store POST, or chunked updates)
  and then moved in by that one operation.
- **Blank nodes.** Virtuoso refuses blank nodes in ``INSERT DATA``; they go into
  ``INSERT {..} WHERE {}`` templates (consistent within one operation) or a Graph Store
  POST. Existing blank nodes are addressed as ``<nodeID://bN>`` (Virtuoso's extension):
  they are read back as rdflib ``BNode("vbN")`` and written as ``<nodeID://bN>``. Other
  stores cannot address an existing blank node, so removing one there raises Conflict.
- **Normalised literals.** Virtuoso lower-cases language tags (``en-GB`` -> ``en-gb``)
  and stores known datatypes by value (``"01"^^xsd:integer`` reads back as ``"1"``);
  stored booleans come back as ``"1"^^xsd:boolean`` (read here as ``true``), and a
  boolean a query *computes* (``BIND(false AS ?x)``, ``COALESCE(?f, false)``) comes back
  as the integer ``0``/``1``: nothing can tell it from a real integer.
- **Update dialect.** Virtuoso's ``DROP GRAPH`` fails on a graph never ``CREATE``d; a
  quad store's graph exists while it holds triples, so ``update`` sends ``CLEAR`` instead.
- **Revision.** ``urn:x-ckm:meta`` holds the revision and modification time, replaced by
  every write in the same operation, so every worker's next read sees a write.
"""

from __future__ import annotations

import io
import json
import re
import time
import uuid
from typing import IO, Iterable, Iterator, Mapping

import pyoxigraph as ox
from rdflib import BNode, Graph, URIRef
from rdflib.term import Node

from kg_service.errors import BadData, BadQuery, Conflict, KGError, TimedOut
from kg_service.namespaces import sparql_prologue
from kg_service.results import Written, write_boolean, write_graph, write_solutions
from kg_service.settings import Settings
from kg_service.sparql_text import analyse
from kg_service.store import QueryOutput, QueryRequest, binding_terms
from kg_service.store.remote_http import Endpoints
from kg_service.store.remote_terms import (
    XSD_DOUBLE,
    Quad,
    _components,
    _json_ox,
    _json_rdflib,
    _ox_rdflib,
    _Terms,
    inject_values,
)

META = "urn:x-ckm:meta"
STORE = "urn:x-ckm:store"
REVISION = "urn:x-ckm:revision"
MODIFIED = "urn:x-ckm:modified"
REGISTERED = "urn:x-ckm:graph"
STAGING = "urn:x-ckm:staging:"
EMPTY_GRAPH = "urn:x-ckm:empty"

_DROP = re.compile(r"\bDROP\s+(SILENT\s+)?(?=GRAPH\b|DEFAULT\b|NAMED\b|ALL\b)", re.IGNORECASE)
_GRAPH_WORDS = re.compile(r"\b(?:GRAPH|INTO|TO|WITH)\s+<([^<>\"{}|^`\\\s]*)>", re.IGNORECASE)


class RemoteStore:
    """KGStore over SPARQL 1.1 Protocol, Update and Graph Store endpoints."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.http = Endpoints(settings)
        self.max_rows = int(settings.store_max_rows)
        self.chunk = max(1, int(settings.store_chunk))
        self.base = str(settings.base_iri)
        self.timeouts = 0  # user queries stopped at their deadline (for /metrics)
        self.ping()

    @property
    def virtuoso(self) -> bool:
        """Whether the store has answered as Virtuoso (its dialect is then used)."""
        return self.http.virtuoso

    def ping(self) -> float:
        """Seconds an ``ASK {}`` takes; raises Unavailable when the store does not answer."""
        started = time.perf_counter()
        self.http.send("ASK {}", "application/sparql-results+json", timeout=10)
        return time.perf_counter() - started

    # ------------------------------------------------------------- reading
    def _select_json(self, text: str, params: list[tuple[str, str]],
                     timeout: float | None = None) -> tuple[list[str], list[dict], bool]:
        body, headers = self.http.send(text, "application/sparql-results+json", params=params,
                                       timeout=timeout)
        doc = json.loads(body)
        if "boolean" in doc:
            return [], [{"boolean": doc["boolean"]}], False
        rows = doc["results"]["bindings"]
        capped = bool(headers.get("X-SPARQL-MaxRows")) or len(rows) >= self.max_rows
        return doc["head"].get("vars", []), rows, capped

    def _state(self) -> tuple[str, float, list[str]]:
        """(revision, modified, the service's non-empty named graphs) in one request."""
        q = f"""SELECT ?r ?m ?g WHERE {{
          {{ GRAPH <{META}> {{ <{STORE}> <{REVISION}> ?r ; <{MODIFIED}> ?m }} }}
          UNION {{ SELECT DISTINCT ?g WHERE {{ GRAPH ?g {{ ?s ?p ?o }}
                   FILTER(STRSTARTS(STR(?g), {json.dumps(self.base)})) }} }}
          UNION {{ GRAPH <{META}> {{ <{STORE}> <{REGISTERED}> ?g }}
                   FILTER EXISTS {{ GRAPH ?g {{ ?s2 ?p2 ?o2 }} }} }} }}"""
        _, rows, _ = self._select_json(q, [])
        rev, modified, graphs = "r0", 0.0, set()
        for row in rows:
            if "r" in row:
                rev, modified = row["r"]["value"], float(row["m"]["value"])
            if "g" in row and not row["g"]["value"].startswith(("urn:x-ckm:", STAGING)):
                graphs.add(row["g"]["value"])
        return rev, modified, sorted(graphs)

    def revision(self) -> str:
        return self._state()[0]

    def modified(self) -> float:
        return self._state()[1]

    def named_graphs(self) -> list[str]:
        return self._state()[2]

    def _dataset(self, graphs: list[str]) -> list[tuple[str, str]]:
        graphs = graphs or [EMPTY_GRAPH]
        return [("default-graph-uri", g) for g in graphs] + \
               [("named-graph-uri", g) for g in graphs]

    def _rows(self, text: str, params: list[tuple[str, str]]) -> tuple[list[str], list[dict]]:
        """Every row of a trusted SELECT, paging past the store's row cap."""
        names, rows, capped = self._select_json(text, params)
        if not capped or rows and "boolean" in rows[0]:
            return names, rows
        if re.search(r"\b(LIMIT|OFFSET)\b", text.split("}")[-1], re.IGNORECASE):
            raise KGError(f"an internal query reached the store's row cap ({self.max_rows}) "
                          "and has its own LIMIT/OFFSET; raise ResultSetMaxRows")
        page = len(rows)
        offset = page
        while True:
            _, more, capped = self._select_json(f"{text}\nOFFSET {offset} LIMIT {page}", params)
            rows.extend(more)
            offset += len(more)
            if len(more) < page:
                return names, rows

    def _internal(self, query: str, bindings: Mapping[str, Node]) -> tuple[list[str], list]:
        bound = binding_terms(bindings)
        prologue = sparql_prologue()
        text = inject_values(query, bound, _Terms(self.virtuoso)) if bound else query
        for _ in range(5):
            rev, _modified, graphs = self._state()
            try:
                names, rows = self._rows(prologue + text, self._dataset(graphs))
            except BadQuery as exc:
                line = exc.extra.get("line")
                if line:
                    exc.extra["line"] = max(1, line - prologue.count("\n"))
                raise
            if len(rows) < self.max_rows or self.revision() == rev:
                return names, rows
        raise Conflict("the store kept changing while a large result was read")

    def select(self, query: str, **bindings: Node) -> list[dict[str, Node]]:
        names, rows = self._internal(query, bindings)
        return [{n: _json_rdflib(r[n]) for n in names if n in r} for r in rows]

    def ask(self, query: str, **bindings: Node) -> bool:
        _, rows = self._internal(query, bindings)
        return bool(rows and rows[0].get("boolean"))

    def construct(self, query: str, **bindings: Node) -> Graph:
        bound = binding_terms(bindings)
        text = sparql_prologue() + (inject_values(query, bound, _Terms(self.virtuoso))
                                    if bound else query)
        body, _ = self.http.send(text, "application/n-triples",
                                 params=self._dataset(self.named_graphs()))
        graph = Graph()
        for t in ox.parse(body, format=ox.RdfFormat.N_TRIPLES):
            graph.add(tuple(_ox_rdflib(x) for x in (t.subject, t.predicate, t.object)))
        if len(graph) >= self.max_rows:
            raise KGError(f"an internal CONSTRUCT reached the store's row cap ({self.max_rows})")
        return graph

    def _quads(self, graphs: list[str]) -> Iterator[tuple[list[str], list[dict]]]:
        for g in graphs:
            q = f"SELECT ?s ?p ?o WHERE {{ GRAPH <{g}> {{ ?s ?p ?o }} }}"
            yield [g], self._rows(q, [])[1]

    def graph(self, iri: str) -> Graph:
        for _ in range(5):
            rev = self.revision()
            out = Graph()
            for _g, rows in self._quads([iri]):
                for r in rows:
                    out.add((_json_rdflib(r["s"]), _json_rdflib(r["p"]), _json_rdflib(r["o"])))
            if len(out) < self.max_rows or self.revision() == rev:
                return out
        raise Conflict("the store kept changing while a graph was read")

    def __len__(self) -> int:
        graphs = self.named_graphs()
        if not graphs:
            return 0
        values = " ".join(f"<{g}>" for g in graphs)
        _, rows, _ = self._select_json(
            f"SELECT (COUNT(*) AS ?n) WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}",
            [])
        return int(rows[0]["n"]["value"])

    def run_query(self, req: QueryRequest) -> QueryOutput:
        limit = self.settings.result_limit if req.limit is None else req.limit
        timeout = self.settings.query_timeout if req.timeout is None else req.timeout
        form = analyse(req.query).form
        text = (inject_values(req.query, req.substitutions, _Terms(self.virtuoso))
                if req.substitutions else req.query)
        params: list[tuple[str, str]] = []
        if req.default_graph or req.named_graphs:
            params += [("default-graph-uri", g) for g in req.default_graph]
            params += [("named-graph-uri", g) for g in req.named_graphs]
        if req.union and not req.default_graph:
            ours = self.named_graphs() or [EMPTY_GRAPH]
            params += [("default-graph-uri", g) for g in ours]
            if not req.named_graphs:
                params += [("named-graph-uri", g) for g in ours]
        if self.virtuoso:
            params.append(("timeout", str(int(timeout * 1000))))
        started = time.perf_counter()
        out = io.BytesIO()
        try:
            if form in ("CONSTRUCT", "DESCRIBE"):
                body, _ = self.http.send(text, "application/n-triples", params=params,
                                         timeout=timeout)
                triples = list(ox.parse(body, format=ox.RdfFormat.N_TRIPLES))
                written = write_graph(out, iter(triples), req.format, limit, req.prefixes or None)
                capped = len(triples) >= self.max_rows
            else:
                names, rows, capped = self._select_json(text, params, timeout)
                if rows and "boolean" in rows[0]:
                    write_boolean(out, bool(rows[0]["boolean"]), req.format)
                    written = Written("ask", 1, False)
                    capped = False
                else:
                    sols = [[_json_ox(r[n]) if n in r else None for n in names]
                            for r in rows[:limit + 1]]
                    cut = len(sols) > limit or (capped and len(sols) <= limit)
                    write_solutions(out, names, sols[:limit], req.format, cut)
                    written = Written("select", min(len(sols), limit), cut)
        except TimedOut:
            self.timeouts += 1
            raise
        truncated = written.truncated or (capped and written.kind != "ask")
        if truncated and not written.truncated and written.kind == "graph":
            out = io.BytesIO()
            written = write_graph(out, iter(triples), req.format, len(triples) - 1,
                                  req.prefixes or None)
        return QueryOutput(written.kind, written.count, truncated,
                           time.perf_counter() - started, out.getvalue())

    def dump(self, out: IO[bytes]) -> None:
        for _ in range(5):
            rev = self.revision()
            buf = io.BytesIO()
            quads = []
            for g in self.named_graphs():
                gn = ox.NamedNode(g)
                for _g, rows in self._quads([g]):
                    quads += [ox.Quad(_json_ox(r["s"]), _json_ox(r["p"]), _json_ox(r["o"]), gn)
                              for r in rows]
            if self.revision() == rev:
                ox.serialize(quads, buf, format=ox.RdfFormat.N_QUADS)
                out.write(buf.getvalue())
                return
        raise Conflict("the store kept changing while it was dumped; try again")

    # ------------------------------------------------------------- writing
    def _write(self, removed: list[Quad], added: list[Quad], clear: Iterable[str] = ()) -> None:
        """One atomic DELETE/INSERT operation (after staging when large)."""
        clear = sorted(set(clear))
        terms = _Terms(self.virtuoso)
        if any(terms.existing_bnode(t) for q in removed for t in q[:3]) and not self.virtuoso:
            raise Conflict("this store cannot address an existing blank node to remove it")
        removed = [q for q in removed
                   if not any(isinstance(t, BNode) and not terms.existing_bnode(t)
                              for t in q[:3])]
        staged = len(removed) + len(added) > self.chunk
        token = uuid.uuid4().hex
        staging: list[str] = []
        delete, insert, where = [], [], []
        consts: dict[str, str] = {}

        def const(p: Node) -> str:
            return consts.setdefault(terms(p), f"?c{len(consts)}")

        for n, g in enumerate(clear):
            delete.append(f"GRAPH <{g}> {{ ?xs{n} ?xp{n} ?xo{n} }}")
            where.append(f"{{ GRAPH <{g}> {{ ?xs{n} ?xp{n} ?xo{n} }} }}")
        if staged:
            for kind, quads in (("del", removed), ("add", added)):
                by_graph: dict[str, list[Quad]] = {}
                for q in quads:
                    by_graph.setdefault(q[3], []).append(q)
                for n, (g, items) in enumerate(sorted(by_graph.items())):
                    stg = f"{STAGING}{token}:{kind}:{n}"
                    staging.append(stg)
                    self._stage(stg, items)
                    v = f"{kind}{n}"
                    (delete if kind == "del" else insert).append(
                        f"GRAPH <{g}> {{ ?{v}s ?{v}p ?{v}o }}")
                    where.append(f"{{ GRAPH <{stg}> {{ ?{v}s ?{v}p ?{v}o }} }}")
        else:
            for s, p, o, g in removed:
                delete.append(f"GRAPH <{g}> {{ {terms(s)} {const(p)} {terms(o)} }}")
            for s, p, o, g in added:
                insert.append(f"GRAPH <{g}> {{ {terms(s)} {const(p)} {terms(o)} }}")
        graphs = sorted({q[3] for q in added} | set(clear))
        meta = [f"<{STORE}> {const(URIRef(REVISION))} \"{token}\"",
                f"<{STORE}> {const(URIRef(MODIFIED))} \"{time.time()!r}\"^^<{XSD_DOUBLE}>"]
        meta += [f"<{STORE}> {const(URIRef(REGISTERED))} <{g}>" for g in graphs]
        insert.append(f"GRAPH <{META}> {{ " + " . ".join(meta) + " }")
        delete.append(f"GRAPH <{META}> {{ <{STORE}> <{REVISION}> ?oldr . "
                      f"<{STORE}> <{MODIFIED}> ?oldm }}")
        binds = " ".join(f"BIND({t} AS {v})" for t, v in consts.items())
        first = (f"{{ {binds} OPTIONAL {{ GRAPH <{META}> {{ <{STORE}> <{REVISION}> ?oldr . "
                 f"<{STORE}> <{MODIFIED}> ?oldm }} }} }}")
        op = ("DELETE { " + " ".join(delete) + " }\nINSERT { " + " ".join(insert) +
              " }\nWHERE { " + " UNION ".join([first, *where]) + " }")
        try:
            self._update(op)
        finally:
            if staging:
                self._update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in staging),
                             retries=1)

    def _update(self, text: str, retries: int = 3) -> None:
        for attempt in range(retries):
            try:
                self.http.send(text, "*/*", update=True,
                               timeout=max(60.0, self.settings.query_timeout))
                return
            except Conflict:
                if attempt == retries - 1:
                    raise
                time.sleep(0.05 * (attempt + 1))

    def _stage(self, graph: str, quads: list[Quad]) -> None:
        """Copy quads into an invisible staging graph (Graph Store POST or chunks)."""
        terms = _Terms(self.virtuoso)
        if self.http.gsp_url:
            lines = [f"{terms(s)} {terms(p)} {terms(o)} .\n" for s, p, o, _ in quads]
            self.http.gsp_post(graph, "".join(lines).encode())
            return
        for part in _components(quads, self.chunk):
            terms = _Terms(self.virtuoso)  # fresh blank nodes: one operation each
            body = " . ".join(f"{terms(s)} {terms(p)} {terms(o)}" for s, p, o, _ in part)
            self._update(f"INSERT {{ GRAPH <{graph}> {{ {body} }} }} WHERE {{}}")

    def apply(self, removed: Iterable[Quad], added: Iterable[Quad]) -> None:
        self._write(list(removed), list(added))

    def replace_graphs(self, graphs: Mapping[str, Iterable[tuple[Node, Node, Node]]]
                       ) -> None:
        added = [(s, p, o, g) for g, graph in graphs.items() for s, p, o in graph]
        self._write([], added, clear=graphs.keys())

    def update(self, sparql: str) -> None:
        """Run a SPARQL Update as sent, then move the revision (same request)."""
        token = uuid.uuid4().hex
        graphs = {g for g in _GRAPH_WORDS.findall(sparql) if not g.startswith("urn:x-ckm:")}
        reg = "".join(f" . <{STORE}> <{REGISTERED}> <{g}>" for g in sorted(graphs))
        bump = (f"DELETE {{ GRAPH <{META}> {{ <{STORE}> <{REVISION}> ?r . <{STORE}> "
                f"<{MODIFIED}> ?m }} }} INSERT {{ GRAPH <{META}> {{ <{STORE}> <{REVISION}> "
                f"\"{token}\" . <{STORE}> <{MODIFIED}> \"{time.time()!r}\"^^<{XSD_DOUBLE}>"
                f"{reg} }} }} WHERE {{ OPTIONAL {{ GRAPH <{META}> {{ <{STORE}> <{REVISION}> ?r "
                f". <{STORE}> <{MODIFIED}> ?m }} }} }}")
        text = sparql.rstrip().rstrip(";")
        if self.virtuoso:  # Virtuoso's DROP needs an explicit CREATE first; CLEAR does not
            text = _DROP.sub(lambda m: "CLEAR " + (m.group(1) or ""), text)
        self._update(text + " ;\n" + bump, retries=1)

    def restore(self, data: IO[bytes]) -> None:
        """Replace every graph of the service with the N-Quads in ``data``.

        The dump is parsed completely first (SyntaxError on bad data, nothing written);
        BadData for triples outside a named graph.
        """
        from kg_service.store.terms import from_ox

        added: list[Quad] = []
        for q in ox.parse(data.read(), format=ox.RdfFormat.N_QUADS):
            if not isinstance(q.graph_name, ox.NamedNode):
                raise BadData("a restore holds quads in named graphs only")
            added.append((from_ox(q.subject), from_ox(q.predicate), from_ox(q.object),
                          q.graph_name.value))
        self._write([], added, clear=self.named_graphs())

    def close(self) -> None:
        """Nothing to release (one HTTP request per call)."""

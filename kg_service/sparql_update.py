"""SPARQL 1.1 Update -> a changeset: the quads it would remove and add, nothing written.

rdflib's update parser reads the operations. INSERT DATA / DELETE DATA give their quads
directly; DELETE WHERE and DELETE/INSERT ... WHERE have their WHERE evaluated by the store
(Oxigraph, through ``run_query`` with the WITH/USING dataset, so under the same time and
row limits as any query) and their templates instantiated per solution; CLEAR, DROP,
CREATE, COPY, MOVE and ADD read the graphs they name. LOAD is refused unless its host is in
the ``service_allow`` setting. When a request has several operations and a later one reads
(WHERE, COPY...) what an earlier one may have written, the whole request is run by
Oxigraph on an in-memory copy of the data and the difference taken instead.

The default graph is the union of the named graphs (as for queries): a triple deleted from
it is deleted from every graph that holds it; a triple inserted into it goes to the graph
that already describes its subject (the ontology graph for ``ckm:`` terms, the case graph
for a case IRI), else to :data:`EDITS_GRAPH`. The inferred and history graphs are derived
and cannot be written.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Iterable

import pyoxigraph as ox
import rdflib
from rdflib import BNode, Literal, URIRef, Variable
from rdflib.term import Node

from kg_service.errors import BadQuery, BadRequest, Forbidden
from kg_service.namespaces import (
    HISTORY_GRAPH,
    INFERRED_GRAPH,
)
from kg_service.sparql_text import _TOKEN
from kg_service.store import QueryRequest
from kg_service.store.terms import from_ox, to_ox

Quad = tuple[Node, Node, Node, str]
Triple = tuple[Node, Node, Node]

EDITS_GRAPH = "https://w3id.org/ckm/edits"
_CHUNK = 200


def is_protected(graph: str) -> bool:
    """True for the derived graphs (inferred, history) that no change may write."""
    return graph in (INFERRED_GRAPH, HISTORY_GRAPH) or graph.startswith(HISTORY_GRAPH + "/")


def user_graphs(store: Any) -> list[str]:
    """The named graphs that changes may write (everything but inferred and history)."""
    return [g for g in store.named_graphs() if not is_protected(g)]


@dataclass
class Delta:
    """Quads removed and added, in order, with later operations overriding earlier ones."""

    removed: dict[Quad, None] = field(default_factory=dict)
    added: dict[Quad, None] = field(default_factory=dict)

    def remove(self, q: Quad) -> None:
        _check_graph(q[3])
        self.added.pop(q, None)
        self.removed[q] = None

    def add(self, q: Quad) -> None:
        _check_graph(q[3])
        if isinstance(q[0], Literal) or not isinstance(q[1], URIRef):
            return  # not a valid triple (e.g. a literal bound to a subject position)
        self.removed.pop(q, None)
        self.added[q] = None


from kg_service.graph_lookup import locate, present, route  # noqa: E402

__all__ = ["Delta", "Quad", "Triple", "EDITS_GRAPH", "is_protected", "user_graphs", "present",
           "locate", "route", "update_delta", "parse_update"]


def _check_graph(graph: str) -> None:
    if is_protected(graph):
        raise Forbidden(f"<{graph}> is derived by the service and cannot be written.",
                        graph=graph)


# ----------------------------------------------------------------------- reading the text

def _segments(text: str) -> list[tuple[int, int]]:
    """(start, end) of each operation: split at ';' outside braces, strings, IRIs."""
    spans, depth, start, content = [], 0, 0, False
    for m in _TOKEN.finditer(text):
        kind, value = m.lastgroup, m.group()
        if kind in ("ws", "comment"):
            continue
        if value == "{":
            depth += 1
        elif value == "}":
            depth -= 1
        elif value == ";" and depth == 0:
            if content:
                spans.append((start, m.start()))
            start, content = m.end(), False
            continue
        content = True
    if content:
        spans.append((start, len(text)))
    return spans


def _where_text(text: str, span: tuple[int, int]) -> str:
    """The prologue seen so far and the WHERE group of the operation at ``span``."""
    prologue, depth, where_at, group_start = [], 0, None, None
    toks = [m for m in _TOKEN.finditer(text, 0, span[1]) if m.lastgroup not in ("ws", "comment")]
    for i, m in enumerate(toks):
        value = m.group()
        if depth == 0 and m.lastgroup == "word" and value.upper() in ("PREFIX", "BASE"):
            n = 3 if value.upper() == "PREFIX" else 2
            prologue.append(" ".join(t.group() for t in toks[i:i + n]))
        if m.start() >= span[0] and depth == 0 and value.upper() == "WHERE":
            where_at = i
        if value == "{":
            if where_at is not None and depth == 0 and group_start is None:
                group_start = m.start()
            depth += 1
        elif value == "}":
            depth -= 1
            if group_start is not None and depth == 0:
                return "\n".join(prologue) + "\nSELECT * WHERE " + text[group_start:m.end()]
    raise BadQuery("could not find the WHERE clause of an update operation")


def parse_update(text: str) -> Any:
    """rdflib's algebra of an update; raises BadQuery with line/column."""
    from rdflib.plugins.sparql.algebra import translateUpdate
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        return translateUpdate(parseUpdate(text))
    except Exception as exc:  # pyparsing errors and rdflib's own
        better = _oxigraph_syntax_error(text)
        if better is not None:
            raise better from exc
        raise BadQuery(f"SPARQL Update syntax error: {exc}", line=getattr(exc, "lineno", None),
                       column=getattr(exc, "col", None)) from exc


def _oxigraph_syntax_error(text: str) -> BadQuery | None:
    """Oxigraph's clearer message and position for an update rdflib cannot parse (run on an
    empty in-memory store, never when the text could reach the network)."""
    import re

    from kg_service.sparql_text import analyse

    info = analyse(text)
    if info.load or info.service:
        return None
    try:
        ox.Store().update(text)
    except SyntaxError as exc:
        msg = str(exc)
        m = re.match(r"error at (\d+):(\d+): (.*)", msg, re.S)
        if m:
            detail = m.group(3).split("\n")[0][:300]
            return BadQuery(f"SPARQL Update syntax error at line {m.group(1)}, column "
                            f"{m.group(2)}: {detail}", line=int(m.group(1)),
                            column=int(m.group(2)))
        return BadQuery(f"SPARQL Update syntax error: {msg[:300]}")
    except Exception:  # noqa: BLE001 - only an aid to the message
        return None
    return None


# ----------------------------------------------------------------------- evaluating

def _solutions(store: Any, query: str, default: list[str], named: list[str],
               union: bool) -> list[dict[str, Node]]:
    out = store.run_query(QueryRequest(query, "json", default_graph=default, named_graphs=named,
                                       union=union))
    if out.truncated:
        raise BadRequest(f"the WHERE clause matched more than {out.count} rows; split the "
                         "update into smaller ones")
    rows = []
    for b in json.loads(out.read())["results"]["bindings"]:
        rows.append({k: _json_term(v) for k, v in b.items()})
    return rows


def _json_term(v: dict[str, str]) -> Node:
    if v["type"] == "uri":
        return URIRef(v["value"])
    if v["type"] == "bnode":
        return BNode(v["value"])
    if "xml:lang" in v:
        return Literal(v["value"], lang=v["xml:lang"])
    dt = v.get("datatype")
    return Literal(v["value"], datatype=URIRef(dt) if dt else None)


def _bgp_text(op: Any) -> str:
    def triples(ts: Iterable[Triple]) -> str:
        return " ".join(" ".join(t.n3() for t in tr) + " ." for tr in ts)
    parts = [triples(op.triples or [])]
    for g, ts in (op.quads or {}).items():
        parts.append(f"GRAPH {g.n3()} {{ {triples(ts)} }}")
    return "SELECT * WHERE { " + " ".join(parts) + " }"


def _instantiate(store: Any, delta: Delta, clause: Any, rows: list[dict[str, Node]],
                 with_graph: str | None, insert: bool) -> None:
    if clause is None:
        return
    default_triples: list[Triple] = []
    for row in rows:
        fresh: dict[BNode, BNode] = {}

        def term(t: Node, row: dict[str, Node] = row, fresh: dict[BNode, BNode] = fresh
                 ) -> Node | None:
            if isinstance(t, Variable):
                return row.get(str(t))
            if isinstance(t, BNode) and insert:
                return fresh.setdefault(t, BNode())
            return t
        groups = [(None, clause.triples or [])] + list((clause.quads or {}).items())
        for g, ts in groups:
            graph = term(g) if g is not None else None
            if g is not None and not isinstance(graph, URIRef):
                continue
            for tr in ts:
                s, p, o = (term(x) for x in tr)
                if s is None or p is None or o is None:
                    continue
                target = str(graph) if graph is not None else with_graph
                if target is None:
                    default_triples.append((s, p, o))
                else:
                    (delta.add if insert else delta.remove)((s, p, o, target))
    _default(store, delta, default_triples, insert)


def _default(store: Any, delta: Delta, triples: list[Triple], insert: bool) -> None:
    if not triples:
        return
    if insert:
        for t, g in route(store, triples).items():
            delta.add((*t, g))
        return
    pending = {}
    for q in delta.added:
        pending.setdefault(q[:3], []).append(q[3])
    for t, graphs in locate(store, triples).items():
        for g in graphs + pending.get(t, []):
            delta.remove((*t, g))


def _fresh_bnodes(ts: Iterable[Triple], fresh: dict[BNode, BNode]) -> list[Triple]:
    return [tuple(fresh.setdefault(x, BNode()) if isinstance(x, BNode) else x for x in t)
            for t in ts]  # type: ignore[misc]


def _graph_triples(store: Any, graph: Any, delta: Delta) -> list[Quad]:
    names = user_graphs(store) if graph == "DEFAULT" or graph in ("NAMED", "ALL") else [str(graph)]
    out: list[Quad] = []
    for g in names:
        _check_graph(g)
        out += [(s, p, o, g) for s, p, o in store.graph(g)]
    return out


def _load(store: Any, op: Any, delta: Delta) -> None:
    host = urllib.parse.urlsplit(str(op.iri)).hostname or ""
    if host not in store.settings.service_allow:
        raise Forbidden(f"LOAD <{op.iri}> is not allowed: {host or 'that host'} is not in "
                        "the service_allow setting (KG_SERVICE_ALLOW).", iri=str(op.iri))
    try:
        g = rdflib.Graph().parse(str(op.iri))
    except Exception as exc:
        if op.silent:
            return
        raise BadRequest(f"LOAD <{op.iri}> failed: {exc}") from exc
    if op.graphiri is not None:
        for t in g:
            delta.add((*t, str(op.graphiri)))
    else:
        _default(store, delta, list(g), True)


def _dependent(ops: list[Any]) -> bool:
    return len(ops) > 1 and any(op.name not in ("InsertData", "DeleteData") for op in ops[1:])


def update_delta(store: Any, text: str) -> Delta:
    """The quads ``text`` (a SPARQL Update) would remove and add, before normalisation.

    Raises BadQuery (syntax), Forbidden (LOAD not allowed, derived graph), BadRequest.
    """
    update = parse_update(text)
    ops = list(update.algebra)
    if _dependent(ops):
        if any(op.name == "Load" for op in ops):
            raise BadRequest("send LOAD on its own, not with other operations")
        return _in_memory(store, text)
    spans = _segments(text)
    delta = Delta()
    for i, op in enumerate(ops):
        name = op.name
        if name in ("InsertData", "DeleteData"):
            fresh: dict[BNode, BNode] = {}
            insert = name == "InsertData"
            for g, ts in (op.quads or {}).items():
                for t in _fresh_bnodes(ts, fresh):
                    (delta.add if insert else delta.remove)((*t, str(g)))
            _default(store, delta, _fresh_bnodes(op.triples or [], fresh), insert)
        elif name == "DeleteWhere":
            rows = _solutions(store, _bgp_text(op), [], [], True)
            _instantiate(store, delta, op, rows, None, insert=False)
        elif name == "Modify":
            if len(spans) != len(ops):
                raise BadQuery("could not split the update into its operations")
            query = _where_text(text, spans[i])
            with_graph = str(op.withClause) if op.withClause is not None else None
            using = op.using or []
            default = [str(u.default) for u in using if u.default is not None]
            named = [str(u.named) for u in using if u.named is not None]
            if not using and with_graph:
                default = [with_graph]
            rows = _solutions(store, query, default, named, not (default or named))
            _instantiate(store, delta, op.delete, rows, with_graph, insert=False)
            _instantiate(store, delta, op.insert, rows, with_graph, insert=True)
        elif name in ("Clear", "Drop"):
            for q in _graph_triples(store, op.graphiri, delta):
                delta.remove(q)
        elif name == "Create":
            _check_graph(str(op.graphiri))
        elif name in ("Add", "Copy", "Move"):
            src, dst = op.graph
            if dst == "DEFAULT":
                raise BadRequest(f"{name.upper()} into the default graph (the union of the "
                                 "named graphs) is ambiguous: name the target graph")
            if src == dst:
                continue
            src_quads = _graph_triples(store, src, delta)
            if name in ("Copy", "Move"):
                for q in _graph_triples(store, dst, delta):
                    delta.remove(q)
            for s, p, o, _g in src_quads:
                delta.add((s, p, o, str(dst)))
            if name == "Move":
                for q in src_quads:
                    delta.remove(q)
        elif name == "Load":
            _load(store, op, delta)
        else:
            raise BadQuery(f"unsupported update operation {name}")
    return delta


def _in_memory(store: Any, text: str) -> Delta:
    """Run a multi-operation update with Oxigraph on a copy (the union as default graph)."""
    mem = ox.Store()
    before: dict[str, set[Triple]] = {}
    for g in user_graphs(store):
        before[g] = set(store.graph(g))
        name = ox.NamedNode(g)
        mem.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o), name) for s, p, o in before[g])
        mem.extend(ox.Quad(to_ox(s), to_ox(p), to_ox(o)) for s, p, o in before[g])
    union = set().union(*before.values()) if before else set()
    try:
        mem.update(text)
    except (SyntaxError, ValueError, OSError) as exc:
        raise BadQuery(str(exc)) from exc
    after: dict[str | None, set[Triple]] = {}
    for q in mem:
        g = None if isinstance(q.graph_name, ox.DefaultGraph) else q.graph_name.value
        after.setdefault(g, set()).add((from_ox(q.subject), from_ox(q.predicate),
                                        from_ox(q.object)))
    delta = Delta()
    for g in sorted(set(before) | {k for k in after if k is not None}):
        old, new = before.get(g, set()), after.get(g, set())
        for t in old - new:
            delta.remove((*t, g))
        for t in new - old:
            delta.add((*t, g))
    default_after = after.get(None, set())
    gone = union - default_after
    for g, triples in after.items():
        if g is not None:
            for t in triples & gone:
                delta.remove((*t, g))
    _default(store, delta, sorted(default_after - union), True)
    return delta

"""The history graph: one PROV-O activity a changeset, with the quads it removed and added.

Each change ``C`` is recorded in ``<https://w3id.org/ckm/history>`` as::

    <https://w3id.org/ckm/history/C> a prov:Activity ;
        ckmh:sequence 12 ;                          # 1, 2, 3 ... in commit order
        prov:startedAtTime "..."^^xsd:dateTime ; prov:endedAtTime "..."^^xsd:dateTime ;
        prov:wasAssociatedWith <https://w3id.org/ckm/history/agent/NAME> ;
        prov:used <https://w3id.org/ckm/history/PARENT> ;  # the revision it was made on
        rdfs:comment "message" ; ckmh:source "sparql-update" ;
        ckmh:graph <graph IRI> ... ; ckmh:addedCount 3 ; ckmh:removedCount 1 ;
        ckmh:added "N-Quads text" ; ckmh:removed "N-Quads text" ;
        ckmh:reverts <https://w3id.org/ckm/history/OTHER> .   # only for a revert
    <https://w3id.org/ckm/history> ckmh:head <https://w3id.org/ckm/history/C> .

The quads are kept as N-Quads literals (exact, blank nodes included) rather than reified
statements, so that history never shows up as links between the things it describes;
they are still queryable, e.g. ``FILTER(CONTAINS(?added, "<https://w3id.org/ckm/id/...>"))``.
"""

from __future__ import annotations

import datetime as dt
import urllib.parse
from typing import Any, Iterable

import pyoxigraph as ox
import rdflib
from rdflib import RDF, RDFS, XSD, Literal, Namespace, URIRef
from rdflib.namespace import PROV

from kg_service.errors import NotFound
from kg_service.namespaces import HISTORY_GRAPH
from kg_service.sparql_update import Quad
from kg_service.store.terms import from_ox, to_ox

HIST = Namespace(HISTORY_GRAPH + "#")
HEAD_OWNER = URIRef(HISTORY_GRAPH)


def change_iri(change_id: str) -> URIRef:
    return URIRef(f"{HISTORY_GRAPH}/{change_id}")


def agent_iri(name: str) -> URIRef:
    return URIRef(f"{HISTORY_GRAPH}/agent/{urllib.parse.quote(name, safe='')}")


def to_nquads(quads: Iterable[Quad]) -> str:
    """Quads as N-Quads text, sorted (stable)."""
    items = [ox.Quad(to_ox(s), to_ox(p), to_ox(o), ox.NamedNode(g)) for s, p, o, g in quads]
    text = ox.serialize(items, format=ox.RdfFormat.N_QUADS).decode()
    return "".join(sorted(line + "\n" for line in text.splitlines() if line))


def from_nquads(text: str) -> list[Quad]:
    """N-Quads text (blank node labels kept) as quads."""
    return [(from_ox(q.subject), from_ox(q.predicate), from_ox(q.object), q.graph_name.value)
            for q in ox.parse(text.encode(), format=ox.RdfFormat.N_QUADS)]


def record(meta: dict[str, Any], removed: list[Quad], added: list[Quad],
           old_head: str | None) -> tuple[list[Quad], list[Quad]]:
    """The history quads to remove and add for a new change described by ``meta``."""
    c, h = change_iri(meta["id"]), HISTORY_GRAPH
    agent = agent_iri(meta["author"])
    out: list[Quad] = [
        (c, RDF.type, PROV.Activity, h),
        (c, HIST.sequence, Literal(meta["sequence"]), h),
        (c, PROV.startedAtTime, Literal(meta["started"], datatype=XSD.dateTime), h),
        (c, PROV.endedAtTime, Literal(meta["time"], datatype=XSD.dateTime), h),
        (c, PROV.wasAssociatedWith, agent, h),
        (agent, RDF.type, PROV.Agent, h),
        (agent, RDFS.label, Literal(meta["author"]), h),
        (c, HIST.source, Literal(meta["source"]), h),
        (c, HIST.addedCount, Literal(len(added)), h),
        (c, HIST.removedCount, Literal(len(removed)), h),
        (c, HIST.added, Literal(to_nquads(added)), h),
        (c, HIST.removed, Literal(to_nquads(removed)), h),
        (HEAD_OWNER, HIST.head, c, h),
    ]
    if meta.get("message"):
        out.append((c, RDFS.comment, Literal(meta["message"]), h))
    if old_head:
        out.append((c, PROV.used, change_iri(old_head), h))
    if meta.get("reverts"):
        out.append((c, HIST.reverts, change_iri(meta["reverts"]), h))
    for g in sorted({q[3] for q in removed + added}):
        out.append((c, HIST.graph, URIRef(g), h))
    gone = [(HEAD_OWNER, HIST.head, change_iri(old_head), h)] if old_head else []
    return gone, out


def _id(iri: Any) -> str:
    return str(iri).rsplit("/", 1)[-1]


def head(store: Any) -> tuple[str, int] | None:
    """(id, sequence) of the newest change, or None before the first."""
    rows = store.select(f"SELECT ?c ?n WHERE {{ GRAPH <{HISTORY_GRAPH}> {{ "
                        f"<{HEAD_OWNER}> <{HIST.head}> ?c . ?c <{HIST.sequence}> ?n }} }}")
    if not rows:
        return None
    return _id(rows[0]["c"]), int(rows[0]["n"])


_FIELDS = f"""
  ?c <{HIST.sequence}> ?seq ; <{PROV.endedAtTime}> ?time ; <{HIST.source}> ?source ;
     <{HIST.addedCount}> ?added ; <{HIST.removedCount}> ?removed ;
     <{PROV.wasAssociatedWith}> [ <{RDFS.label}> ?author ] .
  OPTIONAL {{ ?c <{RDFS.comment}> ?message }}
  OPTIONAL {{ ?c <{PROV.used}> ?parent }}
  OPTIONAL {{ ?c <{HIST.reverts}> ?reverts }}
"""


def _summary(r: dict[str, Any], graphs: list[str] | None = None) -> dict[str, Any]:
    out = {"id": _id(r["c"]), "sequence": int(r["seq"]), "author": str(r["author"]),
           "message": str(r.get("message", "")), "time": str(r["time"]),
           "source": str(r["source"]), "added": int(r["added"]), "removed": int(r["removed"]),
           "parent": _id(r["parent"]) if "parent" in r else None,
           "reverts": _id(r["reverts"]) if "reverts" in r else None}
    if graphs is not None:
        out["graphs"] = graphs
    return out


def list_changes(store: Any, limit: int = 50, offset: int = 0, *,
                 after_sequence: int | None = None) -> tuple[list[dict[str, Any]], int]:
    """Summaries of changes, newest first, and the total count."""
    where = f"GRAPH <{HISTORY_GRAPH}> {{ {_FIELDS} }}"
    if after_sequence is not None:
        where += f" FILTER(?seq > {int(after_sequence)})"
    total = int(store.select(f"SELECT (COUNT(?c) AS ?n) WHERE {{ {where} }}")[0]["n"])
    rows = store.select(f"SELECT * WHERE {{ {where} }} ORDER BY DESC(?seq) "
                        f"LIMIT {int(limit)} OFFSET {int(offset)}")
    return [_summary(r) for r in rows], total


def get_change(store: Any, change_id: str) -> dict[str, Any]:
    """One change with its quads (``added_quads``/``removed_quads`` as Quad lists).

    Raises NotFound for an unknown id.
    """
    c = change_iri(change_id)
    rows = store.select(f"SELECT * WHERE {{ GRAPH <{HISTORY_GRAPH}> {{ {_FIELDS} "
                        f"?c <{HIST.added}> ?a ; <{HIST.removed}> ?r }} }}", c=c)
    if not rows:
        raise NotFound(f"no change {change_id!r}")
    graphs = sorted(str(r["g"]) for r in store.select(
        f"SELECT * WHERE {{ GRAPH <{HISTORY_GRAPH}> {{ ?c <{HIST.graph}> ?g }} }}", c=c))
    out = _summary({**rows[0], "c": c}, graphs)
    out["added_quads"] = from_nquads(str(rows[0]["a"]))
    out["removed_quads"] = from_nquads(str(rows[0]["r"]))
    return out


def quads_json(quads: Iterable[Quad]) -> list[dict[str, str]]:
    """Quads for JSON: each term in N-Triples syntax, the graph as an IRI."""
    return [{"s": s.n3(), "p": p.n3(), "o": o.n3(), "g": g} for s, p, o, g in quads]


def _sequence_of(store: Any, change_id: str) -> int:
    rows = store.select(f"SELECT * WHERE {{ GRAPH <{HISTORY_GRAPH}> {{ ?c <{HIST.sequence}> ?n "
                        "} }", c=change_iri(change_id))
    if not rows:
        raise NotFound(f"no change (revision) {change_id!r}")
    return int(rows[0]["n"])


def changes_between(store: Any, start: str | None, end: str | None) -> list[dict[str, Any]]:
    """Full changes after revision ``start`` up to and including ``end`` (ids; None: the
    beginning / the newest), oldest first. Raises NotFound for unknown ids."""
    lo = _sequence_of(store, start) if start and start != "initial" else 0
    hi = _sequence_of(store, end) if end and end != "initial" else (
        0 if end == "initial" else 1 << 62)
    rows = store.select(f"SELECT ?c ?n WHERE {{ GRAPH <{HISTORY_GRAPH}> {{ ?c <{HIST.sequence}> "
                        f"?n }} FILTER(?n > {lo} && ?n <= {hi}) }} ORDER BY ?n")
    return [get_change(store, _id(r["c"])) for r in rows]


def diff(store: Any, start: str | None, end: str | None) -> tuple[set[Quad], set[Quad]]:
    """Net (removed, added) quads from revision ``start`` to ``end`` (either may be older)."""
    lo, hi = start, end
    flip = False
    if (lo and hi and lo != "initial" and hi != "initial"
            and _sequence_of(store, lo) > _sequence_of(store, hi)) or (
            lo and lo != "initial" and hi == "initial"):
        lo, hi, flip = hi, lo, True
    removed: set[Quad] = set()
    added: set[Quad] = set()
    for ch in changes_between(store, lo, hi):
        for q in ch["removed_quads"]:
            if q in added:
                added.discard(q)
            else:
                removed.add(q)
        for q in ch["added_quads"]:
            if q in removed:
                removed.discard(q)
            else:
                added.add(q)
    return (added, removed) if flip else (removed, added)


def graph_at(store: Any, graph_iri: str, revision: str) -> rdflib.Graph:
    """The named graph as it was right after change ``revision`` (replaying history back).

    Raises NotFound for an unknown revision.
    """
    g = store.graph(graph_iri)
    for ch in reversed(changes_between(store, revision, None)):
        for s, p, o, name in ch["added_quads"]:
            if name == graph_iri:
                g.remove((s, p, o))
        for s, p, o, name in ch["removed_quads"]:
            if name == graph_iri:
                g.add((s, p, o))
    return g


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace(
        "+00:00", "Z")

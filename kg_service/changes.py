"""Changesets: every write to the graph, validated, applied atomically, kept in history.

A change is built (from a SPARQL Update, a Graph Store request, a REST edit, a file import
or a revert), normalised to the quads that really disappear and appear, validated
(``validation.check_change``: SHACL on the focus nodes, HermiT when it can matter), and
then applied with ONE ``store.apply`` call that also writes its history record
(``history.record``) and the new OWL RL closure of the inferred graph: data, history and
inferences never diverge, and a crash midway leaves the previous state.

Revisions: the current revision is the id of the newest change (``"initial"`` before the
first); it is the ETag of write responses. ``If-Match`` accepts it, ``*``, or any ETag of
a read made since (those start with the store's own revision). A stale one raises
PreconditionFailed listing the changes made meanwhile.

Concurrency: check + apply run under a thread lock and an ``flock`` on
``{data_dir}/changes.lock``, so editors in every thread and every worker process of one
machine are serialised. With a remote store shared by several machines this lock does not
reach the other machines: run one writer machine.
"""

from __future__ import annotations

import fcntl
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rdflib
from rdflib import OWL, RDF, RDFS

from kg_service import history
from kg_service.auth import User
from kg_service.errors import BadRequest, Conflict, NotFound, PreconditionFailed
from kg_service.namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH
from kg_service.sparql_update import Delta, Quad, is_protected, present, update_delta, user_graphs

__all__ = ["Change", "current_revision", "submit_update", "submit_graph", "submit_delta",
           "revert", "Delta"]

_THREAD_LOCKS: dict[str, threading.RLock] = {}
_GUARD = threading.Lock()


@dataclass
class Change:
    """A committed (or empty) changeset. ``revision`` is the new current revision (ETag)."""

    id: str
    revision: str
    author: str
    message: str
    time: str
    added: int
    removed: int
    graphs: list[str] = field(default_factory=list)
    parent: str | None = None
    source: str = ""
    sequence: int = 0
    reverts: str | None = None
    checks: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed)

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "revision": self.revision, "author": self.author,
                "message": self.message, "time": self.time, "added": self.added,
                "removed": self.removed, "graphs": self.graphs, "parent": self.parent,
                "source": self.source, "sequence": self.sequence, "reverts": self.reverts,
                "checks": self.checks, "seconds": round(self.seconds, 3)}


def current_revision(store: Any) -> str:
    """The ETag editors send back in If-Match: the newest change's id, or "initial"."""
    h = history.head(store)
    return h[0] if h else "initial"


@contextmanager
def commit_lock(store: Any) -> Iterator[None]:
    """Serialise changes across threads and processes sharing the data dir."""
    path = Path(store.settings.data_dir).resolve()
    with _GUARD:
        lock = _THREAD_LOCKS.setdefault(str(path), threading.RLock())
    with lock:
        path.mkdir(parents=True, exist_ok=True)
        with open(path / "changes.lock", "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)


def _tags(if_match: str) -> list[str]:
    out = []
    for t in if_match.split(","):
        t = t.strip()
        if t.startswith("W/"):
            t = t[2:]
        out.append(t.strip('"'))
    return out


def check_if_match(store: Any, if_match: str | None, head: tuple[str, int] | None) -> None:
    """Raise PreconditionFailed unless ``if_match`` names the current state."""
    if if_match is None:
        return
    current = head[0] if head else "initial"
    rev = store.revision()
    for tag in _tags(if_match):
        if tag in ("*", current) or tag == rev or tag.startswith(rev + "-"):
            return
    tags = _tags(if_match)
    try:
        seq = history._sequence_of(store, tags[0]) if tags[0] != "initial" else 0
        newer, _ = history.list_changes(store, 100, after_sequence=seq)
    except NotFound:
        newer, _ = history.list_changes(store, 20)
    raise PreconditionFailed(
        f"The graph changed since revision {tags[0]!r}: the current revision is {current!r}. "
        "Reload, reapply your edit and send the new revision in If-Match.",
        current=current, changed_since=[c["id"] for c in newer],
        changes=[{k: c[k] for k in ("id", "author", "message", "time")} for c in newer])


_SCHEMA_PREDICATES = ", ".join(f"<{p}>" for p in (
    RDFS.subPropertyOf, RDFS.domain, RDFS.range, OWL.equivalentProperty, OWL.inverseOf,
    OWL.propertyDisjointWith, OWL.propertyChainAxiom, RDF.type))
_ANNOTATIONS = {RDFS.label, RDFS.comment, RDFS.seeAlso, RDFS.isDefinedBy}
_PLAIN_TYPES = ", ".join(f"<{t}>" for t in (
    OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty, RDF.Property))


def affects_inferences(store: Any, quads: list[Quad]) -> bool:
    """False when no OWL RL rule can use these quads, so the inferred graph stays as it is.

    That is when none is in the ontology graph or uses the RDF/RDFS/OWL vocabulary, none of
    their predicates is named by an ontology axiom (domain, range, sub/equivalent/inverse
    property, chains, restrictions, keys, property characteristics), and none of their
    subjects or objects takes part in owl:sameAs.
    """
    preds = set()
    nodes = set()
    from kg_service.validation import is_annotation

    for s, p, o, g in quads:
        if g == ONTOLOGY_GRAPH and not is_annotation((s, p, o, g)):
            return True
        if str(p).startswith((str(RDF), str(RDFS), str(OWL))) and p not in _ANNOTATIONS:
            return True
        preds.add(p)
        nodes.update(n for n in (s, o) if isinstance(n, rdflib.URIRef))
    values = " ".join(p.n3() for p in preds)
    if store.ask(f"ASK {{ GRAPH <{ONTOLOGY_GRAPH}> {{ VALUES ?p {{ {values} }} "
                 f"{{ ?x ?q ?p }} UNION {{ ?p ?q ?y FILTER(?q IN ({_SCHEMA_PREDICATES})"
                 f" && ?y NOT IN ({_PLAIN_TYPES})) }} }} }}") \
            and not _only_known_domain_types(store, quads, values):
        return True
    if any(isinstance(n, rdflib.BNode) for q in quads for n in q[:3]):
        return True
    for i in range(0, len(nodes), 200):
        chunk = " ".join(n.n3() for n in list(nodes)[i:i + 200])
        if store.ask(f"ASK {{ VALUES ?n {{ {chunk} }} {{ ?n <{OWL.sameAs}> ?z }} UNION "
                     f"{{ ?z <{OWL.sameAs}> ?n }} }}"):
            return True
    return False


def _only_known_domain_types(store: Any, quads: list[Quad], values: str) -> bool:
    """True when the only axioms on these predicates are domains and ranges, and every
    type they imply (with its superclasses) follows from a type the node already has in
    the asserted graphs, so adding or removing the quads changes no inference.

    The common edit (a benefit, description or label of an existing practice) then skips
    the OWL RL recompute, which costs seconds to minutes on a large graph.
    """
    ranges_ok = f"<{RDFS.domain}>, <{RDFS.range}>"
    if store.ask(f"ASK {{ GRAPH <{ONTOLOGY_GRAPH}> {{ VALUES ?p {{ {values} }} "
                 f"{{ ?x ?q ?p }} UNION {{ ?p ?q ?y FILTER(?q IN ({_SCHEMA_PREDICATES})"
                 f" && ?q NOT IN ({ranges_ok}) && ?y NOT IN ({_PLAIN_TYPES})) }} }} }}"):
        return False  # a chain, inverse, sub/equivalent property...: the full closure
    for s, p, o, _g in quads:
        for node, axiom in ((s, RDFS.domain), (o, RDFS.range)):
            if isinstance(node, rdflib.Literal):
                continue
            if not isinstance(node, rdflib.URIRef):
                return False
            # some implied class (or a superclass of it) is not entailed by an asserted type
            if store.ask(
                    f"ASK {{ GRAPH <{ONTOLOGY_GRAPH}> {{ {p.n3()} <{axiom}> ?c . "
                    f"?c <{RDFS.subClassOf}>* ?d FILTER(isIRI(?d)) }} "
                    f"FILTER NOT EXISTS {{ GRAPH ?g {{ {node.n3()} a ?t }} "
                    f"FILTER(?g != <{INFERRED_GRAPH}>) "
                    f"GRAPH <{ONTOLOGY_GRAPH}> {{ ?t <{RDFS.subClassOf}>* ?d }} }} }}"):
                return False
    return True


def _inferred_delta(store: Any, removed: list[Quad], added: list[Quad]
                    ) -> tuple[list[Quad], list[Quad], float]:
    """The inferred graph's change: the OWL RL closure of the data after the change.

    Data-only changes (``incremental.data_only``) use the compiled rules of
    ``kg_service.inference``, which give owlrl's answer exactly: changed locally around the
    removed and added facts (``kg_service.incremental``: delete and rederive), else (when
    that cannot be sure) over all data read in one dump; anything else (or what the rules
    cannot decide) runs owlrl on ontology + data.
    """
    from kg_service.incremental import changed_inferences, data_only, infer_store
    from kg_service.inference import rules_for
    from kg_service.reasoning import materialise_owl_rl

    started = time.perf_counter()
    if not affects_inferences(store, removed + added):
        return [], [], time.perf_counter() - started
    new = old = None
    if data_only(removed + added):
        rules = rules_for(store.graph(ONTOLOGY_GRAPH))
        local = changed_inferences(store, rules, removed, added)
        if local is not None:
            g = INFERRED_GRAPH
            return ([(*t, g) for t in local[0]], [(*t, g) for t in local[1]],
                    time.perf_counter() - started)
        new, old = infer_store(store, removed, added)
    if new is None:
        graphs = {g: set(store.graph(g)) for g in user_graphs(store)}
        for s, p, o, g in removed:
            graphs.get(g, set()).discard((s, p, o))
        for s, p, o, g in added:
            graphs.setdefault(g, set()).add((s, p, o))
        base = rdflib.Graph()
        for triples in graphs.values():
            for t in triples:
                base.add(t)
        new = set(materialise_owl_rl(base))
    if old is None:
        old = set(store.graph(INFERRED_GRAPH))
    g = INFERRED_GRAPH
    return ([(*t, g) for t in old - new], [(*t, g) for t in new - old],
            time.perf_counter() - started)


def submit_delta(store: Any, build: Delta | Callable[[], Delta], *, user: User,
                 message: str | None = None, if_match: str | None = None,
                 source: str = "api", reverts: str | None = None) -> Change:
    """Validate, apply and record one changeset. ``build`` runs under the commit lock.

    Returns the Change (``empty`` when nothing would change; then nothing is recorded).
    Raises PreconditionFailed (stale If-Match), ValidationFailed (SHACL/HermiT),
    ReasonerFailed, Forbidden (derived graphs), BadQuery/BadRequest from ``build``.
    """
    from kg_service.validation import check_change

    started = time.perf_counter()
    with commit_lock(store):
        head = history.head(store)
        check_if_match(store, if_match, head)
        delta = build() if callable(build) else build
        have = present(store, list(delta.removed) + list(delta.added))
        removed = [q for q in delta.removed if q in have]
        added = [q for q in delta.added if q not in have]
        for q in removed + added:
            if is_protected(q[3]):
                raise BadRequest(f"<{q[3]}> cannot be written")
        parent = head[0] if head else None
        stamp = history.now()
        if not removed and not added:
            return Change(parent or "initial", parent or "initial", user.name, message or "",
                          stamp, 0, 0, [], parent, source, head[1] if head else 0,
                          seconds=time.perf_counter() - started)
        checks = check_change(store, removed, added)
        inf_removed, inf_added, inf_seconds = _inferred_delta(store, removed, added)
        checks["inferred"] = {"seconds": round(inf_seconds, 3), "added": len(inf_added),
                              "removed": len(inf_removed)}
        sequence = (head[1] if head else 0) + 1
        change_id = f"{sequence:06d}-{secrets.token_hex(3)}"
        meta = {"id": change_id, "sequence": sequence, "author": user.name,
                "message": message or "", "source": source, "started": stamp,
                "time": history.now(), "reverts": reverts}
        gone, record = history.record(meta, removed, added, parent)
        store.apply(removed + inf_removed + gone, added + inf_added + record)
        return Change(change_id, change_id, user.name, message or "", meta["time"],
                      len(added), len(removed), sorted({q[3] for q in removed + added}),
                      parent, source, sequence, reverts, checks,
                      time.perf_counter() - started)


def submit_update(store: Any, sparql: str, *, user: User, message: str | None = None,
                  if_match: str | None = None) -> Change:
    """A SPARQL 1.1 Update as one changeset (see ``sparql_update`` for the semantics).

    Raises BadQuery (syntax, with line/column), Forbidden (LOAD not allowed, derived
    graphs), ValidationFailed, PreconditionFailed, ReasonerFailed.
    """
    return submit_delta(store, lambda: update_delta(store, sparql), user=user,
                        message=message, if_match=if_match, source="sparql-update")


def submit_graph(store: Any, graph_iri: str, graph: rdflib.Graph | None, *, mode: str,
                 user: User, message: str | None = None, if_match: str | None = None) -> Change:
    """A Graph Store Protocol write as one changeset: ``put`` replaces the graph, ``post``
    adds to it, ``delete`` empties it.

    Raises NotFound (delete of an empty graph), BadRequest (unknown mode), Forbidden
    (derived graphs), ValidationFailed, PreconditionFailed, ReasonerFailed.
    """
    if mode not in ("put", "post", "delete"):
        raise BadRequest(f"unknown graph store mode {mode!r}")
    if is_protected(graph_iri):
        from kg_service.errors import Forbidden

        raise Forbidden(f"<{graph_iri}> is derived by the service and cannot be written.")

    def build() -> Delta:
        from kg_service.graph_diff import graph_delta

        current = store.graph(graph_iri)
        if mode == "delete":
            if not len(current):
                raise NotFound(f"graph <{graph_iri}> is empty or does not exist")
            return graph_delta(current, rdflib.Graph(), graph_iri)
        new = graph if graph is not None else rdflib.Graph()
        if mode == "post":
            d = Delta()
            fresh: dict[Any, Any] = {}
            for t in new:
                d.add((*(fresh.setdefault(x, rdflib.BNode()) if isinstance(x, rdflib.BNode)
                         else x for x in t), graph_iri))  # type: ignore[arg-type]
            return d
        return graph_delta(current, new, graph_iri)

    return submit_delta(store, build, user=user, message=message, if_match=if_match,
                        source="graph-store")


def revert(store: Any, change_id: str, *, user: User, message: str | None = None,
           if_match: str | None = None) -> Change:
    """A new changeset undoing ``change_id``, validated like any other.

    Raises NotFound (unknown id), Conflict (a later change touched the same triples, or the
    change was empty), ValidationFailed, PreconditionFailed.
    """
    def build() -> Delta:
        ch = history.get_change(store, change_id)
        mine = set(ch["added_quads"]) | set(ch["removed_quads"])
        later = history.changes_between(store, change_id, None)
        clash = [c["id"] for c in later
                 if mine & (set(c["added_quads"]) | set(c["removed_quads"]))]
        if clash:
            raise Conflict(f"Change {change_id} cannot be reverted: later changes touched the "
                           f"same triples ({', '.join(clash)}); revert those first.",
                           conflicting=clash)
        d = Delta()
        for q in ch["added_quads"]:
            d.remove(q)
        for q in ch["removed_quads"]:
            d.add(q)
        return d

    return submit_delta(store, build, user=user, message=message or f"Revert {change_id}",
                        if_match=if_match, source="revert", reverts=change_id)

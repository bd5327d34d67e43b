"""The store: one protocol, two implementations (embedded Oxigraph, remote SPARQL).

``open_store(settings)`` picks the implementation from ``settings.store``. The service
only talks to a store through :class:`KGStore`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Mapping, Protocol

from rdflib import Graph
from rdflib.term import Node

from kg_service.settings import Settings


@dataclass
class QueryRequest:
    """A query as the protocol layer hands it to the store."""

    query: str
    format: str  # a key of results.RESULT_FORMATS or results.GRAPH_FORMATS
    default_graph: list[str] = field(default_factory=list)  # empty: the union of named graphs
    named_graphs: list[str] = field(default_factory=list)  # empty: all named graphs
    substitutions: dict[str, Node] = field(default_factory=dict)  # bound as RDF terms
    union: bool = True  # False when the query text has FROM / FROM NAMED
    limit: int | None = None  # rows; None: the result_limit setting
    timeout: float | None = None  # seconds; None: the query_timeout setting
    prefixes: dict[str, str] = field(default_factory=dict)  # for Turtle/RDF-XML output
    point_lookup: bool = False  # reads only named subjects (sparql_text.point_lookup)


@dataclass
class QueryOutput:
    """A serialised result: the body is in ``body`` or in the file ``path``."""

    kind: str  # select, ask, graph
    count: int
    truncated: bool
    elapsed: float
    body: bytes = b""
    path: str | None = None

    def chunks(self, size: int = 1 << 16) -> Iterable[bytes]:
        """The body, read in chunks (a temp file is removed once read)."""
        if self.path is None:
            yield self.body
            return
        try:
            with open(self.path, "rb") as fh:
                while chunk := fh.read(size):
                    yield chunk
        finally:
            Path(self.path).unlink(missing_ok=True)

    def read(self) -> bytes:
        return b"".join(self.chunks())


class KGStore(Protocol):
    """What the service needs from a store. Every method may raise ``KGError``."""

    settings: Settings

    def run_query(self, req: QueryRequest) -> QueryOutput:
        """Run a user's query under the time and row limits (BadQuery, TimedOut)."""

    def select(self, query: str, **bindings: Node) -> list[dict[str, Node]]:
        """Rows of a trusted internal SELECT over the union graph, as rdflib terms."""

    def ask(self, query: str, **bindings: Node) -> bool:
        """A trusted internal ASK over the union graph."""

    def construct(self, query: str, **bindings: Node) -> Graph:
        """A trusted internal CONSTRUCT/DESCRIBE over the union graph."""

    def update(self, sparql: str) -> None:
        """Apply a SPARQL Update atomically (callers go through changesets)."""

    def replace_graphs(self, graphs: Mapping[str, Iterable[tuple[Node, Node, Node]]]
                       ) -> None:
        """Replace the content of each named graph (an rdflib graph or any iterable of
        triples), all or nothing."""

    def apply(self, removed: Iterable[tuple[Node, Node, Node, str]],
              added: Iterable[tuple[Node, Node, Node, str]]) -> None:
        """Remove then add quads (s, p, o, graph IRI), all or nothing."""

    def graph(self, iri: str) -> Graph:
        """The content of one named graph."""

    def named_graphs(self) -> list[str]:
        """The named graphs that hold triples."""

    def revision(self) -> str:
        """An opaque token that changes on every write (ETags); cheap to call."""

    def modified(self) -> float:
        """Time of the last write (Last-Modified), seconds since the epoch."""

    def dump(self, out: IO[bytes]) -> None:
        """Every quad as N-Quads, from one consistent state."""

    def restore(self, data: IO[bytes]) -> None:
        """Replace everything with the N-Quads in ``data``, all or nothing."""

    def __len__(self) -> int:
        """Number of quads."""

    def close(self) -> None:
        """Release processes and handles."""


def open_store(settings: Settings) -> KGStore:
    """The store that ``settings.store`` names: embedded, memory or ``sparql+http(s)://``."""
    if str(settings.store).startswith(("sparql+http://", "sparql+https://")):
        from kg_service.store.remote import RemoteStore

        return RemoteStore(settings)
    from kg_service.store.embedded import EmbeddedStore

    return EmbeddedStore(settings)


def binding_terms(bindings: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword bindings with None dropped (helper for select/ask/construct)."""
    return {k: v for k, v in bindings.items() if v is not None}

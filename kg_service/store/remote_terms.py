"""Terms for the remote store: SPARQL JSON <-> rdflib/pyoxigraph, Virtuoso blank nodes,
values injected into query text, and grouping of quads that share blank nodes."""

from __future__ import annotations

import re
from typing import Any, Iterator, Mapping

import pyoxigraph as ox
from rdflib import BNode, Literal, URIRef
from rdflib.term import Node

from kg_service.errors import BadData, BadQuery, KGError
from kg_service.store.terms import bnode_groups

XSD_DOUBLE = "http://www.w3.org/2001/XMLSchema#double"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
Quad = tuple[Node, Node, Node, str]
_VIRTUOSO_BNODE = re.compile(r"^vb(\d+)$")


# ---------------------------------------------------------------------- terms
def _bnode_label(value: str) -> str:
    """A store's blank-node label as a safe local label (``nodeID://b12`` -> ``vb12``)."""
    if value.startswith("nodeID://"):
        value = value[len("nodeID://"):]
    value = value[2:] if value.startswith("_:") else value
    return "v" + re.sub(r"[^A-Za-z0-9]", "x", value)


def _lexical(d: dict[str, Any]) -> str:
    """The literal's text; Virtuoso's stored booleans ``1``/``0`` as ``true``/``false``."""
    value = d["value"]
    if d.get("datatype") == XSD_BOOLEAN and value in ("0", "1"):
        return "true" if value == "1" else "false"
    return value


def _json_ox(d: dict[str, Any]) -> Any:
    """A SPARQL JSON results term (Virtuoso's ``typed-literal`` too) as a pyoxigraph term."""
    kind, value = d["type"], _lexical(d)
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(_bnode_label(value))
    if kind in ("literal", "typed-literal"):
        if d.get("xml:lang"):
            return ox.Literal(value, language=d["xml:lang"])
        if d.get("datatype"):
            return ox.Literal(value, datatype=ox.NamedNode(d["datatype"]))
        return ox.Literal(value)
    if kind == "triple":
        v = value
        return ox.Triple(_json_ox(v["subject"]), _json_ox(v["predicate"]), _json_ox(v["object"]))
    raise KGError(f"the store sent an unknown term type {kind!r}")


def _json_rdflib(d: dict[str, Any]) -> Node:
    """A SPARQL JSON results term as an rdflib term."""
    kind, value = d["type"], _lexical(d)
    if kind == "uri":
        return URIRef(value)
    if kind == "bnode":
        return BNode(_bnode_label(value))
    if kind in ("literal", "typed-literal"):
        if d.get("xml:lang"):
            return Literal(value, lang=d["xml:lang"])
        dt = d.get("datatype")
        return Literal(value, datatype=URIRef(dt) if dt and not dt.endswith("#string") else None)
    raise KGError(f"the store sent an unsupported term type {kind!r}")


class _Terms:
    """SPARQL text for rdflib terms in one request; fresh blank nodes get ``_:fN``."""

    def __init__(self, virtuoso: bool) -> None:
        self.virtuoso = virtuoso
        self.fresh: dict[str, str] = {}

    def existing_bnode(self, term: Node) -> bool:
        return isinstance(term, BNode) and bool(_VIRTUOSO_BNODE.match(str(term)))

    def __call__(self, term: Node) -> str:
        if isinstance(term, BNode):
            m = _VIRTUOSO_BNODE.match(str(term))
            if m and self.virtuoso:
                return f"<nodeID://b{m.group(1)}>"
            return self.fresh.setdefault(str(term), f"_:f{len(self.fresh)}")
        if isinstance(term, URIRef):
            return str(ox.NamedNode(str(term)))
        if isinstance(term, Literal):
            if term.language:
                return str(ox.Literal(str(term), language=term.language))
            if term.datatype is not None:
                return str(ox.Literal(str(term), datatype=ox.NamedNode(str(term.datatype))))
            return str(ox.Literal(str(term)))
        raise BadData(f"cannot store {term!r}")


def inject_values(query: str, bindings: Mapping[str, Node], terms: _Terms) -> str:
    """``query`` with ``VALUES`` for ``bindings`` placed first in its WHERE group.

    The remote equivalent of binding variables as RDF terms (never pasting text): the
    terms are written by the serialiser, and the line numbers of the query are kept.
    Raises BadQuery when the query has no group to bind in.
    """
    if not bindings:
        return query
    names = list(bindings)
    values = ("VALUES (" + " ".join("?" + n for n in names) + ") { ("
              + " ".join(terms(bindings[n]) for n in names) + ") } ")
    token = re.compile(r"""\#[^\n]*|"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|<[^<>\s]*>|(\{)"""
                       r"""|\b(WHERE|CONSTRUCT)\b""", re.IGNORECASE)
    seen_construct = seen_where = False
    for m in token.finditer(query):
        if m.group(2):
            word = m.group(2).upper()
            seen_where |= word == "WHERE"
            seen_construct |= word == "CONSTRUCT"
        elif m.group(1) and (seen_where or not seen_construct):
            return query[:m.end()] + " " + values + query[m.end():]
    raise BadQuery("the query has no WHERE group to bind parameters in")


# ---------------------------------------------------------------------- store

def _ox_rdflib(term: Any) -> Node:
    if isinstance(term, ox.BlankNode):
        return BNode(_bnode_label(term.value))
    from kg_service.store.terms import from_ox

    return from_ox(term)


def _components(quads: list[Quad], size: int) -> Iterator[list[Quad]]:
    """Chunks of at most ``size`` quads that keep each blank-node cluster together."""
    plain, groups = bnode_groups(quads)
    chunk: list[Quad] = []
    for group in [*groups, *([q] for q in plain)]:
        if len(chunk) + len(group) > size and chunk:
            yield chunk
            chunk = []
        chunk.extend(group)
    if chunk:
        yield chunk

"""Serialise pyoxigraph query results with a row limit, for every protocol format.

Used inside the query process (see ``store/query_worker.py``) and in-process. It imports
only pyoxigraph and the standard library so the query process starts fast. Rows are
collected up to ``limit + 1`` so a cut result is known before the head is written: a cut
is then marked in the body (JSON ``truncated`` key and head link, XML head link, a
comment in Turtle/TriG/N-Triples/N-Quads) as well as by the caller's header.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import time
from dataclasses import dataclass
from typing import IO, Any, Iterable, Iterator
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

TRUNCATED_LINK = "https://w3id.org/ckm/problems/truncated"
XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

# name -> media type; the first four are for SELECT/ASK, the rest for graphs.
RESULT_FORMATS = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
}
GRAPH_FORMATS = {
    "turtle": "text/turtle",
    "ntriples": "application/n-triples",
    "jsonld": "application/ld+json",
    "rdfxml": "application/rdf+xml",
    "trig": "application/trig",
    "nquads": "application/n-quads",
}
_OX_GRAPH = {
    "turtle": ox.RdfFormat.TURTLE,
    "ntriples": ox.RdfFormat.N_TRIPLES,
    "jsonld": ox.RdfFormat.JSON_LD,
    "rdfxml": ox.RdfFormat.RDF_XML,
    "trig": ox.RdfFormat.TRIG,
    "nquads": ox.RdfFormat.N_QUADS,
}
_COMMENTS = {"turtle", "ntriples", "trig", "nquads"}


@dataclass
class Written:
    kind: str  # "select", "ask" or "graph"
    count: int
    truncated: bool


def term_json(term: Any) -> dict[str, Any]:
    """One RDF term in SPARQL 1.1 JSON results form."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out: dict[str, Any] = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    if isinstance(term, ox.Triple):
        return {"type": "triple", "value": {"subject": term_json(term.subject),
                                            "predicate": term_json(term.predicate),
                                            "object": term_json(term.object)}}
    raise TypeError(f"not an RDF term: {term!r}")


def _xml_term(term: Any) -> str:
    if isinstance(term, ox.NamedNode):
        return f"<uri>{escape(term.value)}</uri>"
    if isinstance(term, ox.BlankNode):
        return f"<bnode>{escape(term.value)}</bnode>"
    if isinstance(term, ox.Literal):
        if term.language:
            return f"<literal xml:lang={quoteattr(term.language)}>{escape(term.value)}</literal>"
        if term.datatype.value != XSD_STRING:
            return (f"<literal datatype={quoteattr(term.datatype.value)}>"
                    f"{escape(term.value)}</literal>")
        return f"<literal>{escape(term.value)}</literal>"
    if isinstance(term, ox.Triple):
        return ("<triple>" + "".join(f"<{k}>{_xml_term(getattr(term, k))}</{k}>"
                                     for k in ("subject", "predicate", "object")) + "</triple>")
    raise TypeError(f"not an RDF term: {term!r}")


def _csv_value(term: Any) -> str:
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return f"_:{term.value}"
    if isinstance(term, ox.Triple):
        return str(term)
    return term.value


def write_solutions(out: IO[bytes], variables: list[str], rows: list[Any], fmt: str,
                    truncated: bool) -> None:
    """Write SELECT rows in ``fmt`` (json, xml, csv, tsv).

    A row is its terms (or None) in the order of ``variables``: a pyoxigraph
    QuerySolution iterates so, and reading it by position costs half of reading by name.
    """
    if fmt == "json":
        head: dict[str, Any] = {"vars": variables}
        if truncated:
            head["link"] = [TRUNCATED_LINK]
        bindings = [{v: term_json(t) for v, t in zip(variables, row, strict=True)
                     if t is not None} for row in rows]
        doc: dict[str, Any] = {"head": head, "results": {"bindings": bindings}}
        if truncated:
            doc["truncated"] = True
        out.write(json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode())
    elif fmt == "xml":
        out.write(b'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                  b"<head>")
        out.write("".join(f"<variable name={quoteattr(v)}/>" for v in variables).encode())
        if truncated:
            out.write(f'<link href="{TRUNCATED_LINK}"/>'.encode())
        out.write(b"</head><results>")
        for row in rows:
            cells = "".join(f"<binding name={quoteattr(v)}>{_xml_term(t)}</binding>"
                            for v, t in zip(variables, row, strict=True) if t is not None)
            out.write(f"<result>{cells}</result>".encode())
        out.write(b"</results></sparql>\n")
    elif fmt == "csv":
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(variables)
        for row in rows:
            writer.writerow([_csv_value(t) for t in row])
        text.detach()
    elif fmt == "tsv":
        out.write(("\t".join("?" + v for v in variables) + "\n").encode())
        for row in rows:
            out.write(("\t".join("" if t is None else str(t) for t in row) + "\n").encode())
    else:
        raise ValueError(f"unknown result format {fmt!r}")


def write_boolean(out: IO[bytes], value: bool, fmt: str) -> None:
    """Write an ASK answer in ``fmt`` (json, xml, csv, tsv)."""
    word = "true" if value else "false"
    if fmt == "json":
        out.write(b'{"head":{},"boolean":' + word.encode() + b"}")
    elif fmt == "xml":
        out.write(b'<?xml version="1.0"?>\n<sparql xmlns="http://www.w3.org/2005/sparql-results#">'
                  b"<head/><boolean>" + word.encode() + b"</boolean></sparql>\n")
    elif fmt in ("csv", "tsv"):
        out.write(word.encode() + b"\n")
    else:
        raise ValueError(f"unknown result format {fmt!r}")


def write_graph(out: IO[bytes], triples: Iterable[Any], fmt: str, limit: int,
                prefixes: dict[str, str] | None = None) -> Written:
    """Write CONSTRUCT/DESCRIBE triples (or quads) in ``fmt``, at most ``limit`` of them."""
    items = list(itertools.islice(triples, limit + 1))
    truncated = len(items) > limit
    items = items[:limit]
    if truncated and fmt in _COMMENTS:
        out.write(f"# truncated: the result was cut at {limit} triples\n".encode())
    if fmt in ("nquads", "trig"):
        items = [t if isinstance(t, ox.Quad) else ox.Quad(t.subject, t.predicate, t.object)
                 for t in items]
    kwargs: dict[str, Any] = {}
    if prefixes and fmt in ("turtle", "trig", "rdfxml", "jsonld"):
        kwargs["prefixes"] = prefixes
    ox.serialize(items, out, format=_OX_GRAPH[fmt], **kwargs)
    return Written("graph", len(items), truncated)


def _until(items: Iterable[Any], deadline: float) -> Iterator[Any]:
    """``items``, raising TimeoutError once ``time.monotonic()`` passes ``deadline``."""
    for item in items:
        if time.monotonic() > deadline:
            raise TimeoutError("deadline passed")
        yield item


def write_result(out: IO[bytes], result: Any, fmt: str, limit: int,
                 prefixes: dict[str, str] | None = None, deadline: float | None = None
                 ) -> Written:
    """Write any pyoxigraph query result (solutions, boolean, triples) in ``fmt``.

    With ``deadline`` (a ``time.monotonic()`` value), TimeoutError is raised when it passes
    between two rows: pyoxigraph evaluates lazily, so this stops a query whose every row
    comes after a bounded step (a point lookup), not one that reads far ahead.
    """
    if isinstance(result, ox.QueryBoolean):
        write_boolean(out, bool(result), fmt)
        return Written("ask", 1, False)
    rows_in = result if deadline is None else _until(result, deadline)
    if isinstance(result, ox.QuerySolutions):
        variables = [v.value for v in result.variables]
        rows = list(itertools.islice(rows_in, limit + 1))
        truncated = len(rows) > limit
        rows = rows[:limit]
        write_solutions(out, variables, rows, fmt, truncated)
        return Written("select", len(rows), truncated)
    return write_graph(out, rows_in, fmt, limit, prefixes)


def result_kind(result: Any) -> str:
    if isinstance(result, ox.QueryBoolean):
        return "ask"
    if isinstance(result, ox.QuerySolutions):
        return "select"
    return "graph"

"""``/graph-store``: the SPARQL 1.1 Graph Store HTTP Protocol (indirect identification).

``?graph=IRI`` names a graph, ``?default`` the default graph (the union of the named
graphs, so it can be read but not written). GET/HEAD for everyone; PUT/POST/DELETE need an
editor's token and become changesets through ``kg_service.changes.submit_graph``.
"""

from __future__ import annotations

import json

import rdflib
from flask import Blueprint, Response, request
from werkzeug.exceptions import MethodNotAllowed

from kg_service.errors import BadRequest, NotFound, Unavailable, UnsupportedMediaType
from kg_service.sparql import EMPTY_GRAPH, OUTPUT_PREFIXES, choose_format, media_type, run_query
from kg_service.store import QueryRequest
from kg_service.web.common import (
    cached,
    cors_preflight,
    get_store,
    media_type_with_charset,
    require_role,
)

bp = Blueprint("graph_store", __name__)

# Content-Type of a PUT/POST body -> rdflib parser.
_PARSERS = {"text/turtle": "turtle", "application/x-turtle": "turtle", "text/n3": "n3",
            "application/n-triples": "nt", "text/plain": "nt", "application/ld+json": "json-ld",
            "application/rdf+xml": "xml", "application/xml": "xml"}
_IRI_CHARS = frozenset(' <>"{}|^`\\')


@bp.after_request
def _cors(resp: Response) -> Response:
    return cors_preflight(resp, "GET, HEAD, OPTIONS", "Accept, If-None-Match")


def _target() -> str | None:
    """The graph IRI the request names, or None for ``?default``; BadRequest otherwise."""
    has_default = "default" in request.args
    graph = request.args.get("graph")
    if has_default == (graph is not None):
        raise BadRequest("Name the graph with ?graph=IRI, or use ?default (not both).")
    if graph is not None and (":" not in graph or _IRI_CHARS & set(graph)):
        raise BadRequest(f"graph={graph!r} is not an absolute IRI.")
    return graph


@bp.route("/graph-store", methods=["GET", "PUT", "POST", "DELETE"])
def graph_store() -> Response:
    """Read (GET/HEAD) or write (PUT, POST, DELETE; editors) one graph."""
    iri = _target()
    if request.method in ("GET", "HEAD"):
        return _read(iri)
    if iri is None:
        raise MethodNotAllowed(["GET", "HEAD", "OPTIONS"], description=(
            "The default graph is the union of the named graphs: write to a named graph "
            "(?graph=IRI)."))
    user = require_role("editor")
    graph = None if request.method == "DELETE" else _parse_body()
    store = get_store()
    existed = iri in store.named_graphs()
    if request.method == "DELETE" and not existed:
        raise NotFound(f"There is no graph <{iri}>.")
    try:
        from kg_service.changes import submit_graph
    except ImportError as exc:
        raise Unavailable("Graph writes are not available on this server yet.") from exc
    change = submit_graph(store, iri, graph, mode=request.method.lower(), user=user,
                          message=request.args.get("message"),
                          if_match=request.headers.get("If-Match"))
    status = 201 if request.method in ("PUT", "POST") and not existed else 200
    resp = Response(json.dumps(change.to_json(), indent=1), status=status,
                    mimetype="application/json")
    resp.set_etag(change.revision, weak=True)
    return resp


def _parse_body() -> rdflib.Graph:
    parser = _PARSERS.get(request.mimetype or "")
    if parser is None:
        raise UnsupportedMediaType(
            f"Send the graph as one of {', '.join(_PARSERS)}; got "
            f"{request.mimetype or 'no Content-Type'}.")
    graph = rdflib.Graph()
    try:
        graph.parse(data=request.get_data(), format=parser, publicID=request.args["graph"])
    except Exception as exc:  # rdflib raises many kinds of parse errors
        raise BadRequest(f"The {request.mimetype} body does not parse: {exc}") from exc
    return graph


def _read(iri: str | None) -> Response:
    store = get_store()
    if iri is not None and iri not in store.named_graphs():
        raise NotFound(f"There is no graph <{iri}>.")
    fmt = choose_format("graph", request.headers.get("Accept"), request.args.get("format"))
    if iri is None:  # the union, each triple once
        qr = QueryRequest("CONSTRUCT { ?s ?p ?o } WHERE { SELECT DISTINCT ?s ?p ?o "
                          "WHERE { ?s ?p ?o } }", fmt, union=True)
    else:
        qr = QueryRequest("CONSTRUCT WHERE { ?s ?p ?o }", fmt, default_graph=[iri],
                          named_graphs=[EMPTY_GRAPH], union=False)
    qr.limit = 1 << 62  # a graph is returned whole
    qr.prefixes = dict(OUTPUT_PREFIXES)
    out = run_query(store, qr)
    resp = Response(out.chunks(), content_type=media_type_with_charset(media_type(fmt)))
    resp.headers["KG-Result-Count"] = str(out.count)
    return cached(resp, [iri or "default", fmt])

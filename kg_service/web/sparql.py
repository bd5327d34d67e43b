"""``/sparql`` (SPARQL 1.1 Protocol + Service Description) and ``/queries`` (saved queries).

Views parse HTTP and call ``kg_service.sparql`` / ``kg_service.saved_queries``; results are
streamed from the store's output (``QueryOutput.chunks()``), with ``KG-Result-Count``,
``KG-Result-Truncated`` and ``KG-Query-Time`` headers. CORS is open for reads.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import Blueprint, Response, render_template, request

from kg_service.errors import BadQuery, Unavailable
from kg_service.saved_queries import get_saved_query, saved_queries
from kg_service.sparql import media_type, query_request, run_query, update_error, update_text
from kg_service.sparql_output import graph_counts, service_description
from kg_service.sparql_protocol import ProtocolRequest, parse_timeout, read_request
from kg_service.store import QueryOutput, QueryRequest
from kg_service.web.common import (
    cached,
    cors_preflight,
    get_settings,
    get_store,
    media_type_with_charset,
    negotiate,
    require_role,
)

bp = Blueprint("sparql", __name__)

_SD_FORMATS = {"turtle": "text/turtle", "jsonld": "application/ld+json",
               "rdfxml": "application/rdf+xml", "ntriples": "application/n-triples",
               "html": "text/html"}
_RDFLIB = {"turtle": "turtle", "jsonld": "json-ld", "rdfxml": "pretty-xml", "ntriples": "nt"}
_PAGE = {"text/html": "html"}
_SAVED_EXTRA = {"text/html": "html", "application/sparql-query": "sparql"}
_NOT_PARAMS = {"format", "output", "timeout"}
HTML_ROWS = 1000


@bp.after_request
def _cors(resp: Response) -> Response:
    return cors_preflight(resp, "GET, HEAD, POST, OPTIONS", "Accept, Content-Type, If-None-Match")


def _graphs() -> set[str]:
    return set(get_store().named_graphs())


def _etag_digest(qr: QueryRequest) -> str:
    # repr of str/list/bool/float/None is the same in every process (unlike hash())
    key = repr((qr.query, qr.format, qr.default_graph, qr.named_graphs, qr.union,
                sorted((k, v.n3()) for k, v in qr.substitutions.items()), qr.timeout))
    return hashlib.sha256(key.encode()).hexdigest()[:20]


def _fresh(qr: QueryRequest) -> bool:
    """A GET whose If-None-Match already names this result (no need to run it)."""
    if request.method not in ("GET", "HEAD") or not request.if_none_match:
        return False
    return request.if_none_match.contains_weak(f"{get_store().revision()}-{_etag_digest(qr)}")


def _result(qr: QueryRequest, out: QueryOutput | None) -> Response:
    """Stream a query result with its count/truncation/time headers (304 when fresh)."""
    if out is None:
        resp = Response(status=304)
    else:
        # a body in memory goes out whole, with Content-Length (one write, no chunking);
        # a large one (a temp file) is streamed
        resp = Response(out.body if out.path is None else out.chunks(), mimetype=None,
                        content_type=media_type_with_charset(media_type(qr.format)),
                        headers=[("KG-Result-Count", str(out.count)),
                                 ("KG-Result-Truncated", "true" if out.truncated else "false"),
                                 ("KG-Query-Time", f"{out.elapsed:.3f}")])
    if request.method in ("GET", "HEAD"):
        return cached(resp, [_etag_digest(qr)])
    resp.headers["Vary"] = "Accept"
    return resp


@bp.route("/sparql", methods=["GET", "POST"])
@bp.route("/sparql/", methods=["GET", "POST"])
def endpoint() -> Response:
    """The SPARQL 1.1 Protocol endpoint: query, update, or the service description."""
    body = request.get_data() if request.method == "POST" else b""
    req = read_request(request.method, request.mimetype, request.mimetype_params.get("charset"),
                       request.args.to_dict(flat=False), body)
    if req.operation == "service":
        return _service(req)
    if req.operation == "update":
        return _update(req)
    qr, shift = query_request(req, get_settings(), request.headers.get("Accept"), _graphs)
    if _fresh(qr):
        return _result(qr, None)
    return _result(qr, run_query(get_store(), qr, shift))


def _update(req: ProtocolRequest) -> Response:
    user = require_role("editor")
    text = update_text(req, get_settings(), _graphs)
    try:
        from kg_service.changes import submit_update
    except ImportError as exc:
        raise Unavailable("SPARQL Update is not available on this server yet.") from exc
    try:
        change = submit_update(get_store(), text, user=user, message=req.message,
                               if_match=request.headers.get("If-Match"))
    except BadQuery as err:
        raise update_error(err, req.text, text) from None
    resp = Response(json.dumps(change.to_json(), indent=1), mimetype="application/json")
    resp.set_etag(change.revision, weak=True)
    return resp


def _service(req: ProtocolRequest) -> Response:
    settings = get_settings()
    fmt = negotiate(_SD_FORMATS, {"ttl": "turtle", "json-ld": "jsonld", "json": "jsonld",
                                  "xml": "rdfxml", "nt": "ntriples"}.get(req.format or "",
                                                                         req.format),
                    default="turtle")
    endpoint = request.base_url.rstrip("/")
    if fmt == "html":
        resp = Response(render_template(
            "sparql_service.html", endpoint=endpoint, settings=settings,
            graphs=graph_counts(get_store()), queries=list(saved_queries(settings).values())),
            mimetype="text/html")
    else:
        graph = service_description(get_store(), endpoint, settings)
        resp = Response(graph.serialize(format=_RDFLIB[fmt], encoding="utf-8"),
                        content_type=media_type_with_charset(_SD_FORMATS[fmt]))
    return cached(resp, [fmt, endpoint])


# --------------------------------------------------------------------------- saved queries
@bp.route("/queries")
def queries() -> Response:
    """The saved queries, as JSON or an HTML list."""
    settings = get_settings()
    found = list(saved_queries(settings).values())
    fmt = negotiate({"json": "application/json", "html": "text/html"},
                    request.args.get("format"), default="json")
    base = request.script_root + "/queries/"
    if fmt == "html":
        resp = Response(render_template("sparql_queries.html", queries=found),
                        mimetype="text/html")
    else:
        resp = Response(json.dumps({"queries": [q.to_json(base) for q in found]}, indent=1,
                                   ensure_ascii=False), mimetype="application/json")
    return cached(resp, [fmt, *(q.name for q in found)])


@bp.route("/queries/<name>")
def saved_query(name: str) -> Response:
    """Run a saved query with typed parameters (``?param=value``) in any format."""
    settings = get_settings()
    sq = get_saved_query(settings, name)
    values = {k: v for k, v in request.args.items() if k not in _NOT_PARAMS}
    subs = sq.bind(values)
    req = ProtocolRequest("query", sq.text, format=request.args.get("format")
                          or request.args.get("output"))
    if request.args.get("timeout"):
        req.timeout = parse_timeout(request.args["timeout"])
    qr, shift = query_request(req, settings, request.headers.get("Accept"), _graphs,
                              _SAVED_EXTRA)
    qr.substitutions = subs
    if qr.format == "sparql":
        resp = Response(sq.text, content_type="application/sparql-query; charset=utf-8")
        return cached(resp, [name, "sparql"])
    if qr.format == "html":
        return _saved_page(sq, qr, shift, values)
    if _fresh(qr):
        return _result(qr, None)
    return _result(qr, run_query(get_store(), qr, shift))


def _saved_page(sq: Any, qr: QueryRequest, shift: int, values: dict[str, str]) -> Response:
    """The HTML page of a saved query: its text, a parameter form and the result table."""
    qr.format = "json" if sq.kind == "results" else "turtle"
    out = run_query(get_store(), qr, shift)
    body = out.read()
    table = None
    if sq.kind == "results":
        data = json.loads(body)
        table = {"vars": data.get("head", {}).get("vars", []),
                 "rows": data.get("results", {}).get("bindings", [])[:HTML_ROWS],
                 "boolean": data.get("boolean")}
    resp = Response(render_template(
        "sparql_query.html", q=sq, values=values, table=table, output=out,
        text=None if table else body.decode("utf-8"), shown=HTML_ROWS),
        mimetype="text/html")
    resp.headers["KG-Result-Count"] = str(out.count)
    resp.headers["KG-Result-Truncated"] = "true" if out.truncated else "false"
    resp.headers["KG-Query-Time"] = f"{out.elapsed:.3f}"
    return cached(resp, [sq.name, _etag_digest(qr), "html"])


_FORMAT_PARAM = {"name": "format", "in": "query", "schema": {"type": "string"},
                 "description": "Result format name or media type (overrides Accept)."}
OPENAPI_PATHS: dict[str, Any] = {
    "/sparql": {
        "get": {"summary": "SPARQL 1.1 query (query=) or, without one, the service description",
                "parameters": [
                    {"name": "query", "in": "query", "schema": {"type": "string"}},
                    {"name": "default-graph-uri", "in": "query",
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "named-graph-uri", "in": "query",
                     "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "timeout", "in": "query", "schema": {"type": "number"}},
                    _FORMAT_PARAM],
                "responses": {"200": {"description": "Results or service description"},
                              "400": {"description": "Bad query (line/column)"},
                              "406": {"description": "No acceptable format"},
                              "503": {"description": "Query timed out"}}},
        "post": {"summary": "Query (form or application/sparql-query) or update "
                            "(application/sparql-update or form update=; editors only)",
                 "requestBody": {"content": {
                     "application/sparql-query": {"schema": {"type": "string"}},
                     "application/sparql-update": {"schema": {"type": "string"}},
                     "application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
                 "responses": {"200": {"description": "Results or the recorded change"},
                               "401": {"description": "Update without a token"},
                               "403": {"description": "Update by a reader"},
                               "413": {"description": "Body too large"}}},
    },
    "/graph-store": {
        "parameters": [{"name": "graph", "in": "query", "schema": {"type": "string"}},
                       {"name": "default", "in": "query", "schema": {"type": "string"}}],
        "get": {"summary": "A named graph (?graph=IRI) or the union (?default) as RDF",
                "responses": {"200": {"description": "The graph"},
                              "404": {"description": "No such graph"}}},
        "put": {"summary": "Replace a named graph (editors)",
                "responses": {"200": {"description": "The recorded change"},
                              "201": {"description": "Created"}}},
        "post": {"summary": "Add to a named graph (editors)",
                 "responses": {"200": {"description": "The recorded change"}}},
        "delete": {"summary": "Empty a named graph (editors)",
                   "responses": {"200": {"description": "The recorded change"}}},
    },
    "/queries": {"get": {"summary": "The saved queries",
                         "responses": {"200": {"description": "List (JSON or HTML)"}}}},
    "/queries/{name}": {"get": {
        "summary": "Run a saved query; its parameters are query parameters",
        "parameters": [{"name": "name", "in": "path", "required": True,
                        "schema": {"type": "string"}}, _FORMAT_PARAM],
        "responses": {"200": {"description": "Results in the negotiated format"},
                      "400": {"description": "Unknown, missing or mistyped parameter"},
                      "404": {"description": "No such saved query"}}}},
}

"""Dereferenceable IRIs: ``/id/...``, ``/ontology``, ``/describe`` and ``/.well-known/void``.

Every IRI under the ``base_iri`` setting maps to this server's path of the same name. Each
answers directly (no 303): HTML for browsers; Turtle, JSON-LD, RDF/XML or N-Triples by
``Accept``, by suffix (``.ttl`` ``.jsonld`` ``.rdf`` ``.nt``) or by ``format=``. Answers
carry ETag/Last-Modified (304 when fresh), open CORS and ``Link`` headers to the
alternates. Views are thin: the work is in :mod:`kg_service.describe`.
"""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Response, current_app, render_template, request
from rdflib import Graph, URIRef

from kg_service import describe as core
from kg_service.errors import NotAcceptable, NotFound
from kg_service.export import owl_xml
from kg_service.namespaces import ONTOLOGY_IRI
from kg_service.void import void_graph
from kg_service.web.common import cached, cors, get_settings, get_store, negotiate

bp = Blueprint("linked_data", __name__)


@bp.after_request
def _cors(resp: Response) -> Response:
    """Open CORS on every answer of this blueprint, errors included."""
    return cors(resp)

OFFERS = {"html": "text/html", **{k: v[0] for k, v in core.RDF_FORMATS.items()},
          "json": "application/json", "text": "text/plain"}
RDF_OFFERS = {k: v for k, v in OFFERS.items() if k != "html"}
SUFFIXES = {v[1]: k for k, v in core.RDF_FORMATS.items()} | {".html": "html"}
# the ontology also comes as OWL/XML, for Protégé (converted by the OWL API, cached)
ONTOLOGY_OFFERS = OFFERS | {"owlxml": "application/owl+xml"}
_BODY_FORMAT = {"json": "jsonld", "text": "ntriples"}  # aliases served in another syntax


def _split_suffix(path: str) -> tuple[str, str | None]:
    for suffix, fmt in SUFFIXES.items():
        if path.endswith(suffix) and len(path) > len(suffix):
            return path[:-len(suffix)], fmt
    return path, None


def _pick(fmt: str | None, offers: dict[str, str] = OFFERS, default: str = "turtle") -> str:
    """The format: a suffix wins, then ``format=``, then ``Accept`` (default Turtle)."""
    param = request.args.get("format")
    if fmt is None and param is not None and not param.strip():
        raise NotAcceptable("format= is empty; give one of " + ", ".join(offers),
                            available=list(offers.values()))
    return fmt or negotiate(offers, param, default=default)


def _alternates(path: str) -> dict[str, str]:
    """{format name: this server's URL} of each RDF alternate of ``path``."""
    return {name: f"{path}{suffix}" for name, (_m, suffix, _f) in core.RDF_FORMATS.items()}


def _link_header(path: str, iri: str | None) -> str:
    links = [f'<{url}>; rel="alternate"; type="{core.RDF_FORMATS[name][0]}"'
             for name, url in _alternates(path).items()]
    links.append(f'<{path}.html>; rel="alternate"; type="text/html"')
    if iri:
        links.append(f'<{iri}>; rel="canonical"')
    return ", ".join(links)


def _tag() -> str:
    """A short digest of the request's path and query (part of the ETag)."""
    return hashlib.sha1(request.full_path.encode()).hexdigest()[:12]


def _finish(resp: Response, fmt: str, path: str, iri: str | None) -> Response:
    resp.headers["Link"] = _link_header(path, iri)
    return cors(cached(resp, (fmt, _tag())))


def _rdf_response(graph: Graph, fmt: str) -> Response:
    body = core.serialize(graph, _BODY_FORMAT.get(fmt, fmt))
    return Response(body, mimetype=OFFERS[fmt],
                    content_type=f"{OFFERS[fmt]}; charset=utf-8")


def href(iri: str) -> str:
    """Where a page links an IRI: this server's path for IRIs under the base, else the
    generic description page (for IRIs the graph mentions), never raw markup."""
    local = core.local_path(get_settings().base_iri, iri)
    if local is not None:
        return local
    return "/describe?iri=" + quote(iri, safe="")


def _render(template: str, **context: Any) -> str:
    return render_template(template, href=href, **context)


def _resource(iri: str, path: str, fmt: str) -> Response:
    store = get_store()
    graph = core.describe(store, iri, incoming_limit=get_settings().describe_incoming_limit)
    if fmt == "html":
        page = core.View(graph).page(iri)
        resp = Response(_render("resource.html", page=page, path=path,
                                alternates=_alternates(path)), mimetype="text/html")
    else:
        resp = _rdf_response(graph, fmt)
    return _finish(resp, fmt, path, iri)


@bp.get("/id/<path:rest>")
def resource(rest: str) -> Response:
    """Any IRI under ``{base}id/``; 404 when the graph says nothing about it."""
    rest, suffix_fmt = _split_suffix(rest)
    fmt = _pick(suffix_fmt)
    iri = str(core.iri_for_path(get_settings().base_iri, "id/" + rest))
    return _resource(iri, "/id/" + rest, fmt)


@bp.get("/describe")
def describe_any() -> Response:
    """The description of any IRI the graph mentions (``?iri=``), e.g. hash terms."""
    iri = request.args.get("iri", "").strip()
    if not iri:
        raise NotFound("Give the IRI to describe as ?iri=...")
    fmt = _pick(None)
    path = "/describe?iri=" + quote(iri, safe="")
    store = get_store()
    graph = core.describe(store, iri, incoming_limit=get_settings().describe_incoming_limit)
    if fmt == "html":
        resp = Response(_render("resource.html", page=core.View(graph).page(iri), path=path,
                                alternates={k: f"/describe?iri={quote(iri, safe='')}&format={k}"
                                            for k in core.RDF_FORMATS}), mimetype="text/html")
    else:
        resp = _rdf_response(graph, fmt)
    resp = cors(cached(resp, (fmt, _tag())))
    resp.headers["Link"] = f'<{iri}>; rel="canonical"'
    return resp


def _ontology_body(fmt: str) -> bytes:
    """The ontology in ``fmt``, rendered once per store revision (it is large); the cache
    lives on the app, next to its store."""
    store = get_store()
    cache: dict[tuple[str, str], bytes] = current_app.extensions.setdefault(
        "kg_ontology_cache", {})
    key = (store.revision(), fmt)
    body = cache.get(key)
    if body is None:
        if fmt == "owlxml":
            body = owl_xml(core.ontology_graph(store))
        elif fmt == "html":
            body = _render("ontology.html", page=core.ontology_page(store),
                           alternates=_alternates("/ontology")).encode()
        else:
            body = core.serialize(core.ontology_graph(store), _BODY_FORMAT.get(fmt, fmt))
        if len(cache) >= 16:
            cache.clear()
        cache[key] = body
    return body


def _ontology(fmt: str) -> Response:
    resp = Response(_ontology_body(fmt), mimetype=ONTOLOGY_OFFERS[fmt])
    return _finish(resp, fmt, "/ontology", ONTOLOGY_IRI)


@bp.get("/ontology")
def ontology() -> Response:
    """The whole ontology (and so each hash term ``ckm:X``) in every format."""
    return _ontology(_pick(None, ONTOLOGY_OFFERS))


@bp.get("/ontology<any('.ttl','.jsonld','.rdf','.nt','.html','.owx'):suffix>")
def ontology_file(suffix: str) -> Response:
    return _ontology("owlxml" if suffix == ".owx" else SUFFIXES[suffix])


@bp.get("/ontology/<path:version>")
def ontology_version(version: str) -> Response:
    """The version IRI (``owl:versionIRI``) of the current ontology answers like /ontology."""
    version, suffix_fmt = _split_suffix(version)
    iri = str(core.iri_for_path(get_settings().base_iri, "ontology/" + version))
    store = get_store()
    if not store.ask("ASK { ?o owl:versionIRI ?v }", o=URIRef(ONTOLOGY_IRI), v=URIRef(iri)):
        raise NotFound(f"<{iri}> is not the version IRI of the current ontology.", iri=iri)
    return _ontology(_pick(suffix_fmt))


@bp.get("/.well-known/void")
def void() -> Response:
    """The VoID description of the dataset (Turtle by default)."""
    fmt = _pick(None, RDF_OFFERS)
    root = request.url_root
    graph = void_graph(get_store(), base=get_settings().base_iri,
                       sparql_url=root + "sparql", document=root + ".well-known/void")
    resp = _rdf_response(graph, fmt)
    return cors(cached(resp, (fmt, _tag())))


@bp.errorhandler(NotFound)
def _not_found(err: NotFound) -> Response:
    """Browsers get an HTML 404 page; everything else the problem+json body."""
    from kg_service.web.common import problem_response

    accept = request.accept_mimetypes
    if accept.best == "text/html" or request.path.endswith(".html"):
        body = render_template("resource.html", page=None, error=err.detail, href=href,
                               path=request.path, alternates={})
        return cors(Response(body, status=404, mimetype="text/html"))
    return cors(problem_response(err))

"""JSON collections under ``/api/v1/`` and the OpenAPI document ``/api/openapi.json``.

Every response refers to the JSON-LD context ``/api/v1/context.jsonld`` (in the body and
in a ``Link`` header), so the JSON is also RDF. Pages have ``Link: rel="next"/"prev"``.
Views are thin: the queries are in :mod:`kg_service.collections_api`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Response, request

from kg_service import collections_api as catalogue
from kg_service.errors import BadRequest
from kg_service.openapi import openapi_document
from kg_service.web.common import cached, cors, get_settings, get_store

bp = Blueprint("api", __name__)


@bp.after_request
def _cors(resp: Response) -> Response:
    """Open CORS on every answer of this blueprint, errors included."""
    return cors(resp)

_NAMES = ",".join(f'"{n}"' for n in catalogue.COLLECTIONS)
_PAGING = {"limit", "offset", "format"}
CONTEXT_PATH = "/api/v1/context.jsonld"
MAX_OFFSET = 1_000_000_000


def _context_url() -> str:
    return request.host_url.rstrip("/") + CONTEXT_PATH


def _json(body: Any, status: int = 200) -> Response:
    """JSON (or JSON-LD when the client prefers it) with the context Link header."""
    best = request.accept_mimetypes.best_match(["application/json", "application/ld+json"],
                                               default="application/json")
    resp = Response(json.dumps(body, ensure_ascii=False, indent=1), status=status,
                    mimetype=best)
    if best == "application/json":
        resp.headers.add("Link", f'<{_context_url()}>; '
                                 'rel="http://www.w3.org/ns/json-ld#context"; '
                                 'type="application/ld+json"')
    return resp


def _finish(resp: Response) -> Response:
    tag = hashlib.sha1((request.full_path + str(resp.mimetype)).encode()).hexdigest()[:12]
    return cors(cached(resp, ("api", tag)))


def _int_arg(name: str, default: int, minimum: int, maximum: int | None = None) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise BadRequest(f"{name} must be an integer, not {raw!r}.", parameter=name) from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise BadRequest(f"{name} must be at least {minimum}{upper}.", parameter=name)
    return value


def _page_url(offset: int, limit: int) -> str:
    args = [(k, v) for k, v in request.args.items(multi=True) if k not in ("offset", "limit")]
    args += [("limit", str(limit)), ("offset", str(offset))]
    return request.base_url + "?" + urlencode(args)


@bp.get("/api/v1")
@bp.get("/api/v1/")
def index() -> Response:
    """The collections and their URLs."""
    root = request.host_url.rstrip("/")
    body = {"@context": _context_url(),
            "collections": {name: {"url": f"{root}/api/v1/{name}", "title": c.title,
                                   "filters": sorted(c.filters)}
                            for name, c in catalogue.COLLECTIONS.items()},
            "openapi": root + "/api/openapi.json"}
    return _finish(_json(body))


@bp.get(CONTEXT_PATH)
def context() -> Response:
    resp = Response(json.dumps(catalogue.jsonld_context(), indent=1),
                    mimetype="application/ld+json")
    return _finish(resp)


@bp.get(f"/api/v1/<any({_NAMES}):name>")
def collection(name: str) -> Response:
    """A page of a collection: ``limit``/``offset`` and the collection's filters."""
    settings = get_settings()
    limit = _int_arg("limit", settings.api_page_size, 1, settings.api_max_page_size)
    offset = _int_arg("offset", 0, 0, MAX_OFFSET)
    filters = {k: v for k, v in request.args.items()
               if k not in _PAGING and not k.startswith("_")}
    page = catalogue.page(get_store(), name, limit=limit, offset=offset, filters=filters)
    links = {"first": _page_url(0, limit)}
    if offset + limit < page["total"]:
        links["next"] = _page_url(offset + limit, limit)
    if offset > 0:
        links["prev"] = _page_url(max(0, offset - limit), limit)
    body = {"@context": _context_url(), "iri": request.url, "type": "hydra:Collection",
            **page, **links}
    resp = _json(body)
    for rel, url in links.items():
        resp.headers.add("Link", f'<{url}>; rel="{rel}"')
    resp.headers["KG-Result-Count"] = str(page["total"])
    return _finish(resp)


@bp.get(f"/api/v1/<any({_NAMES}):name>/<item_id>")
def item(name: str, item_id: str) -> Response:
    """One item by id (the IRI's last segment or local name)."""
    doc = catalogue.item(get_store(), name, item_id)
    resp = _json({"@context": _context_url(), **doc})
    resp.headers.add("Link", f'<{doc["iri"]}>; rel="describedby"')
    return _finish(resp)


def _extra_paths() -> list[dict[str, Any]]:
    out = []
    for module in ("kg_service.web.editing", "kg_service.web.sparql"):
        paths = getattr(importlib.import_module(module), "OPENAPI_PATHS", None)
        if isinstance(paths, dict):
            out.append(paths)
    return out


@bp.get("/api/openapi.json")
def openapi() -> Response:
    """The OpenAPI 3.1 document of every path."""
    doc = openapi_document(max_page=get_settings().api_max_page_size,
                           extra_paths=_extra_paths(),
                           server_url=request.host_url.rstrip("/"))
    return _finish(Response(json.dumps(doc, indent=1), mimetype="application/json"))

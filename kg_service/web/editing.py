"""REST editing API (JSON), history, diff, revisions and file import.

Every write needs an editor's bearer token, takes its message from ``X-Change-Message``
or the body's ``message``, honours ``If-Match`` and answers with the recorded change and
``ETag`` = the new revision. The core does the work: ``rest_edits`` (JSON -> changeset),
``changes`` (validate, apply, record), ``history`` (list, diff, replay), ``importing``.
"""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, Response, request, url_for

from kg_service import changes, history, importing, rest_edits
from kg_service.errors import BadRequest
from kg_service.namespaces import ONTOLOGY_GRAPH
from kg_service.web.common import get_store, negotiate, require_role

bp = Blueprint("editing", __name__)

_INDIVIDUALS = "any(companies, practices, cases)"


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body, indent=1, default=str), status=status,
                    mimetype="application/json")


def _body() -> dict[str, Any]:
    doc = request.get_json(silent=True)
    if not isinstance(doc, dict):
        raise BadRequest("send a JSON object (Content-Type: application/json)")
    return doc


def _message(doc: dict[str, Any] | None = None) -> str | None:
    return request.headers.get("X-Change-Message") or (doc or {}).get("message") or None


def _written(change: changes.Change, iri: str | None = None, status: int = 200) -> Response:
    body: dict[str, Any] = {"change": change.to_json()}
    if iri:
        body["iri"] = iri
    resp = _json(body, 201 if status == 201 and not change.empty else status)
    resp.set_etag(change.revision)
    if not change.empty:
        resp.headers["Location" if status == 201 else "Content-Location"] = url_for(
            "editing.change", change_id=change.id)
    return resp


def _commit(delta: Any, doc: dict[str, Any] | None, source: str) -> changes.Change:
    user = require_role("editor")
    return changes.submit_delta(get_store(), delta, user=user, message=_message(doc),
                                if_match=request.headers.get("If-Match"), source=source)


# ----------------------------------------------------------------------- classes, properties

@bp.post("/api/v1/classes")
def create_class() -> Response:
    require_role("editor")
    doc = _body()
    iri, delta = rest_edits.class_delta(get_store(), doc, create=True)
    return _written(_commit(delta, doc, "api"), str(iri), 201)


@bp.put("/api/v1/classes/<path:item_id>")
def update_class(item_id: str) -> Response:
    require_role("editor")
    doc = _body()
    iri, delta = rest_edits.class_delta(get_store(), doc, item_id, create=False)
    return _written(_commit(delta, doc, "api"), str(iri))


@bp.post("/api/v1/properties")
def create_property() -> Response:
    require_role("editor")
    doc = _body()
    iri, delta = rest_edits.property_delta(get_store(), doc, create=True)
    return _written(_commit(delta, doc, "api"), str(iri), 201)


@bp.put("/api/v1/properties/<path:item_id>")
def update_property(item_id: str) -> Response:
    require_role("editor")
    doc = _body()
    iri, delta = rest_edits.property_delta(get_store(), doc, item_id, create=False)
    return _written(_commit(delta, doc, "api"), str(iri))


@bp.delete("/api/v1/<any(classes, properties):kind>/<path:item_id>")
def delete_term(kind: str, item_id: str) -> Response:
    require_role("editor")
    iri, delta = rest_edits.delete_term(get_store(), item_id, kind=kind[:-1])
    return _written(_commit(delta, None, "api"), str(iri))


# ----------------------------------------------------------------------- individuals

@bp.post(f"/api/v1/<{_INDIVIDUALS}:collection>")
def create_individual(collection: str) -> Response:
    require_role("editor")
    doc = _body()
    iri, delta = rest_edits.individual_delta(get_store(), collection, doc, create=True)
    return _written(_commit(delta, doc, "api"), str(iri), 201)


@bp.put(f"/api/v1/<{_INDIVIDUALS}:collection>/<path:item_id>")
def update_individual(collection: str, item_id: str) -> Response:
    require_role("editor")
    doc = _body()
    iri, delta = rest_edits.individual_delta(get_store(), collection, doc, item_id,
                                             create=False)
    return _written(_commit(delta, doc, "api"), str(iri))


@bp.delete(f"/api/v1/<{_INDIVIDUALS}:collection>/<path:item_id>")
def delete_individual(collection: str, item_id: str) -> Response:
    require_role("editor")
    iri, delta = rest_edits.delete_individual(get_store(), collection, item_id)
    return _written(_commit(delta, None, "api"), str(iri))


# ----------------------------------------------------------------------- history

def _int(name: str, default: int, hi: int) -> int:
    try:
        value = int(request.args.get(name, default))
    except ValueError as exc:
        raise BadRequest(f"{name} must be an integer") from exc
    return max(0, min(value, hi))


@bp.get("/api/v1/changes")
def list_changes() -> Response:
    limit, offset = _int("limit", 20, 500) or 20, _int("offset", 0, 1 << 30)
    store = get_store()
    items, total = history.list_changes(store, limit, offset)
    resp = _json({"total": total, "limit": limit, "offset": offset,
                  "revision": changes.current_revision(store), "items": items})
    links = []
    if offset + limit < total:
        nxt = url_for("editing.list_changes", limit=limit, offset=offset + limit)
        links.append(f'<{nxt}>; rel="next"')
    if offset:
        prev = url_for("editing.list_changes", limit=limit, offset=max(0, offset - limit))
        links.append(f'<{prev}>; rel="prev"')
    if links:
        resp.headers["Link"] = ", ".join(links)
    resp.set_etag(changes.current_revision(store))
    return resp


@bp.get("/api/v1/changes/<change_id>")
def change(change_id: str) -> Response:
    ch = history.get_change(get_store(), change_id)
    body = {k: v for k, v in ch.items() if not k.endswith("_quads")}
    body["triples"] = {"added": history.quads_json(ch["added_quads"]),
                       "removed": history.quads_json(ch["removed_quads"])}
    return _json(body)


@bp.post("/api/v1/changes/<change_id>/revert")
def revert(change_id: str) -> Response:
    user = require_role("editor")
    doc = request.get_json(silent=True) if request.data else None
    ch = changes.revert(get_store(), change_id, user=user,
                        message=_message(doc if isinstance(doc, dict) else None),
                        if_match=request.headers.get("If-Match"))
    return _written(ch, None, 201)


@bp.get("/api/v1/diff")
def diff() -> Response:
    store = get_store()
    start = request.args.get("from") or "initial"
    end = request.args.get("to") or changes.current_revision(store)
    removed, added = history.diff(store, start, end)
    return _json({"from": start, "to": end, "added": history.quads_json(sorted(added)),
                  "removed": history.quads_json(sorted(removed))})


_GRAPH_OFFERS = {"turtle": "text/turtle", "ntriples": "application/n-triples",
                 "jsonld": "application/ld+json", "rdfxml": "application/rdf+xml"}
_RDFLIB = {"turtle": "turtle", "ntriples": "nt", "jsonld": "json-ld", "rdfxml": "xml"}


@bp.get("/api/v1/revisions/<revision>/graph")
def graph_at(revision: str) -> Response:
    graph = request.args.get("graph") or ONTOLOGY_GRAPH
    fmt = negotiate(_GRAPH_OFFERS, request.args.get("format"), default="turtle")
    g = history.graph_at(get_store(), graph, revision)
    from kg_service.namespaces import PREFIXES

    for prefix, ns in PREFIXES.items():
        g.bind(prefix, ns)
    resp = Response(g.serialize(format=_RDFLIB[fmt]), mimetype=_GRAPH_OFFERS[fmt])
    resp.headers["KG-Triples"] = str(len(g))
    return resp


# ----------------------------------------------------------------------- import

@bp.post("/api/v1/import")
def import_file() -> Response:
    user = require_role("editor")
    upload = request.files.get("file")
    if upload is not None:
        data, name, media = upload.read(), upload.filename, upload.mimetype
    else:
        data, name, media = request.get_data(), request.args.get("name"), request.mimetype
    if not data:
        raise BadRequest("send the file as the body or as the multipart field 'file'")
    ch = importing.import_file(
        get_store(), data, user=user, fmt=request.args.get("format") or None, name=name,
        media=media if media not in ("application/octet-stream", "") else None,
        graph=request.args.get("graph") or ONTOLOGY_GRAPH,
        message=request.headers.get("X-Change-Message") or request.form.get("message"),
        if_match=request.headers.get("If-Match"))
    return _written(ch, None, 201)


# ----------------------------------------------------------------------- OpenAPI

_CHANGE_RESULT = {"type": "object", "required": ["change"], "properties": {
    "iri": {"type": "string"},
    "change": {"type": "object", "required": ["id", "revision", "author", "added", "removed"],
               "properties": {k: {"type": t} for k, t in (
                   ("id", "string"), ("revision", "string"), ("author", "string"),
                   ("message", "string"), ("time", "string"), ("added", "integer"),
                   ("removed", "integer"))}}}}


def _write_op(summary: str, schema: dict[str, Any] | None = None,
              created: bool = False) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary, "tags": ["editing"], "security": [{"bearer": []}],
        "parameters": [
            {"name": "If-Match", "in": "header", "schema": {"type": "string"},
             "description": "The revision the edit was made on (ETag); stale: 412."},
            {"name": "X-Change-Message", "in": "header", "schema": {"type": "string"},
             "description": "The change's message (or the body's `message`)."}],
        "responses": {
            "201" if created else "200": {"description": "The recorded change; ETag = the "
                                          "new revision", "content": {"application/json": {
                                              "schema": _CHANGE_RESULT}}},
            "400": {"description": "Bad field"}, "401": {"description": "No token"},
            "403": {"description": "Not an editor"}, "404": {"description": "Unknown item"},
            "409": {"description": "Exists, still used, or revert conflict"},
            "412": {"description": "Stale If-Match; lists the changes since"},
            "422": {"description": "Refused by SHACL or HermiT, with the reasons"}}}
    if schema is not None:
        op["requestBody"] = {"required": True,
                             "content": {"application/json": {"schema": schema}}}
    return op


_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
_STR = {"type": "string"}
_STRS = {"oneOf": [_STR, {"type": "array", "items": _STR}]}
_CLASS = {"type": "object", "properties": {
    "name": _STR, "label": _STR, "definition": _STR, "parents": _STRS, "disjointWith": _STRS,
    "message": _STR}}
_PROPERTY = {"type": "object", "properties": {
    "name": _STR, "kind": {"enum": ["object", "datatype", "annotation"]}, "label": _STR,
    "definition": _STR, "domain": _STRS, "range": _STRS, "parents": _STRS,
    "inverseOf": _STRS, "message": _STR}}
_INDIVIDUAL = {"type": "object", "properties": {
    "id": _STR, "label": _STR, "case": _STR, "message": _STR,
    "values": {"type": "object", "additionalProperties": True}}}
_PAGE = [{"name": "limit", "in": "query", "schema": {"type": "integer"}},
         {"name": "offset", "in": "query", "schema": {"type": "integer"}}]


def _with_id(op: dict[str, Any]) -> dict[str, Any]:
    return {**op, "parameters": [{**_ID}, *op["parameters"]]}


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/classes": {"post": _write_op("Create a class", _CLASS, True)},
    "/api/v1/classes/{id}": {"put": _with_id(_write_op("Change a class", _CLASS)),
                             "delete": _with_id(_write_op("Delete an unused class"))},
    "/api/v1/properties": {"post": _write_op("Create a property", _PROPERTY, True)},
    "/api/v1/properties/{id}": {"put": _with_id(_write_op("Change a property", _PROPERTY)),
                                "delete": _with_id(_write_op("Delete an unused property"))},
    **{f"/api/v1/{c}": {"post": _write_op(f"Create one of {c}", _INDIVIDUAL, True)}
       for c in ("companies", "practices", "cases")},
    **{f"/api/v1/{c}/{{id}}": {"put": _with_id(_write_op(f"Change one of {c}", _INDIVIDUAL)),
                               "delete": _with_id(_write_op(f"Delete one of {c}"))}
       for c in ("companies", "practices", "cases")},
    "/api/v1/changes": {"get": {
        "summary": "The history of changes, newest first (Link: next/prev)",
        "tags": ["editing"], "parameters": _PAGE,
        "responses": {"200": {"description": "{total, limit, offset, revision, items: "
                              "[{id, author, message, time, added, removed, ...}]}"}}}},
    "/api/v1/changes/{id}": {"get": {
        "summary": "One change with the triples it added and removed", "tags": ["editing"],
        "parameters": [_ID], "responses": {"200": {"description": "The change"},
                                           "404": {"description": "Unknown change"}}}},
    "/api/v1/changes/{id}/revert": {"post": _with_id(_write_op(
        "Undo a change with a new, validated change (409 if later changes touched the same "
        "triples)", None, True))},
    "/api/v1/diff": {"get": {
        "summary": "Triples added and removed between two revisions", "tags": ["editing"],
        "parameters": [{"name": "from", "in": "query", "schema": _STR},
                       {"name": "to", "in": "query", "schema": _STR}],
        "responses": {"200": {"description": "{from, to, added, removed}"},
                      "404": {"description": "Unknown revision"}}}},
    "/api/v1/revisions/{revision}/graph": {"get": {
        "summary": "A graph as it was at a revision", "tags": ["editing"],
        "parameters": [{"name": "revision", "in": "path", "required": True, "schema": _STR},
                       {"name": "graph", "in": "query", "schema": _STR},
                       {"name": "format", "in": "query", "schema": _STR}],
        "responses": {"200": {"description": "Turtle, N-Triples, JSON-LD or RDF/XML"},
                      "404": {"description": "Unknown revision"}}}},
    "/api/v1/import": {"post": {
        **_write_op("Import an edited ontology file (Turtle, RDF/XML, OWL/XML) as one "
                    "change: the difference with the stored graph", None, True),
        "requestBody": {"required": True, "content": {
            m: {"schema": {"type": "string"}} for m in importing.MEDIA} | {
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"}, "message": _STR}}}}}}},
}

"""The OpenAPI 3.1 document of the service (``/api/openapi.json``).

Built from the collection specs (:mod:`kg_service.collections_api`), the linked-data paths,
and the ``OPENAPI_PATHS`` dicts other surfaces export (passed in by the view, so this
module imports no Flask).
"""

from __future__ import annotations

import copy
from typing import Any, Iterable, Mapping

from kg_service import __version__
from kg_service.collections_api import COLLECTIONS, Collection

PROBLEM = {"$ref": "#/components/schemas/Problem"}
_PROBLEM_CONTENT = {"application/problem+json": {"schema": PROBLEM},
                    "text/plain": {"schema": {"type": "string"}},
                    "text/html": {"schema": {"type": "string"}}}
_RDF_TYPES = ["text/turtle", "application/rdf+xml", "application/n-triples", "text/plain",
              "text/html"]


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": copy.deepcopy(_PROBLEM_CONTENT)}


def _item_schema(coll: Collection) -> dict[str, Any]:
    props: dict[str, Any] = {
        "iri": {"type": "string", "description": "The item's IRI (dereferenceable)."},
        "id": {"type": "string", "description": "Last path segment or local name of the IRI."},
        "type": {"type": "array", "items": {"type": "string"},
                 "description": "Its classes (ckm: local names, other CURIEs)."},
        "label": {"type": "string"},
    }
    for f in coll.fields:
        one: dict[str, Any] = ({"$ref": "#/components/schemas/Ref"} if f.kind == "ref"
                               else {"type": "boolean"} if f.kind == "bool"
                               else {"type": "string"})
        schema = ({"type": "array", "items": one} if f.many
                  else {"oneOf": [one, {"type": "null"}]})
        if f.description:
            schema["description"] = f.description
        props[f.name] = schema
    return {"type": "object", "required": ["iri", "id", "type", "label"],
            "properties": props}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}, "application/ld+json": {"schema": schema}}


def _collection_paths(coll: Collection, max_page: int) -> dict[str, Any]:
    ref = {"$ref": f"#/components/schemas/{_schema_name(coll)}"}
    params: list[dict[str, Any]] = [
        {"name": "limit", "in": "query", "description": "Items a page (default: the "
         "api_page_size setting).", "schema": {"type": "integer", "minimum": 1,
                                               "maximum": max_page}},
        {"name": "offset", "in": "query", "description": "Items to skip.",
         "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000}},
    ]
    for name, path in coll.filters.items():
        params.append({"name": name, "in": "query", "schema": {"type": "string"},
                       "description": f"Only items with `{path}` this id or IRI."})
    page_schema = {
        "type": "object", "required": ["@context", "total", "limit", "offset", "items"],
        "properties": {
            "@context": {"type": "string"}, "iri": {"type": "string"},
            "type": {"type": "string"},
            "total": {"type": "integer", "minimum": 0},
            "limit": {"type": "integer"}, "offset": {"type": "integer"},
            "items": {"type": "array", "items": ref},
            "next": {"type": "string"}, "prev": {"type": "string"},
            "first": {"type": "string"}}}
    item_schema = {"allOf": [ref, {"type": "object", "properties": {
        "@context": {"type": "string"}}}]}
    base = f"/api/v1/{coll.name}"
    return {
        base: {"get": {
            "summary": coll.title, "operationId": f"list_{coll.name.replace('-', '_')}",
            "tags": ["collections"], "parameters": params,
            "responses": {
                "200": {"description": "A page; `Link` has rel=next/prev/first.",
                        "headers": {"Link": {"schema": {"type": "string"}}},
                        "content": _json(page_schema)},
                "304": {"description": "Not modified (If-None-Match / If-Modified-Since)."},
                "400": _problem("Bad limit, offset or filter.")}}},
        base + "/{id}": {"get": {
            "summary": f"One of: {coll.title.lower()}",
            "operationId": f"get_{coll.name.replace('-', '_')}",
            "tags": ["collections"],
            "parameters": [{"name": "id", "in": "path", "required": True,
                            "schema": {"type": "string"},
                            "description": "Last path segment or local name of the IRI."}],
            "responses": {"200": {"description": "The item.", "content": _json(item_schema)},
                          "304": {"description": "Not modified."},
                          "404": _problem("No such item.")}}},
    }


def _schema_name(coll: Collection) -> str:
    return "".join(part.capitalize() for part in coll.name.split("-")) + "Item"


def _rdf_get(summary: str, params: list[dict[str, Any]] | None = None,
             not_found: bool = True) -> dict[str, Any]:
    content = {t: {"schema": {"type": "string"}} for t in _RDF_TYPES}
    content["application/ld+json"] = {"schema": {}}
    content["application/json"] = {"schema": {}}
    responses: dict[str, Any] = {"200": {"description": "The description, by content "
                                         "negotiation, suffix or format=.", "content": content},
                                 "304": {"description": "Not modified."},
                                 "406": _problem("No acceptable format.")}
    if not_found:
        responses["404"] = _problem("Nothing is known about this IRI.")
    fmt = {"name": "format", "in": "query", "required": False,
           "description": "A format name or media type (overrides Accept).",
           "schema": {"type": "string", "enum": [
               "html", "turtle", "jsonld", "rdfxml", "ntriples", "json", "text",
               "text/html", *_RDF_TYPES[:3], "application/ld+json", "application/json"]}}
    return {"get": {"summary": summary, "tags": ["linked data"],
                    "parameters": [*(params or []), fmt], "responses": responses}}


def _linked_data_paths() -> dict[str, Any]:
    def path_param(name: str) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True,
                "schema": {"type": "string", "pattern": "^[A-Za-z0-9._~-]+$"}}
    return {
        "/id/{kind}/{slug}": _rdf_get("Dereference an IRI {base}id/{kind}/{slug} (also with "
                                      "a .ttl .jsonld .rdf .nt suffix)",
                                      [path_param("kind"), path_param("slug")]),
        "/ontology": _rdf_get("The whole ontology (each ckm: hash term); HTML docs for "
                              "browsers", not_found=False),
        "/describe": _rdf_get("The description of any IRI the graph mentions", [
            {"name": "iri", "in": "query", "required": True, "schema": {"type": "string"}}]),
        "/.well-known/void": {"get": {
            "summary": "VoID description of the dataset", "tags": ["linked data"],
            "responses": {"200": {"description": "VoID (Turtle by default)", "content": {
                t: {"schema": {} if "json" in t else {"type": "string"}} for t in
                ["text/turtle", "application/ld+json", "application/rdf+xml",
                 "application/n-triples", "application/json", "text/plain"]}},
                "304": {"description": "Not modified."},
                "406": _problem("No acceptable format.")}}},
        "/api/v1/context.jsonld": {"get": {
            "summary": "The JSON-LD context every API response refers to",
            "tags": ["collections"],
            "responses": {"200": {"description": "JSON-LD context", "content": {
                "application/ld+json": {"schema": {"type": "object"}}}},
                "304": {"description": "Not modified."}}}},
        "/api/v1": {"get": {
            "summary": "The collections", "tags": ["collections"],
            "responses": {"200": {"description": "Name and URL of each collection",
                                  "content": _json({"type": "object"})},
                          "304": {"description": "Not modified."}}}},
        "/api/openapi.json": {"get": {
            "summary": "This document", "tags": ["collections"],
            "responses": {"200": {"description": "OpenAPI 3.1", "content": {
                "application/json": {"schema": {"type": "object"}}}},
                "304": {"description": "Not modified."}}}},
    }


def openapi_document(*, max_page: int, extra_paths: Iterable[Mapping[str, Any]] = (),
                     server_url: str | None = None) -> dict[str, Any]:
    """The OpenAPI 3.1 document; ``extra_paths`` (other surfaces' ``OPENAPI_PATHS``) are
    merged in, operation by operation. Raises nothing."""
    paths: dict[str, Any] = _linked_data_paths()
    schemas: dict[str, Any] = {
        "Ref": {"type": "object", "required": ["iri", "id", "label"], "properties": {
            "iri": {"type": "string"}, "id": {"type": "string"},
            "label": {"type": "string"}}},
        "Problem": {"type": "object", "required": ["type", "title", "status", "detail"],
                    "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                                   "status": {"type": "integer"},
                                   "detail": {"type": "string"},
                                   "instance": {"type": "string"}}},
    }
    for coll in COLLECTIONS.values():
        paths.update(_collection_paths(coll, max_page))
        schemas[_schema_name(coll)] = _item_schema(coll)
    for extra in extra_paths:
        for path, item in extra.items():
            merged = paths.setdefault(path, {})
            for method, op in item.items():
                merged.setdefault(method, copy.deepcopy(op))
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "CKM knowledge graph", "version": __version__,
                 "description": "Linked data, JSON collections, SPARQL and editing for the "
                                "customer knowledge management (CKM) knowledge graph. Every "
                                "JSON response is also JSON-LD (see /api/v1/context.jsonld).",
                 "license": {"name": "MIT (code); CC BY 4.0 (ontology and data)"}},
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": schemas, "securitySchemes": {
            "bearer": {"type": "http", "scheme": "bearer",
                       "description": "Editor or admin token (`ckmkg token create`)."}}},
    }
    if server_url:
        doc["servers"] = [{"url": server_url}]
    return doc

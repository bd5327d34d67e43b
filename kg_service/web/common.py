"""What every view shares: the store, the user, content negotiation, caching, errors.

Views stay thin: parse HTTP here, call one core function, render.
"""

from __future__ import annotations

import email.utils
import json
from functools import lru_cache
from typing import Any, Iterable

from flask import Flask, Response, current_app, request
from werkzeug.datastructures import MIMEAccept
from werkzeug.exceptions import HTTPException

from kg_service.auth import User, require, user_for
from kg_service.errors import KGError, NotAcceptable
from kg_service.settings import Settings
from kg_service.store import KGStore

PROBLEM_JSON = "application/problem+json"


def get_store() -> KGStore:
    """The app's one store."""
    return current_app.extensions["kg"]


def get_settings() -> Settings:
    return current_app.config["KG_SETTINGS"]


def current_user() -> User:
    """The request's user (anonymous reader without a token); Unauthorized on a bad token."""
    return user_for(current_app.extensions["kg_tokens"], request.headers.get("Authorization"))


def require_role(role: str) -> User:
    """The request's user if it has ``role``; raises Unauthorized or Forbidden."""
    return require(current_user(), role)


def negotiate(offers: dict[str, str], format_param: str | None = None,
              default: str | None = None) -> str:
    """Pick a key of ``offers`` ({name: media type}) from ``format=`` or ``Accept``.

    ``format=`` may be a name or a media type. Raises NotAcceptable when nothing fits.
    """
    if format_param:
        if format_param in offers:
            return format_param
        for name, media in offers.items():
            if media == format_param:
                return name
        raise NotAcceptable(f"format={format_param!r} is not one of {', '.join(offers)}",
                            available=list(offers.values()))
    accept: MIMEAccept = request.accept_mimetypes
    if not accept or accept.provided is False or str(accept) in ("", "*/*"):
        return default or next(iter(offers))
    by_media = {media: name for name, media in offers.items()}
    best = accept.best_match(list(by_media), default=None)
    if best is None:
        raise NotAcceptable("None of the offered media types is acceptable: "
                            + ", ".join(offers.values()), available=list(offers.values()))
    if default and accept[best] == accept[offers[default]]:
        return default
    return by_media[best]


def media_type_with_charset(media: str) -> str:
    if media.startswith("text/") or media.endswith(("json", "xml")) or "+" in media \
            or media in ("application/n-triples", "application/n-quads", "application/trig"):
        return f"{media}; charset=utf-8"
    return media


def problem_response(err: KGError) -> Response:
    """The one error body: problem+json when acceptable, plain text otherwise."""
    body = err.problem()
    body.setdefault("instance", request.path)
    accept = request.accept_mimetypes
    wants_html = accept.best == "text/html" and "json" not in (accept.best or "")
    if not wants_html and (accept.best_match([PROBLEM_JSON, "application/json"]) or
                           not accept or "*/*" in str(accept) or accept.best is None):
        resp = Response(json.dumps(body, indent=1), status=err.status, mimetype=PROBLEM_JSON)
    else:
        lines = [f"{body['status']} {body['title']}", "", body["detail"]]
        lines += [f"{k}: {v}" for k, v in body.items()
                  if k not in ("type", "title", "status", "detail", "instance")]
        resp = Response("\n".join(lines) + "\n", status=err.status,
                        mimetype="text/plain")
    if err.status == 401:
        resp.headers["WWW-Authenticate"] = 'Bearer realm="ckm"'
    return resp


class _HTTPProblem(KGError):
    def __init__(self, exc: HTTPException) -> None:
        super().__init__(exc.description or exc.name)
        self.status = exc.code or 500
        self.title = exc.name
        self.type_suffix = exc.name.lower().replace(" ", "-")


def install_error_handlers(app: Flask) -> None:
    """Every error, ours or Werkzeug's (404, 405, 413...), as one problem body."""

    @app.errorhandler(KGError)
    def _kg_error(err: KGError) -> Response:
        return problem_response(err)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        resp = problem_response(_HTTPProblem(exc))
        if exc.code == 405 and exc.valid_methods:  # type: ignore[attr-defined]
            resp.headers["Allow"] = ", ".join(exc.valid_methods)  # type: ignore[attr-defined]
        return resp


@lru_cache(maxsize=64)
def http_date(ts: float) -> str:
    return email.utils.formatdate(ts, usegmt=True)


def cached(resp: Response, etag_parts: Iterable[Any] = (), max_age: int = 0) -> Response:
    """Add ETag/Last-Modified (from the store revision) and answer 304 when fresh.

    Headers are written as text (werkzeug's typed header properties cost ~0.3 ms a
    request); the conditional machinery runs only for a conditional request.
    """
    store = get_store()
    tag = "-".join([store.revision(), *map(str, etag_parts)]).replace('"', "")
    headers = resp.headers
    headers["ETag"] = f'W/"{tag}"'
    headers["Last-Modified"] = http_date(int(store.modified()))
    headers["Cache-Control"] = f"public, max-age={max_age}"
    headers.setdefault("Vary", "Accept")
    if "If-None-Match" in request.headers or "If-Modified-Since" in request.headers:
        return resp.make_conditional(request)
    return resp


def cors(resp: Response) -> Response:
    """Open CORS for reads, never with credentials."""
    resp.headers["Access-Control-Allow-Origin"] = "*"
    resp.headers["Access-Control-Expose-Headers"] = (
        "ETag, Last-Modified, Link, KG-Result-Truncated, KG-Result-Count, KG-Query-Time")
    return resp


def cors_preflight(resp: Response, methods: str, headers: str) -> Response:
    """Open CORS, and on a preflight (OPTIONS) the methods and headers a surface accepts."""
    cors(resp)
    if request.method == "OPTIONS":
        resp.headers["Access-Control-Allow-Methods"] = methods
        resp.headers["Access-Control-Allow-Headers"] = headers
        resp.headers["Access-Control-Max-Age"] = "86400"
    return resp

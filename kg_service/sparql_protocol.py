"""SPARQL 1.1 Protocol requests: read the method, content type, URL parameters and body
of a query, update or service-description request into a :class:`ProtocolRequest`.

No Flask here (the views hand the pieces over); ``kg_service.sparql`` guards the request
and builds the store's query.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass, field

from kg_service.errors import BadRequest, UnsupportedMediaType

_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|^`\\]*$")


@dataclass
class ProtocolRequest:
    """One protocol operation: a query, an update, or (neither) the service description."""

    operation: str  # "query", "update" or "service"
    text: str = ""
    default_graph: list[str] = field(default_factory=list)
    named_graph: list[str] = field(default_factory=list)
    using_graph: list[str] = field(default_factory=list)
    using_named_graph: list[str] = field(default_factory=list)
    format: str | None = None  # format= / output= as sent
    message: str | None = None  # an update's change message (message=)
    timeout: float | None = None  # a client's lower time limit (timeout=, seconds)


def _decode(body: bytes, what: str) -> str:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadRequest(f"The {what} is not UTF-8 (byte {exc.start}).") from exc
    return text.removeprefix("\ufeff")


def _one(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name) or []
    if len(values) > 1:
        raise BadRequest(f"The request has {len(values)} '{name}' parameters; send one.")
    return values[0] if values else None


def _iri_list(params: Mapping[str, list[str]], name: str) -> list[str]:
    out = []
    for value in params.get(name) or []:
        if not _IRI.match(value):
            raise BadRequest(f"{name}={value!r} is not an absolute IRI.")
        out.append(value)
    return out


def read_request(method: str, mimetype: str | None, charset: str | None,
                 args: Mapping[str, list[str]], body: bytes) -> ProtocolRequest:
    """Read a SPARQL 1.1 Protocol request (GET, POST form, POST direct).

    ``args`` are the URL parameters (every value of each), ``mimetype``/``charset`` the
    request's Content-Type. Raises BadRequest (missing, repeated or conflicting
    parameters, an update by GET, bad UTF-8) and UnsupportedMediaType (another body type
    or charset).
    """
    method = method.upper()
    params: dict[str, list[str]] = {k: list(v) for k, v in args.items()}
    direct: tuple[str, str] | None = None
    if method in ("GET", "HEAD"):
        if "update" in params:
            raise BadRequest("SPARQL Update is never accepted by GET: POST it as "
                             "application/sparql-update or as the form field 'update'.")
    elif method == "POST":
        mimetype = (mimetype or "").lower()
        if charset and charset.lower().replace("-", "") not in ("utf8", "usascii"):
            raise UnsupportedMediaType(f"charset={charset} is not supported; send UTF-8.")
        if mimetype == "application/x-www-form-urlencoded":
            try:
                pairs = urllib.parse.parse_qsl(_decode(body, "form body"),
                                               keep_blank_values=True, errors="strict")
            except UnicodeDecodeError as exc:
                raise BadRequest("The form body has a %-escape that is not UTF-8.") from exc
            for key, value in pairs:
                params.setdefault(key, []).append(value)
        elif mimetype in ("application/sparql-query", "application/sparql-update"):
            kind = "query" if mimetype.endswith("query") else "update"
            for clash in ("query", "update"):
                if clash in params:
                    raise BadRequest(f"A {mimetype} body cannot come with a '{clash}' "
                                     "URL parameter.")
            direct = (kind, _decode(body, kind))
        else:
            raise UnsupportedMediaType(
                "POST a query as application/sparql-query or application/x-www-form-urlencoded "
                "(field 'query'), an update as application/sparql-update or a form field "
                f"'update'; got {mimetype or 'no Content-Type'}.")
    else:
        raise BadRequest(f"{method} is not a SPARQL Protocol method (GET or POST).")
    query, update = _one(params, "query"), _one(params, "update")
    if direct:
        query, update = (direct[1], None) if direct[0] == "query" else (None, direct[1])
    if query is not None and update is not None:
        raise BadRequest("A request carries a query or an update, not both.")
    req = ProtocolRequest("query" if query is not None else
                          "update" if update is not None else "service",
                          query if query is not None else update or "")
    req.default_graph = _iri_list(params, "default-graph-uri")
    req.named_graph = _iri_list(params, "named-graph-uri")
    req.using_graph = _iri_list(params, "using-graph-uri")
    req.using_named_graph = _iri_list(params, "using-named-graph-uri")
    if req.operation == "service" and method == "POST":
        raise BadRequest("The POST body has no 'query' or 'update'.")
    if req.operation != "update" and (req.using_graph or req.using_named_graph):
        raise BadRequest("using-graph-uri/using-named-graph-uri go with an update only.")
    if req.operation == "update" and (req.default_graph or req.named_graph):
        raise BadRequest("default-graph-uri/named-graph-uri go with a query; an update takes "
                         "using-graph-uri/using-named-graph-uri.")
    if req.operation == "query" and not req.text.strip():
        raise BadRequest("The query is empty.")
    req.format = _one(params, "format") or _one(params, "output")
    req.message = _one(params, "message")
    timeout = _one(params, "timeout")
    req.timeout = parse_timeout(timeout) if timeout else None
    return req


def parse_timeout(value: str) -> float:
    """A client's ``timeout=`` in seconds; BadRequest unless a positive number."""
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not seconds > 0 or seconds != seconds or seconds == float("inf"):
        raise BadRequest(f"timeout={value!r} is not a positive number of seconds.")
    return seconds

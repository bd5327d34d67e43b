"""SPARQL 1.1 Protocol core: read a request, guard it, pick a result format, describe the service.

No Flask here: the views in ``web/sparql.py`` hand over the method, content type, URL
parameters and body; ``sparql_protocol`` reads them into a ``ProtocolRequest``; this
module checks it
(:func:`guard`: SERVICE, LOAD and remote FROM never reach the network unless the host is in
the ``service_allow`` setting; pyoxigraph really performs SERVICE calls, so this check is
what keeps the network closed) and builds the store's :class:`QueryRequest`.

Dataset rules (SPARQL 1.1 Protocol 2.1.4 and DESIGN.md): without any dataset the default
graph is the union of the named graphs; a dataset named by the protocol
(``default-graph-uri``/``named-graph-uri``) replaces the query's FROM/FROM NAMED entirely;
FROM/FROM NAMED in the text replace the union (Oxigraph's union flag would override FROM,
so it is switched off then). Protocol graph IRIs are names of stored graphs (an unknown one
is an empty graph, as the W3C protocol tests expect); FROM naming a graph that is neither
stored nor under the base IRI is refused as a remote fetch unless its host is allowed.

The service description and the command line's text tables are in ``sparql_output``; saved
queries in ``saved_queries``.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import lru_cache
from typing import Any

from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from kg_service.errors import BadQuery, BadRequest, NotAcceptable
from kg_service.namespaces import PREFIXES
from kg_service.results import GRAPH_FORMATS, RESULT_FORMATS
from kg_service.settings import Settings
from kg_service.sparql_protocol import ProtocolRequest
from kg_service.sparql_text import SparqlText, analyse
from kg_service.store import KGStore, QueryRequest

# A graph no one stores: naming it gives an empty default graph or no named graphs.
EMPTY_GRAPH = "urn:x-ckm:empty-graph"

# Media types a client may ask for, in the order ties are broken: {media type: format}.
RESULT_MEDIA = {**{m: n for n, m in RESULT_FORMATS.items()},
                "application/json": "json", "application/xml": "xml", "text/xml": "xml"}
GRAPH_MEDIA = {**{m: n for n, m in GRAPH_FORMATS.items()},
               "application/x-turtle": "turtle", "text/n3": "turtle",
               "application/json": "jsonld", "application/xml": "rdfxml", "text/xml": "rdfxml",
               "text/plain": "ntriples"}
# Names accepted by format= (and output=), as Fuseki, Virtuoso and SPARQLWrapper send them.
RESULT_NAMES = {"json": "json", "srj": "json", "xml": "xml", "srx": "xml", "csv": "csv",
                "tsv": "tsv"}
GRAPH_NAMES = {"turtle": "turtle", "ttl": "turtle", "n3": "turtle", "ntriples": "ntriples",
               "nt": "ntriples", "n-triples": "ntriples", "jsonld": "jsonld",
               "json-ld": "jsonld", "json": "jsonld", "rdfxml": "rdfxml", "rdf": "rdfxml",
               "xml": "rdfxml", "rdf+xml": "rdfxml", "trig": "trig", "nquads": "nquads",
               "nq": "nquads", "n-quads": "nquads"}
_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")
# Prefixes for Turtle/TriG/RDF-XML/JSON-LD output ("ckmid:" would need escaped slashes).
OUTPUT_PREFIXES = {k: v for k, v in PREFIXES.items() if k != "ckmid"}
_NETWORK_SCHEMES = {"http", "https", "ftp", "ftps", "file", "ws", "wss"}


# --------------------------------------------------------------------------- the guard
def read_text(text: str) -> SparqlText:
    """Lexical reading of a query/update; codepoint escapes (\\uXXXX) are read both ways."""
    info = analyse(text)
    decoded = _ESCAPE.sub(lambda m: chr(int(m.group(1) or m.group(2), 16)), text)
    if decoded != text:  # a copy: analyse's results are cached and shared
        other = analyse(decoded)
        info = replace(info, point_lookup=False, **{
            name: getattr(info, name) + getattr(other, name)
            for name in ("service", "load", "from_default", "from_named")})
    return info


def _host_allowed(iri: str, settings: Settings) -> bool:
    parts = urllib.parse.urlsplit(iri)
    allow = {h.lower() for h in settings.service_allow}
    host = (parts.hostname or "").lower()
    return bool(host) and (host in allow or parts.netloc.lower() in allow)


def guard(info: SparqlText, settings: Settings,
          stored_graphs: Callable[[], set[str]] = set) -> None:
    """Refuse what would reach the network: SERVICE, LOAD, remote FROM/FROM NAMED/USING.

    A SERVICE or LOAD IRI passes only when its host is in ``service_allow``; a SERVICE on a
    variable or an IRI the lexer cannot resolve never passes. A FROM IRI passes when it names
    a stored graph, lies under the base IRI, has no network scheme, or its host is allowed.
    Raises BadQuery saying which IRI was refused and why.
    """
    hint = ("the KG_SERVICE_ALLOW setting (service_allow) is "
            + (", ".join(settings.service_allow) if settings.service_allow else "empty"))
    for word, iris in (("SERVICE", info.service), ("LOAD", info.load)):
        for iri in iris:
            if iri is None:
                raise BadQuery(f"{word} refused: only a literal IRI whose host is allowed can "
                               f"be called (not a variable or an unresolved name); {hint}.",
                               refused=word)
            if not _host_allowed(iri, settings):
                host = urllib.parse.urlsplit(iri).hostname or "(no host)"
                raise BadQuery(f"{word} <{iri}> refused: host {host} is not allowed; {hint}. "
                               "This server never calls other servers otherwise.",
                               refused=iri)
    graphs: set[str] | None = None
    for iri in info.from_default + info.from_named:
        if iri is None:
            raise BadQuery("FROM/USING refused: its graph name could not be resolved.")
        scheme = urllib.parse.urlsplit(iri).scheme.lower()
        if (iri.startswith(settings.base_iri) or scheme not in _NETWORK_SCHEMES
                or _host_allowed(iri, settings)):
            continue
        if graphs is None:
            graphs = stored_graphs()
        if iri not in graphs:
            raise BadQuery(f"FROM <{iri}> names no graph of this store, and this server does "
                           f"not fetch remote graphs ({hint}).", refused=iri)


# --------------------------------------------------------------------------- formats
def kind_of(info: SparqlText) -> str:
    """``results`` for SELECT/ASK, ``graph`` for CONSTRUCT/DESCRIBE."""
    return "graph" if info.form in ("CONSTRUCT", "DESCRIBE") else "results"


def choose_format(kind: str, accept: str | None, format_param: str | None = None,
                  extra: Mapping[str, str] | None = None) -> str:
    """The result format for ``kind`` from ``format=`` (a name or a media type) or Accept.

    Accept q-values and specificity decide; ties go to SPARQL JSON / Turtle. ``extra``
    ({media type: name}) offers more (e.g. HTML) after the data formats. Raises
    NotAcceptable (406) when nothing offered fits.
    """
    media = dict(RESULT_MEDIA if kind == "results" else GRAPH_MEDIA)
    names = dict(RESULT_NAMES if kind == "results" else GRAPH_NAMES)
    for m, n in (extra or {}).items():
        media.setdefault(m, n)
        names.setdefault(n, n)
    offered = list(RESULT_FORMATS.values() if kind == "results" else GRAPH_FORMATS.values())
    if format_param:
        key = format_param.strip().lower()
        if key in names:
            return names[key]
        if key.split(";")[0].strip() in media:
            return media[key.split(";")[0].strip()]
        raise NotAcceptable(f"format={format_param!r} does not fit a {kind} query; use one of "
                            + ", ".join(sorted(set(names)) + offered), available=offered)
    if not accept or not accept.strip():
        return next(iter(media.values()))
    best = _best_match(accept, tuple(media))
    if best is None:
        raise NotAcceptable(f"None of the media types this {kind} query can be written in is "
                            f"acceptable ({accept}); offered: " + ", ".join(offered),
                            available=offered)
    return media[best]


@lru_cache(maxsize=256)
def _best_match(accept: str, offered: tuple[str, ...]) -> str | None:
    """Accept negotiation, cached: clients send the same few Accept headers."""
    return parse_accept_header(accept, MIMEAccept).best_match(offered, default=None)


def media_type(fmt: str) -> str:
    """The media type of a result format name."""
    return RESULT_FORMATS.get(fmt) or GRAPH_FORMATS[fmt]


# --------------------------------------------------------------------------- queries
_PREFIX_USE = re.compile(r"(?<![\w:<])(" + "|".join(map(re.escape, PREFIXES)) + r"):")


@lru_cache(maxsize=256)
def _prologue(text: str, base: str) -> tuple[str, int]:
    """One line put before the text (so a 1-line shift): the base IRI (relative IRIs resolve
    against it unless the text has its own BASE) and the project's prefixes the text uses
    without declaring them."""
    info = read_text(text)
    used = {p for p in _PREFIX_USE.findall(text) if p not in info.prefixes}
    parts = [] if info.base else [f"BASE <{base}>"]
    parts += [f"PREFIX {p}: <{PREFIXES[p]}>" for p in sorted(used)]
    return (" ".join(parts) + "\n", 1) if parts else ("", 0)


def query_request(req: ProtocolRequest, settings: Settings, accept: str | None,
                  stored_graphs: Callable[[], set[str]] = set,
                  extra: Mapping[str, str] | None = None) -> tuple[QueryRequest, int]:
    """The store request for a protocol query, and the number of lines put before the text.

    Undeclared uses of the project's prefixes (``ckm:``, ``rdfs:``...) are declared for the
    user, and relative IRIs resolve against the base IRI setting. Raises BadQuery (an update
    sent as a query, a refused SERVICE/FROM), NotAcceptable, BadRequest.
    """
    info = read_text(req.text)
    if info.form == "UPDATE":
        raise BadQuery("This is a SPARQL Update: POST it as application/sparql-update or as "
                       "the form field 'update'.")
    guard(info, settings, stored_graphs)
    fmt = choose_format(kind_of(info), accept, req.format, extra)
    prologue, shift = _prologue(req.text, settings.base_iri)
    qr = QueryRequest(prologue + req.text, fmt, prefixes=dict(OUTPUT_PREFIXES),
                      point_lookup=info.point_lookup)
    if req.default_graph or req.named_graph:  # the protocol's dataset replaces the query's
        qr.default_graph = req.default_graph or [EMPTY_GRAPH]
        qr.named_graphs = req.named_graph or [EMPTY_GRAPH]
        qr.union = False
    elif info.has_dataset:
        qr.union = False
    if req.timeout is not None:
        qr.timeout = min(req.timeout, float(settings.query_timeout))
    return qr, shift


def run_query(store: KGStore, qr: QueryRequest, shift: int = 0) -> Any:
    """Run a built request; a syntax error's line is given in the user's own text.

    Raises BadQuery (with line/column), TimedOut, KGError.
    """
    try:
        return store.run_query(qr)
    except BadQuery as err:
        line = err.extra.get("line")
        if shift and isinstance(line, int):
            err.extra["line"] = max(1, line - shift)
        if isinstance(err.extra.get("line"), int):
            where = f"line {err.extra['line']}, column {err.extra.get('column')}"
            if where not in err.detail:
                err.detail = f"{err.detail} (at {where})"
                err.args = (err.detail,)
        raise


def update_text(req: ProtocolRequest, settings: Settings,
                stored_graphs: Callable[[], set[str]] = set) -> str:
    """The update's text once it passed the guard (SERVICE, LOAD, remote USING), with the
    base IRI and the undeclared project prefixes it uses declared before its first line, on
    that line (see :func:`update_error`).

    using-graph-uri/using-named-graph-uri conflict with USING/WITH in the text (400) and
    are otherwise not supported: changesets take the update text alone. Raises BadQuery,
    BadRequest.
    """
    if not req.text.strip():
        raise BadRequest("The update is empty.")
    info = read_text(req.text)
    if req.using_graph or req.using_named_graph:
        if info.from_default or re.search(r"(?i)\bWITH\s*<", req.text):
            raise BadRequest("using-graph-uri/using-named-graph-uri conflict with USING/WITH "
                             "in the update.")
        raise BadRequest("using-graph-uri/using-named-graph-uri are not supported here: "
                         "write USING <graph> in the update itself.")
    guard(info, settings, stored_graphs)
    prologue, _ = _prologue(req.text, settings.base_iri)
    return prologue.rstrip("\n") + " " + req.text if prologue else req.text


def update_error(err: BadQuery, text: str, sent: str) -> BadQuery:
    """A parse error of the update ``sent`` for ``text`` (before its BASE), placed in ``text``."""
    shift = len(sent) - len(text)
    if not shift:
        return err
    def back(m: re.Match[str]) -> str:
        return f"{m.group(1)}{max(1, int(m.group(2)) - shift)}{m.group(3)}"

    # Oxigraph says "error at 1:C", rdflib "(at char N), (line:1, col:C)", changesets
    # "at line 1, column C"
    err.detail = re.sub(r"(error at 1:)(\d+)()", back, err.detail)
    err.detail = re.sub(r"(at char )(\d+)(\), \(line:1,)", back, err.detail)
    err.detail = re.sub(r"(\(line:1, col:)(\d+)(\))", back, err.detail)
    err.detail = re.sub(r"(line 1, column )(\d+)()", back, err.detail)
    err.args = (err.detail,)
    if err.extra.get("line") == 1 and isinstance(err.extra.get("column"), int):
        err.extra["column"] = max(1, err.extra["column"] - shift)
    return err


# --------------------------------------------------------------------------- command line
def run_cli_query(store: KGStore, sparql: str | None, saved: str | None,
                  params: dict[str, str], fmt: str) -> str:
    """Run a query (or the saved query ``saved`` with ``params``) for ``ckmkg query``.

    ``fmt`` is ``table`` (aligned text; Turtle for graph results) or a format name. Raises
    BadQuery, BadRequest (bad parameter or format), NotFound (no such saved query), TimedOut.
    """
    from kg_service.saved_queries import get_saved_query

    settings = store.settings
    if saved:
        sq = get_saved_query(settings, saved)
        kind, text, subs = sq.kind, sq.text, sq.bind(params)
    else:
        if params:
            raise BadRequest("--param goes with --saved.")
        kind, text, subs = kind_of(read_text(sparql or "")), sparql or "", {}
    want = ("json" if kind == "results" else "turtle") if fmt == "table" else fmt
    if want not in (RESULT_FORMATS if kind == "results" else GRAPH_FORMATS):
        raise BadRequest(f"--format {fmt} does not fit a {kind} query.")
    qr, shift = query_request(ProtocolRequest("query", text, format=want), settings, None,
                              lambda: set(store.named_graphs()))
    qr.substitutions = subs
    out = run_query(store, qr, shift)
    body = out.read()
    if fmt == "table" and kind == "results":
        from kg_service.sparql_output import render_table

        return render_table(body)
    return body.decode("utf-8")

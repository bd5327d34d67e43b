"""The HTTP side of the remote store: SPARQL 1.1 Protocol and Update requests through
SPARQLWrapper, Graph Store POSTs through urllib, with the store's credentials; and what an
endpoint's failure means (a bad query with its line, a timeout, a conflict, a refusal),
read from Virtuoso's answers. ``remote.RemoteStore`` builds its store on this."""

from __future__ import annotations

import math
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Iterable

from SPARQLWrapper import SPARQLWrapper
from SPARQLWrapper.SPARQLExceptions import SPARQLWrapperException

from kg_service.errors import BadQuery, Conflict, KGError, TimedOut, Unavailable
from kg_service.settings import Settings

_LINE = re.compile(r"line (\d+)", re.IGNORECASE)


class Endpoints:
    """A remote store's query, update and Graph Store endpoints, and how to talk to them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        url = str(settings.store)[len("sparql+"):]
        self.query_url = settings.store_query_url or url
        self.update_url = settings.store_update_url or self.query_url
        self.gsp_url = settings.store_graph_store_url or ""
        self.user, self.password = settings.store_user, settings.store_password
        self.virtuoso = False  # set once an answer's Server header names Virtuoso
        self._opener = self._make_opener()

    def _make_opener(self) -> urllib.request.OpenerDirector:
        handlers: list[Any] = []
        if self.user:
            mgr = urllib.request.HTTPPasswordMgrWithDefaultRealm()
            for u in {self.query_url, self.update_url, self.gsp_url} - {""}:
                mgr.add_password(None, u, self.user, self.password)
            handler = (urllib.request.HTTPDigestAuthHandler if self.settings.store_auth ==
                       "digest" else urllib.request.HTTPBasicAuthHandler)
            handlers.append(handler(mgr))
        return urllib.request.build_opener(*handlers)

    def _wrapper(self, endpoint: str, timeout: float | None) -> SPARQLWrapper:
        sw = SPARQLWrapper(endpoint, updateEndpoint=self.update_url)
        sw.setMethod("POST")
        sw.setOnlyConneg(True)  # no format= parameter: the Accept header decides
        if self.user:
            sw.setHTTPAuth("DIGEST" if self.settings.store_auth == "digest" else "BASIC")
            sw.setCredentials(self.user, self.password)
        if timeout:
            sw.setTimeout(max(1, math.ceil(timeout)))
        return sw

    def send(self, text: str, accept: str, *, update: bool = False,
             params: Iterable[tuple[str, str]] = (), timeout: float | None = None
             ) -> tuple[bytes, Any]:
        """POST a query or update; (body, headers). Raises BadQuery, TimedOut, Unavailable,
        Conflict or KGError (``_failure``)."""
        sw = self._wrapper(self.query_url, timeout)
        sw.setQuery(text)
        if update:
            sw.queryType = "INSERT"  # SPARQLWrapper then posts update= to the update endpoint
        for name, value in params:
            sw.addParameter(name, value)
        sw.addCustomHttpHeader("Accept", accept)
        try:
            response = sw.query().response
            body = response.read()
        except SPARQLWrapperException as exc:
            raise self._failure(exc, text) from exc
        except urllib.error.HTTPError as exc:
            raise Unavailable(f"the SPARQL store answered {exc.code}: {exc.reason}") from exc
        except TimeoutError as exc:
            raise TimedOut(f"The store did not answer within {timeout:g} s.",
                           timeout=timeout) from exc
        except (urllib.error.URLError, ConnectionError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, TimeoutError):
                raise TimedOut(f"The store did not answer within {timeout:g} s.",
                               timeout=timeout) from exc
            raise Unavailable(f"the SPARQL store at {self.query_url} is unreachable: "
                              f"{reason}") from exc
        headers = response.headers
        self.virtuoso = self.virtuoso or "virtuoso" in (headers.get("Server") or "").lower()
        if headers.get("X-SQL-State") == "S1TAT":
            raise TimedOut(f"The query ran past the {timeout:g} s limit and was stopped.",
                           timeout=timeout)
        return body, headers

    def _failure(self, exc: SPARQLWrapperException, text: str) -> KGError:
        msg = str(exc)
        body = msg.split("Response:", 1)[-1].strip()
        body = body[2:-1] if body.startswith(("b'", 'b"')) else body
        body = body.replace("\\n", "\n").split("\n\nSPARQL query:")[0].strip()
        name = type(exc).__name__
        if name == "QueryBadFormed" or re.match(r"Virtuoso (37000|22023|22007|42S22)", body):
            m = _LINE.search(body)
            return BadQuery(body or msg, line=int(m.group(1)) if m else None)
        if "estimated execution time" in body:  # Virtuoso's MaxQueryCostEstimationTime
            return TimedOut(f"The store refused to start a query it estimates to run past its "
                            f"limit: {body}")
        if "40001" in body or "deadlock" in body.lower():
            return Conflict(f"the store reported a conflict: {body}")
        if name == "Unauthorized" or "SR186" in body or "permission" in body.lower():
            return Unavailable(f"the SPARQL store refused the request (check store_user, "
                               f"store_password, store_update_url): {body}")
        return KGError(f"the SPARQL store failed: {body or msg}")

    def gsp_post(self, graph: str, ntriples: bytes) -> None:
        url = self.gsp_url + ("&" if "?" in self.gsp_url else "?") + "graph-uri=" + \
            urllib.parse.quote(graph, safe="") + "&graph=" + urllib.parse.quote(graph, safe="")
        req = urllib.request.Request(url, data=ntriples, method="POST",
                                     headers={"Content-Type": "application/n-triples"})
        try:
            with self._opener.open(req, timeout=max(60.0, self.settings.query_timeout)) as r:
                r.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            raise KGError(f"the Graph Store refused a load into {graph}: {exc.code} "
                          f"{detail}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise Unavailable(f"the Graph Store at {self.gsp_url} is unreachable: {exc}") from exc

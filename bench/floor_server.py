"""The least a Flask service can do for a SPARQL GET: the floor under ``ckmkg serve``.

One route, ``/sparql``: read ``query`` from the URL, run it on a read-only snapshot of the
store ``ckmkg serve`` serves (union default graph), write SPARQL JSON with Oxigraph's own
serialiser. No guard, no timeout, no content negotiation, no hooks, metrics or ETag: not
a product, a measurement. ``bench/run.py`` serves it with gunicorn, the same worker class,
worker and thread count as ``ckmkg serve --workers N``, and reports its throughput beside
ours and rdflib-endpoint's: how much of a throughput target the Flask + gunicorn stack on
this machine leaves reachable at all.

    KG_FLOOR_STORE=DATA_DIR python -m gunicorn -k kg_service.keepalive_worker.KeepAliveWorker \
        -w 2 --threads 8 -b 127.0.0.1:PORT bench.floor_server:app
"""

from __future__ import annotations

import os

import pyoxigraph as ox
from flask import Flask, Response, request

from bench.run import _settings
from kg_service.store import open_store


def create_app(data_dir: str) -> Flask:
    """The floor app over the current snapshot of ``data_dir``'s embedded store (opened
    once, as a query process does). Raises OSError when the store cannot be opened."""
    store = open_store(_settings(data_dir))._reader()
    app = Flask(__name__)

    @app.get("/sparql")
    def sparql() -> Response:
        result = store.query(request.args["query"], use_default_graph_as_union=True)
        return Response(result.serialize(format=ox.QueryResultsFormat.JSON),
                        content_type="application/sparql-results+json")

    return app


if "KG_FLOOR_STORE" in os.environ:  # imported by gunicorn in each worker (no preload)
    app = create_app(os.environ["KG_FLOOR_STORE"])

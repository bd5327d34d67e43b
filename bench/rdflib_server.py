"""rdflib-endpoint serving an N-Quads file with uvicorn: the peer of ``ckmkg serve``.

``python bench/rdflib_server.py FILE PORT`` parses FILE into an rdflib ``Dataset`` whose
default graph is the union of the named graphs (as ours is) and serves it at
``http://127.0.0.1:PORT/sparql``, the way rdflib-endpoint's own ``serve`` command does.
"""

from __future__ import annotations

import sys


def main(path: str, port: int) -> None:
    """Parse, then serve until killed. Raises whatever rdflib raises on a bad file."""
    import uvicorn
    from rdflib import Dataset
    from rdflib_endpoint import SparqlEndpoint

    ds = Dataset(default_union=True)
    ds.parse(path, format="nquads")
    app = SparqlEndpoint(graph=ds, path="/sparql", cors_enabled=True)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))

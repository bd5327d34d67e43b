"""First start and full reloads: ontology + cases + the inferred graph."""

from __future__ import annotations

from typing import Any, Callable, Iterable, Mapping

import rdflib

from kg_service.case_graph import Triple
from kg_service.namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH
from kg_service.sparql_update import user_graphs


def refresh_inferred(store: Any, graphs: Mapping[str, Iterable[Triple]] | None = None) -> int:
    """Recompute the OWL RL closure of ontology + cases into the inferred graph.

    The compiled rules of ``kg_service.inference`` (owlrl over the ontology alone, then
    forward rules over the data) give owlrl's answer in seconds where owlrl over all data
    takes minutes; owlrl runs when the rules cannot decide (``inference.infer`` is None).
    ``graphs``: every graph the closure is over ({IRI: triples}, the ontology included),
    when the caller has just written them; otherwise they are read out of the store (at 1M
    triples that read alone takes ~20 s). Returns the number of inferred triples. owlrl
    errors propagate.
    """
    from kg_service.incremental import infer_store
    from kg_service.inference import infer
    from kg_service.reasoning import materialise_owl_rl
    from kg_service.store.terms import gc_paused

    if graphs is None:
        triples, _old = infer_store(store)
    else:
        with gc_paused():
            triples = infer(graphs[ONTOLOGY_GRAPH], (t for iri, ts in graphs.items()
                                                     if iri != ONTOLOGY_GRAPH for t in ts))
    if triples is None:
        if graphs is None:
            graphs = {iri: store.graph(iri) for iri in user_graphs(store)}
        base = rdflib.Graph()
        for part in graphs.values():
            for t in part:
                base.add(t)
        triples = materialise_owl_rl(base)
    store.replace_graphs({INFERRED_GRAPH: triples})
    return len(triples)


def load_all(store: Any, ontology: str | None = None, cases: list[str] | None = None,
             progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Load the ontology and the case files (bundled by default), then infer.

    Nothing is written if a case file is bad (BadData with file:line).
    """
    from kg_service.cases import case_triples, load_ontology_graph

    ontology_graph = load_ontology_graph(ontology or None)
    graphs = case_triples(cases or None, ontology=ontology_graph, progress=progress)
    written = {ONTOLOGY_GRAPH: ontology_graph, **graphs}
    store.replace_graphs(written)  # ontology and cases in one write
    counts = {iri: len(g) for iri, g in written.items()}
    if progress:
        progress("materialising the OWL RL closure ...")
    # the closure from what was just written, unless the store holds other graphs too
    whole = set(user_graphs(store)) <= written.keys()
    counts[INFERRED_GRAPH] = refresh_inferred(store, written if whole else None)
    return counts


def ensure_loaded(store: Any, progress: Callable[[str], None] | None = None) -> bool:
    """Load the bundled (or configured) data into an empty store; True if it loaded."""
    if len(store):
        return False
    s = store.settings
    load_all(store, s.ontology_file or None, [s.cases_dir] if s.cases_dir else None, progress)
    return True

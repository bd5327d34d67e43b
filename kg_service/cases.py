"""Case files (``data/cases/*.yaml``) to RDF, with ``file:line`` errors.

A case file is YAML checked against ``data/cases/schema.json`` and against the
vocabulary of ``ontology/ckm.ttl``; it becomes one named graph whose IRI is the case IRI
``https://w3id.org/ckm/id/case/{slug}``. Keys (see the schema for details):

``case``       slug, label, description, about (companies of other files), source
``companies``  slug, label, description, industry, also_known_as, applies_styles, source
``practices``  slug, label, type, company, styles, description, benefits, knowledge,
               supports, co_produces_with, cited_after, uncertain, note, source
``things``     id (kind/slug), type, label, description, quote, uncertain, note,
               links {ckm property: reference or literal}, source

A ``source`` is ``{paper: slug, locator: "Table 2"}`` or a list of them.

Reading a file and its schema check are in ``case_yaml``; the vocabulary and the builder of
one file's graph in ``case_graph``; this module resolves references across files and loads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import rdflib
from rdflib import RDF, URIRef
from rdflib.namespace import SH

from kg_service.case_graph import CaseBuilder, Decl, Triple, Vocabulary, types_of
from kg_service.case_yaml import check_schema, read_yaml
from kg_service.errors import BadData
from kg_service.namespaces import CKM, ONTOLOGY_GRAPH
from kg_service.store.terms import gc_paused

REPO_ROOT = Path(__file__).resolve().parent.parent


class BundledPaths(NamedTuple):
    ontology: Path
    shapes: Path
    cases_dir: Path
    schema: Path

    @property
    def cases(self) -> list[Path]:
        """The bundled case files, sorted."""
        return case_files(self.cases_dir)


def bundled_paths() -> BundledPaths:
    """Paths of the bundled ontology, shapes, case directory and case schema (repo root)."""
    return BundledPaths(REPO_ROOT / "ontology" / "ckm.ttl", REPO_ROOT / "ontology" / "shapes.ttl",
                        REPO_ROOT / "data" / "cases", REPO_ROOT / "data" / "cases" / "schema.json")


def case_files(directory: str | Path) -> list[Path]:
    """The ``*.yaml``/``*.yml`` files of a directory, sorted by name."""
    d = Path(directory)
    return sorted(p for p in d.iterdir() if p.suffix in {".yaml", ".yml"} and p.is_file())


# --- the vocabulary ---------------------------------------------------------------------

@lru_cache(maxsize=4)
def _vocab_cached(path: str, mtime: float) -> Vocabulary:
    return Vocabulary.from_graph(load_ontology_graph(path))


def load_ontology_graph(path: str | Path | None = None) -> rdflib.Graph:
    """Parse the ontology (Turtle). Raises BadData if it does not parse."""
    p = Path(path) if path else bundled_paths().ontology
    try:
        return rdflib.Graph().parse(p, format="turtle")
    except Exception as exc:  # rdflib raises several kinds
        raise BadData(f"ontology does not parse: {exc}", file=str(p),
                      line=getattr(exc, "lines", None)) from exc


def vocabulary(ontology: rdflib.Graph | None = None) -> Vocabulary:
    """The vocabulary of ``ontology`` (default: the bundled ontology, cached)."""
    if ontology is not None:
        return Vocabulary.from_graph(ontology)
    p = bundled_paths().ontology
    return _vocab_cached(str(p), p.stat().st_mtime)


# --- declarations (what a file names, for references across files) ----------------------

def _declarations(data: Any, file: str, vocab: Vocabulary) -> Decl:
    """``kind/slug`` -> (types, file, line) of what ``data`` declares; tolerant of junk."""
    out: Decl = {}
    if not isinstance(data, dict):
        return out

    def add(ref: str, types: set[URIRef], line: int | None) -> None:
        if ref in out:
            raise BadData(f"{ref} declared twice (also at line {out[ref][2]})", file=file,
                          line=line)
        out[ref] = (types, file, line)

    case = data.get("case")
    if isinstance(case, dict) and isinstance(case.get("slug"), str):
        add("case/" + case["slug"], {CKM.CaseStudy}, getattr(case, "line", None))
    for key, kind, cls in (("companies", "company", CKM.Company),
                           ("practices", "practice", CKM.CKMPractice)):
        for item in data.get(key) or []:
            if isinstance(item, dict) and isinstance(item.get("slug"), str):
                types = {cls}
                if isinstance(item.get("type"), str):
                    types.add(CKM[item["type"]])
                add(f"{kind}/{item['slug']}", types, getattr(item, "line", None))
    for item in data.get("things") or []:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            t = item.get("type")
            names = t if isinstance(t, list) else [t]
            add(item["id"], {CKM[n] for n in names if isinstance(n, str)},
                getattr(item, "line", None))
    return out


def _sibling_declarations(path: Path, vocab: Vocabulary) -> Decl:
    out: Decl = {}
    for other in case_files(path.parent):
        if other.resolve() == path.resolve():
            continue
        try:
            for ref, d in _declarations(read_yaml(other), str(other), vocab).items():
                out.setdefault(ref, d)
        except Exception:  # noqa: BLE001, S112 (that file reports its own errors)
            continue
    return out


# --- one file -------------------------------------------------------------------------

def parse_case_file(path: str | Path, *, ontology: rdflib.Graph | None = None,
                    known: Decl | None = None) -> tuple[str, rdflib.Graph]:
    """Parse one case file into (graph IRI, triples).

    References to companies and things of other files are resolved against ``known``
    (default: the other case files in the same directory).
    Raises BadData (with ``file`` and ``line``) for YAML errors, schema violations, unknown
    styles/classes/properties/papers, unknown references and wrongly typed values.
    """
    p = Path(path)
    data = read_yaml(p)
    check_schema(data, str(p), bundled_paths().schema)
    vocab = vocabulary(ontology)
    own = _declarations(data, str(p), vocab)
    decl = dict(_sibling_declarations(p, vocab) if known is None else known)
    decl.update(own)
    iri, triples = CaseBuilder(p, data, vocab, decl, types_of(decl)).build()
    return iri, _graph(triples)


def _graph(triples: Iterable[Triple]) -> rdflib.Graph:
    g = rdflib.Graph()
    for t in triples:
        g.add(t)
    return g


# --- loading into a store --------------------------------------------------------------

def load_ontology(store: Any, path: str | Path | None = None) -> int:
    """Replace the ontology graph of ``store`` with the ontology file (default: bundled).

    Returns the number of triples. Raises BadData if the file does not parse.
    """
    g = load_ontology_graph(path)
    store.replace_graphs({ONTOLOGY_GRAPH: g})
    return len(g)


def _resolve(paths: Iterable[str | Path] | str | Path | None) -> list[Path]:
    if paths is None:
        return bundled_paths().cases
    if isinstance(paths, (str, Path)):
        paths = [paths]
    out: list[Path] = []
    for p in map(Path, paths):
        out.extend(case_files(p) if p.is_dir() else [p])
    return out


def _read_all(files: list[Path], vocab: Vocabulary) -> tuple[list[Any], Decl]:
    """The YAML of each file, and what they declare (for references across files).

    Raises BadData for YAML errors and for a thing declared twice.
    """
    datas: list[Any] = []
    known: Decl = {}
    for f in files:
        datas.append(read_yaml(f))
        for ref, (types, file, line) in _declarations(datas[-1], str(f), vocab).items():
            if ref in known:
                raise BadData(f"{ref} is also declared in {known[ref][1]}", file=file, line=line)
            known[ref] = (types, file, line)
    return datas, known


def case_triples(paths: Iterable[str | Path] | str | Path | None = None, *,
                 ontology: rdflib.Graph | None = None,
                 progress: Callable[[str], None] | None = None) -> dict[str, set[Triple]]:
    """Parse case files (default: the bundled ones) into {graph IRI: triples}: what a
    store writes (``replace_graphs``), without building rdflib graphs.

    Raises BadData (file:line) on the first bad file, or if two files declare the same
    thing or the same case.
    """
    files = _resolve(paths)
    vocab = vocabulary(ontology)
    graphs: dict[str, set[Triple]] = {}
    with gc_paused():
        datas, known = _read_all(files, vocab)
        schema, extra_types = bundled_paths().schema, types_of(known)
        for i, f in enumerate(files, 1):
            data, datas[i - 1] = datas[i - 1], None  # built files' YAML can go
            check_schema(data, str(f), schema)
            iri, triples = CaseBuilder(f, data, vocab, known, extra_types).build()
            graphs[iri] = triples
            if progress:
                progress(f"[{i}/{len(files)}] {f.name}: {len(triples)} triples -> <{iri}>")
    return graphs


def parse_cases(paths: Iterable[str | Path] | str | Path | None = None, *,
                ontology: rdflib.Graph | None = None,
                progress: Callable[[str], None] | None = None) -> dict[str, rdflib.Graph]:
    """``case_triples`` as rdflib graphs (to query, validate or serialise them)."""
    return {iri: _graph(triples) for iri, triples
            in case_triples(paths, ontology=ontology, progress=progress).items()}


def load_cases(store: Any, paths: Iterable[str | Path] | str | Path | None = None,
               progress: Callable[[str], None] | None = None, *,
               ontology: rdflib.Graph | None = None) -> dict[str, int]:
    """Parse every case file, then replace their named graphs in one atomic write.

    ``paths``: files and/or directories (default: the bundled ``data/cases``). Nothing is
    written unless every file parses. Returns {graph IRI: triple count}.
    Raises BadData (file:line) for any bad file; store errors propagate.
    """
    graphs = case_triples(paths, ontology=ontology, progress=progress)
    store.replace_graphs(graphs)
    return {iri: len(g) for iri, g in graphs.items()}


# --- SHACL ------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _shapes_at(path: str, _mtime: float) -> rdflib.Graph:
    try:
        return rdflib.Graph().parse(path, format="turtle")
    except Exception as exc:
        raise BadData(f"shapes do not parse: {exc}", file=path) from exc


def bundled_shapes() -> rdflib.Graph:
    """The bundled shapes, parsed once per version of the file (so blank-node shape ids are
    stable between calls). Raises BadData if they do not parse."""
    path = bundled_paths().shapes
    return _shapes_at(str(path), path.stat().st_mtime)


def validate_shacl(data: rdflib.Graph, ontology: rdflib.Graph | None = None,
                   shapes: rdflib.Graph | None = None, focus: list[Any] | None = None
                   ) -> list[dict[str, str | None]]:
    """Validate ``data`` against the shapes (default: bundled), with the ontology mixed in;
    with ``focus``, only those nodes (pyshacl's ``focus_nodes``).

    Returns one dict per result (``focus``, ``path``, ``message``, ``shape``, ``severity``,
    ``value``); empty when the data conforms. Raises BadData if the shapes do not parse.
    """
    import pyshacl

    if shapes is None:
        shapes = bundled_shapes()
    ont = ontology if ontology is not None else vocabulary().graph
    _conforms, report, _text = pyshacl.validate(
        data, shacl_graph=shapes, ont_graph=ont, inference="none", advanced=True,
        abort_on_first=False, allow_warnings=False, focus_nodes=focus)
    out: list[dict[str, str | None]] = []
    for r in report.subjects(RDF.type, SH.ValidationResult):
        def val(p: URIRef, r: Any = r) -> str | None:
            o = report.value(r, p)
            return None if o is None else str(o)
        sev = report.value(r, SH.resultSeverity)
        out.append({"focus": val(SH.focusNode), "path": val(SH.resultPath),
                    "message": val(SH.resultMessage), "shape": val(SH.sourceShape),
                    "severity": sev.split("#")[-1] if sev else None,
                    "value": val(SH.value)})
    return sorted(out, key=lambda x: (x["focus"] or "", x["path"] or ""))

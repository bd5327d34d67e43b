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
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

import rdflib
from rdflib import RDF, RDFS, XSD, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, SH, SKOS

from kg_service.case_yaml import check_schema, read_yaml
from kg_service.errors import BadData
from kg_service.namespaces import BIBO, CKM, ID, ONTOLOGY_GRAPH, ORG

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

@dataclass
class Vocabulary:
    """What case files may name, read from the ontology."""

    graph: rdflib.Graph
    classes: set[URIRef] = field(default_factory=set)
    supers: dict[URIRef, set[URIRef]] = field(default_factory=dict)
    object_props: dict[URIRef, URIRef | None] = field(default_factory=dict)
    data_props: dict[URIRef, URIRef | None] = field(default_factory=dict)
    types: dict[URIRef, set[URIRef]] = field(default_factory=dict)
    subjects: set[URIRef] = field(default_factory=set)

    @classmethod
    def from_graph(cls, g: rdflib.Graph) -> Vocabulary:
        v = cls(g)
        v.classes = {c for c in g.subjects(RDF.type, OWL.Class) if isinstance(c, URIRef)}
        for c in v.classes:
            seen: set[URIRef] = set()
            todo = [c]
            while todo:
                for s in g.objects(todo.pop(), RDFS.subClassOf):
                    if isinstance(s, URIRef) and s not in seen:
                        seen.add(s)
                        todo.append(s)
            v.supers[c] = seen
        for p in g.subjects(RDF.type, OWL.ObjectProperty):
            v.object_props[p] = g.value(p, RDFS.range)
        for p in g.subjects(RDF.type, OWL.DatatypeProperty):
            v.data_props[p] = g.value(p, RDFS.range)
        for s, o in g.subject_objects(RDF.type):
            if isinstance(s, URIRef) and o in v.classes:
                v.types.setdefault(s, set()).add(o)
        v.subjects = {s for s in g.subjects() if isinstance(s, URIRef)}
        return v

    def closure(self, types: Iterable[URIRef]) -> set[URIRef]:
        """The types and all their named superclasses."""
        out: set[URIRef] = set()
        for t in types:
            out.add(t)
            out |= self.supers.get(t, set())
        return out

    def is_a(self, thing: URIRef, cls: URIRef, extra: dict[URIRef, set[URIRef]]) -> bool:
        return cls in self.closure(self.types.get(thing, set()) | extra.get(thing, set()))


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

Decl = dict[str, tuple[set[URIRef], str, int | None]]


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

def _types_of(known: Decl) -> dict[URIRef, set[URIRef]]:
    """The declared types of the things in ``known``, by IRI."""
    return {URIRef(_ID + ref): types for ref, (types, _f, _l) in known.items()}


_ID = str(ID)
# the loops' constants, made once (a Namespace attribute makes a new URIRef each time)
_TEXTS = (("description", CKM.description), ("quote", CKM.quote),
          ("note", CKM.readingNote), ("cited_after", CKM.citedAfter))
_PRACTICE_TERMS = (
    ("styles", CKM.exhibitsStyle, CKM.CKMStyle, "style"),
    ("knowledge", CKM.involvesKnowledge, CKM.CustomerKnowledge, "knowledge type"),
    ("supports", CKM.supportsElement, CKM.BusinessModelElement, "business-model element"))


class _Builder:
    def __init__(self, path: Path, data: Any, vocab: Vocabulary, known: Decl,
                 extra_types: dict[URIRef, set[URIRef]]) -> None:
        self.file, self.data, self.v, self.known = str(path), data, vocab, known
        self.g = rdflib.Graph()
        self.extra_types = extra_types
        self.checked: dict[tuple[URIRef, URIRef, bool], bool] = {}

    def is_a(self, iri: URIRef, cls: URIRef, declared: bool) -> bool:
        """``iri`` is a ``cls`` in the ontology (or, if ``declared``, by the case files)."""
        key = (iri, cls, declared)
        if key not in self.checked:
            self.checked[key] = self.v.is_a(iri, cls, self.extra_types if declared else {})
        return self.checked[key]

    def fail(self, msg: str, node: Any, key: Any = None) -> BadData:
        line = getattr(node, "line", None)
        if key is not None:
            line = getattr(node, "lines", {}).get(key, line)
        return BadData(msg, file=self.file, line=line)

    def term(self, name: str, cls: URIRef, what: str, node: Any, key: Any) -> URIRef:
        """An ontology individual or punned class ``ckm:name`` that is a ``cls``."""
        iri = CKM[name]
        if iri not in self.v.subjects:
            raise self.fail(f"unknown {what} {name!r} (not in the ontology)", node, key)
        if not self.is_a(iri, cls, False):
            raise self.fail(f"{name!r} is not a {what}", node, key)
        return iri

    def ref(self, value: str, node: Any, key: Any, cls: URIRef | None, what: str) -> URIRef:
        """A reference ``kind/slug`` (declared in the case files) or ``ckm:Name``."""
        if value.startswith("ckm:"):
            iri = CKM[value[4:]]
            if iri not in self.v.subjects:
                raise self.fail(f"unknown ontology term {value!r}", node, key)
        else:
            if value not in self.known:
                raise self.fail(f"unknown {what} reference {value!r}", node, key)
            iri = ID[value]
        if cls is not None and not self.is_a(iri, cls, True):
            raise self.fail(f"{value!r} is not a {cls.n3(self.v.graph.namespace_manager)}",
                            node, key)
        return iri

    def cls(self, name: str, node: Any, key: Any, parent: URIRef | None = None) -> URIRef:
        iri = CKM[name]
        if iri not in self.v.classes:
            raise self.fail(f"unknown class {name!r} (not in the ontology)", node, key)
        if parent is not None and parent not in self.v.closure([iri]):
            raise self.fail(f"class {name!r} is not a kind of {parent}", node, key)
        return iri

    def add_types(self, s: URIRef, types: Iterable[URIRef]) -> None:
        for t in self.v.closure(types):
            self.g.add((s, RDF.type, t))

    def common(self, s: URIRef, item: dict) -> None:
        """label, description, quote, uncertain/note and the source(s)."""
        self.g.add((s, RDFS.label, Literal(item["label"])))
        for key, prop in _TEXTS:
            if key in item:
                self.g.add((s, prop, Literal(item[key])))
        if "uncertain" in item:
            self.g.add((s, CKM.uncertainReading, Literal(bool(item["uncertain"]))))
        src = item["source"]
        cites = src if isinstance(src, list) else [src]
        for i, c in enumerate(cites):
            node = src if isinstance(src, list) else item
            paper = ID["paper/" + c["paper"]]
            if not self.is_a(paper, BIBO.AcademicArticle, False):
                raise self.fail(f"unknown paper {c['paper']!r} (no bibo:AcademicArticle "
                                f"{paper} in the ontology)", node, i if node is src else "source")
            self.g.add((s, DCTERMS.source, paper))
            self.g.add((s, CKM.sourceLocator, Literal(c["locator"])))

    def literal(self, value: Any, rng: URIRef | None, node: Any, key: Any) -> Literal:
        if rng == XSD.boolean and not isinstance(value, bool):
            raise self.fail(f"expected true/false, got {value!r}", node, key)
        if rng == XSD.string and not isinstance(value, str):
            raise self.fail(f"expected text, got {value!r}", node, key)
        if rng == XSD.integer and (isinstance(value, bool) or not isinstance(value, int)):
            raise self.fail(f"expected an integer, got {value!r}", node, key)
        return Literal(value)

    def build(self) -> tuple[str, rdflib.Graph]:
        d, g = self.data, self.g
        case = d["case"]
        c_iri = ID["case/" + case["slug"]]
        self.add_types(c_iri, [CKM.CaseStudy])
        self.common(c_iri, case)
        about = case.get("about", [])
        for i, slug in enumerate(about):
            g.add((c_iri, CKM.aboutCompany,
                   self.ref("company/" + slug, about, i, CKM.Company, "company")))
        for comp in d.get("companies", []):
            s = ID["company/" + comp["slug"]]
            self.add_types(s, [CKM.Company, ORG.Organization])
            self.common(s, comp)
            g.add((c_iri, CKM.aboutCompany, s))
            if "industry" in comp:
                g.add((s, CKM.industry, Literal(comp["industry"])))
            for alias in comp.get("also_known_as", []):
                g.add((s, SKOS.altLabel, Literal(alias)))
            styles = comp.get("applies_styles", [])
            for i, name in enumerate(styles):
                g.add((s, CKM.appliesStyle, self.term(name, CKM.CKMStyle, "style", styles, i)))
        for pr in d.get("practices", []):
            s = ID["practice/" + pr["slug"]]
            kind = self.cls(pr.get("type", "CKMPractice"), pr, "type", CKM.CKMPractice)
            self.add_types(s, [kind])
            self.common(s, pr)
            g.add((c_iri, CKM.hasPractice, s))
            g.add((s, CKM.practicedBy,
                   self.ref("company/" + pr["company"], pr, "company", CKM.Company, "company")))
            for key, prop, cls, what in _PRACTICE_TERMS:
                values = pr.get(key, [])
                for i, name in enumerate(values):
                    g.add((s, prop, self.term(name, cls, what, values, i)))
            for b in pr.get("benefits", []):
                g.add((s, CKM.benefit, Literal(b)))
            partners = pr.get("co_produces_with", [])
            for i, slug in enumerate(partners):
                g.add((s, CKM.coProducesWith,
                       self.ref("company/" + slug, partners, i, CKM.Company, "company")))
        for th in d.get("things", []):
            s = ID[th["id"]]
            names = th["type"] if isinstance(th["type"], list) else [th["type"]]
            self.add_types(s, [self.cls(n, th, "type") for n in names])
            self.common(s, th)
            g.add((c_iri, CKM.describes, s))
            links = th.get("links", {})
            for name, value in links.items():
                prop = CKM[name]
                values = value if isinstance(value, list) else [value]
                holder, keys = (value, range(len(value))) if isinstance(value, list) else (
                    links, [name])
                if prop in self.v.object_props:
                    rng = self.v.object_props[prop]
                    for k, val in zip(keys, values, strict=True):
                        if not isinstance(val, str):
                            raise self.fail(f"{name} needs a reference, got {val!r}", holder, k)
                        g.add((s, prop, self.ref(val, holder, k, rng, name)))
                elif prop in self.v.data_props:
                    for k, val in zip(keys, values, strict=True):
                        g.add((s, prop, self.literal(val, self.v.data_props[prop], holder, k)))
                else:
                    raise self.fail(f"unknown property {name!r} (not an object or datatype "
                                    "property of the ontology)", links, name)
        return str(c_iri), g


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
    return _Builder(p, data, vocab, decl, _types_of(decl)).build()


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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection inside: parsing makes millions of objects that live on
    (YAML, terms, graph indexes) and little garbage; the collector's passes over them took a
    third of the time at 100k triples."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def parse_cases(paths: Iterable[str | Path] | str | Path | None = None, *,
                ontology: rdflib.Graph | None = None,
                progress: Callable[[str], None] | None = None) -> dict[str, rdflib.Graph]:
    """Parse case files (default: the bundled ones) into {graph IRI: graph}.

    Raises BadData (file:line) on the first bad file, or if two files declare the same
    thing or the same case.
    """
    files = _resolve(paths)
    vocab = vocabulary(ontology)
    graphs: dict[str, rdflib.Graph] = {}
    with _gc_paused():
        datas, known = _read_all(files, vocab)
        schema, extra_types = bundled_paths().schema, _types_of(known)
        for i, f in enumerate(files, 1):
            data, datas[i - 1] = datas[i - 1], None  # built files' YAML can go
            check_schema(data, str(f), schema)
            iri, g = _Builder(f, data, vocab, known, extra_types).build()
            graphs[iri] = g
            if progress:
                progress(f"[{i}/{len(files)}] {f.name}: {len(g)} triples -> <{iri}>")
    return graphs


def load_cases(store: Any, paths: Iterable[str | Path] | str | Path | None = None,
               progress: Callable[[str], None] | None = None, *,
               ontology: rdflib.Graph | None = None) -> dict[str, int]:
    """Parse every case file, then replace their named graphs in one atomic write.

    ``paths``: files and/or directories (default: the bundled ``data/cases``). Nothing is
    written unless every file parses. Returns {graph IRI: triple count}.
    Raises BadData (file:line) for any bad file; store errors propagate.
    """
    graphs = parse_cases(paths, ontology=ontology, progress=progress)
    store.replace_graphs(graphs)
    return {iri: len(g) for iri, g in graphs.items()}


# --- SHACL ------------------------------------------------------------------------------

def validate_shacl(data: rdflib.Graph, ontology: rdflib.Graph | None = None,
                   shapes: rdflib.Graph | None = None) -> list[dict[str, str | None]]:
    """Validate ``data`` against the shapes (default: bundled), with the ontology mixed in.

    Returns one dict per result (``focus``, ``path``, ``message``, ``shape``, ``severity``,
    ``value``); empty when the data conforms. Raises BadData if the shapes do not parse.
    """
    import pyshacl

    if shapes is None:
        try:
            shapes = rdflib.Graph().parse(bundled_paths().shapes, format="turtle")
        except Exception as exc:
            raise BadData(f"shapes do not parse: {exc}", file=str(bundled_paths().shapes)) from exc
    ont = ontology if ontology is not None else vocabulary().graph
    _conforms, report, _text = pyshacl.validate(
        data, shacl_graph=shapes, ont_graph=ont, inference="none", advanced=True,
        abort_on_first=False, allow_warnings=False)
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

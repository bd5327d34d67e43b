"""One case file's data to its named graph: the ontology's vocabulary and the builder.

``kg_service.cases`` reads the files, resolves references across them and loads the graphs.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import rdflib
from rdflib import RDF, RDFS, XSD, Literal, URIRef
from rdflib.namespace import DCTERMS, OWL, SKOS

from kg_service.errors import BadData
from kg_service.namespaces import BIBO, CKM, ID, ORG

# ``kind/slug`` -> (types, file, line) of what the case files declare
Decl = dict[str, tuple[set[URIRef], str, int | None]]


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


_ID = str(ID)


def types_of(known: Decl) -> dict[URIRef, set[URIRef]]:
    """The declared types of the things in ``known``, by IRI."""
    return {URIRef(_ID + ref): types for ref, (types, _f, _l) in known.items()}


# the loops' constants, made once (a Namespace attribute makes a new URIRef each time)
_TEXTS = (("description", CKM.description), ("quote", CKM.quote),
          ("note", CKM.readingNote), ("cited_after", CKM.citedAfter))
_PRACTICE_TERMS = (
    ("styles", CKM.exhibitsStyle, CKM.CKMStyle, "style"),
    ("knowledge", CKM.involvesKnowledge, CKM.CustomerKnowledge, "knowledge type"),
    ("supports", CKM.supportsElement, CKM.BusinessModelElement, "business-model element"))


Triple = tuple[URIRef, URIRef, Any]


class CaseBuilder:
    """One case file's data (from ``read_yaml``, schema-checked) as its named graph's
    triples (a set: an rdflib graph's three indexes cost a third of a load's time and most
    of its memory, and a store only iterates them)."""

    def __init__(self, path: Path, data: Any, vocab: Vocabulary, known: Decl,
                 extra_types: dict[URIRef, set[URIRef]]) -> None:
        self.file, self.data, self.v, self.known = str(path), data, vocab, known
        self.g: set[Triple] = set()
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

    def build(self) -> tuple[str, set[Triple]]:
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

"""Saved queries: ``queries/*.rq`` with a comment header, run with typed parameters.

Header lines (before the first line that is not a comment)::

    # title: Companies per CKM style
    # description: Which companies practise a style, with the practice and its source.
    # param: style iri ckm:Prosumerism

A parameter is ``name type [default]``; without a default it is required. Types: ``iri``
(a full IRI, ``<IRI>`` or a prefixed name of the project's prefixes), ``string``,
``integer``, ``decimal``, ``double``, ``boolean``, ``date``, ``year``. Values become RDF
terms bound to the variable ``?name`` through SEP-0007 substitution: they are never pasted
into the text, so a value that looks like SPARQL cannot change the query. Oxigraph binds
only variables a SELECT projects, so a parameterised query is a SELECT that projects them.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from rdflib import Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

from kg_service.errors import BadData, BadRequest, NotFound
from kg_service.namespaces import PREFIXES
from kg_service.settings import Settings

REPO_ROOT = Path(__file__).resolve().parent.parent
TYPES = ("iri", "string", "integer", "decimal", "double", "boolean", "date", "year")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|^`\\]*$")
_HEADER = re.compile(r"^#\s*(title|description|param)\s*:\s*(.*?)\s*$")


@dataclass
class Param:
    name: str
    type: str
    default: str | None = None

    def term(self, value: str) -> Node:
        """``value`` as an RDF term of this type; BadRequest when it is not one."""
        try:
            return _convert(self.type, value.strip())
        except (ValueError, InvalidOperation) as exc:
            raise BadRequest(f"parameter {self.name}: {value!r} is not a valid {self.type}"
                             f" ({exc})" if str(exc) else
                             f"parameter {self.name}: {value!r} is not a valid {self.type}",
                             parameter=self.name) from exc

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "default": self.default,
                "required": self.default is None}


def _convert(kind: str, value: str) -> Node:
    if kind == "iri":
        if value.startswith("<") and value.endswith(">"):
            value = value[1:-1]
        prefix, colon, local = value.partition(":")
        if colon and prefix in PREFIXES and not local.startswith("//"):
            value = PREFIXES[prefix] + local
        if not _IRI.match(value):
            raise ValueError("not an absolute IRI or a known prefixed name")
        return URIRef(value)
    if kind == "string":
        return Literal(value)
    if kind == "integer":
        return Literal(int(value), datatype=XSD.integer)
    if kind == "decimal":
        return Literal(Decimal(value), datatype=XSD.decimal)
    if kind == "double":
        return Literal(float(value), datatype=XSD.double)
    if kind == "boolean":
        if value.lower() not in ("true", "false", "1", "0"):
            raise ValueError("use true or false")
        return Literal(value.lower() in ("true", "1"), datatype=XSD.boolean)
    if kind == "date":
        return Literal(datetime.date.fromisoformat(value), datatype=XSD.date)
    if kind == "year":
        if not re.fullmatch(r"-?\d{4,}", value):
            raise ValueError("use four digits")
        return Literal(value, datatype=XSD.gYear)
    raise ValueError(f"unknown type {kind}")


@dataclass
class SavedQuery:
    """One ``queries/NAME.rq`` file."""

    name: str
    title: str
    description: str
    text: str
    path: Path
    params: list[Param] = field(default_factory=list)

    @property
    def form(self) -> str | None:
        from kg_service.sparql_text import analyse

        return analyse(self.text).form

    @property
    def kind(self) -> str:
        return "graph" if self.form in ("CONSTRUCT", "DESCRIBE") else "results"

    def bind(self, values: dict[str, str]) -> dict[str, Node]:
        """Parameter values (text) as RDF terms, defaults filled in.

        Raises BadRequest for an unknown or missing parameter or a value of the wrong type.
        """
        known = {p.name: p for p in self.params}
        unknown = sorted(set(values) - set(known))
        if unknown:
            takes = ", ".join(known) or "no parameters"
            raise BadRequest(f"{self.name} has no parameter {', '.join(unknown)} (it takes "
                             f"{takes}).", parameter=unknown[0])
        out: dict[str, Node] = {}
        for p in self.params:
            value = values.get(p.name, p.default)
            if value is None or value == "":
                if p.default is None:
                    raise BadRequest(f"{self.name} needs the parameter {p.name} ({p.type}).",
                                     parameter=p.name)
                value = p.default
            out[p.name] = p.term(value)
        return out

    def to_json(self, base: str = "/queries/") -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "description": self.description,
                "form": self.form, "params": [p.to_json() for p in self.params],
                "url": base + self.name, "query": self.text}


def parse_saved_query(path: Path) -> SavedQuery:
    """Read one ``.rq`` file; BadData (file:line) on a bad header."""
    text = path.read_text(encoding="utf-8")
    meta: dict[str, str] = {}
    params: list[Param] = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        if not line.lstrip().startswith("#"):
            break
        m = _HEADER.match(line.strip())
        if not m:
            continue
        key, value = m.groups()
        if key != "param":
            meta[key] = (meta.get(key, "") + " " + value).strip()
            continue
        parts = value.split(None, 2)
        if len(parts) < 2 or not _NAME.match(parts[0]) or parts[1] not in TYPES:
            raise BadData(f"'# param: name type [default]' with a type among "
                          f"{', '.join(TYPES)}; got {value!r}", file=str(path), line=number)
        p = Param(parts[0], parts[1], parts[2] if len(parts) > 2 else None)
        if p.default is not None:
            try:
                _convert(p.type, p.default)
            except (ValueError, InvalidOperation) as exc:
                raise BadData(f"default of {p.name} is not a {p.type}: {exc}",
                              file=str(path), line=number) from exc
        params.append(p)
    if "title" not in meta:
        raise BadData("a saved query needs a '# title:' line", file=str(path), line=1)
    return SavedQuery(path.stem, meta["title"], meta.get("description", ""), text, path,
                      params)


def queries_dir(settings: Settings) -> Path:
    """The directory of saved queries (setting ``queries_dir``; default: bundled)."""
    return Path(settings.queries_dir) if settings.queries_dir else REPO_ROOT / "queries"


_CACHE: dict[Path, tuple[tuple[tuple[str, float], ...], dict[str, SavedQuery]]] = {}


def saved_queries(settings: Settings) -> dict[str, SavedQuery]:
    """Every saved query by name, sorted; re-read when a file changes. Raises BadData."""
    d = queries_dir(settings)
    files = sorted(d.glob("*.rq")) if d.is_dir() else []
    stamp = tuple((str(p), p.stat().st_mtime) for p in files)
    cached = _CACHE.get(d)
    if cached is None or cached[0] != stamp:
        cached = (stamp, {p.stem: parse_saved_query(p) for p in files})
        _CACHE[d] = cached
    return cached[1]


def get_saved_query(settings: Settings, name: str) -> SavedQuery:
    """The saved query ``name``; NotFound when there is none."""
    found = saved_queries(settings).get(name)
    if found is None:
        raise NotFound(f"No saved query {name!r}; see /queries for the list.")
    return found

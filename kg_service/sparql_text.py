"""A small lexical reading of SPARQL text: what a query asks for before it runs.

Oxigraph does the real parsing; this only finds, outside strings, IRIs and comments,
the query form and the clauses that can reach the network or change the dataset
(SERVICE, LOAD, FROM, FROM NAMED, WITH/USING), with prefixed names resolved, so the
guard can refuse them before any evaluation starts. It is deliberately conservative:
anything it cannot resolve is reported as unknown and refused by the guard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>\#[^\n]*)
  | (?P<string>\"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"|'''(?:[^'\\]|\\.|'(?!''))*'''
              |"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<iri><[^<>"{}|^`\\\s]*>)
  | (?P<var>[?$][A-Za-z0-9_\u00b7-\uffff]+)
  | (?P<pname>(?:[A-Za-z][\w.-]*)?:(?:[\w\-.:%]*[\w\-:%])?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

_FORMS = {"SELECT", "ASK", "CONSTRUCT", "DESCRIBE"}
_UPDATE_WORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "CREATE", "DROP", "COPY", "MOVE", "ADD",
                 "WITH"}


@dataclass
class SparqlText:
    """What the lexer found. IRIs are full IRIs; ``None`` marks an unresolvable one."""

    form: str | None = None  # SELECT/ASK/CONSTRUCT/DESCRIBE, or UPDATE
    prefixes: dict[str, str] = field(default_factory=dict)
    base: str | None = None
    from_default: list[str | None] = field(default_factory=list)
    from_named: list[str | None] = field(default_factory=list)
    service: list[str | None] = field(default_factory=list)  # None: SERVICE ?var
    load: list[str | None] = field(default_factory=list)
    point_lookup: bool = False  # see point_lookup(): safe to evaluate in the server process

    @property
    def has_dataset(self) -> bool:
        return bool(self.from_default or self.from_named)


def _tokens(text: str) -> list[tuple[str, str]]:
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup or "other"
        if kind not in ("ws", "comment"):
            out.append((kind, m.group()))
    return out


@lru_cache(maxsize=512)
def analyse(text: str) -> SparqlText:
    """Read a query or update's form, prefixes and network/dataset clauses.

    Cached by text (dashboards repeat their queries); callers must not change the result.
    """
    info = SparqlText()
    toks = _tokens(text)

    def iri_at(i: int) -> str | None:
        if i >= len(toks):
            return None
        kind, value = toks[i]
        if kind == "iri":
            return value[1:-1]
        if kind == "pname":
            prefix, _, local = value.partition(":")
            return info.prefixes[prefix] + local if prefix in info.prefixes else None
        return None

    i = 0
    while i < len(toks):
        kind, value = toks[i]
        upper = value.upper() if kind == "word" else ""
        if upper == "PREFIX" and i + 2 < len(toks) and toks[i + 1][0] == "pname":
            if toks[i + 2][0] == "iri":
                info.prefixes[toks[i + 1][1].rstrip(":")] = toks[i + 2][1][1:-1]
            i += 3
            continue
        if upper == "BASE" and i + 1 < len(toks) and toks[i + 1][0] == "iri":
            info.base = toks[i + 1][1][1:-1]
            i += 2
            continue
        if info.form is None and (upper in _FORMS or upper in _UPDATE_WORDS):
            info.form = upper if upper in _FORMS else "UPDATE"
            info.point_lookup = point_lookup(toks, i)
        if upper == "FROM":
            if i + 1 < len(toks) and toks[i + 1][0] == "word" and toks[i + 1][1].upper() == "NAMED":
                info.from_named.append(iri_at(i + 2))
                i += 3
                continue
            info.from_default.append(iri_at(i + 1))
        elif upper == "USING":
            info.from_default.append(iri_at(i + 1))
        elif upper == "SERVICE":
            j = i + 1
            if j < len(toks) and toks[j][0] == "word" and toks[j][1].upper() == "SILENT":
                j += 1
            info.service.append(iri_at(j))
        elif upper == "LOAD":
            j = i + 1
            if j < len(toks) and toks[j][0] == "word" and toks[j][1].upper() == "SILENT":
                j += 1
            info.load.append(iri_at(j))
        i += 1
    return info


# --------------------------------------------------------------------------- point lookups
_TERMS = {"iri", "pname"}
_WHERE_END = {"LIMIT", "OFFSET"}


def point_lookup(toks: list[tuple[str, str]], i: int) -> bool:
    """True when the query starting at ``toks[i]`` (its form keyword) only reads the triples
    of subjects it names: ``DESCRIBE <iri>...``, or SELECT/ASK/CONSTRUCT over one basic graph
    pattern whose every triple pattern has an IRI subject, with no FILTER, OPTIONAL, UNION,
    property path, ORDER/GROUP BY, subquery, expression or dataset clause.

    Such a query's evaluation streams index scans of those subjects: every result row comes
    after a bounded step, so a deadline checked between rows really stops it, and the server
    may run it without the killable query process (see ``store/embedded.py``). DISTINCT is
    allowed over one pattern only (over a join it may read far ahead for the next new row).
    Anything this cannot read is not a point lookup.
    """
    form = toks[i][1].upper()
    j = i + 1

    def word(k: int, *names: str) -> bool:
        return k < len(toks) and toks[k][0] == "word" and toks[k][1].upper() in names

    if form == "DESCRIBE":
        rest = toks[j:]
        return bool(rest) and all(kind in _TERMS for kind, _ in rest)
    distinct = word(j, "DISTINCT", "REDUCED")
    j += distinct
    if form == "SELECT":
        if j < len(toks) and toks[j] == ("other", "*"):
            j += 1
        else:
            start = j
            while j < len(toks) and toks[j][0] == "var":
                j += 1
            if j == start:
                return False
    elif form == "CONSTRUCT" and j < len(toks) and toks[j] == ("other", "{"):
        end = _triples(toks, j + 1, constant_subjects=False)
        if end is None:
            return False
        j = end[0]
    elif form not in ("ASK", "CONSTRUCT"):
        return False
    j += word(j, "WHERE")
    if j >= len(toks) or toks[j] != ("other", "{"):
        return False
    end = _triples(toks, j + 1, constant_subjects=True)
    if end is None or (distinct and end[1] > 1):
        return False
    j = end[0]
    while word(j, *_WHERE_END):  # LIMIT n / OFFSET n
        j += 1
        start = j
        while j < len(toks) and toks[j][0] == "other" and toks[j][1].isdigit():
            j += 1
        if j == start:
            return False
    return j == len(toks)


def _triples(toks: list[tuple[str, str]], j: int, *, constant_subjects: bool
             ) -> tuple[int, int] | None:
    """Read plain triples up to the closing ``}``: (index after it, number of triples), or
    None when anything else is found."""
    subjects = _TERMS if constant_subjects else _TERMS | {"var"}
    count, expect = 0, "subject"
    while j < len(toks):
        kind, value = toks[j]
        if expect == "subject":
            if (kind, value) == ("other", "}"):
                return j + 1, count
            if kind not in subjects:
                return None
            expect = "predicate"
        elif expect == "predicate":
            if kind not in ("iri", "pname", "var") and (kind, value) != ("word", "a"):
                return None
            expect = "object"
        elif expect == "object":
            if kind == "string" and toks[j + 1:j + 3] == [("other", "^")] * 2:
                if j + 3 >= len(toks) or toks[j + 3][0] not in _TERMS:
                    return None
                j += 3
            elif kind not in ("iri", "pname", "var", "string"):
                return None
            count += 1
            expect = "separator"
        elif (kind, value) == ("other", ","):
            expect = "object"
        elif (kind, value) == ("other", ";"):
            expect = "predicate"
            if j + 1 < len(toks) and toks[j + 1] in (("other", "."), ("other", "}")):
                expect = "separator"
        elif (kind, value) == ("other", "."):
            expect = "subject"
        elif (kind, value) == ("other", "}"):
            return j + 1, count
        else:
            return None
        j += 1
    return None

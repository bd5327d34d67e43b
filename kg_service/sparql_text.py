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

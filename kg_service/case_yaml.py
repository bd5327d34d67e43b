"""Reading a case file: YAML with line numbers, then the JSON schema, errors as ``file:line``.

The schema is checked twice only when it fails: ``jsonschema_rs`` (compiled Rust, ~100x
faster here) says whether the data is valid; only then does ``jsonschema`` find the best
error to report, with its path and message.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema_rs
import yaml

from kg_service.errors import BadData


class _LineDict(dict):
    line: int = 0
    lines: dict[Any, int]


class _LineList(list):
    line: int = 0
    lines: dict[int, int]


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml: ~5x faster
    pass


def _construct_map(loader: _Loader, node: yaml.MappingNode) -> _LineDict:
    d = _LineDict(loader.construct_mapping(node, deep=True))
    d.line = node.start_mark.line + 1
    d.lines = {k.value: v.start_mark.line + 1 for k, v in node.value}
    return d


def _construct_seq(loader: _Loader, node: yaml.SequenceNode) -> _LineList:
    lst = _LineList(loader.construct_sequence(node, deep=True))
    lst.line = node.start_mark.line + 1
    lst.lines = {i: n.start_mark.line + 1 for i, n in enumerate(node.value)}
    return lst


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


def line_of(data: Any, path: Iterable[Any]) -> int | None:
    """Line of the node at ``path`` (the deepest one that has a line)."""
    line = getattr(data, "line", None)
    cur = data
    for step in path:
        lines = getattr(cur, "lines", None)
        if lines is None or step not in lines:
            break
        line = lines[step]
        cur = cur[step]
    return line


def read_yaml(path: Path) -> Any:
    """The YAML of ``path``; its mappings and sequences carry ``line`` and ``lines``.

    Raises BadData (file, and line where the parser gives one) if it cannot be read or parsed.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadData(f"cannot read: {exc}", file=str(path)) from exc
    try:
        return yaml.load(text, Loader=_Loader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise BadData(f"YAML: {exc.problem or exc}", file=str(path),
                      line=mark.line + 1 if mark else None) from exc
    except yaml.YAMLError as exc:
        raise BadData(f"YAML: {exc}", file=str(path)) from exc


@lru_cache(maxsize=4)
def _validators(path: str) -> tuple[Any, jsonschema.protocols.Validator]:
    schema = json.loads(Path(path).read_text(encoding="utf-8"))
    return jsonschema_rs.Draft202012Validator(schema), jsonschema.Draft202012Validator(schema)


def check_schema(data: Any, file: str, schema: Path) -> None:
    """Check ``data`` (from :func:`read_yaml`) against the JSON schema at ``schema``.

    Raises BadData ``file:line: schema: path: message`` for the best-matching error.
    """
    fast, detailed = _validators(str(schema))
    try:
        if fast.is_valid(data):
            return
    except ValueError:  # a value JSON has no type for (a YAML date, an int key): ask jsonschema
        pass
    errors = sorted(detailed.iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if not errors:  # the two disagree (regex dialects): jsonschema has the last word
        return
    err = jsonschema.exceptions.best_match(errors)
    where = "/".join(map(str, err.absolute_path)) or "(top)"
    path = list(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        extra = [k for k in err.instance if k not in err.schema.get("properties", {})]
        path += extra[:1]  # point at the first unexpected key
    raise BadData(f"schema: {where}: {err.message}", file=file, line=line_of(data, path))

"""One table of every setting: name, environment variable, default, meaning.

``Settings.from_env()`` reads ``KG_*`` variables (and an optional TOML file named by
``KG_CONFIG``); the README's settings table is generated from ``SETTINGS`` by
``ckmkg settings --markdown``. Add a row here and nowhere else.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable


def _list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    meaning: str
    parse: Callable[[str], Any] = str

    @property
    def env(self) -> str:
        return "KG_" + self.name.upper()


SETTINGS: list[Setting] = [
    Setting("data_dir", "./kg-data", "Directory of the embedded store, tokens and snapshots."),
    Setting("store", "embedded",
            "`embedded` (Oxigraph on disk in data_dir), `memory` (Oxigraph in memory, for "
            "tests and tools), or `sparql+http://host:port/path` for a remote SPARQL 1.1 store.",
            ),
    Setting("base_iri", "https://w3id.org/ckm/",
            "Base of the IRIs the service answers for (`{base}id/...`, `{base}ontology`)."),
    Setting("query_timeout", 30.0,
            "Seconds a query may run; past it the query process is killed and 503 answered.",
            float),
    Setting("result_limit", 100000,
            "Most rows (or triples) a query returns; a cut result says so in the "
            "`KG-Result-Truncated` header and in the body.", int),
    Setting("max_body", 1_000_000, "Largest request body in bytes; larger is 413.", int),
    Setting("service_allow", [],
            "Hosts that SERVICE, LOAD and remote FROM may reach (comma-separated). Empty: "
            "none; the service never fetches a URL a request names otherwise.", _list),
    Setting("query_workers", 2,
            "Query processes per server process (0: run queries in-process, the deadline "
            "checked only between rows; only for tools and tests).", int),
    Setting("compact_min_mb", 16.0,
            "Embedded store: after a write, once the store is at least this large (MB) and "
            "holds twice the table files it had after its last compaction, a thread compacts "
            "it (queries slow down as writes add files). `ckmkg compact` compacts at once.",
            float),
    Setting("ontology_file", "", "Ontology to load on first start (default: the bundled "
            "`ontology/ckm.ttl`)."),
    Setting("cases_dir", "", "Case files to load on first start (default: the bundled "
            "`data/cases`)."),
    Setting("log_json", False, "Structured (JSON) access logs.", _bool),
    Setting("store_query_url", "", "Remote store: SPARQL query endpoint (default: the "
            "`store` URL without `sparql+`)."),
    Setting("store_update_url", "", "Remote store: SPARQL Update endpoint (default: the "
            "query endpoint; Virtuoso: `.../sparql-auth` with credentials)."),
    Setting("store_graph_store_url", "", "Remote store: Graph Store Protocol endpoint used for "
            "bulk loads (Virtuoso: `.../sparql-graph-crud-auth`); empty: loads go through "
            "SPARQL Update in chunks."),
    Setting("store_user", "", "Remote store: user name for updates (and queries)."),
    Setting("store_password", "", "Remote store: password (prefer the environment variable "
            "or a TOML file readable only by the service)."),
    Setting("store_auth", "digest", "Remote store: HTTP authentication, `digest` (Virtuoso) "
            "or `basic`."),
    Setting("store_max_rows", 10000, "Remote store: the most rows the store returns for one "
            "query (Virtuoso's `ResultSetMaxRows`); internal reads page past it and a user "
            "result cut there is marked truncated.", int),
    Setting("store_chunk", 500, "Remote store: most quads one SPARQL Update operation "
            "carries (Virtuoso refuses much larger ones); bigger writes are staged first.",
            int),
    Setting("shutdown_timeout", 30.0, "Seconds `ckmkg serve` lets running requests finish "
            "after SIGTERM before workers are stopped.", float),
    Setting("queries_dir", "", "Directory of saved queries (`*.rq`) listed at `/queries` "
            "(default: the bundled `queries/`)."),
    Setting("api_page_size", 50, "Items a page of a `/api/v1/` collection holds when the "
            "request gives no `limit`.", int),
    Setting("api_max_page_size", 500, "Largest `limit` a `/api/v1/` collection accepts "
            "(larger is 400).", int),
    Setting("describe_incoming_limit", 2000, "Most incoming triples a resource description "
            "(`/id/...`) lists.", int),
]

_BY_NAME = {s.name: s for s in SETTINGS}


@dataclass
class Settings:
    """The resolved settings: ``settings.get(name)`` or attribute access."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values", {})
        if name in values:
            return values[name]
        if name in _BY_NAME:
            return _BY_NAME[name].default
        raise AttributeError(name)

    def replace(self, **changes: Any) -> Settings:
        unknown = set(changes) - set(_BY_NAME)
        if unknown:
            raise KeyError(f"unknown settings: {sorted(unknown)}")
        return Settings({**self.values, **changes})

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then the TOML file named by ``KG_CONFIG``, then ``KG_*``, then overrides."""
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        if env.get("KG_CONFIG"):
            with open(env["KG_CONFIG"], "rb") as fh:
                for key, value in tomllib.load(fh).items():
                    if key not in _BY_NAME:
                        raise KeyError(f"{env['KG_CONFIG']}: unknown setting {key!r}")
                    values[key] = value
        for s in SETTINGS:
            if s.env in env:
                values[s.name] = s.parse(env[s.env])
        return cls(values).replace(**overrides)

    @property
    def data_path(self) -> Path:
        return Path(self.data_dir)


def markdown_table() -> str:
    """The settings table for the README."""
    rows = ["| setting | env var | default | meaning |", "|---|---|---|---|"]
    for s in SETTINGS:
        rows.append(f"| {s.name} | `{s.env}` | `{s.default!r}` | {s.meaning} |")
    return "\n".join(rows)

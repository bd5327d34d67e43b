"""The ``ckmkg`` command: load, validate, query, export, dump, restore, compact, serve,
settings, token, import."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import click

from kg_service.errors import KGError
from kg_service.settings import Settings, markdown_table


def _settings(ctx: click.Context) -> Settings:
    return ctx.obj["settings"]


def _store(ctx: click.Context) -> Any:
    from kg_service.store import open_store

    if "store" not in ctx.obj:
        ctx.obj["store"] = open_store(_settings(ctx).replace(query_workers=0))
        ctx.call_on_close(ctx.obj["store"].close)
    return ctx.obj["store"]


def _fail(err: KGError) -> None:
    click.echo(f"error: {err.detail}", err=True)
    sys.exit(2 if err.status < 500 else 1)


class _Group(click.Group):
    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KGError as err:
            _fail(err)


@click.group(cls=_Group)
@click.option("--data-dir", envvar="KG_DATA_DIR", default=None,
              help="Data directory (setting data_dir, KG_DATA_DIR).")
@click.option("--store", "store_url", envvar="KG_STORE", default=None,
              help="embedded, memory, or sparql+http://... (KG_STORE).")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, store_url: str | None) -> None:
    """CKM knowledge graph: ontology, case data and a SPARQL service."""
    overrides: dict[str, Any] = {}
    if data_dir:
        overrides["data_dir"] = data_dir
    if store_url:
        overrides["store"] = store_url
    ctx.obj = {"settings": Settings.from_env(**overrides)}


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True))
@click.option("--ontology", type=click.Path(exists=True), help="Ontology file (default: bundled).")
@click.pass_context
def load(ctx: click.Context, paths: tuple[str, ...], ontology: str | None) -> None:
    """Load the ontology and case files (default: the bundled ones), then infer."""
    from kg_service.bootstrap import load_all

    started = time.perf_counter()
    counts = load_all(_store(ctx), ontology, list(paths) or None,
                      progress=lambda m: click.echo(m, err=True))
    click.echo(f"loaded {sum(counts.values())} triples into {len(counts)} graphs "
               f"in {time.perf_counter() - started:.1f} s")


@cli.command()
@click.pass_context
def validate(ctx: click.Context) -> None:
    """Check the stored data: SHACL shapes and HermiT consistency. Exit 1 on problems."""
    import rdflib

    from kg_service.cases import validate_shacl
    from kg_service.namespaces import INFERRED_GRAPH, ONTOLOGY_GRAPH
    from kg_service.reasoning import check_consistency

    store = _store(ctx)
    ontology = store.graph(ONTOLOGY_GRAPH)
    data = rdflib.Graph()
    for iri in store.named_graphs():
        if iri not in (ONTOLOGY_GRAPH, INFERRED_GRAPH) and "/history" not in iri:
            data += store.graph(iri)
    problems = 0
    for v in validate_shacl(data, ontology):
        problems += 1
        click.echo(f"SHACL {v.get('severity', '')}: {v['focus']} {v['path'] or ''}: "
                   f"{v['message']}")
    report = check_consistency(ontology + data)
    if not report.consistent:
        problems += 1
        click.echo(f"HermiT: inconsistent: {report.explanation}")
    for cls in report.unsatisfiable:
        problems += 1
        click.echo(f"HermiT: unsatisfiable class {cls}")
    if problems:
        click.echo(f"{problems} problem(s)")
        sys.exit(1)
    click.echo(f"valid: {len(data)} data triples conform to the shapes; ontology + data "
               f"consistent, every class satisfiable (HermiT, {report.seconds:.1f} s)")


@cli.command()
@click.argument("sparql", required=False)
@click.option("--saved", help="Run the saved query queries/NAME.rq instead.")
@click.option("--param", "params", multiple=True, help="k=v for a saved query's parameter.")
@click.option("--format", "fmt", default="table",
              type=click.Choice(["table", "csv", "tsv", "json", "xml", "turtle", "ntriples",
                                 "jsonld", "rdfxml"]))
@click.pass_context
def query(ctx: click.Context, sparql: str | None, saved: str | None, params: tuple[str, ...],
          fmt: str) -> None:
    """Run a SPARQL query (text, @file or -) and print the result."""
    from kg_service.sparql import run_cli_query

    if sparql is None and not saved:
        raise click.UsageError("give a query, @file, - (stdin) or --saved NAME")
    if sparql == "-":
        sparql = sys.stdin.read()
    elif sparql and sparql.startswith("@"):
        sparql = Path(sparql[1:]).read_text()
    click.echo(run_cli_query(_store(ctx), sparql, saved, dict(p.split("=", 1) for p in params),
                             fmt), nl=False)


@cli.command()
@click.option("--format", "fmt", default="ttl",
              type=click.Choice(["ttl", "nt", "jsonld", "owl", "rdfxml", "nq", "trig"]))
@click.option("--graph", help="Graph IRI (default: the ontology graph for ttl/owl/rdfxml, "
              "everything for nq/trig).")
@click.pass_context
def export(ctx: click.Context, fmt: str, graph: str | None) -> None:
    """Write a graph to standard output (ttl is stable and diff-friendly)."""
    from kg_service.export import export_graph

    sys.stdout.buffer.write(export_graph(_store(ctx), fmt, graph))


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.pass_context
def dump(ctx: click.Context, file: str) -> None:
    """Write every quad as N-Quads (one consistent state, even while serving)."""
    store = _store(ctx)
    if file == "-":
        store.dump(sys.stdout.buffer)
        return
    with open(file, "wb") as fh:
        store.dump(fh)
    click.echo(f"dumped {len(store)} quads to {file}", err=True)


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.pass_context
def restore(ctx: click.Context, file: str) -> None:
    """Replace the store's content with an N-Quads dump (all or nothing)."""
    from kg_service.errors import BadData

    store = _store(ctx)
    with open(file, "rb") as fh:
        try:
            store.restore(fh)
        except (SyntaxError, ValueError) as exc:
            raise BadData(str(exc), file=file) from exc
    click.echo(f"restored {len(store)} quads from {file}")


@cli.command()
@click.pass_context
def compact(ctx: click.Context) -> None:
    """Compact the embedded store now (writes add table files that slow queries down)."""
    store = _store(ctx)
    if getattr(store, "disk", None) is None:  # a memory or remote store
        raise click.ClickException("only the embedded store on disk is compacted here; "
                                   "a remote store compacts itself")
    started = time.perf_counter()
    done = store.compact()
    if done is None:
        raise click.ClickException("a write was published while compacting, so the "
                                   "compacted copy was dropped: run it again")
    click.echo(f"compacted: {done[0]} -> {done[1]} table files in "
               f"{time.perf_counter() - started:.1f} s (revision {store.revision()} kept)")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int,
              help="gunicorn worker processes (all share the on-disk store).")
@click.option("--threads", default=8, show_default=True, type=int, help="Threads per worker.")
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, workers: int, threads: int) -> None:
    """Serve the graph (loads the bundled data into an empty store first)."""
    from kg_service.bootstrap import ensure_loaded
    from kg_service.server import run

    settings = _settings(ctx)
    if ensure_loaded(_store(ctx), progress=lambda m: click.echo(m, err=True)):
        click.echo("loaded the bundled ontology and case data", err=True)
    ctx.obj.pop("store").close()
    click.echo(f"serving http://{host}:{port}/sparql (data in {settings.data_dir})", err=True)
    run(settings, host, port, workers, threads)


@cli.command("settings")
@click.option("--markdown", is_flag=True, help="The README's settings table.")
@click.pass_context
def settings_cmd(ctx: click.Context, markdown: bool) -> None:
    """Show the settings in force (or the Markdown table of all of them)."""
    if markdown:
        click.echo(markdown_table())
        return
    from kg_service.settings import SETTINGS

    s = _settings(ctx)
    for row in SETTINGS:
        click.echo(f"{row.name} = {getattr(s, row.name)!r}  ({row.env})")


@cli.group()
def token() -> None:
    """Bearer tokens for editors and admins (stored hashed in the data dir)."""


@token.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["editor", "admin", "reader"]), default="editor",
              show_default=True)
@click.pass_context
def token_create(ctx: click.Context, name: str, role: str) -> None:
    """Make a new token for NAME (replacing its old one); the token is the last line."""
    from kg_service.auth import TokenStore

    value = TokenStore(_settings(ctx).data_dir).create(name, role)
    click.echo(f"token for {name} ({role}); shown once, keep it secret:", err=True)
    click.echo(value)


@token.command("list")
@click.pass_context
def token_list(ctx: click.Context) -> None:
    """The names and roles that have a token."""
    from kg_service.auth import TokenStore

    for name, role, created in TokenStore(_settings(ctx).data_dir).list():
        stamp = time.strftime("%Y-%m-%d %H:%M", time.localtime(created))
        click.echo(f"{name}\t{role}\t{stamp}")


@token.command("revoke")
@click.argument("name")
@click.pass_context
def token_revoke(ctx: click.Context, name: str) -> None:
    """Revoke NAME's token (exit 1 if there was none)."""
    from kg_service.auth import TokenStore

    if not TokenStore(_settings(ctx).data_dir).revoke(name):
        click.echo(f"no token for {name}", err=True)
        sys.exit(1)
    click.echo(f"revoked the token of {name}")


@cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--format", "fmt", default=None,
              type=click.Choice(["turtle", "rdfxml", "owlxml", "nt", "jsonld"]),
              help="Default: from the file name or its content.")
@click.option("--graph", default=None, help="Graph to replace (default: the ontology).")
@click.option("-m", "--message", default=None, help="The change's message.")
@click.option("--author", default=None, help="Recorded author (default: $USER).")
@click.pass_context
def import_cmd(ctx: click.Context, file: str, fmt: str | None, graph: str | None,
               message: str | None, author: str | None) -> None:
    """Import an edited ontology file (Protégé round trip) as one validated change."""
    import getpass

    from kg_service.auth import User
    from kg_service.importing import import_file
    from kg_service.namespaces import ONTOLOGY_GRAPH

    data = Path(file).read_bytes()
    user = User(author or f"cli:{getpass.getuser()}", "admin")
    change = import_file(_store(ctx), data, user=user, fmt=fmt, name=Path(file).name,
                         graph=graph or ONTOLOGY_GRAPH, message=message)
    if change.empty:
        click.echo("no change: the file says what the store says")
        return
    click.echo(f"change {change.id}: +{change.added} -{change.removed} triples "
               f"({change.seconds:.1f} s)")


def main() -> None:
    cli(prog_name="ckmkg")

"""The embedded store: snapshots, atomic writes, crash recovery, killable queries."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psutil
import pytest
from rdflib import Graph, Literal, URIRef, Variable

from kg_service.errors import BadQuery, TimedOut
from kg_service.store import QueryRequest, open_store
from tests.conftest import make_settings

EX = "http://example.org/"
HEAVY = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
         "FILTER(STR(?c) != STR(?l)) }")


def _graph(*objects: str) -> Graph:
    g = Graph()
    for i, o in enumerate(objects):
        g.add((URIRef(f"{EX}s{i}"), URIRef(EX + "p"), Literal(o)))
    return g


def test_replace_graphs_replaces_and_never_duplicates(store) -> None:
    store.replace_graphs({EX + "g": _graph("a", "b")})
    store.replace_graphs({EX + "g": _graph("a", "b")})
    assert len(store) == 2
    store.replace_graphs({EX + "g": _graph("c")})
    assert [str(r["o"]) for r in store.select("SELECT ?o WHERE { ?s ?p ?o }")] == ["c"]


def test_default_graph_is_union_and_from_narrows(store) -> None:
    store.replace_graphs({EX + "g1": _graph("one"), EX + "g2": _graph("x", "two")})
    out = store.run_query(QueryRequest("SELECT ?o WHERE { ?s ?p ?o }", "csv"))
    assert sorted(out.read().decode().split("\r\n")[1:-1]) == ["one", "two", "x"]
    out = store.run_query(QueryRequest(f"SELECT ?o FROM <{EX}g1> WHERE {{ ?s ?p ?o }}", "csv",
                                       union=False))
    assert out.read().decode().split("\r\n")[1:-1] == ["one"]
    out = store.run_query(QueryRequest("SELECT ?o WHERE { ?s ?p ?o }", "csv",
                                       default_graph=[EX + "g2"]))
    assert sorted(out.read().decode().split("\r\n")[1:-1]) == ["two", "x"]


def test_row_limit_marks_the_cut(store) -> None:
    store.replace_graphs({EX + "g": _graph(*"abcde")})
    out = store.run_query(QueryRequest("SELECT ?o WHERE { ?s ?p ?o }", "json", limit=3))
    body = out.read()
    assert out.truncated and out.count == 3
    assert b'"truncated":true' in body and body.count(b'"literal"') == 3


def test_syntax_error_has_line_and_column(store) -> None:
    with pytest.raises(BadQuery) as info:
        store.run_query(QueryRequest("SELECT ?s\nWHERE { ?s ?p }", "json"))
    assert info.value.extra["line"] == 2 and info.value.extra["column"] >= 10


def test_timeout_kills_the_query_process(tmp_path: Path) -> None:
    store = open_store(make_settings(tmp_path, query_workers=1, query_timeout=1.0))
    store.replace_graphs({EX + "g": _graph(*map(str, range(300)))})
    store.warm()
    (query_process,) = store._pool._idle  # the process that will run the heavy query
    started = time.monotonic()
    with pytest.raises(TimedOut):
        store.run_query(QueryRequest(HEAVY, "json"))
    assert time.monotonic() - started < 3
    assert query_process.proc.poll() is not None  # killed: its work has really ended
    assert not psutil.pid_exists(query_process.proc.pid)
    time.sleep(3)  # the replacement has started meanwhile; it is idle, not burning a core
    replacements = [p.proc.pid for p in store._pool._idle]
    assert len(replacements) == 1 and replacements[0] != query_process.proc.pid
    assert psutil.Process(replacements[0]).cpu_percent(interval=0.5) < 50
    started = time.monotonic()
    out = store.run_query(QueryRequest("ASK { ?s ?p ?o }", "json"))
    assert out.read() == b'{"head":{},"boolean":true}'
    assert time.monotonic() - started < 2
    assert store.timeouts == 1
    store.close()


@pytest.mark.parametrize(("query", "expected"), [
    (f"SELECT ?p ?o WHERE {{ <{EX}s1> ?p ?o }}", True),
    (f"PREFIX ex: <{EX}> SELECT * {{ ex:s1 a ?t ; ex:p ?o , \"x\" . ex:s2 ?q ?r . }} LIMIT 5",
     True),
    (f"ASK {{ <{EX}s1> <{EX}p> \"1\"^^<http://www.w3.org/2001/XMLSchema#int> }}", True),
    (f"DESCRIBE <{EX}s1> <{EX}s2>", True),
    (f"CONSTRUCT {{ ?o <{EX}q> ?p }} WHERE {{ <{EX}s1> ?p ?o }}", True),
    (f"SELECT DISTINCT ?p {{ <{EX}s1> ?p ?o }}", True),
    # each of these can read far ahead before its next row: the killable process runs it
    (f"SELECT DISTINCT ?p {{ <{EX}s1> ?p ?o . <{EX}s2> ?q ?r }}", False),
    ("SELECT ?p ?o WHERE { ?s ?p ?o }", False),
    (f"SELECT ?o WHERE {{ <{EX}s1> ?p ?o FILTER(?o != 1) }}", False),
    (f"SELECT ?o WHERE {{ <{EX}s1> <{EX}p>+ ?o }}", False),
    (f"SELECT ?o WHERE {{ <{EX}s1> ?p ?o OPTIONAL {{ ?o ?q ?r }} }}", False),
    ("SELECT ?o WHERE { { SELECT ?o { ?s ?p ?o } } }", False),
    (f"SELECT ?o WHERE {{ <{EX}s1> ?p ?o }} ORDER BY ?o", False),
    (f"SELECT (COUNT(*) AS ?n) WHERE {{ <{EX}s1> ?p ?o }}", False),
    (f"SELECT ?o WHERE {{ <{EX}s1> ?p [ ?q ?o ] }}", False),
    (f"SELECT ?o WHERE {{ GRAPH ?g {{ <{EX}s1> ?p ?o }} }}", False),
    (f"SELECT ?o WHERE {{ <{EX}s1> ?p ?o . BIND(1 AS ?x) }}", False),
    ("DESCRIBE ?x WHERE { ?x ?p ?o }", False),
])
def test_point_lookups_are_recognised(query: str, expected: bool) -> None:
    from kg_service.sparql import read_text

    assert read_text(query).point_lookup is expected


def test_point_lookup_answers_while_the_query_process_is_busy(tmp_path: Path) -> None:
    """A lookup of one subject's triples is not queued behind a heavy query."""
    import threading

    store = open_store(make_settings(tmp_path, query_workers=1, query_timeout=30.0))
    store.replace_graphs({EX + "g": _graph(*map(str, range(300)))})
    store.warm()
    heavy = threading.Thread(target=lambda: pytest.raises(
        TimedOut, store.run_query, QueryRequest(HEAVY, "json", timeout=4.0)))
    heavy.start()
    time.sleep(0.5)  # the only query process is now busy with the heavy query
    out = store.run_query(QueryRequest(f"SELECT ?o WHERE {{ <{EX}s7> ?p ?o }}", "csv",
                                       point_lookup=True))
    assert heavy.is_alive()  # answered before the heavy query's limit
    assert out.read().decode() == "o\r\n7\r\n"
    heavy.join()
    store.close()


def test_point_lookup_past_its_deadline_is_stopped_in_process(tmp_path: Path) -> None:
    store = open_store(make_settings(tmp_path, query_workers=1))
    store.replace_graphs({EX + "g": _graph(*map(str, range(300)))})
    with pytest.raises(TimedOut):  # the deadline is checked between rows
        store.run_query(QueryRequest(f"SELECT ?o WHERE {{ <{EX}s7> ?p ?o }}", "json",
                                     timeout=0.0, point_lookup=True))
    assert store._pool is not None and store._pool._count == 0  # no query process was used
    store.close()


def test_failed_write_leaves_previous_state(store) -> None:
    store.replace_graphs({EX + "g": _graph("kept")})
    revision = store.revision()

    class Boom(Exception):
        pass

    def bad_quads():
        yield from store.graph(EX + "g")
        raise Boom

    with pytest.raises(Boom), store._writing() as primary:  # a write that dies midway
        primary.remove_graph(__import__("pyoxigraph").NamedNode(EX + "g"))
        list(bad_quads())
    assert store.revision() == revision
    assert [str(r["o"]) for r in store.select("SELECT ?o WHERE { ?s ?p ?o }")] == ["kept"]
    store.replace_graphs({EX + "h": _graph("next")})  # the next write starts from the snapshot
    assert len(store) == 2


def test_graph_the_store_cannot_hold_changes_nothing(store) -> None:
    store.replace_graphs({EX + "g": _graph("kept"), EX + "h": _graph("also kept")})
    revision = store.revision()
    bad = _graph("new")
    bad.add((URIRef(EX + "s"), URIRef(EX + "p"), Variable("x")))  # no RDF term for it
    with pytest.raises(TypeError):
        store.replace_graphs({EX + "h": _graph("replaced"), EX + "g": bad})
    assert store.revision() == revision
    assert sorted(str(r["o"]) for r in store.select("SELECT ?o WHERE { ?s ?p ?o }")) == [
        "also kept", "kept"]


def test_crash_during_write_is_recovered_by_next_writer(settings) -> None:
    store = open_store(settings)
    store.replace_graphs({EX + "g": _graph("before")})
    store.close()
    script = textwrap.dedent(f"""
        import os, pyoxigraph as ox
        from kg_service.store import open_store
        from tests.conftest import make_settings
        s = open_store(make_settings({str(settings.data_dir)!r}, query_workers=0))
        with s._writing() as primary:
            primary.clear()
            primary.add(ox.Quad(ox.NamedNode('{EX}x'), ox.NamedNode('{EX}p'),
                                ox.Literal('half'), ox.NamedNode('{EX}g')))
            primary.flush()
            os._exit(9)   # killed midway: no snapshot published
    """)
    proc = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parent.parent)
    assert proc.returncode == 9
    store = open_store(settings)
    assert [str(r["o"]) for r in store.select("SELECT ?o WHERE { ?s ?p ?o }")] == ["before"]
    store.replace_graphs({EX + "h": _graph("after")})
    assert sorted(str(r["o"]) for r in store.select("SELECT ?o WHERE { ?s ?p ?o }")) == [
        "after", "before"]
    store.close()


def test_write_in_one_process_is_seen_by_another(settings) -> None:
    store = open_store(settings)
    store.replace_graphs({EX + "g": _graph("v1")})
    other = open_store(settings)
    assert len(other) == 1
    store.replace_graphs({EX + "g": _graph("v2", "v3")})
    assert len(other) == 2 and other.revision() == store.revision()
    store.close()
    other.close()


def test_dump_restore_round_trip(loaded_store, tmp_path: Path) -> None:
    buf = io.BytesIO()
    loaded_store.dump(buf)
    fresh = open_store(make_settings(tmp_path / "other"))
    fresh.restore(io.BytesIO(buf.getvalue()))
    again = io.BytesIO()
    fresh.dump(again)
    assert sorted(buf.getvalue().splitlines()) == sorted(again.getvalue().splitlines())
    assert len(fresh) == len(loaded_store) > 1000
    fresh.close()


@pytest.mark.parametrize("kind", ["embedded", "memory"])
def test_restore_replaces_everything_and_a_broken_dump_changes_nothing(tmp_path: Path,
                                                                        kind: str) -> None:
    """A restore over a store with data leaves only the dump's quads (blank-node labels
    kept), seen by another process's store and followed by ordinary writes; on disk it
    builds a new primary and the old one is removed. A dump broken at its second line
    raises, and content and revision stay."""
    settings = make_settings(tmp_path, store=kind)
    store = open_store(settings)
    store.replace_graphs({EX + "old": _graph("gone", "gone too")})
    dump = (f'_:b1 <{EX}p> "kept" <{EX}new> .\n<{EX}s> <{EX}p> _:b1 <{EX}new> .\n').encode()
    store.restore(io.BytesIO(dump))
    out = io.BytesIO()
    store.dump(out)
    assert sorted(out.getvalue().splitlines()) == sorted(dump.splitlines())
    if kind == "embedded":
        assert len(open_store(settings)) == 2
        assert [p.name for p in (tmp_path / "oxigraph").glob("primary*")
                if p.is_dir()] == [(tmp_path / "oxigraph" / "PRIMARY").read_text().strip()]
    revision = store.revision()
    with pytest.raises(SyntaxError, match="line 2"):
        store.restore(io.BytesIO(f'<{EX}s> <{EX}p> "x" <{EX}g> .\n<{EX}s> oops\n'.encode()))
    assert store.revision() == revision and len(store) == 2
    store.replace_graphs({EX + "g": _graph("after")})
    assert len(store) == 3 and store.revision() != revision
    store.close()


def test_replaced_snapshot_is_kept_for_its_readers(tmp_path: Path) -> None:
    store = open_store(make_settings(tmp_path, query_timeout=1.0))
    store.replace_graphs({EX + "g": _graph("old")})
    old = store.revision()
    snaps = tmp_path / "oxigraph" / "snapshots"
    os.utime(snaps / old, (time.time() - 3600, time.time() - 3600))  # created long ago
    reader = __import__("pyoxigraph").Store.read_only(str(snaps / old))
    store.replace_graphs({EX + "g": _graph("new")})
    store.replace_graphs({EX + "g": _graph("newer")})
    # the grace period counts from when it was replaced, so a reader still sees its data
    assert (snaps / old).exists()
    assert [q.object.value for q in reader] == ["old"]
    store.close()


def test_snapshots_are_collected(tmp_path: Path) -> None:
    store = open_store(make_settings(tmp_path, query_timeout=0.0))
    os.environ.pop("KG_NOTHING", None)
    for i in range(5):
        store.replace_graphs({EX + "g": _graph(str(i))})
    # a snapshot is kept 60 s after it stops being current, so at most all 6 exist now
    names = {p.name for p in (tmp_path / "oxigraph" / "snapshots").iterdir()}
    assert store.revision() in names
    store.close()

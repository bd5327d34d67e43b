"""Compaction of the embedded store: same content, same revision, never a lost write."""

from __future__ import annotations

import io
from pathlib import Path
from urllib.parse import urlencode

from click.testing import CliRunner
from rdflib import Graph, Literal, URIRef

from kg_service.changes import check_if_match
from kg_service.cli import cli
from kg_service.store import open_store
from tests.conftest import make_settings, opened_app

EX = "http://example.org/"


def _write(store, n: int) -> None:
    """One small write, as an edit makes: a table file more per index it touches."""
    store.apply([], [(URIRef(f"{EX}s{n}"), URIRef(EX + "p"), Literal(f"v{n}"), EX + "g")])


def _dump(store) -> list[bytes]:
    buf = io.BytesIO()
    store.dump(buf)
    return sorted(buf.getvalue().splitlines())


def _primaries(data_dir: Path) -> list[str]:
    return sorted(p.name for p in (data_dir / "oxigraph").glob("primary*"))


def test_compaction_keeps_content_revision_and_time(tmp_path: Path) -> None:
    store = open_store(make_settings(tmp_path, query_workers=0))
    for n in range(6):
        _write(store, n)
    quads, revision, modified = _dump(store), store.revision(), store.modified()
    snapshot = store.disk.current()[0]

    before, after = store.compact()
    assert after < before
    assert store.disk.current()[0] != snapshot  # readers moved to the compacted copy
    assert (store.revision(), store.modified()) == (revision, modified)
    assert _dump(store) == quads
    other = open_store(make_settings(tmp_path, query_workers=0))  # another process's view
    assert other.revision() == revision and _dump(other) == quads
    assert len(_primaries(tmp_path)) == 1  # the old primary is gone

    _write(store, 99)  # writes go on from the compacted primary
    assert store.revision() != revision and len(other) == 7
    store.close()
    other.close()


def test_compaction_is_dropped_when_a_write_lands_first(tmp_path: Path, monkeypatch) -> None:
    store = open_store(make_settings(tmp_path, query_workers=0))
    for n in range(3):
        _write(store, n)
    other = open_store(make_settings(tmp_path, query_workers=0))
    optimize = store.disk.optimize

    def written_meanwhile(path: Path) -> None:
        _write(other, 50)  # another process publishes while the copy is compacted
        optimize(path)

    monkeypatch.setattr(store.disk, "optimize", written_meanwhile)
    assert store.compact() is None
    assert store.revision() == other.revision()
    assert len(store) == 4 and _dump(store) == _dump(other)
    assert not list((tmp_path / "oxigraph" / "tmp").glob("compact-*"))
    _write(store, 51)
    assert len(other) == 5
    store.close()
    other.close()


def test_writes_start_a_compaction_once_files_pile_up(tmp_path: Path) -> None:
    store = open_store(make_settings(tmp_path, query_workers=0, compact_min_mb=0))
    n = 0
    while not (tmp_path / "oxigraph" / "COMPACTED").exists() and n < 40:
        _write(store, n)
        n += 1
        store.disk.settle()
    assert (tmp_path / "oxigraph" / "COMPACTED").exists(), "40 writes never started one"
    assert store.disk.current()[0] != store.revision()  # the snapshot is a compacted copy
    assert len(store) == n
    store.close()

    small = open_store(make_settings(tmp_path / "small", query_workers=0))  # 16 MB default
    for n in range(40):
        _write(small, n)
    small.close()
    assert not (tmp_path / "small" / "oxigraph" / "COMPACTED").exists()


def test_a_compaction_dropped_by_a_write_is_tried_again(tmp_path: Path, monkeypatch) -> None:
    store = open_store(make_settings(tmp_path, query_workers=0, compact_min_mb=0))
    optimize, copies = store.disk.optimize, []

    def with_an_edit(path: Path) -> None:
        copies.append(path)
        if len(copies) == 1:
            _write(store, 1000)  # an edit lands while the first copy is compacted
        optimize(path)

    monkeypatch.setattr(store.disk, "optimize", with_an_edit)
    n = 0
    while store.disk.compactor is None and n < 40:  # until a write finds it due
        _write(store, n)
        n += 1
    store.disk.settle()
    assert len(copies) == 2  # the first was dropped, the second published
    assert store.disk.current()[0] != store.revision()  # the snapshot is a compacted copy
    assert len(store) == n + 1
    store.close()


def test_etags_and_if_match_hold_across_compaction(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, query_workers=0)
    store = open_store(settings)
    g = Graph()
    g.add((URIRef(EX + "s"), URIRef(EX + "p"), Literal("o")))
    store.replace_graphs({EX + "g": g})
    store.close()
    with opened_app(settings) as app:
        client = app.test_client()
        url = "/sparql?" + urlencode({"query": "SELECT * WHERE { ?s ?p ?o }"})
        first = client.get(url, headers={"Accept": "application/sparql-results+json"})
        assert first.status_code == 200 and first.headers["ETag"]
        assert app.extensions["kg"].compact()
        again = client.get(url, headers={"Accept": "application/sparql-results+json",
                                         "If-None-Match": first.headers["ETag"]})
        assert again.status_code == 304
        fresh = client.get(url, headers={"Accept": "application/sparql-results+json"})
        assert fresh.headers["Last-Modified"] == first.headers["Last-Modified"]
        # an edit sent with If-Match: the ETag read before compaction still names this state
        check_if_match(app.extensions["kg"], first.headers["ETag"], None)


def test_cli_compact(tmp_path: Path) -> None:
    store = open_store(make_settings(tmp_path, query_workers=0))
    for n in range(4):
        _write(store, n)
    revision = store.revision()
    store.close()
    result = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "compact"])
    assert result.exit_code == 0, result.output
    assert "table files" in result.output and f"revision {revision} kept" in result.output
    result = CliRunner().invoke(cli, ["--store", "memory", "compact"])
    assert result.exit_code != 0 and "embedded store on disk" in result.output

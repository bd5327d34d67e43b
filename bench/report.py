"""Markdown tables from the raw figures of ``bench/run.py`` (absolute values and ratios)."""

from __future__ import annotations

import datetime
import importlib.metadata
import os
import platform
from typing import Any

from bench.queries import QUERIES

PACKAGES = ("pyoxigraph", "rdflib", "rdflib-endpoint", "Flask", "gunicorn", "uvicorn",
            "fastapi", "pyshacl", "owlrl", "owlready2", "PyYAML")
OURS, THEIRS = "ckmkg", "rdflib-endpoint"


def _ms(x: float | None) -> str:
    return "–" if x is None else (f"{x * 1000:.2f}" if x < 1 else f"{x * 1000:,.0f}")


def _s(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def _ratio(a: float | None, b: float | None) -> str:
    if not a or not b:
        return "–"
    return f"{a / b:.1f}x"


def _mb(x: float | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def _rate(n: float | None, s: float | None) -> str:
    return "–" if not n or not s else f"{n / s:,.0f}"


def machine() -> list[str]:
    """Machine, versions and date, as Markdown list items."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as fh:
            kb = int(next(line.split()[1] for line in fh if line.startswith("MemTotal")))
        mem = f", {kb / 2**20:.0f} GB RAM"
    except (OSError, StopIteration, ValueError):
        pass
    versions = []
    for p in PACKAGES:
        try:
            versions.append(f"{p} {importlib.metadata.version(p)}")
        except importlib.metadata.PackageNotFoundError:
            continue
    return [f"- machine: {cpu}, {os.cpu_count()} cores{mem}; {platform.platform()}",
            f"- Python {platform.python_version()}; " + ", ".join(versions),
            f"- date: {datetime.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}"]


def _q(sz: dict[str, Any], system: str, name: str) -> dict[str, Any]:
    return (sz.get(system) or {}).get("queries", {}).get(name) or {}


def _h(sz: dict[str, Any], name: str, server: str) -> dict[str, Any]:
    return (sz.get("http") or {}).get("latency", {}).get(name, {}).get(server) or {}


def render(results: dict[str, Any]) -> tuple[str, str]:
    """(Markdown document, final line ``speedup over rdflib on joins: N.Nx``)."""
    sizes = results["sizes"]
    md = ["# Benchmarks: ckmkg against rdflib and rdflib-endpoint", "",
          f"`{results.get('command', 'python bench/run.py')}`, "
          f"{results.get('seconds', 0):.0f} s. Every ratio compares two systems measured in "
          "this run on this machine; \"x\" > 1 means ckmkg is better.", "", *machine(), ""]

    md += ["## Data", "", "Synthetic cases from `bench/generate.py` (seed "
           "fixed), shaped like `data/cases`, plus the ontology.", "",
           "| size | case files | triples | YAML MB | N-Quads MB | load average at start |",
           "|---|---|---|---|---|---|"]
    for sz in sizes:
        g = sz["generated"]
        la = " / ".join(f"{x:.1f}" for x in sz.get("loadavg") or ()) or "–"
        md.append(f"| {sz['label']} | {g['files']} | {g['triples']:,} | {sz['yaml_mb']:.1f} | "
                  f"{sz['nq_mb']:.1f} | {la} |")

    md += ["", "## Load", "",
           "Seconds, triples/s and peak RSS (MB) of a fresh process. *YAML*: `ckmkg load`'s "
           "path without inference (case files through `kg_service.cases`, then one atomic "
           "write). *restore*: `ckmkg restore` of the same triples as N-Quads "
           "(`EmbeddedStore.restore`: parse + `bulk_extend`, published whole). "
           "*rdflib*: `Dataset.parse` of that N-Quads file. Ratio: rdflib time over ours.",
           "", "| size | YAML s | YAML tr/s | YAML RSS | restore s | restore tr/s | restore RSS | "
           "rdflib s | rdflib tr/s | rdflib RSS | restore vs rdflib | YAML vs rdflib |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for sz in sizes:
        y = sz.get("load_yaml") or {}
        b = (sz.get("oxigraph") or {}).get("load") or {}
        r = (sz.get("rdflib") or {}).get("load") or {}
        n = sz["generated"]["triples"]
        md.append(f"| {sz['label']} | {_s(y.get('seconds'))} | {_rate(n, y.get('seconds'))} | "
                  f"{_mb(y.get('rss_mb'))} | {_s(b.get('seconds'))} | "
                  f"{_rate(n, b.get('seconds'))} | {_mb(b.get('rss_mb'))} | "
                  f"{_s(r.get('seconds'))} | {_rate(n, r.get('seconds'))} | "
                  f"{_mb(r.get('rss_mb'))} | {_ratio(r.get('seconds'), b.get('seconds'))} | "
                  f"{_ratio(r.get('seconds'), y.get('seconds'))} |")
    for sz in sizes:
        y = sz.get("load_yaml") or {}
        if y.get("parse_seconds"):
            md.append(f"\n{sz['label']}: YAML load = {y['parse_seconds']:.2f} s parsing the "
                      f"case files + {y['write_seconds']:.2f} s writing the store.")
        b = (sz.get("oxigraph") or {}).get("load") or {}
        if b.get("bulk_load_seconds"):
            r = (sz.get("rdflib") or {}).get("load") or {}
            md.append(f"The ceiling of any load into an on-disk Oxigraph here, pyoxigraph's own "
                      f"`bulk_load` of the same N-Quads into a fresh store: "
                      f"{b['bulk_load_seconds']:.2f} s "
                      f"({_ratio(r.get('seconds'), b['bulk_load_seconds'])} rdflib).")
        if "compact_seconds" in y or "compact_seconds" in b:
            md.append(f"Then, in the background (readers already see the data), compaction "
                      f"until the store is settled: {_s(y.get('compact_seconds'))} s after "
                      f"YAML ({y.get('table_files', '–')} table files), "
                      f"{_s(b.get('compact_seconds'))} s after restore "
                      f"({b.get('table_files', '–')} table files); queries below run on the "
                      "settled store.")
        for k in ("oxigraph", "rdflib", "load_yaml"):
            if (sz.get(k) or {}).get("error"):
                md.append(f"\n{sz['label']} {k}: **failed**: {sz[k]['error']}")

    md += ["", "## OWL RL materialisation", "",
           "`kg_service.bootstrap.refresh_inferred` (owlrl over the ontology, the rules "
           "compiled from it over the data; into the inferred graph), as `ckmkg load` runs it "
           "after loading, here on the restored store.", "",
           "| size | seconds | inferred triples | peak RSS MB |", "|---|---|---|---|"]
    for sz in sizes:
        i = sz.get("infer") or {}
        sec = _s(i.get("seconds")) if "seconds" in i else (
            f"> {i['timed_out']:.0f} (stopped)" if i.get("timed_out") else
            f"failed: {i.get('error', '?')}")
        md.append(f"| {sz['label']} | {sec} | {i.get('inferred', '–')} | "
                  f"{_mb(i.get('rss_mb'))} |")

    md += ["", "## Queries in process", "",
           "Milliseconds. pyoxigraph `Store.query` (union default graph) on the on-disk "
           "store vs rdflib `Dataset.query` with the query prepared once. Rows: answers "
           "counted on each side. Ratio: rdflib p50 over pyoxigraph p50.", "",
           "| size | query | rows ox / rdflib | pyoxigraph p50 | p95 | p99 | rdflib p50 | p95 | "
           "p99 | ratio |", "|---|---|---|---|---|---|---|---|---|---|"]
    for sz in sizes:
        for name in QUERIES:
            o, r = _q(sz, "oxigraph", name), _q(sz, "rdflib", name)
            md.append(f"| {sz['label']} | {name} | {o.get('rows', '–')} / {r.get('rows', '–')} "
                      f"| {_ms(o.get('p50'))} | {_ms(o.get('p95'))} | {_ms(o.get('p99'))} | "
                      f"{_ms(r.get('p50'))} | {_ms(r.get('p95'))} | {_ms(r.get('p99'))} | "
                      f"{_ratio(r.get('p50'), o.get('p50'))} |")
    md += ["", "Queries:", ""]
    md += [f"- **{name}**: {desc}" for name, (desc, _t, _k) in QUERIES.items()]

    md += ["", "## Queries over HTTP", "",
           "Milliseconds per request, one keep-alive client on loopback, SPARQL 1.1 Protocol "
           "GET, JSON results (N-Triples for DESCRIBE). *ckmkg*: `ckmkg serve` (gunicorn, 1 "
           "worker x 8 threads, 2 query processes, default settings). *rdflib-endpoint*: its "
           "`SparqlEndpoint` over an rdflib `Dataset` under uvicorn. Ratio: theirs over ours.",
           "", "| size | query | rows ours / theirs | ckmkg p50 | p95 | p99 | rdflib-endpoint "
           "p50 | p95 | p99 | ratio |", "|---|---|---|---|---|---|---|---|---|---|"]
    for sz in sizes:
        rows = (sz.get("http") or {}).get("rows", {})
        for name in QUERIES:
            o, t = _h(sz, name, OURS), _h(sz, name, THEIRS)
            rw = rows.get(name, {})
            md.append(f"| {sz['label']} | {name} | {rw.get(OURS, '–')} / {rw.get(THEIRS, '–')} "
                      f"| {_ms(o.get('p50'))} | {_ms(o.get('p95'))} | {_ms(o.get('p99'))} | "
                      f"{_ms(t.get('p50'))} | {_ms(t.get('p95'))} | {_ms(t.get('p99'))} | "
                      f"{_ratio(t.get('p50'), o.get('p50'))} |")
            for side, d in ((OURS, o), (THEIRS, t)):
                if d.get("skipped"):
                    md.append(f"| | | {side}: not run: {d['skipped']} | | | | | | | |")
                if d.get("errors"):
                    md.append(f"| | | {side}: {d['errors']} failed: "
                              f"{d.get('first_error', '')[:120]} | | | | | | | |")
        if (sz.get("http") or {}).get("error"):
            md.append(f"\n{sz['label']}: HTTP benchmark failed: {sz['http']['error']}")

    nw = next((w["workers"] for sz in sizes if (w := (sz.get("http") or {}).get("workers"))),
              None)
    md += ["", "## HTTP throughput", "",
           "Requests per second completed by N concurrent clients (separate processes, "
           "keep-alive) in a fixed time. *ckmkg*: the default `ckmkg serve` (one worker); "
           f"*ckmkg x{nw}*: `ckmkg serve --workers {nw}` (the machine's cores), started "
           "alone after the others stopped; *floor*: `bench/floor_server.py`, the least a "
           "Flask service does for the lookup (the query on the same snapshot and Oxigraph's "
           "JSON writer, nothing else) under gunicorn with the same worker class, workers "
           "and threads: the most the stack leaves for any service built on it. Ratios: "
           "over rdflib-endpoint's.", "",
           f"| size | query | clients | ckmkg req/s | ckmkg x{nw} req/s | floor x{nw} req/s | "
           f"rdflib-endpoint req/s | ratio | ratio x{nw} | floor ratio |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for sz in sizes:
        w = (sz.get("http") or {}).get("workers") or {}
        multi = w.get("throughput") or {}
        floor = (w.get("floor") or {}).get("throughput") or {}
        for name, by_n in ((sz.get("http") or {}).get("throughput") or {}).items():
            for n, row in by_n.items():
                o, t = row[OURS]["rps"], row[THEIRS]["rps"]
                m = ((multi.get(name) or {}).get(n) or {}).get("rps")
                f = (floor.get(n) or {}).get("rps") if name == "lookup" else None
                cells = [f"{v:,.0f}" if v is not None else f"not run: {d.get('skipped')}"
                         for v, d in ((o, row[OURS]), (t, row[THEIRS]))]
                md.append(f"| {sz['label']} | {name} | {n} | {cells[0]} | "
                          f"{'–' if m is None else f'{m:,.0f}'} | "
                          f"{'–' if f is None else f'{f:,.0f}'} | {cells[1]} | "
                          f"{_ratio(o, t)} | {_ratio(m, t)} | {_ratio(f, t)} |")
        fl = w.get("floor") or {}
        ours_rows = ((sz.get("http") or {}).get("rows") or {}).get("lookup", {}).get(OURS)
        if fl.get("error"):
            md.append(f"\n{sz['label']}: floor server failed: {fl['error']}")
        elif "rows" in fl and fl["rows"] != ours_rows:
            md.append(f"\n{sz['label']}: floor server answered {fl['rows']} rows, "
                      f"ckmkg {ours_rows}: its figures do not compare")

    md += ["", "## Cost of the HTTP layer", "",
           "Milliseconds, p50. *direct*: pyoxigraph in process, iterating the answers; "
           "*direct + JSON*: plus the same serialisation the server does "
           "(`kg_service.results.write_result`); */sparql*: a full request to `ckmkg serve` "
           "(gunicorn + Flask, and the query process round trip except for point lookups: "
           "*lookup* and *describe* run in the web process, see README, Architecture). "
           "Overhead: /sparql minus direct + JSON. */healthz*: the same server answering "
           "a route that reads nothing (gunicorn, Flask and our request hooks alone). "
           "*floor*: the lookup from `bench/floor_server.py` (see HTTP throughput; "
           "`--workers N`'s gunicorn, Oxigraph's JSON writer): what gunicorn and Flask take "
           "before any code of ours.", "",
           "| size | query | direct | direct + JSON | /sparql | overhead | /healthz | floor |",
           "|---|---|---|---|---|---|---|---|"]
    for sz in sizes:
        fl = (((sz.get("http") or {}).get("workers") or {}).get("floor") or {}).get("latency")
        for name in QUERIES:
            o = _q(sz, "oxigraph", name)
            h = _h(sz, name, OURS)
            js = (o.get("serialised") or {}).get("p50")
            over = None if h.get("p50") is None or js is None else h["p50"] - js
            floor = ((sz.get("http") or {}).get("healthz") or {}).get("p50")
            fp = (fl or {}).get("p50") if name == "lookup" else None
            md.append(f"| {sz['label']} | {name} | {_ms(o.get('p50'))} | {_ms(js)} | "
                      f"{_ms(h.get('p50'))} | {_ms(over)} | {_ms(floor)} | {_ms(fp)} |")

    md += ["", "## Editing", "",
           "Seconds for one validated change through `kg_service.changes.submit_update` "
           "(parse, SHACL on the touched nodes, HermiT when types or links change, the "
           "inferred graph updated, atomic apply with history), on the store after OWL RL: "
           "*benefit*: one `ckm:benefit` literal on a practice; *practice*: a new practice "
           "with its type, company, style, knowledge type and source (HermiT and inference "
           "run); *style*: that practice's style link replaced by another (a removal and an "
           "addition). *store.apply*: a raw write of one triple (snapshot included). Median "
           "of three (one with --quick).", "",
           "| size | triples | benefit s | practice s | style s | store.apply s | note |",
           "|---|---|---|---|---|---|---|"]
    for sz in sizes:
        e = sz.get("edit") or {}
        su, pr = _median(e.get("submit_update")), _median(e.get("practice"))
        st = _median(e.get("style"))
        ap = _median(e.get("apply"))
        note = e.get("error", "")
        if e.get("timed_out"):
            note = f"stopped after {e['timed_out']:.0f} s"
        checks = e.get("practice_checks") or {}
        parts = [f"{k} {v['seconds']:.2f} s" for k, v in checks.items()
                 if isinstance(v, dict) and "seconds" in v]
        if parts:
            note = (note + "; " if note else "") + "last practice: " + ", ".join(parts)
        md.append(f"| {sz['label']} | {e.get('triples', '–')} | {_s(su)} | {_s(pr)} | "
                  f"{_s(st)} | {_s(ap)} | {note} |")

    md += ["", "## Memory of the servers", "",
           "Peak RSS (MB) of each server's process tree while it answered the benchmarks.", "",
           "| size | ckmkg serve | rdflib-endpoint | ratio |", "|---|---|---|---|"]
    for sz in sizes:
        r = (sz.get("http") or {}).get("rss_mb") or {}
        md.append(f"| {sz['label']} | {_mb(r.get(OURS))} | {_mb(r.get(THEIRS))} | "
                  f"{_ratio(r.get(THEIRS), r.get(OURS))} |")

    targets, final = _targets(sizes)
    md += ["", "## Targets", "", "| target | measured | met |", "|---|---|---|", *targets, ""]
    return "\n".join(md), final


def _median(xs: list[float] | None) -> float | None:
    if not xs:
        return None
    s = sorted(xs)
    return s[len(s) // 2]


def _targets(sizes: list[dict[str, Any]]) -> tuple[list[str], str]:
    rows: list[str] = []
    big = sizes[-1]
    lab = big["label"]

    def row(target: str, value: float | None, ok: bool | None, fmt: str) -> None:
        shown = "–" if value is None else fmt.format(value)
        rows.append(f"| {target} | {shown} | {'–' if ok is None else ('yes' if ok else 'no')} |")

    both = [s for s in sizes if _h(s, "join", OURS).get("p50") and
            _h(s, "join", THEIRS).get("p50")]  # the largest size both servers answered
    jsz = both[-1] if both else big
    o, t = _h(jsz, "join", OURS).get("p50"), _h(jsz, "join", THEIRS).get("p50")
    join = t / o if o and t else None
    row(f"joins >= 20x faster than rdflib-endpoint (HTTP p50, {jsz['label']})", join,
        None if join is None else join >= 20, "{:.1f}x")
    tp = ((big.get("http") or {}).get("throughput") or {}).get("lookup") or {}
    best = [row_[OURS]["rps"] / row_[THEIRS]["rps"] for row_ in tp.values()
            if row_[THEIRS]["rps"] and row_[OURS]["rps"] is not None]
    lk = min(best) if best else None
    row(f"lookups >= 5x rdflib-endpoint's throughput (worst of 1/2/8 clients, {lab})", lk,
        None if lk is None else lk >= 5, "{:.1f}x")
    big_workers = (big.get("http") or {}).get("workers") or {}
    multi = (big_workers.get("throughput") or {}).get("lookup") or {}
    best = [m["rps"] / tp[n][THEIRS]["rps"] for n, m in multi.items()
            if n in tp and tp[n][THEIRS]["rps"] and m.get("rps") is not None]
    lk = min(best) if best else None
    row(f"... the same with `ckmkg serve --workers {big_workers.get('workers')}`", lk,
        None if lk is None else lk >= 5, "{:.1f}x")
    floor = (big_workers.get("floor") or {}).get("throughput") or {}
    best = [f["rps"] / tp[n][THEIRS]["rps"] for n, f in floor.items()
            if n in tp and tp[n][THEIRS]["rps"] and f.get("rps") is not None]
    lk = min(best) if best else None
    row("... the most Flask + gunicorn reach at all (floor server, same workers)", lk, None,
        "{:.1f}x")
    oq = _q(big, "oxigraph", "lookup")
    js = (oq.get("serialised") or {}).get("p50")
    hp = _h(big, "lookup", OURS).get("p50")
    over = None if js is None or hp is None else (hp - js) * 1000
    row(f"HTTP overhead <= 1 ms p50 over pyoxigraph direct (lookup, {lab})", over,
        None if over is None else over <= 1.0, "{:.2f} ms")
    fp = ((big_workers.get("floor") or {}).get("latency") or {}).get("p50")
    row("... the floor server's (gunicorn + Flask + Oxigraph's JSON writer, no code of ours)",
        None if fp is None or js is None else (fp - js) * 1000, None, "{:.2f} ms")
    b = ((big.get("oxigraph") or {}).get("load") or {}).get("seconds")
    r = ((big.get("rdflib") or {}).get("load") or {}).get("seconds")
    ld = r / b if b and r else None
    row(f"load >= 10x rdflib (`ckmkg restore` of N-Quads, {lab})", ld,
        None if ld is None else ld >= 10, "{:.1f}x")
    bl = ((big.get("oxigraph") or {}).get("load") or {}).get("bulk_load_seconds")
    row("... the most an on-disk Oxigraph reaches at all (pyoxigraph `bulk_load`)",
        r / bl if bl and r else None, None, "{:.1f}x")
    y = (big.get("load_yaml") or {}).get("seconds")
    yl = r / y if y and r else None
    row(f"load >= 10x rdflib (YAML path of `ckmkg load`, {lab})", yl,
        None if yl is None else yl >= 10, "{:.1f}x")
    one_m = [s for s in sizes if s["size"] >= 1_000_000]
    if one_m:
        rss = ((one_m[0].get("http") or {}).get("rss_mb") or {}).get(OURS)
        row("1M triples served in <= 1 GB RSS", rss, None if rss is None else rss <= 1024,
            "{:,.0f} MB")
        ed = _median((one_m[0].get("edit") or {}).get("submit_update"))
        row("validated small edit on 1M triples <= 1 s", ed, None if ed is None else ed <= 1,
            "{:.2f} s")
        pr = _median((one_m[0].get("edit") or {}).get("practice"))
        row("validated edit adding a practice (types, links) on 1M triples <= 1 s", pr,
            None if pr is None else pr <= 1, "{:.2f} s")
    else:
        rss = ((big.get("http") or {}).get("rss_mb") or {}).get(OURS)
        row(f"served RSS at {lab} (target: 1M in <= 1 GB; 1M not run)", rss, None,
            "{:,.0f} MB")
        ed = _median((big.get("edit") or {}).get("submit_update"))
        row(f"validated small edit at {lab} (target: 1M in <= 1 s; 1M not run)", ed, None,
            "{:.2f} s")
    final = f"speedup over rdflib on joins: {join:.1f}x" if join else \
        "speedup over rdflib on joins: n/a (the HTTP join did not run on both servers)"
    return rows, final

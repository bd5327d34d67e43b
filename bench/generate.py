"""Synthetic case data for the benchmarks, in the project's case-file format.

Each synthetic case file looks like the real ones in ``data/cases``: a case study citing a
seed paper, a handful of companies (industry, aliases, directly applied styles), their CKM
practices (some of them Table 2-like key areas, some uncertain readings with a note) with
styles, knowledge types, business-model elements, benefits and co-production partners,
and described things (a PSS value network with actors, VN-CKM/VN-SCRM capabilities, the
four knowledge processes, a business-IT alignment, a business model and a linking
mechanism). Files are added until the graph (ontology + cases) reaches the requested
number of triples. The same seed gives byte-identical output.

Besides the YAML files (which load through ``kg_service.cases``), ``--nquads`` writes the
same triples as N-Quads (``cases.nq``, one named graph a case, plus the ontology graph):
the fast path for bulk loaders, built without parsing YAML. ``tests/test_bench.py`` checks
that both paths give the same quads.

Usage::

    python bench/generate.py OUT_DIR --triples 10000 [--seed 7] [--nquads]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

# Vocabulary the generator draws from (local names of ontology/ckm.ttl).
STYLES = ["Prosumerism", "TeamBasedCoLearning", "MutualInnovation", "CommunitiesOfCreation",
          "JointIntellectualProperty"]
KNOWLEDGE = ["KnowledgeAboutCustomer", "KnowledgeFromCustomer", "KnowledgeForCustomer"]
ELEMENTS = ["ValueCreation", "ValueDelivery", "ValueCapture", "ResourcesAndCompetences",
            "Organisation", "ValueProposition"]
PROCESSES = [("creation", "KnowledgeCreation"), ("storage-retrieval", "KnowledgeStorageRetrieval"),
             ("transfer", "KnowledgeTransfer"), ("usage", "KnowledgeUsage")]
PAPERS = {
    "gibbert-2002": ["Table 2", "Table 3 (case examples)", "Box 1", "Box 2",
                     "section 'Prosumerism'", "section 'Mutual Innovation'"],
    "bagheri-2015": ["abstract", "Fig. 1", "section 3"],
    "paquette-2006": ["p. 4", "Fig. 2", "section 'Customer knowledge'"],
    "ple-2010": ["Table 1", "section 'The RCOV framework'", "p. 231"],
    "telecom-2013": ["abstract", "Fig. 2", "section 'A conceptual framework'"],
}
INDUSTRIES = ["cement and aggregates", "telecommunications", "retail", "banking", "insurance",
              "software", "automotive", "consumer electronics", "pharmaceuticals", "logistics",
              "energy", "tourism", "publishing", "furniture", "toys", "apparel", "food",
              "machinery", "healthcare", "education"]
NAME_A = ["Nordic", "Pacific", "Alpine", "Atlas", "Boreal", "Cobalt", "Delta", "Ember",
          "Fjord", "Granite", "Harbor", "Iris", "Juniper", "Kestrel", "Lumen", "Meridian"]
NAME_B = ["Works", "Group", "Systems", "Partners", "Labs", "Holdings", "Networks", "Industries"]
ACTIVITIES = ["online trouble-shooting", "customer forums", "co-design workshops",
              "product testing with lead users", "knowledge-sharing platform",
              "joint development agreements", "review and rating system",
              "customer advisory board", "mass-customisation configurator",
              "user community events", "technical library", "market information service"]
BENEFITS = ["reduced time to solve problems", "higher customer satisfaction",
            "new product ideas from customers", "lower development cost",
            "better demand forecasts", "stronger customer loyalty", "faster time to market",
            "shared intellectual property", "fewer customer claims", "enhanced reputation"]
CITED = ["Thomke & von Hippel (2002)", "Prahalad & Ramaswamy (2000)", "Davenport et al. (2001)",
         "Nonaka & Takeuchi (1995)"]


@dataclass
class Summary:
    """What ``generate`` wrote."""

    files: int
    triples: int  # ontology + case triples (the loaded graph, before inference)
    case_triples: int
    seconds: float
    nquads: Path | None

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "triples": self.triples, "case_triples": self.case_triples,
                "seconds": round(self.seconds, 3),
                "nquads": str(self.nquads) if self.nquads else None}


def _source(rng: random.Random, paper: str | None = None) -> dict[str, str]:
    paper = paper or rng.choice(list(PAPERS))
    return {"paper": paper, "locator": rng.choice(PAPERS[paper])}


def make_case(rng: random.Random, index: int, previous_company: str | None) -> dict[str, Any]:
    """One synthetic case file as a dict in the case-file format (see data/cases/README.md)."""
    tag = f"s{index:05d}"
    paper = rng.choice(list(PAPERS))
    case: dict[str, Any] = {
        "slug": f"synthetic-{index:05d}",
        "label": f"Synthetic case {index}: customer knowledge management in a "
                 f"{rng.choice(INDUSTRIES)} network",
        "description": "A generated case study shaped like the papers' cases: companies, "
                       "their CKM practices and the value network they form.",
        "source": _source(rng, paper),
    }
    if previous_company:
        case["about"] = [previous_company]
    companies = []
    for j in range(rng.randint(5, 10)):
        comp: dict[str, Any] = {
            "slug": f"{tag}-c{j}",
            "label": f"{rng.choice(NAME_A)} {rng.choice(NAME_B)} {index}-{j}",
            "industry": rng.choice(INDUSTRIES),
            "description": "A generated company that manages knowledge with its customers.",
            "source": _source(rng, paper),
        }
        if rng.random() < 0.3:
            comp["also_known_as"] = [f"{comp['label'].split()[0][:3].upper()}{index}{j}"]
        if rng.random() < 0.4:
            comp["applies_styles"] = rng.sample(STYLES, rng.randint(1, 2))
        companies.append(comp)
    slugs = [c["slug"] for c in companies]
    practices = []
    n = 0
    for comp in companies:
        for _ in range(rng.randint(3, 9)):
            activity = rng.choice(ACTIVITIES)
            pr: dict[str, Any] = {
                "slug": f"{tag}-p{n}",
                "label": f"{activity.capitalize()} at {comp['label']}",
                "company": comp["slug"],
                "styles": rng.sample(STYLES, rng.choice((1, 1, 1, 2))),
                "description": f"The company runs {activity} with its customers.",
                "benefits": rng.sample(BENEFITS, rng.randint(1, 3)),
                "knowledge": rng.sample(KNOWLEDGE, rng.randint(1, 2)),
                "supports": rng.sample(ELEMENTS, rng.randint(1, 2)),
                "source": _source(rng, paper),
            }
            if rng.random() < 0.25:
                pr["type"] = "KeyArea"
            if rng.random() < 0.3:
                others = [s for s in slugs if s != comp["slug"]]
                pr["co_produces_with"] = rng.sample(others, 1)
            if rng.random() < 0.1:
                pr["cited_after"] = rng.choice(CITED)
            if rng.random() < 0.15:
                pr["uncertain"] = True
                pr["note"] = "The style is this graph's reading of the case, not stated."
            practices.append(pr)
            n += 1
    src = _source(rng, "bagheri-2015")
    things: list[dict[str, Any]] = [
        {"id": f"pss/{tag}-pss", "type": "ProductServiceSystem",
         "label": f"Product-service system of case {index}", "source": src},
        {"id": f"network/{tag}-vn", "type": "ValueNetwork",
         "label": f"Value network of case {index}",
         "links": {"hasActor": [f"actor/{tag}-firm", f"actor/{tag}-customer"],
                   "offers": f"pss/{tag}-pss",
                   "hasCapability": [f"capability/{tag}-vn-ckm", f"capability/{tag}-vn-scrm"]},
         "source": src},
        {"id": f"actor/{tag}-firm", "type": "NetworkActor",
         "label": f"Firm of value network {index}", "source": src},
        {"id": f"actor/{tag}-customer", "type": ["NetworkActor", "Customer"],
         "label": f"Customer of value network {index}", "source": src},
        {"id": f"capability/{tag}-vn-ckm", "type": "VNCKMCapability",
         "label": f"VN-CKM capability {index}",
         "links": {"hasProcess": [f"process/{tag}-{p}" for p, _ in PROCESSES]}, "source": src},
        {"id": f"capability/{tag}-vn-scrm", "type": "VNSCRMCapability",
         "label": f"VN-SCRM capability {index}",
         "links": {"supports": f"capability/{tag}-vn-ckm",
                   "enablesProcess": [f"process/{tag}-{p}" for p, _ in PROCESSES]},
         "source": src},
        {"id": f"alignment/{tag}-bia", "type": "BusinessITAlignment",
         "label": f"Business-IT alignment {index}",
         "links": {"alignsBusinessCapability": f"capability/{tag}-vn-ckm",
                   "alignsITCapability": f"capability/{tag}-vn-scrm",
                   "level": rng.choice(["strategic", "operational"])},
         "source": src},
    ]
    things += [{"id": f"process/{tag}-{p}", "type": cls,
                "label": f"Customer knowledge {p.replace('-', '/')} in network {index}",
                "source": src} for p, cls in PROCESSES]
    things += [
        {"id": f"model/{tag}-bm", "type": "BusinessModel",
         "label": f"Business model of case {index}",
         "links": {"hasComponent": [f"ckm:{e}" for e in ELEMENTS[:3]]},
         "source": _source(rng, "telecom-2013")},
        {"id": f"mechanism/{tag}-link", "type": "LinkingMechanism",
         "label": f"Customer knowledge contributes to value creation ({index})",
         "links": {"linksKnowledge": f"ckm:{rng.choice(KNOWLEDGE)}",
                   "contributesTo": f"ckm:{rng.choice(ELEMENTS[:3])}"},
         "source": _source(rng, "telecom-2013")},
    ]
    return {"case": case, "companies": companies, "practices": practices, "things": things}


# --- the same content as N-Quads (mirrors kg_service.case_graph.CaseBuilder) -------------

CKM_NS = "https://w3id.org/ckm/ontology#"
ID_NS = "https://w3id.org/ckm/id/"
RDF_TYPE = "<http://www.w3.org/1999/02/22-rdf-syntax-ns#type>"
P = {
    "label": "<http://www.w3.org/2000/01/rdf-schema#label>",
    "source": "<http://purl.org/dc/terms/source>",
    "altLabel": "<http://www.w3.org/2004/02/skos/core#altLabel>",
}
XSD_BOOLEAN = "<http://www.w3.org/2001/XMLSchema#boolean>"


def _ckm(name: str) -> str:
    return f"<{CKM_NS}{name}>"


def _id(ref: str) -> str:
    return f"<{ID_NS}{ref}>"


def _lit(text: str) -> str:
    esc = (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
           .replace("\r", "\\r"))
    return f'"{esc}"'


class QuadWriter:
    """Turns case dicts into N-Quads lines, the way ``kg_service.cases`` builds graphs."""

    def __init__(self) -> None:
        from kg_service.cases import vocabulary
        from kg_service.namespaces import CKM, ORG

        self.vocab = vocabulary()
        self._closure: dict[tuple[str, ...], list[str]] = {}
        self._ckm, self._org = CKM, ORG
        self.object_props = {str(p)[len(CKM_NS):] for p in self.vocab.object_props}

    def types(self, names: tuple[str, ...]) -> list[str]:
        """The rdf:type objects for ckm class names (with their superclasses)."""
        if names not in self._closure:
            iris = [self._org.Organization if n == "org:Organization" else self._ckm[n]
                    for n in names]
            self._closure[names] = sorted(f"<{t}>" for t in self.vocab.closure(iris))
        return self._closure[names]

    def quads(self, data: dict[str, Any]) -> Iterator[str]:
        """N-Quads lines of one case dict."""
        case = data["case"]
        g = _id("case/" + case["slug"])
        c = g

        def out(s: str, p: str, o: str) -> str:
            return f"{s} {p} {o} {g} .\n"

        def common(s: str, item: dict[str, Any]) -> Iterator[str]:
            yield out(s, P["label"], _lit(item["label"]))
            for key, prop in (("description", "description"), ("quote", "quote"),
                              ("note", "readingNote"), ("cited_after", "citedAfter")):
                if key in item:
                    yield out(s, _ckm(prop), _lit(item[key]))
            if "uncertain" in item:
                yield out(s, _ckm("uncertainReading"),
                          f'"{str(bool(item["uncertain"])).lower()}"^^{XSD_BOOLEAN}')
            src = item["source"]
            for cite in src if isinstance(src, list) else [src]:
                yield out(s, P["source"], _id("paper/" + cite["paper"]))
                yield out(s, _ckm("sourceLocator"), _lit(cite["locator"]))

        for t in self.types(("CaseStudy",)):
            yield out(c, RDF_TYPE, t)
        yield from common(c, case)
        for slug in case.get("about", []):
            yield out(c, _ckm("aboutCompany"), _id("company/" + slug))
        for comp in data.get("companies", []):
            s = _id("company/" + comp["slug"])
            for t in self.types(("Company", "org:Organization")):
                yield out(s, RDF_TYPE, t)
            yield from common(s, comp)
            yield out(c, _ckm("aboutCompany"), s)
            if "industry" in comp:
                yield out(s, _ckm("industry"), _lit(comp["industry"]))
            for alias in comp.get("also_known_as", []):
                yield out(s, P["altLabel"], _lit(alias))
            for name in comp.get("applies_styles", []):
                yield out(s, _ckm("appliesStyle"), _ckm(name))
        for pr in data.get("practices", []):
            s = _id("practice/" + pr["slug"])
            for t in self.types((pr.get("type", "CKMPractice"),)):
                yield out(s, RDF_TYPE, t)
            yield from common(s, pr)
            yield out(c, _ckm("hasPractice"), s)
            yield out(s, _ckm("practicedBy"), _id("company/" + pr["company"]))
            for key, prop in (("styles", "exhibitsStyle"), ("knowledge", "involvesKnowledge"),
                              ("supports", "supportsElement")):
                for name in pr.get(key, []):
                    yield out(s, _ckm(prop), _ckm(name))
            for b in pr.get("benefits", []):
                yield out(s, _ckm("benefit"), _lit(b))
            for slug in pr.get("co_produces_with", []):
                yield out(s, _ckm("coProducesWith"), _id("company/" + slug))
        for th in data.get("things", []):
            s = _id(th["id"])
            names = th["type"] if isinstance(th["type"], list) else [th["type"]]
            for t in self.types(tuple(names)):
                yield out(s, RDF_TYPE, t)
            yield from common(s, th)
            yield out(c, _ckm("describes"), s)
            for name, value in th.get("links", {}).items():
                for v in value if isinstance(value, list) else [value]:
                    if name in self.object_props:
                        o = _ckm(v[4:]) if v.startswith("ckm:") else _id(v)
                    else:
                        o = _lit(v)
                    yield out(s, _ckm(name), o)


def ontology_nquads() -> bytes:
    """The bundled ontology as N-Quads in its graph (what ``ckmkg load`` stores)."""
    import pyoxigraph as ox

    from kg_service.cases import bundled_paths
    from kg_service.namespaces import ONTOLOGY_GRAPH

    quads = ox.parse(path=str(bundled_paths().ontology), format=ox.RdfFormat.TURTLE)
    graph = ox.NamedNode(ONTOLOGY_GRAPH)
    return ox.serialize((ox.Quad(q.subject, q.predicate, q.object, graph) for q in quads),
                        format=ox.RdfFormat.N_QUADS)


def _dump_yaml(data: dict[str, Any], fh: Any) -> None:
    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    yaml.dump(data, fh, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)


def generate(out_dir: str | Path, triples: int, seed: int = 7, nquads: bool = False
             ) -> Summary:
    """Write synthetic case files into ``out_dir`` until ontology + cases hold ``triples``.

    Existing ``synthetic-*.yaml`` files there are removed first. With ``nquads`` also
    write ``out_dir/cases.nq`` (ontology graph + one graph a case). Returns a Summary.
    Raises OSError when the directory cannot be written.
    """
    from kg_service.cases import vocabulary

    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("synthetic-*.yaml"):
        old.unlink()
    rng = random.Random(seed)
    writer = QuadWriter()
    ontology_triples = len(vocabulary().graph)
    nq_path = out / "cases.nq" if nquads else None
    nq = open(nq_path, "wb") if nq_path else None  # noqa: SIM115 (closed below)
    try:
        if nq:
            nq.write(ontology_nquads())
        total, index, previous = ontology_triples, 0, None
        while total < triples:
            data = make_case(rng, index, previous)
            lines = list(writer.quads(data))
            total += len(lines)
            with open(out / f"{data['case']['slug']}.yaml", "w", encoding="utf-8") as fh:
                fh.write(f"# Synthetic case {index} (bench/generate.py, seed {seed}); "
                         "not from a paper.\n")
                _dump_yaml(data, fh)
            if nq:
                nq.write("".join(lines).encode("utf-8"))
            previous = data["companies"][0]["slug"]
            index += 1
    finally:
        if nq:
            nq.close()
    return Summary(index, total, total - ontology_triples, time.perf_counter() - started,
                   nq_path)


def main(argv: list[str] | None = None) -> int:
    """Command line: ``generate.py OUT_DIR --triples N [--seed S] [--nquads]``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("--triples", type=int, default=10_000,
                    help="target size of ontology + cases (default 10000)")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--nquads", action="store_true",
                    help="also write the same triples as N-Quads (cases.nq)")
    args = ap.parse_args(argv)
    summary = generate(args.out_dir, args.triples, args.seed, args.nquads)
    print(json.dumps(summary.to_json()))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())

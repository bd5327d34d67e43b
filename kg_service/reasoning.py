"""OWL reasoning: HermiT (the jar owlready2 ships) for consistency, owlrl for materialisation.

``check_consistency`` runs the real HermiT reasoner (the jar owlready2 ships) in this process's
warm JVM (``hermit_server``), or on its command line when that cannot start; the answer is the
same. It never passes silently: when Java or HermiT cannot run it raises ReasonerFailed.
``materialise_owl_rl`` computes the OWL 2 RL closure with owlrl and returns only the new,
non-trivial triples (what the ``https://w3id.org/ckm/inferred`` graph holds).
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field

import rdflib
from rdflib import OWL, RDF, RDFS, XSD, BNode, Literal, URIRef

from kg_service import hermit_server
from kg_service.errors import ReasonerFailed

_LOCK = threading.Lock()  # owlready2 keeps module-level state: one World user at a time

#: Namespaces whose terms are the modelling language itself, not the domain.
_BUILTIN = (str(RDF), str(RDFS), str(OWL), str(XSD))


@dataclass
class ReasonerReport:
    """What HermiT said about a graph.

    ``consistent`` is False when the ABox/TBox has no model; ``unsatisfiable`` lists the IRIs
    of named classes that can have no instance (the ontology is then incoherent even if
    consistent); ``explanation`` says why in words.
    """

    consistent: bool
    unsatisfiable: list[str] = field(default_factory=list)
    explanation: str = ""
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Consistent and every named class satisfiable."""
        return self.consistent and not self.unsatisfiable

    def as_dict(self) -> dict[str, object]:
        return {"consistent": self.consistent, "unsatisfiable": self.unsatisfiable,
                "explanation": self.explanation, "seconds": round(self.seconds, 3), "ok": self.ok}


def _owl_rl_errors(graph: rdflib.Graph) -> list[str]:
    """Clashes OWL RL finds by itself (disjointness, differentFrom...), for explanations."""
    try:
        from owlrl.Namespaces import ERRNS

        g = rdflib.Graph()
        for t in graph:
            g.add(t)
        closure = _closure(g)
        return sorted(str(o) for m in closure.subjects(RDF.type, ERRNS.ErrorMessage)
                      for o in closure.objects(m, ERRNS.error))
    except Exception:  # noqa: BLE001 (only an aid to the explanation)
        return []


#: Seconds a commit's HermiT check may take before it is stopped (ReasonerFailed); the
#: neighbourhood of a commit takes well under a second.
COMMIT_TIMEOUT = 120.0


def _key() -> hermit_server.Key:
    """The JVM, heap and class path HermiT runs with (owlready2's, as its own reasoner)."""
    import owlready2
    from owlready2.reasoning import _HERMIT_CLASSPATH

    return (owlready2.JAVA_EXE, int(getattr(owlready2.reasoning, "JAVA_MEMORY", 2000)),
            _HERMIT_CLASSPATH)


def _hermit_cli(key: hermit_server.Key, path: str,
                timeout: float | None) -> hermit_server.Answer:
    """HermiT's command line (the jar owlready2 ships) asked for the unsatisfiable classes
    (``-U``: the classes equivalent to owl:Nothing; it checks consistency first), in a new
    JVM. owlready2's ``sync_reasoner`` also classifies properties and realises every
    individual and loads the graph into its own store, which cost 3-5x more on a commit's
    neighbourhood and tells nothing more. Raises ReasonerFailed when it cannot run, fails or
    runs past ``timeout`` seconds (None: no limit)."""
    java, memory, classpath = key
    try:
        run = subprocess.run([java, f"-Xmx{memory}M", "-cp", classpath,
                              "org.semanticweb.HermiT.cli.CommandLine", "-U", f"file://{path}"],
                             capture_output=True, check=False, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ReasonerFailed(f"HermiT did not finish within {timeout:g} s; it was "
                             "stopped") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise ReasonerFailed(f"HermiT could not run: {exc}") from exc
    output = (run.stdout + run.stderr).decode("utf-8", "replace")
    if run.returncode != 0:
        if "InconsistentOntologyException" not in output:
            raise ReasonerFailed(f"HermiT failed: {output.strip()[-1000:]}")
        return hermit_server.Answer(False, [])
    if "Classes equivalent to" not in output:  # it prints why on stderr and exits with 0
        raise ReasonerFailed(f"HermiT failed: {output.strip()[-1000:]}")
    return hermit_server.Answer(True, [line for line in output.splitlines()
                                       if line.startswith("\t")])


def _hermit(path: str, timeout: float | None) -> hermit_server.Answer:
    """HermiT's -U answer for the file: from this process's warm JVM (``hermit_server``),
    or from the command line when that cannot start. Raises ReasonerFailed."""
    key = _key()
    answer = hermit_server.ask(key, path, timeout)
    return answer if answer is not None else _hermit_cli(key, path, timeout)


def check_consistency(graph: rdflib.Graph, timeout: float | None = None) -> ReasonerReport:
    """Run HermiT on ``graph`` (ontology plus any data) and report.

    Returns a ReasonerReport (consistent=False for an inconsistent ontology or ABox; the
    IRIs of unsatisfiable classes otherwise). Raises ReasonerFailed when Java/HermiT fails
    to run or cannot read the graph, or takes longer than ``timeout`` seconds (None, the
    default: no limit, as for ``ckmkg validate`` on all data).
    """
    start = time.monotonic()
    fd, path = tempfile.mkstemp(suffix=".nt", prefix="ckm-reason-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(graph.serialize(format="nt", encoding="utf-8"))
        answer = _hermit(path, timeout)
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
    if not answer.consistent:
        clashes = _owl_rl_errors(graph)
        detail = "HermiT: the ontology and data are inconsistent (no model satisfies them)."
        if clashes:
            detail += " OWL RL finds: " + " | ".join(clashes[:10])
        return ReasonerReport(False, [], detail, time.monotonic() - start)
    unsat = sorted({line.strip()[1:-1] for line in answer.lines
                    if line.startswith("\t<") and line.strip().endswith(">")}
                   - {str(OWL.Nothing)})
    if unsat:
        explanation = "Unsatisfiable classes (they can have no instance): " + ", ".join(unsat)
    else:
        explanation = "Consistent; every named class is satisfiable (HermiT)."
    return ReasonerReport(True, unsat, explanation, time.monotonic() - start)


# --- OWL RL -----------------------------------------------------------------------------

def _closure(graph: rdflib.Graph) -> rdflib.Graph:
    import owlrl

    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(graph)
    return graph


#: Memberships the closure derives for everything and ``_trivial`` drops.
NOISE_CLASSES = (OWL.Thing, RDFS.Resource, RDFS.Class, OWL.Class, RDF.Property,
                 RDFS.Datatype, OWL.NamedIndividual)


def _trivial(s: object, p: object, o: object) -> bool:
    """Axiomatic noise of the closure: statements about the modelling vocabulary itself,
    literal subjects, blank nodes, reflexive sameAs/subClassOf/equivalence, owl:Thing
    memberships."""
    if isinstance(s, (Literal, BNode)) or isinstance(p, BNode) or isinstance(o, BNode):
        return True  # blank nodes: the ontology's own axiom structures
    if isinstance(s, URIRef) and str(s).startswith(_BUILTIN):
        return True
    if p in (OWL.sameAs, RDFS.subClassOf, RDFS.subPropertyOf, OWL.equivalentClass,
             OWL.equivalentProperty) and s == o:
        return True
    if p == RDF.type and o in NOISE_CLASSES:
        return True
    if p in (RDFS.subClassOf, RDFS.domain, RDFS.range) and o in (OWL.Thing, RDFS.Resource):
        return True
    if p == OWL.differentFrom or (p == RDF.type and isinstance(o, URIRef)
                                  and str(o).startswith(str(RDF) + "_")):
        return True
    if isinstance(o, Literal) and p == RDF.type:
        return True
    return isinstance(o, URIRef) and p == RDF.type and str(o).startswith(str(XSD))


def materialise_owl_rl(graph: rdflib.Graph) -> rdflib.Graph:
    """The new triples of the OWL 2 RL closure of ``graph`` (ontology plus data).

    Returns only triples not already in ``graph``, without axiomatic noise (statements
    about rdf:/rdfs:/owl:/xsd: terms, literal subjects, reflexive x owl:sameAs x,
    owl:Thing memberships, pairwise owl:differentFrom from owl:AllDifferent). Inferred
    ckm:appliesStyle (property chain), inherited types and inverse/symmetric links appear.
    Raises nothing of its own; owlrl errors propagate.
    """
    from owlrl.Namespaces import ERRNS

    work = rdflib.Graph()
    for t in graph:
        work.add(t)
    _closure(work)
    errors = set(work.subjects(RDF.type, ERRNS.ErrorMessage))
    out = rdflib.Graph()
    for prefix, ns in graph.namespaces():
        out.bind(prefix, ns, override=False)
    for s, p, o in work:
        if (s, p, o) in graph or s in errors or _trivial(s, p, o):
            continue
        out.add((s, p, o))
    return out

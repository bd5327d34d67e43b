"""A warm HermiT: one long-lived JVM per process that answers ``-U`` for one file at a time.

HermiT's command line (``org.semanticweb.HermiT.cli.CommandLine -U``) spends ~1.2 s of a
commit's ~1.3 s starting Java and loading/JIT-compiling HermiT and the OWL API; a warm JVM
answers the same question on a commit's neighbourhood in ~0.1-0.3 s. The Java main below
(compiled once with javac, cached under ``$XDG_CACHE_HOME/ckm-kg``) reads a file path per
line on stdin and does what ``-U`` does: load the file with a fresh OWL API manager, build a
HermiT ``Reasoner`` with the default ``Configuration`` and print the classes equivalent to
owl:Nothing, abbreviated as the command line abbreviates them. It answers ``consistent``
(then one ``\\t<class>`` line each), ``inconsistent`` or ``error <message>``, then ``end``.

``ask`` returns None when the server cannot be had (no javac, compile or start failure):
the caller then runs the command line, as before. The server belongs to the process that
started it: a forked child (gunicorn worker) starts its own, the parent's ends with the
parent (``atexit``; or at end of file on its stdin when the parent dies). It is restarted
when it has died, and killed when a request runs past its timeout.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import select
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from kg_service.disk_cache import cache_dir
from kg_service.errors import ReasonerFailed

_CLASS = "CkmHermitServer"
_SOURCE = """\
import java.io.BufferedReader;
import java.io.File;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.semanticweb.HermiT.Configuration;
import org.semanticweb.HermiT.Prefixes;
import org.semanticweb.HermiT.Reasoner;
import org.semanticweb.owlapi.apibinding.OWLManager;
import org.semanticweb.owlapi.model.IRI;
import org.semanticweb.owlapi.model.OWLClass;
import org.semanticweb.owlapi.model.OWLOntology;
import org.semanticweb.owlapi.model.OWLOntologyManager;
import org.semanticweb.owlapi.reasoner.InconsistentOntologyException;

/** HermiT's -U (the classes equivalent to owl:Nothing) for one file per line of stdin. */
public class CkmHermitServer {
    public static void main(String[] args) throws Exception {
        PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), false,
                                          "UTF-8");
        System.setOut(System.err);  // nothing HermiT prints can break the protocol
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in,
                                                                     StandardCharsets.UTF_8));
        out.println("ready");
        out.flush();
        String path;
        while ((path = in.readLine()) != null) {
            boolean fatal = false;
            try {
                OWLOntologyManager manager = OWLManager.createOWLOntologyManager();
                OWLOntology ontology = manager.loadOntology(IRI.create(new File(path)));
                Reasoner hermit = new Reasoner(new Configuration(), ontology);
                try {
                    Prefixes prefixes = hermit.getPrefixes();
                    OWLClass nothing = manager.getOWLDataFactory().getOWLNothing();
                    StringBuilder lines = new StringBuilder("consistent\\n");
                    for (OWLClass c : hermit.getEquivalentClasses(nothing))
                        lines.append('\\t').append(prefixes.abbreviateIRI(c.getIRI().toString()))
                             .append('\\n');
                    out.print(lines);
                } finally {
                    hermit.dispose();
                }
            } catch (InconsistentOntologyException e) {
                out.println("inconsistent");
            } catch (Throwable e) {
                fatal = e instanceof Error;  // out of memory, stack overflow: start afresh
                out.println("error " + String.valueOf(e).replace('\\n', ' ').replace('\\r', ' '));
            }
            out.println("end");
            out.flush();
            if (fatal) System.exit(1);
        }
    }
}
"""
_START_TIMEOUT = 60.0
#: The client compiler only and the serial collector: on a commit's neighbourhood the first
#: requests answer in about half the time (1.3 s, then ~0.15 s, against 2.4 s, then
#: 0.25-0.4 s with the default C2 and G1), and no compiler or GC threads compete with
#: Python for the cores. Flags of the JVM, not of HermiT: the answers are the same.
_JVM_FLAGS = ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
Key = tuple[str, int, str]  # java, -Xmx megabytes, class path


class ServerDied(Exception):
    """The JVM ended (or closed its output) in the middle of a request."""


@dataclass(frozen=True)
class Answer:
    """HermiT's answer: ``consistent`` and the lines it printed for owl:Nothing's
    equivalents (``\\t<iri>`` or ``\\towl:Nothing``, as the command line prints them)."""

    consistent: bool
    lines: list[str]


def _javac(java: str) -> str | None:
    """The javac next to ``java`` (the same JDK), else the one on PATH."""
    found = shutil.which(java)
    if found is None:
        return None  # no JVM to run it either
    sibling = Path(os.path.realpath(found)).parent / "javac"
    return str(sibling) if sibling.exists() else shutil.which("javac")


def compiled(java: str, classpath: str) -> Path:
    """The directory holding the compiled server class, compiling it on first use.

    Raises OSError or subprocess.SubprocessError when javac is missing or fails.
    """
    key = hashlib.sha256(f"{_SOURCE}\0{classpath}\0{java}".encode()).hexdigest()[:16]
    target = cache_dir() / f"hermit-server-{key}"
    if (target / f"{_CLASS}.class").exists():
        return target
    javac = _javac(java)
    if javac is None:
        raise FileNotFoundError("javac (a JDK) is needed to compile the warm HermiT")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="hermit-server-", dir=target.parent))
    try:
        (work / f"{_CLASS}.java").write_text(_SOURCE)
        # an empty -sourcepath: else javac compiles the Reasoner.java next to owlready2's jar
        subprocess.run([javac, "-nowarn", "-implicit:none", "-sourcepath", "", "-cp",
                        classpath, "-d", str(work), str(work / f"{_CLASS}.java")],
                       capture_output=True, check=True, timeout=300)
        try:
            os.rename(work, target)  # atomic; another process may have won the race
        except OSError:
            if not (target / f"{_CLASS}.class").exists():
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target


class HermitServer:
    """One JVM running the server class; used by one thread at a time (the caller locks)."""

    def __init__(self, key: Key) -> None:
        java, memory, classpath = key
        classes = compiled(java, classpath)
        self.key = key
        self.owner = os.getpid()
        self.proc = subprocess.Popen(
            [java, f"-Xmx{memory}M", *_JVM_FLAGS, "-cp", f"{classes}{os.pathsep}{classpath}",
             _CLASS],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            bufsize=0)
        try:
            if self._read(time.monotonic() + _START_TIMEOUT, b"ready\n") != b"ready\n":
                raise ServerDied("the warm HermiT did not start")
        except BaseException:
            self.kill()
            raise

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def _read(self, deadline: float | None, end: bytes) -> bytes:
        """Bytes from the server up to and including ``end`` (at a line start). Raises
        TimeoutError past ``deadline`` (None: no limit), ServerDied at end of file."""
        assert self.proc.stdout is not None
        fd, buf = self.proc.stdout.fileno(), b""
        while not (buf == end or buf.endswith(b"\n" + end)):
            left = None if deadline is None else deadline - time.monotonic()
            if (left is not None and left <= 0) or not select.select([fd], [], [], left)[0]:
                raise TimeoutError
            chunk = os.read(fd, 65536)
            if not chunk:
                raise ServerDied("the warm HermiT ended")
            buf += chunk
        return buf

    def ask(self, path: str, timeout: float | None) -> Answer:
        """HermiT's -U answer for the file at ``path`` (``timeout`` None: no limit).

        Raises ServerDied, TimeoutError (the server is then killed) and ReasonerFailed
        (HermiT could not read or reason over the file).
        """
        assert self.proc.stdin is not None and "\n" not in path
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            self.proc.stdin.write(path.encode() + b"\n")
            self.proc.stdin.flush()
            lines = self._read(deadline, b"end\n").decode("utf-8", "replace").splitlines()
        except TimeoutError:
            self.kill()
            raise
        except (BrokenPipeError, ServerDied) as exc:
            self.kill()
            raise ServerDied(str(exc)) from exc
        head = lines[0] if lines else ""
        if head.startswith("error"):
            raise ReasonerFailed(f"HermiT failed: {head[6:][-1000:]}")
        if head not in ("consistent", "inconsistent"):
            raise ReasonerFailed(f"HermiT answered {head[:200]!r}")
        return Answer(head == "consistent", lines[1:-1])

    def kill(self) -> None:
        """End the JVM now."""
        self.proc.kill()
        self.proc.wait()
        self._close_pipes()

    def close(self, grace: float = 2.0) -> None:
        """End of file on its stdin (it exits), then kill it if it has not within ``grace``."""
        self._close_pipes()
        try:
            self.proc.wait(grace)
        except subprocess.TimeoutExpired:
            self.kill()

    def _close_pipes(self) -> None:
        for pipe in (self.proc.stdin, self.proc.stdout):
            if pipe is not None and not pipe.closed:
                with contextlib.suppress(OSError):
                    pipe.close()


_lock = threading.Lock()
_server: HermitServer | None = None
_broken: set[Key] = set()  # keys whose server would not compile or start: use the CLI


def _forget_after_fork() -> None:
    """In a forked child: drop the parent's server without touching the process (closing
    the inherited pipe ends only, so the JVM still ends when the parent does)."""
    global _lock, _server
    _lock = threading.Lock()
    if _server is not None:
        _server._close_pipes()
        _server = None


def shutdown() -> None:
    """End this process's server (if it started one); killed at once if a request still
    holds it after 5 s (exit never waits on HermiT)."""
    global _server
    locked = _lock.acquire(timeout=5)
    try:
        server, _server = _server, None
        if server is not None and server.owner == os.getpid():
            if locked:
                server.close()
            else:
                server.proc.kill()  # its pipes stay with the thread reading them
    finally:
        if locked:
            _lock.release()


os.register_at_fork(after_in_child=_forget_after_fork)
atexit.register(shutdown)


def ask(key: Key, path: str, timeout: float | None) -> Answer | None:
    """HermiT's answer for the file at ``path`` from this process's warm server, starting
    (or restarting) it as needed; None when no server can run for ``key`` (the caller then
    uses the command line).

    Raises ReasonerFailed when HermiT cannot read or reason over the file, dies on it
    twice, or runs past ``timeout`` seconds if given (the server is then stopped; the next
    request starts another).
    """
    global _server
    with _lock:
        if _server is not None and _server.owner != os.getpid():
            _server._close_pipes()  # a fork without the hook: never use the parent's JVM
            _server = None
        for attempt in (1, 2):
            if _server is not None and (_server.key != key or not _server.alive):
                _server.close(0.0)
                _server = None
            if _server is None:
                if key in _broken:
                    return None
                try:
                    _server = HermitServer(key)
                except (OSError, subprocess.SubprocessError, ServerDied, TimeoutError):
                    _broken.add(key)
                    return None
            try:
                return _server.ask(path, timeout)
            except TimeoutError:
                _server = None
                raise ReasonerFailed(f"HermiT did not finish within {timeout:g} s; it was "
                                     "stopped (the next check starts it afresh)") from None
            except ServerDied as exc:
                _server = None
                if attempt == 2:
                    raise ReasonerFailed(f"HermiT ended while reasoning: {exc}") from exc
    return None

// The SPARQL editor page: CodeMirror (vendored), saved queries, results table, downloads,
// errors at their line and column, cancel with AbortController.
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("query-config").textContent);
  const $ = (id) => document.getElementById(id);
  const el = window.CKM.el;
  const RESULT_MEDIA = {json: "application/sparql-results+json", xml: "application/sparql-results+xml",
                        csv: "text/csv", tsv: "text/tab-separated-values"};
  const GRAPH_MEDIA = {turtle: "text/turtle", ntriples: "application/n-triples",
                       jsonld: "application/ld+json", rdfxml: "application/rdf+xml"};
  const PROBLEM = "application/problem+json;q=0.5";
  const EXT = {json: "srj", xml: "srx", csv: "csv", tsv: "tsv", turtle: "ttl", ntriples: "nt",
               jsonld: "jsonld", rdfxml: "rdf"};
  const DEFAULT = "PREFIX ckm: <https://w3id.org/ckm/ontology#>\nPREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n\n" +
    "# Companies and the CKM styles they apply\nSELECT ?company ?name ?style WHERE {\n  ?company a ckm:Company ;\n" +
    "           rdfs:label ?name ;\n           ckm:appliesStyle ?style .\n}\nORDER BY ?name\n";
  const initial = $("query-text").value.trim() ? $("query-text").value : DEFAULT;
  const editor = window.CKMEditor.create($("editor"), {
    doc: initial, prefixes: config.prefixes, terms: config.terms, onRun: () => run(),
    contentAttributes: {"aria-labelledby": "editor-label", "aria-describedby": "editor-help",
                        "aria-multiline": "true", role: "textbox", id: "query-input"},
  });
  $("prefix-list").textContent = Object.keys(config.prefixes).join(", ");
  let controller = null;
  let current = null; // {kind: "select"|"graph", source: {url} }

  function queryKind(text) {
    const body = text.replace(/#[^\n]*/g, "").replace(/<[^>]*>/g, "<>")
      .replace(/\b(PREFIX|BASE)\b[^\n]*/gi, "");
    const m = body.match(/\b(SELECT|ASK|CONSTRUCT|DESCRIBE)\b/i);
    return m && /CONSTRUCT|DESCRIBE/i.test(m[1]) ? "graph" : "select";
  }
  function pageHref(iri) {
    return iri.startsWith(config.base) ? "/" + iri.slice(config.base.length) : iri;
  }
  function shortIri(iri) {
    for (const [p, ns] of Object.entries(config.prefixes)) {
      if (iri.startsWith(ns) && iri.length > ns.length) return p + ":" + iri.slice(ns.length);
    }
    return iri;
  }
  function setStatus(text) { $("status").textContent = text; }
  function clearError() { $("error").textContent = ""; editor.clearErrors(); }
  function showError(problem) {
    const box = el("div", {class: "error-box", id: "error-message"});
    let where = "";
    if (problem.line) {
      where = `Line ${problem.line}, column ${problem.column || 1}: `;
      editor.closeCompletion();
      editor.markError(problem.line, problem.column || 1, problem.detail || problem.title);
    }
    box.textContent = `${problem.title || "Error"} (${problem.status || ""}). ${where}${problem.detail || ""}`;
    $("error").textContent = "";
    $("error").append(box);
  }

  function cell(term) {
    const td = el("td");
    if (!term) return td;
    if (term.type === "uri") {
      td.append(el("a", {href: pageHref(term.value), title: term.value, text: shortIri(term.value)}));
      td.dataset.sort = shortIri(term.value);
    } else if (term.type === "bnode") {
      td.textContent = "_:" + term.value;
    } else {
      td.append(document.createTextNode(term.value));
      if (term["xml:lang"]) td.append(el("span", {class: "literal-lang", text: " @" + term["xml:lang"]}));
      td.dataset.sort = term.value;
      if (term.datatype && /#(integer|decimal|double|float|int|long)$/.test(term.datatype)) td.dataset.num = term.value;
    }
    return td;
  }
  function renderTable(vars, rows) {
    const table = el("table", {id: "results-table"});
    table.append(el("caption", {class: "visually-hidden", text: "Query results; column headers sort"}));
    const tr = el("tr");
    vars.forEach((v, i) => {
      const th = el("th", {scope: "col", "aria-sort": "none"});
      const b = el("button", {type: "button", text: v});
      b.addEventListener("click", () => sortBy(table, i, th));
      th.append(b); tr.append(th);
    });
    table.append(el("thead", {}, tr));
    const tbody = el("tbody");
    for (const row of rows) {
      const r = el("tr");
      for (const v of vars) r.append(cell(row[v]));
      tbody.append(r);
    }
    table.append(tbody);
    return table;
  }
  function sortBy(table, i, th) {
    const asc = th.getAttribute("aria-sort") !== "ascending";
    table.querySelectorAll("th").forEach((h) => h.setAttribute("aria-sort", "none"));
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    const tbody = table.tBodies[0];
    const key = (tr) => {
      const td = tr.cells[i];
      return td.dataset.num !== undefined ? Number(td.dataset.num) : (td.dataset.sort ?? td.textContent).toLowerCase();
    };
    const rows = Array.from(tbody.rows).sort((a, b) => {
      const x = key(a), y = key(b);
      const c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return asc ? c : -c;
    });
    rows.forEach((r) => tbody.append(r));
    setStatus(`Sorted by ${th.textContent.trim()} (${asc ? "ascending" : "descending"}).`);
  }
  function parseNTriples(text) {
    const rows = [];
    const term = (t) => {
      if (t.startsWith("<")) return {type: "uri", value: t.slice(1, -1)};
      if (t.startsWith("_:")) return {type: "bnode", value: t.slice(2)};
      const m = t.match(/^"((?:[^"\\]|\\.)*)"(?:@([\w-]+)|\^\^<([^>]*)>)?$/);
      if (!m) return {type: "literal", value: t};
      const value = JSON.parse('"' + m[1] + '"');
      return {type: "literal", value, "xml:lang": m[2], datatype: m[3]};
    };
    for (const line of text.split("\n")) {
      const m = line.match(/^(<[^>]*>|_:\S+)\s+(<[^>]*>)\s+(.*?)\s*\.\s*$/);
      if (m) rows.push({subject: term(m[1]), predicate: term(m[2]), object: term(m[3])});
    }
    return rows;
  }

  async function execute(url, init, label) {
    clearError();
    if (controller) controller.abort();
    controller = new AbortController();
    $("cancel").disabled = false; $("run").disabled = true;
    setStatus(`Running ${label}…`);
    const started = performance.now();
    try {
      const resp = await fetch(url, {...init, signal: controller.signal, credentials: "omit"});
      if (!resp.ok) {
        const p = await window.CKM.problem(resp);
        setStatus(`The query failed (${resp.status}).`);
        showError(p);
        return;
      }
      const ms = Math.round(performance.now() - started);
      const serverTime = resp.headers.get("KG-Query-Time");
      const truncated = resp.headers.get("KG-Result-Truncated") === "true";
      const type = resp.headers.get("Content-Type") || "";
      const box = $("results");
      box.textContent = "";
      let count;
      if (type.includes("sparql-results+json")) {
        const data = await resp.json();
        if (typeof data.boolean === "boolean") {
          count = 1;
          box.append(el("p", {class: "ok-box", id: "ask-answer", text: "Answer: " + (data.boolean ? "yes (true)" : "no (false)")}));
        } else {
          const rows = data.results.bindings;
          count = rows.length;
          box.append(renderTable(data.head.vars, rows));
        }
      } else {
        const rows = parseNTriples(await resp.text());
        count = rows.length;
        box.append(renderTable(["subject", "predicate", "object"], rows));
      }
      const secs = serverTime ? `${Math.round(parseFloat(serverTime) * 1000)} ms in the store, ` : "";
      setStatus(`${count} ${count === 1 ? "row" : "rows"} · ${secs}${ms} ms in all` +
                (truncated ? " · cut at the row limit (download for more)" : "") + ".");
      $("status").dataset.rows = String(count);
    } catch (e) {
      if (e.name === "AbortError") setStatus("Cancelled.");
      else { setStatus("The query failed."); showError({title: "Network error", detail: String(e)}); }
    } finally {
      $("cancel").disabled = true; $("run").disabled = false;
      controller = null;
    }
  }

  function run() {
    const text = editor.getValue();
    const kind = queryKind(text);
    current = {kind, saved: null};
    const accept = (kind === "graph" ? GRAPH_MEDIA.ntriples : RESULT_MEDIA.json) + ", " + PROBLEM;
    return execute("/sparql", {method: "POST", body: new URLSearchParams({query: text}),
                              headers: {Accept: accept}}, "the query");
  }
  function runSaved(q) {
    editor.setValue(q.query);
    const kind = queryKind(q.query);
    current = {kind, saved: q};
    const accept = (kind === "graph" ? GRAPH_MEDIA.ntriples : RESULT_MEDIA.json) + ", " + PROBLEM;
    history.replaceState(null, "", "/query?saved=" + encodeURIComponent(q.name));
    return execute(q.url + "?format=" + (kind === "graph" ? "ntriples" : "json"),
                   {headers: {Accept: accept}}, `saved query “${q.title || q.name}”`);
  }

  async function download() {
    const fmt = $("download-format").value;
    const text = editor.getValue();
    const media = RESULT_MEDIA[fmt] || GRAPH_MEDIA[fmt];
    const usingSaved = current && current.saved && current.saved.query === text;
    const url = usingSaved ? current.saved.url + "?format=" + fmt : "/sparql";
    const init = usingSaved ? {headers: {Accept: media + ", " + PROBLEM}}
      : {method: "POST", body: new URLSearchParams({query: text, format: fmt}), headers: {Accept: media + ", " + PROBLEM}};
    clearError();
    setStatus(`Preparing the ${fmt.toUpperCase()} download…`);
    const resp = await fetch(url, {...init, credentials: "omit"});
    if (!resp.ok) { showError(await window.CKM.problem(resp)); setStatus("The download failed."); return; }
    const blob = await resp.blob();
    const a = el("a", {href: URL.createObjectURL(blob), download: `results.${EXT[fmt]}`});
    document.body.append(a); a.click(); a.remove();
    setStatus(`Downloaded results.${EXT[fmt]} (${blob.size} bytes).`);
  }

  async function loadSaved() {
    const list = $("saved");
    try {
      const resp = await fetch("/queries", {headers: {Accept: "application/json"}});
      if (!resp.ok) throw new Error(resp.status);
      const data = await resp.json();
      const items = Array.isArray(data) ? data : data.queries || [];
      list.textContent = "";
      if (!items.length) list.append(el("li", {class: "muted", text: "No saved queries."}));
      for (const q of items) {
        const b = el("button", {type: "button", class: "saved", "data-name": q.name, title: q.description || ""});
        b.append(el("span", {text: q.title || q.name}));
        if (q.description) b.append(el("span", {class: "desc", text: q.description}));
        b.addEventListener("click", () => runSaved(q));
        list.append(el("li", {}, b));
      }
      const wanted = new URLSearchParams(location.search).get("saved");
      const hit = items.find((q) => q.name === wanted);
      if (hit) runSaved(hit);
    } catch (e) {
      list.textContent = "";
      list.append(el("li", {class: "muted", text: "The saved queries could not be loaded."}));
    }
  }

  $("run").addEventListener("click", () => run());
  $("cancel").addEventListener("click", () => { if (controller) controller.abort(); });
  $("download").addEventListener("click", () => download());
  loadSaved();
  window.CKMQuery = {editor, run};
})();

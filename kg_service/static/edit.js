// The edit forms: prefill from an existing thing, check (validate without committing),
// commit; the token goes in the Authorization header (no cookies, so CSRF-safe).
"use strict";
(function () {
  const form = document.getElementById("edit-form");
  const out = document.getElementById("edit-result");
  const el = CKM.el;
  if (CKM.token()) document.getElementById("signin-needed").hidden = true;

  function values() {
    const data = {};
    for (const e of form.querySelectorAll("[name]")) {
      if (e.type === "checkbox") { (data[e.name] = data[e.name] || []); if (e.checked) data[e.name].push(e.value); }
      else data[e.name] = e.value;
    }
    return data;
  }
  function fill(v) {
    for (const e of form.querySelectorAll("[name]")) {
      if (e.name === "kind" || e.name === "iri") continue;
      if (e.type === "checkbox") e.checked = (v[e.name] || []).includes(e.value);
      else if (e.name in v) e.value = v[e.name];
      else if (e.name !== "message") e.value = "";
    }
  }
  const field = (name) => form.querySelector(`[name="${name}"]`);
  const iriSelect = field("iri");
  async function load(iri) {
    if (!iri) { fill({}); return; }
    const resp = await fetch("/edit/values?iri=" + encodeURIComponent(iri));
    if (resp.ok) fill(await resp.json());
  }
  if (iriSelect) {
    iriSelect.addEventListener("change", () => load(iriSelect.value));
    if (form.dataset.iri) { iriSelect.value = form.dataset.iri; load(form.dataset.iri); }
  }
  function problemBox(p) {
    const box = el("div", {class: "error-box", id: "edit-problem"});
    box.append(el("strong", {text: `${p.title || "Error"} (${p.status || ""})`}), el("p", {text: p.detail || ""}));
    const reasons = p.violations || p.reasons || p.errors || p.unsatisfiable;
    if (Array.isArray(reasons) && reasons.length) {
      const ul = el("ul");
      for (const r of reasons) ul.append(el("li", {text: typeof r === "string" ? r :
        [r.message, r.focus && `focus ${r.focus}`, r.path && `path ${r.path}`].filter(Boolean).join(" — ") || JSON.stringify(r)}));
      box.append(ul);
    }
    if (p.field) {
      const f = field(p.field);
      if (f && f.focus) { f.setAttribute("aria-invalid", "true"); f.focus(); }
    }
    return box;
  }
  async function send(url, label) {
    out.textContent = "";
    out.append(el("p", {text: label + "…"}));
    for (const e of form.querySelectorAll("[aria-invalid]")) e.removeAttribute("aria-invalid");
    const resp = await CKM.fetch(url, {method: "POST", body: JSON.stringify(values()),
                                       headers: {"Content-Type": "application/json"}});
    const body = resp.ok ? await resp.json() : await CKM.problem(resp);
    out.textContent = "";
    return {ok: resp.ok, body};
  }
  function planView(plan) {
    return [el("p", {text: `${plan.existing ? "Change" : "New"} ${plan.kind} ${plan.iri} in graph ${plan.graph}: ` +
                          `${plan.removed} triples removed, ${plan.added} added.`}),
            el("pre", {class: "code", id: "edit-update", text: plan.update})];
  }
  document.getElementById("check").addEventListener("click", async () => {
    const r = await send("/edit/preview", "Checking");
    if (!r.ok) { out.append(problemBox(r.body)); return; }
    out.append(el("p", {class: "ok-box", id: "edit-valid",
      text: r.body.plan.added || r.body.plan.removed ? "Valid: the shapes and the reasoner accept this change. Nothing is committed yet."
                                                    : "Nothing would change."}), ...planView(r.body.plan));
  });
  document.getElementById("commit").addEventListener("click", async () => {
    const r = await send("/edit/commit", "Committing");
    if (!r.ok) { out.append(problemBox(r.body)); return; }
    const ch = r.body.change;
    out.append(el("p", {class: "ok-box", id: "edit-committed",
      text: `Committed as change ${ch.id}: ${ch.added} added, ${ch.removed} removed.`}), ...planView(r.body.plan),
      el("p", {}, el("a", {href: "/browse?iri=" + encodeURIComponent(r.body.plan.iri), text: "See it"}),
         document.createTextNode(" · "), el("a", {href: "/history", text: "History (revert)"})));
  });
})();

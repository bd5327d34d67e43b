// Shared by every page: the signed-in state (a bearer token in this tab's sessionStorage,
// never a cookie) and fetch with the Authorization header.
"use strict";
(function () {
  const KEY = "ckm-token";
  const CKM = window.CKM = {
    token() { return sessionStorage.getItem(KEY); },
    setToken(t) { sessionStorage.setItem(KEY, t); },
    signOut() { sessionStorage.removeItem(KEY); sessionStorage.removeItem(KEY + "-who"); },
    who() { try { return JSON.parse(sessionStorage.getItem(KEY + "-who")); } catch (e) { return null; } },
    setWho(w) { sessionStorage.setItem(KEY + "-who", JSON.stringify(w)); },
    // fetch with the bearer token (when signed in); no cookies are sent.
    fetch(url, opts = {}) {
      const headers = new Headers(opts.headers || {});
      const t = CKM.token();
      if (t) headers.set("Authorization", "Bearer " + t);
      return fetch(url, {...opts, headers, credentials: "omit"});
    },
    // The problem+json body of a failed response (or a plain-text stand-in).
    async problem(resp) {
      const text = await resp.text();
      try { return JSON.parse(text); } catch (e) { /* plain-text problem: "key: value" lines */ }
      const lines = text.split("\n");
      const out = {status: resp.status, title: (lines[0] || resp.statusText).replace(/^\d+\s*/, ""), detail: lines.slice(2).filter((l) => !/^(line|column): /.test(l)).join("\n")};
      for (const l of lines) { const m = l.match(/^(line|column): (\d+)$/); if (m) out[m[1]] = Number(m[2]); }
      return out;
    },
    el(tag, attrs = {}, ...children) {
      const e = document.createElement(tag);
      for (const [k, v] of Object.entries(attrs)) {
        if (k === "text") e.textContent = v; else if (v !== null && v !== undefined) e.setAttribute(k, v);
      }
      for (const c of children) e.append(c);
      return e;
    },
  };
  function renderWho() {
    const box = document.getElementById("who");
    if (!box) return;
    const w = CKM.who();
    if (!CKM.token() || !w) return;
    box.textContent = "";
    box.append(CKM.el("span", {text: `Signed in as ${w.name} (${w.role}) `}));
    const b = CKM.el("button", {type: "button", class: "link", text: "Sign out"});
    b.addEventListener("click", () => { CKM.signOut(); location.reload(); });
    box.append(b);
  }
  document.addEventListener("DOMContentLoaded", renderWho);
})();

"use strict";
document.getElementById("signin-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const token = document.getElementById("token").value.trim();
  const out = document.getElementById("signin-result");
  const resp = await fetch("/whoami", {headers: {Authorization: "Bearer " + token}, credentials: "omit"});
  out.textContent = "";
  if (!resp.ok) {
    const p = await CKM.problem(resp);
    out.append(CKM.el("p", {class: "error-box", text: "Not signed in: " + (p.detail || p.title)}));
    return;
  }
  const who = await resp.json();
  CKM.setToken(token); CKM.setWho(who);
  const msg = CKM.el("p", {class: "ok-box", id: "signed-in",
    text: `Signed in as ${who.name} (${who.role}). ` + (who.can_edit ? "" : "This token can read only.")});
  out.append(msg);
  if (who.can_edit) out.append(CKM.el("p", {}, CKM.el("a", {href: "/edit", text: "Go to the edit forms"})));
  document.getElementById("token").value = "";
});

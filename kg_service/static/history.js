"use strict";
document.querySelectorAll("button.revert").forEach((b) => b.addEventListener("click", async () => {
  const id = b.dataset.change;
  const out = document.getElementById("history-result");
  out.textContent = "";
  const resp = await CKM.fetch(`/history/${encodeURIComponent(id)}/revert`, {method: "POST"});
  if (!resp.ok) {
    const p = await CKM.problem(resp);
    out.append(CKM.el("p", {class: "error-box", text: `Could not revert ${id}: ${p.title}. ${p.detail || ""}`}));
    return;
  }
  const data = await resp.json();
  out.append(CKM.el("p", {class: "ok-box", id: "revert-done",
    text: `Reverted ${id} as change ${data.change.id}. Reloading…`}));
  setTimeout(() => location.reload(), 600);
}));

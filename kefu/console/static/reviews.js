// An agent's quality reviews (/console/api/qa/mine): every text from the server's locales, data as textContent.
"use strict";

(async () => {
  const lang = new URLSearchParams(location.search).get("lang");
  const get = async (path) => {
    const response = await fetch(path, { credentials: "same-origin" });
    if (response.status === 401) location.href = "/console/login";
    return response.json();
  };
  const { texts, timezone, lang: chosen } = await get(`/console/api/stats/texts${lang ? `?lang=${encodeURIComponent(lang)}` : ""}`);
  const tr = (key) => texts[key] ?? key;
  document.documentElement.lang = chosen;
  document.title = tr("qa.mine");
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = tr(node.dataset.text);
  const yesNo = (value) => (value === null ? tr("qa.not_applicable") : tr(value ? "qa.yes" : "qa.no"));
  const when = (seconds) => new Date(seconds * 1000).toLocaleString(chosen === "zh" ? "zh-CN" : "en-GB",
    { timeZone: timezone, dateStyle: "short", timeStyle: "short" });
  const { reviews } = await get("/console/api/qa/mine");
  const table = document.getElementById("reviews");
  const head = table.insertRow();
  for (const label of ["", tr("qa.right_answer"), tr("qa.empathy"), tr("qa.followed_rules"), tr("qa.promise_kept"),
    tr("qa.comment")]) {
    head.appendChild(Object.assign(document.createElement("th"), { textContent: label }));
  }
  for (const item of reviews) {
    const r = item.review;
    const row = table.insertRow();
    row.dataset.item = item.id;
    for (const cell of [`${item.ticket_id || item.conversation_id} · ${when(item.finished_at)}`, `${r.right_answer}/5`,
      `${r.empathy}/5`, yesNo(r.followed_rules), yesNo(r.promise_kept), r.comment]) row.insertCell().textContent = cell;
  }
  if (!reviews.length) document.getElementById("status").textContent = tr("qa.empty");
  document.body.dataset.drawn = "1";
})();

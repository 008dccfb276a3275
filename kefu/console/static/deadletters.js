// The dead letters (/console/api/deadletters): every text from the server's locales, every piece of data
// (the customer's words, the error) as textContent, never as HTML.
"use strict";

(async () => {
  const lang = new URLSearchParams(location.search).get("lang");
  const call = async (path, options = {}) => {
    const response = await fetch(path, { credentials: "same-origin", ...options });
    if (response.status === 401) location.href = "/console/login";
    return { status: response.status, data: await response.json() };
  };
  const { data } = await call(`/console/api/deadletters${lang ? `?lang=${encodeURIComponent(lang)}` : ""}`);
  const { texts, timezone, csrf } = data;
  const tr = (key, values = {}) => (texts[key] ?? key).replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "");
  document.documentElement.lang = data.lang;
  document.title = tr("deadletters.title");
  for (const node of document.querySelectorAll("[data-text]")) node.textContent = tr(node.dataset.text);
  const when = (seconds) => new Date(seconds * 1000).toLocaleString(data.lang === "zh" ? "zh-CN" : "en-GB",
    { timeZone: timezone, dateStyle: "short", timeStyle: "medium" });
  const status = document.getElementById("status");
  const stateText = (state) => (state ? tr(`deadletters.${state.status}`, { by: state.by }) : tr("deadletters.open"));

  const table = document.getElementById("letters");
  const head = table.insertRow();
  for (const key of ["when", "conversation", "channel", "text", "error", "attempts", "status", ""]) {
    head.appendChild(Object.assign(document.createElement("th"), { textContent: key ? tr(`deadletters.${key}`) : "" }));
  }
  const draw = (row, letter) => {
    row.replaceChildren();
    row.dataset.letter = letter.id;
    const channel = letter.channel ? (texts[`console.channel.${letter.channel}`] ?? letter.channel) : "";
    const text = letter.text ?? `${tr("deadletters.unreadable")} ${letter.raw ?? ""}`;
    for (const [name, value] of [["when", when(letter.at)], ["conversation", letter.conversation_id],
      ["channel", channel], ["text", text], ["error", letter.error], ["attempts", String(letter.attempts)],
      ["status", stateText(letter.state)]]) {
      const cell = row.insertCell();
      cell.className = name;
      cell.textContent = value;
    }
    const actions = row.insertCell();
    if (letter.state) return;
    for (const [action, label] of [["handled", "deadletters.mark_handled"], ["retry", "deadletters.retry"]]) {
      if (action === "retry" && letter.text === null) continue;
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: tr(label) });
      button.dataset.action = action;
      button.addEventListener("click", async () => {
        const answer = await call(`/console/api/deadletters/${encodeURIComponent(letter.id)}/${action}`,
          { method: "POST", headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf }, body: "{}" });
        if (answer.status === 200) draw(row, answer.data.letter);
        else if (answer.status === 409) draw(row, { ...letter, state: answer.data.state ?? { status: "handled", by: "?" } });
        else status.textContent = tr("deadletters.failed", { error: answer.data.error ?? answer.status });
      });
      actions.appendChild(button);
    }
  };
  for (const letter of data.letters) draw(table.insertRow(), letter);
  if (!data.letters.length) status.textContent = tr("deadletters.empty");
  document.body.dataset.drawn = "1";
})();

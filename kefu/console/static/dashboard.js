// The supervisor dashboard: numbers from /console/api/stats drawn with the vendored Chart.js, the QA queue from
// /console/api/qa. Every text comes from the server's locales; data is only ever set with textContent.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const params = new URLSearchParams(location.search);
  const state = { texts: {}, lang: "zh", csrf: "", charts: {}, item: null };
  const COLORS = ["#1f6feb", "#e8590c", "#2f9e44", "#ae3ec9", "#f59f00", "#0c8599", "#c92a2a", "#5c7cfa",
                  "#868e96", "#d6336c", "#37b24d", "#495057"];
  const PRIORITIES = ["urgent", "high", "normal"];

  function tr(key, fields = {}) {
    const text = state.texts[key];
    if (text === undefined) return key;
    return text.replace(/\{(\w+)\}/g, (_, name) => (name in fields ? String(fields[name]) : `{${name}}`));
  }

  function named(prefix, value) {
    const key = `${prefix}.${value}`;
    return key in state.texts ? state.texts[key] : value;
  }

  async function getJSON(path) {
    const response = await fetch(path, { credentials: "same-origin" });
    if (response.status === 401) { location.href = "/console/login"; throw new Error("sign in"); }
    const body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  function translatePage() {
    document.documentElement.lang = state.lang;
    document.title = tr("dashboard.title");
    for (const node of document.querySelectorAll("[data-text]")) node.textContent = tr(node.dataset.text);
  }

  function percent(rate) { return rate === null || rate === undefined ? "–" : `${(rate * 100).toFixed(1)}%`; }
  function minutes(seconds) { return seconds === null || seconds === undefined ? "–" : (seconds / 60).toFixed(1); }
  function number(value) { return value === null || value === undefined ? "–" : String(value); }
  function score(value) { return value === null || value === undefined ? "–" : value.toFixed(2); }

  function fillTable(id, head, rows) {
    const table = $(id);
    table.replaceChildren();
    const headRow = table.insertRow();
    for (const cell of head) {
      const th = document.createElement("th");
      th.textContent = cell;
      headRow.appendChild(th);
    }
    for (const row of rows) {
      const line = table.insertRow();
      for (const cell of row) line.insertCell().textContent = cell;
    }
  }

  function draw(id, config) {
    if (state.charts[id]) state.charts[id].destroy();
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false, animation: false }, config.options);
    state.charts[id] = new Chart($(id), config);
  }

  function renderKpis(stats) {
    $("kpi-conversations").textContent = number(stats.conversations.total);
    $("kpi-bot-rate").textContent = percent(stats.bot.rate);
    $("kpi-bot-detail").textContent = tr("dashboard.bot_rate_detail",
      { resolved: stats.bot.bot_resolved, visits: stats.bot.visits });
    $("kpi-handoffs").textContent = number(stats.handoffs.total);
    $("kpi-breaches").textContent = number(PRIORITIES.reduce((n, p) => n + stats.sla[p].breached, 0));
    $("kpi-csat-bot").textContent = score(stats.csat.bot.average);
    $("kpi-csat-bot-count").textContent = tr("dashboard.csat_count", { count: stats.csat.bot.count });
    $("kpi-csat-agents").textContent = score(stats.csat.agents.average);
    $("kpi-csat-agents-count").textContent = tr("dashboard.csat_count", { count: stats.csat.agents.count });
  }

  function renderConversations(stats) {
    const hours = stats.conversations.hours.map((hour) => tr("dashboard.hour", { hour: String(hour).padStart(2, "0") }));
    const channels = Object.keys(stats.conversations.by_channel);
    draw("chart-conversations", {
      type: "bar",
      data: { labels: hours, datasets: channels.map((channel, i) => ({
        label: named("console.channel", channel), data: stats.conversations.by_channel[channel],
        backgroundColor: COLORS[i % COLORS.length] })) },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    });
    fillTable("table-conversations", ["", ...hours], channels.map((channel) =>
      [named("console.channel", channel), ...stats.conversations.by_channel[channel].map(String)]));
  }

  function renderHandoffs(stats) {
    const reasons = Object.keys(stats.handoffs.by_reason);
    draw("chart-handoffs", {
      type: "doughnut",
      data: { labels: reasons.map((r) => named("console.reason", r)),
              datasets: [{ data: reasons.map((r) => stats.handoffs.by_reason[r]), backgroundColor: COLORS }] },
      options: { plugins: { legend: { position: "right" } } },
    });
    fillTable("table-handoffs", ["", tr("dashboard.count")],
      reasons.map((r) => [named("console.reason", r), String(stats.handoffs.by_reason[r])]));
  }

  function renderWaiting(stats) {
    const labels = PRIORITIES.map((p) => named("console.priority", p));
    draw("chart-waiting", {
      type: "bar",
      data: { labels, datasets: [
        { label: tr("dashboard.p50"), data: PRIORITIES.map((p) => stats.waiting[p].p50_s / 60), backgroundColor: COLORS[0] },
        { label: tr("dashboard.p90"), data: PRIORITIES.map((p) => stats.waiting[p].p90_s / 60), backgroundColor: COLORS[1] },
      ] },
      options: { scales: { y: { beginAtZero: true } } },
    });
    fillTable("table-waiting", ["", tr("dashboard.p50"), tr("dashboard.p90")],
      PRIORITIES.map((p, i) => [labels[i], minutes(stats.waiting[p].p50_s), minutes(stats.waiting[p].p90_s)]));
  }

  function renderSla(stats) {
    const labels = PRIORITIES.map((p) => tr("dashboard.sla_target",
      { priority: named("console.priority", p), minutes: stats.sla[p].target_s / 60 }));
    draw("chart-sla", {
      type: "bar",
      data: { labels, datasets: [
        { label: tr("dashboard.within"), data: PRIORITIES.map((p) => stats.sla[p].within), backgroundColor: COLORS[2] },
        { label: tr("dashboard.breached"), data: PRIORITIES.map((p) => stats.sla[p].breached), backgroundColor: COLORS[6] },
      ] },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    });
    fillTable("table-sla", ["", tr("dashboard.within"), tr("dashboard.breached"), "%"],
      PRIORITIES.map((p, i) => [labels[i], String(stats.sla[p].within), String(stats.sla[p].breached),
        percent(stats.sla[p].rate)]));
  }

  function renderCsat(stats) {
    const groups = [["bot", tr("dashboard.csat_bot"), stats.csat.bot],
      ["agents", tr("dashboard.csat_agents"), stats.csat.agents],
      ...Object.entries(stats.csat.by_agent).map(([agent, numbers]) => [agent, agent, numbers])];
    draw("chart-csat", {
      type: "bar",
      data: { labels: groups.map((g) => g[1]),
              datasets: [{ label: "CSAT", data: groups.map((g) => g[2].average), backgroundColor: COLORS }] },
      options: { plugins: { legend: { display: false } }, scales: { y: { min: 0, max: 5 } } },
    });
    fillTable("table-csat", ["", "CSAT", tr("dashboard.count")],
      groups.map((g) => [g[1], score(g[2].average), String(g[2].count)]));
  }

  function renderFollowups(stats) {
    const states = ["kept", "missed", "pending"];
    draw("chart-followups", {
      type: "doughnut",
      data: { labels: states.map((s) => tr(`dashboard.${s}`)),
              datasets: [{ data: states.map((s) => stats.followups[s]), backgroundColor: [COLORS[2], COLORS[6], COLORS[8]] }] },
      options: { plugins: { legend: { position: "right" } } },
    });
    fillTable("table-followups", ["", tr("dashboard.count")],
      states.map((s) => [tr(`dashboard.${s}`), String(stats.followups[s])]));
  }

  function renderCategories(stats) {
    const rows = stats.categories;
    draw("chart-categories", {
      type: "bar",
      data: { labels: rows.map((r) => named("category", r.category)),
              datasets: [{ label: tr("dashboard.count"), data: rows.map((r) => r.count), backgroundColor: COLORS[3] }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } },
                 scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    fillTable("table-categories", ["", tr("dashboard.count")],
      rows.map((r) => [named("category", r.category), String(r.count)]));
  }

  async function loadStats(from, to) {
    $("status").textContent = tr("dashboard.loading");
    const query = new URLSearchParams();
    if (from) query.set("from", from);
    if (to) query.set("to", to);
    try {
      const stats = await getJSON(`/console/api/stats?${query}`);
      $("from").value = stats.range.from;
      $("to").value = stats.range.to;
      $("csv").href = `/console/api/stats.csv?from=${stats.range.from}&to=${stats.range.to}`;
      $("timezone").textContent = tr("dashboard.timezone", { tz: stats.range.timezone });
      renderKpis(stats);
      renderConversations(stats);
      renderHandoffs(stats);
      renderWaiting(stats);
      renderSla(stats);
      renderCsat(stats);
      renderFollowups(stats);
      renderCategories(stats);
      $("status").textContent = stats.conversations.total || stats.handoffs.total ? "" : tr("dashboard.no_data");
      window.__dashboard = { stats, charts: Object.keys(state.charts) };
      document.body.dataset.drawn = String(Number(document.body.dataset.drawn || 0) + 1);
    } catch (error) {
      $("status").textContent = tr("dashboard.failed", { error: error.message });
    }
  }

  function itemLine(item) {
    const who = item.kind === "bot" ? tr("qa.kind.bot") : item.agent;
    const when = new Date(item.finished_at * 1000).toLocaleString(state.lang === "zh" ? "zh-CN" : "en-GB",
      { timeZone: state.timezone, dateStyle: "short", timeStyle: "short" });
    return `${item.ticket_id || item.conversation_id} · ${who} · ${named("console.channel", item.channel)} · ${when}`;
  }

  async function loadQa() {
    const queue = await getJSON("/console/api/qa/queue");
    const list = $("qa-queue");
    list.replaceChildren();
    if (!queue.waiting.length) list.appendChild(Object.assign(document.createElement("li"), { textContent: tr("qa.empty") }));
    for (const item of queue.waiting) {
      const li = document.createElement("li");
      li.dataset.item = item.id;
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: tr("qa.open") });
      button.addEventListener("click", () => openItem(item.id));
      li.append(`${itemLine(item)} `, button);
      list.appendChild(li);
    }
    const done = $("qa-reviewed");
    done.replaceChildren();
    for (const item of queue.reviewed) {
      const r = item.review;
      const li = document.createElement("li");
      li.dataset.item = item.id;
      li.textContent = `${itemLine(item)} · ${r.right_answer}/5 · ${r.empathy}/5 · ${r.reviewer}${r.comment ? ` · ${r.comment}` : ""}`;
      done.appendChild(li);
    }
  }

  async function openItem(id) {
    const { item, transcript } = await getJSON(`/console/api/qa/items/${encodeURIComponent(id)}`);
    state.item = item.id;
    $("qa-title").textContent = itemLine(item);
    const lines = $("qa-transcript");
    lines.replaceChildren();
    for (const entry of transcript) {
      const li = document.createElement("li");
      const role = Object.assign(document.createElement("span"), { className: "role", textContent: entry.role });
      li.append(role, entry.text || "");
      lines.appendChild(li);
    }
    $("qa-form").hidden = false;
  }

  async function submitReview(event) {
    event.preventDefault();
    const promise = $("qa-promise").value;
    const body = { right_answer: Number($("qa-right").value), empathy: Number($("qa-empathy").value),
                   followed_rules: $("qa-rules").value === "true",
                   promise_kept: promise === "" ? null : promise === "true", comment: $("qa-comment").value };
    const response = await fetch(`/console/api/qa/items/${encodeURIComponent(state.item)}/review`, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRF-Token": state.csrf } });
    const answer = await response.json();
    $("status").textContent = response.ok ? tr("qa.saved") : tr("dashboard.failed", { error: answer.error });
    if (response.ok) {
      $("qa-form").hidden = true;
      $("qa-form").reset();
      await loadQa();
    }
  }

  async function start() {
    const lang = params.get("lang");
    const texts = await getJSON(`/console/api/stats/texts${lang ? `?lang=${encodeURIComponent(lang)}` : ""}`);
    Object.assign(state, { texts: texts.texts, lang: texts.lang, timezone: texts.timezone });
    state.csrf = (await getJSON("/console/api/me")).csrf;
    translatePage();
    $("range").addEventListener("submit", (event) => {
      event.preventDefault();
      loadStats($("from").value, $("to").value);
    });
    $("qa-form").addEventListener("submit", submitReview);
    await loadStats(params.get("from"), params.get("to"));
    await loadQa();
  }

  start();
})();

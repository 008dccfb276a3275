"use strict";
// Everything a customer wrote is rendered with textContent: never innerHTML.
// Labels come from the server's locales (GET /console/api/i18n); dates are shown in the shop's time zone.
const state = {
  me: null, csrf: "", lang: "en", dict: {}, view: "unassigned", status: "open", query: "",
  items: [], counts: {}, open: null, packet: null, directory: null, timer: null,
};
const $ = (id) => document.getElementById(id);
const CANNED = [
  "您好，我是客服专员，已经看过您之前的对话，正在为您处理。",
  "Hello, I'm from customer care. I've read our conversation and I'm on it.",
  "非常抱歉给您带来不便，我们会尽快给您答复。",
  "I'm sorry for the trouble; I'll get back to you shortly.",
];
const PRIORITY_RANK = { urgent: 0, high: 1, normal: 2 };

// -- the dictionary ----------------------------------------------------------------------------------
function T(key, fields) {
  let text = state.dict[key];
  if (text === undefined) return fields && fields.fallback !== undefined ? String(fields.fallback) : key.split(".").pop();
  for (const [name, value] of Object.entries(fields || {})) text = text.split("{" + name + "}").join(String(value));
  return text;
}
const word = (group, value) => (value ? T("console." + group + "." + value, { fallback: value }) : "");

async function loadDictionary(lang) {
  const { status, data } = await api("/console/api/i18n?lang=" + encodeURIComponent(lang));
  if (status !== 200) return;
  state.lang = lang; state.dict = data.texts;
  document.documentElement.lang = lang === "zh" ? "zh-CN" : "en";
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = T(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) node.placeholder = T(node.dataset.i18nPlaceholder);
  document.title = T("console.title");
  $("lang").value = lang;
}

// -- time, in the shop's zone and the agent's language -------------------------------------------------
function when(value) {
  if (value === null || value === undefined || value === "") return "";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return new Intl.DateTimeFormat(state.lang === "zh" ? "zh-CN" : "en-GB", {
    timeZone: state.me.timezone, month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false,
  }).format(date);
}
function duration(seconds) {
  const m = Math.max(0, Math.floor(seconds / 60));
  return m < 60 ? m + (state.lang === "zh" ? " 分钟" : " min") : Math.floor(m / 60) + (state.lang === "zh" ? " 小时 " : " h ") + (m % 60) + (state.lang === "zh" ? " 分钟" : " min");
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

async function api(path, body) {
  const options = { credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    options.method = "POST";
    options.headers = { "Content-Type": "application/json", "X-CSRF-Token": state.csrf };
    options.body = JSON.stringify(body);
  }
  const response = await fetch(path, options);
  if (response.status === 401) { window.location.assign("/console/login"); throw new Error("signed out"); }
  return { status: response.status, data: await response.json() };
}

function explain(data) {
  if (data.error === "taken") return T("console.error.taken");
  if (data.error === "team") return T("console.error.team", { team: data.team });
  if (data.error === "not_found") return T("console.error.not_found");
  if (data.error === "supervisor") return T("console.error.supervisor");
  return T("console.error.generic", { error: data.error });
}

// -- the inbox -----------------------------------------------------------------------------------------
async function loadInbox() {
  const params = new URLSearchParams({ view: state.view, status: state.status });
  if (state.query) params.set("q", state.query);
  const { status, data } = await api("/console/api/inbox?" + params);
  if (status !== 200) { $("results").textContent = explain(data); state.items = []; renderInbox(); return; }
  state.items = data.items;
  if (data.counts) state.counts = data.counts;
  $("results").textContent = state.query ? T("console.results", { count: data.items.length, query: state.query }) : "";
  renderInbox();
}
function scheduleInbox() { clearTimeout(state.timer); state.timer = setTimeout(loadInbox, 150); }

function renderViews() {
  for (const button of $("views").querySelectorAll("button")) {
    const view = button.dataset.view;
    const count = state.counts[view];
    button.textContent = T("console.view." + view) + (count !== undefined && !state.query ? " (" + count + ")" : "");
    button.classList.toggle("current", view === state.view && !state.query);
    button.setAttribute("aria-pressed", String(view === state.view));
  }
}

function rowOf(item) {
  const now = Date.now() / 1000;
  const row = el("li", null, "item " + item.priority + (item.ticket_id === state.open ? " selected" : ""));
  row.dataset.ticket = item.ticket_id;
  const bits = [item.ticket_id, word("reason", item.reason), word("priority", item.priority),
    word("channel", item.channel), item.customer_label];
  if (item.status === "waiting") bits.push(T("console.row.waiting", { duration: duration(now - item.created_at) }));
  if (item.agent) bits.push(T("console.row.held_by", { agent: item.agent }));
  if (item.team) bits.push(T("console.row.team", { team: item.team }));
  if (item.inbox_status === "snoozed") bits.push(T("console.row.snoozed_until", { time: when(item.snoozed_until) }));
  else if (item.inbox_status !== "open") bits.push(T("console.status." + item.inbox_status));
  row.append(el("span", bits.filter(Boolean).join(" · ")));
  row.append(el("div", item.trigger_text, "preview"));
  row.addEventListener("click", () => openTicket(item.ticket_id));
  return row;
}

function renderInbox() {
  renderViews();
  const items = [...state.items].sort((a, b) =>
    (PRIORITY_RANK[a.priority] - PRIORITY_RANK[b.priority]) || a.created_at - b.created_at);
  $("queue").replaceChildren(...items.filter((i) => i.status === "waiting").map(rowOf));
  $("assigned").replaceChildren(...items.filter((i) => i.status !== "waiting").map(rowOf));
  $("assigned-heading").textContent = T(state.status === "resolved" && !state.query ? "console.status.resolved" : "console.assigned_heading");
  if (!items.length) $("queue").append(el("li", T("console.empty"), "muted empty"));
}

function setView(view) {
  state.view = view; state.query = ""; $("search").value = "";
  sessionStorage.setItem("kefuView", view);
  loadInbox();
}

function announce(item) {
  if (item.priority !== "urgent") return;
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880; tone.connect(audio.destination); tone.start(); tone.stop(audio.currentTime + 0.4);
  } catch (e) { /* no audio device */ }
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification(T("console.safety_alert", { ticket: item.ticket_id }), { body: item.trigger_text });
  }
}

// -- one ticket ------------------------------------------------------------------------------------------
function understood(u) {
  const confidence = u.confidence ?? 0;
  const sure = T(confidence >= 0.8 ? "console.understood.sure" : "console.understood.unsure") + " " + Math.round(confidence * 100) + "%";
  const entities = (u.entities || []).map((e) => word("slot", e.entity) + ": " + e.value).join(" · ");
  return T("console.understood.turn", { intent: word("intent", u.intent), confidence: sure }) + (entities ? " · " + entities : "");
}

function renderEntry(entry) {
  const packet = state.packet;
  if ([...$("transcript").children].some((c) => c.dataset.id === entry.id)) return;
  const li = el("li", null, entry.role);
  li.dataset.id = entry.id;
  if (packet && entry.id === packet.ticket.trigger.id) li.classList.add("trigger");
  li.append(el("strong", word("speaker", entry.role) + (entry.channel ? " (" + word("channel", entry.channel) + ")" : "") + " "));
  if (entry.ts) li.append(el("time", when(entry.ts), "muted"));
  li.append(el("div", entry.text, "text"));
  if (entry.understanding && entry.understanding.intent) li.append(el("div", understood(entry.understanding), "understanding"));
  $("transcript").append(li);
}

function slotValue(name, value) {
  if (Array.isArray(value)) return value.join(", ");
  if (name === "lang") return word("lang", value);
  if (name === "awaiting") return word("slot", value);
  if (typeof value === "object" && value !== null) return Object.entries(value).map(([k, v]) => word("slot", k) + ": " + v).join(", ");
  return String(value);
}

function renderUnderstood(slots) {
  const entries = Object.entries(slots || {}).filter(([, v]) => v !== null && v !== "" && !(Array.isArray(v) && !v.length));
  if (!entries.length) { $("understood").replaceChildren(el("dd", T("console.understood.none"), "muted")); return; }
  $("understood").replaceChildren(...entries.flatMap(([k, v]) => [el("dt", word("slot", k)), el("dd", slotValue(k, v))]));
}

function renderOrder(order) {
  const card = el("div", null, "order");
  card.dataset.order = order.id;
  card.append(el("strong", order.id + " · " + T("label.status." + order.status, { fallback: order.status }) + " · ¥" + order.total));
  for (const item of order.items || []) {
    card.append(el("div", (state.lang === "zh" ? item.name_zh : item.name_en) + " ×" + item.qty
      + (item.fulfilled_by !== "shop" ? " · " + T("console.order.partner", { partner: item.fulfilled_by }) : "")
      + (item.gift ? " · " + T("console.order.gift") : "")));
  }
  if (order.carrier) card.append(el("div", T("label.carrier." + order.carrier, { fallback: order.carrier }) + " " + (order.tracking_no || "")));
  const timeline = el("ol", null, "timeline");
  for (const event of order.tracking || []) {
    timeline.append(el("li", when(event.time) + " " + event.place + " " + (state.lang === "zh" ? event.text_zh : event.text_en)));
  }
  card.append(timeline);
  if (order.promised_by) card.append(el("div", T("console.order.promised_by", { time: when(order.promised_by) })));
  if (order.pay_deadline) card.append(el("div", T("console.order.auto_cancel", { time: when(order.pay_deadline) })));
  return card;
}

function renderSidebar(data) {
  const side = data.sidebar;
  $("customer").replaceChildren(
    el("div", side.customer_id ? side.label : side.label + " (" + T("console.customer.anonymous") + ")", "label"),
    el("div", T("console.customer.channels", { channels: side.channels.map((c) => word("channel", c)).join(", ") })),
    el("div", T("console.customer.language", { lang: word("lang", side.lang) })));
  renderLinks(data.ticket.id);
  const csat = side.csat;
  if (!csat.available) $("csat").replaceChildren(el("li", T("console.csat.unavailable"), "muted"));
  else if (!csat.ratings.length) $("csat").replaceChildren(el("li", T("console.csat.none"), "muted"));
  else $("csat").replaceChildren(...csat.ratings.map((r) => el("li", (r.ticket_id ? r.ticket_id + " · " : "")
    + T("console.csat.row", { score: r.score, comment: r.comment || "—", time: when(r.at) }))));
  renderUnderstood(data.slots);
  $("orders").replaceChildren(...data.orders.map(renderOrder));
  if (!data.orders.length) $("orders").append(el("div", T("console.order.none"), "muted"));
  if (data.orders_error) $("orders").append(el("div", T("console.order.unavailable")));
  $("earlier").replaceChildren(...data.earlier_tickets.map((e) => el("li", e.id + " · " + word("reason", e.reason) + " · "
    + T("label.ticket_state." + e.status, { fallback: e.status }) + " · " + when(e.created_at) + " · " + e.trigger_text
    + (e.last_update ? " · " + e.last_update : ""))));
  $("notes").replaceChildren(...data.notes.map(noteRow));
  renderFollowup(data.followup);
}

// -- the customer's linked chats (kefu/console/links.py): named by channel, unlinked by one button ------------
async function renderLinks(ticketId, notice) {
  let box = $("links");
  if (!box) { box = el("div", null, "links"); box.id = "links"; $("customer").append(box); }
  const { status, data } = await api("/console/api/tickets/" + encodeURIComponent(ticketId) + "/links");
  if (status !== 200 || state.open !== ticketId) return;
  box.replaceChildren(el("div", T("console.links.title"), "muted"));
  if (!data.links.length) box.append(el("div", T("console.links.none"), "muted"));
  for (const link of data.links) {
    const button = el("button", T("console.links.unlink"));
    button.type = "button"; button.dataset.unlink = link.channel;
    button.addEventListener("click", () => unlinkChannel(ticketId, link.channel));
    const row = el("div", T("console.links.row", { channel: word("channel", link.channel) }));
    row.append(" ", button);
    box.append(row);
  }
  if (notice) box.append(el("div", notice, "muted"));
}

async function unlinkChannel(ticketId, channel) {
  if (!window.confirm(T("console.links.confirm", { channel: word("channel", channel) }))) return;
  const path = "/console/api/tickets/" + encodeURIComponent(ticketId) + "/links/" + encodeURIComponent(channel) + "/unlink";
  const { status, data } = await api(path, {});
  await renderLinks(ticketId, status === 200 ? T("console.links.done") : T("console.links.failed", { error: explain(data) }));
}

const noteRow = (n) => el("li", n.agent + " (" + when(n.ts) + "): " + n.text);

async function openTicket(ticketId) {
  const { status, data } = await api("/console/api/tickets/" + encodeURIComponent(ticketId));
  if (status !== 200) {  // e.g. transferred away: no longer ours to see
    if (state.open === ticketId) { state.open = null; state.packet = null; $("view").hidden = true; }
    return;
  }
  state.open = ticketId; state.packet = data;
  $("view").hidden = false;
  const t = data.ticket, side = data.sidebar;
  const head = [t.id, word("reason", t.reason), word("priority", t.priority), word("handoff_status", t.handoff_status)];
  if (side.inbox_status === "snoozed") head.push(T("console.row.snoozed_until", { time: when(side.snoozed_until) }));
  else if (side.inbox_status !== "open" && side.inbox_status !== "resolved") head.push(T("console.status." + side.inbox_status));
  if (t.agent) head.push(T("console.row.held_by", { agent: t.agent }));
  if (t.team) head.push(T("console.row.team", { team: t.team }));
  $("ticket-head").replaceChildren(el("h2", head.join(" · ")), el("div", side.label + " · " + when(t.created_at)),
    el("div", t.trigger.text, "trigger-text"));
  $("ticket-head").dataset.status = side.inbox_status;
  $("transcript").replaceChildren();
  data.transcript.forEach(renderEntry);
  renderSidebar(data);
  renderInbox();
}

function renderFollowup(followup) {
  if (!followup) { $("followup").replaceChildren(el("span", T("console.followup.none"))); return; }
  const late = followup.due_at * 1000 < Date.now();
  $("followup").replaceChildren(el("span", T("console.followup.due", { time: when(followup.due_at), what: followup.what,
    by: followup.promised_by }), late ? "late" : ""));
}

function followupAlert(event) {
  const item = event.item;
  const text = T("console.followup.alert", { ticket: item.ticket_id, time: when(item.due_at), what: item.what,
    stage: T(event.stage === "missed" ? "console.followup.missed" : "console.followup.soon") });
  $("notice").textContent = text;
  if ("Notification" in window && Notification.permission === "granted") new Notification(T("console.section.followup"), { body: text });
}

// -- live events ------------------------------------------------------------------------------------------
function onEvent(event) {
  if (event.type === "board") {
    $("agents").textContent = T("console.online_count", { count: Object.keys(event.presence).length });
  } else if (event.type === "queued") {
    announce(event.item);
  } else if (event.type === "claimed") {
    if (event.by && event.by !== state.me.user && event.item.agent === state.me.user) {
      $("notice").textContent = T("console.notice.transferred_to_you", { ticket: event.item.ticket_id, by: event.by });
    }
    if (state.open === event.item.ticket_id) openTicket(state.open);
  } else if (event.type === "merged") {  // the customer linked a channel: the ticket now shows their whole history
    if (state.open === event.item.ticket_id) openTicket(event.item.ticket_id);
  } else if (event.type === "inbox") {
    if (event.by === "snooze") $("notice").textContent = T("console.notice.back", { ticket: event.item.ticket_id });
    if (state.open === event.item.ticket_id) openTicket(state.open);
  } else if (event.type === "presence") {
    refreshPresence();
  } else if (event.type === "message") {
    if (event.ticket === state.open) renderEntry(event.entry);
    return;
  } else if (event.type === "followup") {
    if (event.stage === "soon" || event.stage === "missed") followupAlert(event);
    if (event.item.ticket_id === state.open) openTicket(state.open);
    return;
  } else if (event.type === "note") {
    if (event.ticket === state.open) $("notes").append(noteRow(event.note));
    return;
  }
  scheduleInbox();  // any change to an item: the current view asks again (the server decides who sees what)
}

async function refreshPresence() {
  const { status, data } = await api("/console/api/queue");
  if (status === 200) $("agents").textContent = T("console.online_count", { count: Object.keys(data.presence).length });
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + window.location.host + "/console/ws");
  ws.onopen = () => { $("link").textContent = T("console.live"); $("link").dataset.state = "live"; $("link").classList.remove("down"); loadInbox(); };
  ws.onmessage = (message) => onEvent(JSON.parse(message.data));
  ws.onclose = () => { $("link").textContent = T("console.reconnecting"); $("link").dataset.state = "down"; $("link").classList.add("down"); setTimeout(connect, 2000); };
  $("presence").onchange = () => ws.readyState === 1 && ws.send(JSON.stringify({ type: "presence", status: $("presence").value }));
}

// -- acting on the open ticket ------------------------------------------------------------------------------
async function act(action, body) {
  if (!state.open) return false;
  const { status, data } = await api("/console/api/tickets/" + encodeURIComponent(state.open) + "/" + action, body || {});
  if (status !== 200) alert(explain(data));
  await openTicket(state.open);
  scheduleInbox();
  return status === 200;
}

async function claim() {
  if (await act("claim") && state.view !== "mine" && state.me.role !== "supervisor") setView("mine");
}

async function loadTransferTargets() {
  const { status, data } = await api("/console/api/directory");
  if (status !== 200) return;
  state.directory = data;
  const option = (value, text) => { const o = el("option", text); o.value = value; return o; };
  const teams = el("optgroup"); teams.label = T("console.action.transfer_teams");
  teams.append(...data.teams.map((team) => option("team:" + team, team)));
  const agents = el("optgroup"); agents.label = T("console.action.transfer_agents");
  agents.append(...data.agents.filter((a) => a.name !== state.me.user)
    .map((a) => option("agent:" + a.name, a.display_name + " (" + a.team + ")")));
  $("transfer-to").replaceChildren(option("", T("console.action.transfer_to")), teams, agents);
}

async function transfer() {
  const [kind, name] = $("transfer-to").value.split(/:(.*)/s);
  if (!state.open || !name) return;
  const ticketId = state.open;
  if (await act("transfer", kind === "team" ? { team: name } : { to: name })) {
    $("notice").textContent = T("console.notice.transferred", { ticket: ticketId, target: name });
    $("transfer-to").value = "";
  }
}

async function snooze() {
  const choice = $("snooze-for").value;
  if (choice === "custom") {
    if (!$("snooze-until").value) { $("snooze-until").focus(); return; }
    await act("status", { status: "snoozed", until_local: $("snooze-until").value });
  } else {
    await act("status", { status: "snoozed", until: Date.now() / 1000 + Number(choice) * 60 });
  }
}

// -- a supervisor's teams ---------------------------------------------------------------------------------
async function loadTeams() {
  const { status, data } = await api("/console/api/teams");
  if (status !== 200) return;
  const names = data.teams.map((t) => t.name);
  const head = el("tr"); head.append(el("th", ""), ...names.map((n) => el("th", n)));
  const rows = data.agents.map((agent) => {
    const row = el("tr"); row.dataset.agent = agent.name;
    row.append(el("th", agent.display_name + " (" + word("role", agent.role) + ")"));
    for (const team of names) {
      const box = el("input"); box.type = "checkbox"; box.dataset.team = team; box.checked = agent.teams.includes(team);
      box.setAttribute("aria-label", agent.name + " " + team);
      const cell = el("td"); cell.append(box); row.append(cell);
    }
    row.dataset.before = agent.teams.join(",");
    return row;
  });
  $("teams-table").replaceChildren(head, ...rows);
}

async function saveTeams() {
  for (const row of $("teams-table").querySelectorAll("tr[data-agent]")) {
    const teams = [...row.querySelectorAll("input:checked")].map((box) => box.dataset.team);
    if (teams.join(",") === row.dataset.before) continue;
    const { status, data } = await api("/console/api/agents/" + encodeURIComponent(row.dataset.agent) + "/teams", { teams });
    if (status !== 200) { alert(explain(data)); return; }
  }
  $("notice").textContent = T("console.notice.saved");
  await loadTeams(); await loadTransferTargets(); scheduleInbox();
}

async function createTeam() {
  const name = $("new-team").value.trim();
  if (!name) return;
  const { status, data } = await api("/console/api/teams", { name });
  if (status !== 200) { alert(explain(data)); return; }
  $("new-team").value = "";
  await loadTeams(); await loadTransferTargets();
}

// -- keyboard: c claim, r reply, x close, / search, Ctrl+Enter send ----------------------------------------
function shortcuts(event) {
  const typing = ["INPUT", "TEXTAREA", "SELECT"].includes(event.target.tagName);
  if (event.target === $("reply") && event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault(); $("reply-form").requestSubmit(); return;
  }
  if (event.key === "Escape" && typing) { event.target.blur(); return; }
  if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "/") { event.preventDefault(); $("search").focus(); }
  else if (event.key === "c" && state.open) { event.preventDefault(); claim(); }
  else if (event.key === "r" && state.open) { event.preventDefault(); $("reply").focus(); }
  else if (event.key === "x" && state.open) { event.preventDefault(); act("close", { resolution: $("resolution").value }); }
}

async function renderMe() {
  const me = state.me;
  $("me").textContent = me.display_name + " (" + word("role", me.role) + ", " + me.teams.join(", ") + ")";
  $("tz").textContent = T("console.time_zone", { tz: me.timezone });
  $("resolution").replaceChildren(...me.resolutions.map((r) => {
    const o = el("option", T("takeover.resolution." + r, { fallback: r })); o.value = r; return o;
  }));
  $("canned").replaceChildren(el("option", T("console.action.canned")), ...CANNED.map((text) => { const o = el("option", text); o.value = text; return o; }));
  $("canned").firstChild.value = "";
  $("link").textContent = T($("link").dataset.state === "live" ? "console.live" : "console.connecting");
}

async function switchLanguage(lang) {
  localStorage.setItem("kefuLang", lang);
  await api("/console/api/prefs", { locale: lang });
  await loadDictionary(lang);
  await renderMe(); await loadTransferTargets();
  renderInbox();
  if (state.open) await openTicket(state.open);
  if (!$("teams-panel").hidden) await loadTeams();
}

async function start() {
  const { data } = await api("/console/api/me");
  state.me = data; state.csrf = data.csrf;
  const browser = (navigator.language || "").toLowerCase().startsWith("zh") ? "zh" : "en";
  await loadDictionary(data.locale || localStorage.getItem("kefuLang") || browser);
  const supervisor = data.role === "supervisor";
  $("views").querySelector("[data-view=all]").hidden = !supervisor;
  $("status").querySelector("[value=resolved]").hidden = !supervisor;
  $("status").querySelector("[value=resolved]").disabled = !supervisor;
  $("dashboard-link").hidden = !data.dashboard;
  $("teams-button").hidden = !supervisor;
  state.view = sessionStorage.getItem("kefuView") || (supervisor ? "all" : "unassigned");
  if (state.view === "all" && !supervisor) state.view = "unassigned";
  await renderMe();
  for (const button of $("views").querySelectorAll("button")) button.onclick = () => setView(button.dataset.view);
  $("status").onchange = () => { state.status = $("status").value; loadInbox(); };
  $("search").oninput = () => { state.query = $("search").value.trim(); scheduleInbox(); };
  $("search").onkeydown = (e) => { if (e.key === "Enter") { e.preventDefault(); state.query = $("search").value.trim(); loadInbox(); } };
  $("search-clear").onclick = () => { $("search").value = ""; state.query = ""; loadInbox(); };
  $("lang").onchange = () => switchLanguage($("lang").value);
  $("canned").onchange = () => { if ($("canned").value) $("reply").value = $("canned").value; };
  $("claim").onclick = claim;
  $("close").onclick = () => act("close", { resolution: $("resolution").value });
  $("handback").onclick = () => act("handback");
  $("transfer").onclick = transfer;
  $("pending").onclick = () => act("status", { status: "pending" });
  $("reopen").onclick = () => act("status", { status: "open" });
  $("snooze").onclick = snooze;
  $("snooze-for").onchange = () => { $("snooze-until").hidden = $("snooze-for").value !== "custom"; };
  $("snooze-until").hidden = true;
  $("teams-button").onclick = async () => { $("teams-panel").hidden = !$("teams-panel").hidden; if (!$("teams-panel").hidden) await loadTeams(); };
  $("save-teams").onclick = saveTeams;
  $("create-team").onclick = createTeam;
  await loadTransferTargets();
  $("reply-form").onsubmit = async (e) => { e.preventDefault(); const text = $("reply").value; if (!text.trim()) return;
    $("reply").value = ""; await act("reply", { text }); };
  $("note-form").onsubmit = async (e) => { e.preventDefault(); const text = $("note").value; if (!text.trim()) return;
    $("note").value = ""; await act("note", { text }); };
  $("followup-form").onsubmit = async (e) => { e.preventDefault();
    const due = $("followup-due").value; const what = $("followup-what").value;
    if (!due || !what.trim()) return;
    $("followup-what").value = ""; await act("followup", { due_local: due, what }); };
  $("followup-done").onclick = () => act("followup_done");
  $("logout").onclick = async () => { await api("/console/logout", {}); window.location.assign("/console/login"); };
  document.addEventListener("keydown", shortcuts);
  if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
  await loadInbox();
  connect();
  setInterval(renderInbox, 15000);  // waiting times move on
}
start();

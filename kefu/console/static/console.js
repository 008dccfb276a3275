"use strict";
// Everything a customer wrote is rendered with textContent: never innerHTML.
const state = { me: null, csrf: "", items: new Map(), open: null, packet: null };
const $ = (id) => document.getElementById(id);
const CANNED = [
  "您好，我是客服专员，已经看过您之前的对话，正在为您处理。",
  "Hello, I'm from customer care. I've read our conversation and I'm on it.",
  "非常抱歉给您带来不便，我们会尽快给您答复。",
  "I'm sorry for the trouble; I'll get back to you shortly.",
];

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

function minutes(seconds) { return Math.floor(seconds / 60) + "m" + Math.floor(seconds % 60) + "s"; }

function renderBoard() {
  for (const list of ["queue", "assigned"]) $(list).replaceChildren();
  const now = Date.now() / 1000;
  const items = [...state.items.values()].sort((a, b) =>
    ({urgent: 0, high: 1, normal: 2}[a.priority] - {urgent: 0, high: 1, normal: 2}[b.priority]) || a.created_at - b.created_at);
  for (const item of items) {
    const row = el("li", null, "item " + item.priority);
    row.dataset.ticket = item.ticket_id;
    row.append(el("span", item.ticket_id + " · " + item.reason + " · " + item.priority + " · " + item.channel
      + " · " + item.lang + " · waiting " + minutes(now - item.created_at)
      + (item.agent ? " · " + item.agent : "") + (item.team ? " · team " + item.team : "")));
    row.append(el("div", item.trigger_text, "preview"));
    row.addEventListener("click", () => openTicket(item.ticket_id));
    $(item.status === "waiting" ? "queue" : "assigned").append(row);
  }
}

function announce(item) {
  if (item.priority !== "urgent") return;
  try {
    const audio = new AudioContext();
    const tone = audio.createOscillator();
    tone.frequency.value = 880; tone.connect(audio.destination); tone.start(); tone.stop(audio.currentTime + 0.4);
  } catch (e) { /* no audio device */ }
  if ("Notification" in window && Notification.permission === "granted") {
    new Notification("Safety report " + item.ticket_id, { body: item.trigger_text });
  }
}

function renderEntry(entry) {
  const packet = state.packet;
  if ([...$("transcript").children].some((c) => c.dataset.id === entry.id)) return;
  const li = el("li", null, entry.role);
  li.dataset.id = entry.id;
  if (packet && entry.id === packet.ticket.trigger.id) li.classList.add("trigger");
  li.append(el("strong", entry.role + (entry.channel ? " (" + entry.channel + ")" : "") + ": "));
  li.append(el("span", entry.text, "text"));
  if (entry.understanding) {
    const u = entry.understanding;
    const entities = (u.entities || []).map((e) => e.entity + "=" + e.value).join(", ");
    li.append(el("div", "understood: " + u.intent + " " + (u.confidence ?? 0).toFixed(2) + (entities ? " · " + entities : ""), "understanding"));
  }
  $("transcript").append(li);
}

function renderOrder(order) {
  const card = el("div", null, "order");
  card.append(el("strong", order.id + " · " + order.status + " · ¥" + order.total));
  for (const item of order.items || []) {
    card.append(el("div", item.name_zh + " / " + item.name_en + " ×" + item.qty
      + (item.fulfilled_by !== "shop" ? " · partner " + item.fulfilled_by : "") + (item.gift ? " · gift" : "")));
  }
  if (order.carrier) card.append(el("div", order.carrier + " " + (order.tracking_no || "")));
  const timeline = el("ol");
  for (const event of order.tracking || []) timeline.append(el("li", event.time + " " + event.place + " " + event.text_zh));
  card.append(timeline);
  if (order.promised_by) card.append(el("div", "promised by " + order.promised_by));
  if (order.pay_deadline) card.append(el("div", "auto-cancel at " + order.pay_deadline));
  return card;
}

async function openTicket(ticketId) {
  const { status, data } = await api("/console/api/tickets/" + encodeURIComponent(ticketId));
  if (status !== 200) {  // e.g. transferred away: no longer ours to see
    if (state.open === ticketId) { state.open = null; state.packet = null; $("view").hidden = true; }
    return;
  }
  state.open = ticketId; state.packet = data;
  $("view").hidden = false;
  const t = data.ticket;
  $("ticket-head").replaceChildren(
    el("h2", t.id + " · " + t.reason + " · " + t.priority + " · " + t.handoff_status + (t.agent ? " · " + t.agent : "")
      + (t.team ? " · team " + t.team : "")),
    el("div", "customer " + (data.customer.customer_id || "anonymous") + " · " + data.customer.channel + " · " + data.customer.lang),
    el("div", "trigger: " + t.trigger.text, "trigger-text"));
  $("transcript").replaceChildren();
  data.transcript.forEach(renderEntry);
  $("orders").replaceChildren(...data.orders.map(renderOrder));
  if (data.orders_error) $("orders").append(el("div", "order system unavailable"));
  $("earlier").replaceChildren(...data.earlier_tickets.map((e) =>
    el("li", e.id + " · " + e.reason + " · " + e.status + " · " + e.trigger_text + (e.last_update ? " · " + e.last_update : ""))));
  $("notes").replaceChildren(...data.notes.map((n) => el("li", n.agent + ": " + n.text)));
  renderFollowup(data.followup);
  $("slots").textContent = JSON.stringify(data.slots, null, 2);
}

function renderFollowup(followup) {
  if (!followup) { $("followup").replaceChildren(el("span", "none")); return; }
  const due = new Date(followup.due_at * 1000);
  const late = followup.due_at * 1000 < Date.now();
  $("followup").replaceChildren(el("span", "due " + due.toLocaleString() + " · " + followup.what
    + " · promised by " + followup.promised_by, late ? "late" : ""));
}

function followupAlert(event) {
  const item = event.item;
  const text = item.ticket_id + ": follow-up " + (event.stage === "missed" ? "MISSED" : "due soon") + " ("
    + new Date(item.due_at * 1000).toLocaleTimeString() + ") · " + item.what;
  $("notice").textContent = text;
  if ("Notification" in window && Notification.permission === "granted") new Notification("Follow-up", { body: text });
}

function onEvent(event) {
  if (event.type === "board") {
    state.items.clear();
    for (const item of [...event.queue, ...event.assigned]) state.items.set(item.ticket_id, item);
    $("agents").textContent = Object.keys(event.presence).length + " online";
  } else if (event.type === "queued") {
    state.items.set(event.item.ticket_id, event.item);
    announce(event.item);
  } else if (event.type === "claimed") {
    if (state.me.role === "supervisor" || event.item.agent === state.me.user) state.items.set(event.item.ticket_id, event.item);
    else state.items.delete(event.item.ticket_id);
    if (event.by && event.by !== state.me.user && event.item.agent === state.me.user) {
      $("notice").textContent = event.item.ticket_id + " was transferred to you by " + event.by;
    }
  } else if (event.type === "merged") {  // the customer linked a channel: the ticket now shows their whole history
    if (state.items.has(event.item.ticket_id)) state.items.set(event.item.ticket_id, event.item);
    if (state.open === event.item.ticket_id) openTicket(event.item.ticket_id);
  } else if (event.type === "routed") {
    state.items.delete(event.ticket_id);  // waiting in another team's queue (one of its members is online)
  } else if (event.type === "presence") {
    refreshBoard();  // who is online decides which team items this board shows
  } else if (event.type === "finished") {
    state.items.delete(event.item.ticket_id);
  } else if (event.type === "message" && event.ticket === state.open) {
    renderEntry(event.entry);
  } else if (event.type === "followup") {
    if (event.stage === "soon" || event.stage === "missed") followupAlert(event);
    if (event.item.ticket_id === state.open) openTicket(state.open);
  } else if (event.type === "note" && event.ticket === state.open) {
    $("notes").append(el("li", event.note.agent + ": " + event.note.text));
  }
  renderBoard();
}

async function refreshBoard() {
  const { status, data } = await api("/console/api/queue");
  if (status !== 200) return;
  state.items.clear();
  for (const item of [...data.queue, ...data.assigned]) state.items.set(item.ticket_id, item);
  $("agents").textContent = Object.keys(data.presence).length + " online";
  renderBoard();
}

async function loadTransferTargets() {
  const { status, data } = await api("/console/api/directory");
  if (status !== 200) return;
  const option = (value, text) => { const o = el("option", text); o.value = value; return o; };
  const teams = el("optgroup"); teams.label = "Team (back to its queue)";
  teams.append(...data.teams.map((team) => option("team:" + team, team)));
  const agents = el("optgroup"); agents.label = "Agent";
  agents.append(...data.agents.filter((a) => a.name !== state.me.user)
    .map((a) => option("agent:" + a.name, a.display_name + " (" + a.team + ")")));
  $("transfer-to").replaceChildren(option("", "transfer to…"), teams, agents);
}

async function transfer() {
  const [kind, name] = $("transfer-to").value.split(/:(.*)/s);
  if (!state.open || !name) return;
  const ticketId = state.open;
  const { status, data } = await api("/console/api/tickets/" + encodeURIComponent(ticketId) + "/transfer",
    kind === "team" ? { team: name } : { to: name });
  if (status !== 200) { alert(data.error === "taken" ? "You no longer hold this conversation." : data.error); return; }
  $("notice").textContent = ticketId + " transferred to " + (kind === "team" ? "team " : "") + name;
  $("transfer-to").value = "";
  await openTicket(ticketId);
}

function connect() {
  const scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + window.location.host + "/console/ws");
  ws.onopen = () => { $("link").textContent = "live"; $("link").classList.remove("down"); };
  ws.onmessage = (message) => onEvent(JSON.parse(message.data));
  ws.onclose = () => { $("link").textContent = "reconnecting…"; $("link").classList.add("down"); setTimeout(connect, 2000); };
  $("presence").onchange = () => ws.readyState === 1 && ws.send(JSON.stringify({ type: "presence", status: $("presence").value }));
}

async function act(action, body) {
  if (!state.open) return;
  const { status, data } = await api("/console/api/tickets/" + encodeURIComponent(state.open) + "/" + action, body || {});
  if (status !== 200) {
    alert(data.error === "taken" ? "Another agent already took this conversation."
      : data.error === "team" ? "This conversation waits for the " + data.team + " team." : data.error);
  }
  await openTicket(state.open);
}

async function start() {
  const { data } = await api("/console/api/me");
  state.me = data; state.csrf = data.csrf;
  $("me").textContent = data.display_name + " (" + data.role + ", " + data.team + ")";
  $("resolution").replaceChildren(...data.resolutions.map((r) => { const o = el("option", r); o.value = r; return o; }));
  for (const text of CANNED) { const o = el("option", text); o.value = text; $("canned").append(o); }
  $("canned").onchange = () => { if ($("canned").value) $("reply").value = $("canned").value; };
  $("claim").onclick = () => act("claim");
  $("close").onclick = () => act("close", { resolution: $("resolution").value });
  $("handback").onclick = () => act("handback");
  $("transfer").onclick = transfer;
  await loadTransferTargets();
  $("reply-form").onsubmit = async (e) => { e.preventDefault(); const text = $("reply").value; if (!text.trim()) return;
    $("reply").value = ""; await act("reply", { text }); };
  $("note-form").onsubmit = async (e) => { e.preventDefault(); const text = $("note").value; if (!text.trim()) return;
    $("note").value = ""; await act("note", { text }); };
  $("followup-form").onsubmit = async (e) => { e.preventDefault();
    const due = new Date($("followup-due").value).getTime() / 1000; const what = $("followup-what").value;
    if (!due || !what.trim()) return;
    $("followup-what").value = ""; await act("followup", { due_at: due, what }); };
  $("followup-done").onclick = () => act("followup_done");
  $("logout").onclick = async () => { await api("/console/logout", {}); window.location.assign("/console/login"); };
  if ("Notification" in window && Notification.permission === "default") Notification.requestPermission();
  connect();
  setInterval(renderBoard, 5000);
}
start();

/* Kefu web chat widget: embed with one tag, e.g.
 *   <script src="https://kefu.example.com/static/widget.js"
 *           data-customer-id="c1001" data-issued-at="1762000000"
 *           data-signature="HMAC-SHA256 hex of 'c1001:1762000000'" async></script>
 * (the shop's server signs on every page it renders: signatures expire, see the README).
 * Customer text is always rendered with textContent, never as HTML.
 * Messages wait in localStorage until the server acknowledges them, so a reload or a lost
 * connection loses nothing. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src, location.href);
  var wsUrl = (base.protocol === "https:" ? "wss://" : "ws://") + base.host + "/ws/chat";
  var customerId = script.getAttribute("data-customer-id");
  var signature = script.getAttribute("data-signature");
  var issuedAt = Number(script.getAttribute("data-issued-at"));
  var store = window.localStorage;

  function randomId() {
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }
  var visitorId = store.getItem("kefu.visitor");
  if (!visitorId) { visitorId = randomId(); store.setItem("kefu.visitor", visitorId); }
  var outboxKey = "kefu.outbox." + (customerId || visitorId);
  function outbox() { try { return JSON.parse(store.getItem(outboxKey) || "[]"); } catch (e) { return []; } }
  function saveOutbox(items) { store.setItem(outboxKey, JSON.stringify(items)); }

  var zh = (navigator.language || "zh").toLowerCase().indexOf("zh") === 0;
  var labels = zh
    ? { title: "在线客服", placeholder: "输入消息…", send: "发送", open: "客服", offline: "连接中…",
        expired: "登录已过期，请刷新页面" }
    : { title: "Customer service", placeholder: "Type a message…", send: "Send", open: "Chat", offline: "Connecting…",
        expired: "Your sign-in has expired: please reload the page." };

  var style = document.createElement("style");
  style.textContent =
    "#kefu-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;background:#b3202a;color:#fff;border:0;border-radius:24px;padding:12px 18px;font-size:15px;cursor:pointer;box-shadow:0 2px 8px rgba(0,0,0,.2)}" +
    "#kefu-panel{position:fixed;right:20px;bottom:76px;z-index:2147483000;width:340px;max-width:calc(100vw - 40px);height:480px;max-height:calc(100vh - 100px);background:#fff;border-radius:10px;box-shadow:0 4px 18px rgba(0,0,0,.25);display:none;flex-direction:column;font:14px system-ui,'PingFang SC','Microsoft YaHei',sans-serif}" +
    "#kefu-panel.open{display:flex}" +
    "#kefu-head{background:#b3202a;color:#fff;padding:10px 14px;border-radius:10px 10px 0 0;display:flex;justify-content:space-between}" +
    "#kefu-log{flex:1;overflow-y:auto;padding:10px;background:#fafafa}" +
    ".kefu-msg{margin:6px 0;padding:8px 10px;border-radius:8px;max-width:85%;white-space:pre-wrap;word-wrap:break-word}" +
    ".kefu-customer{background:#b3202a;color:#fff;margin-left:auto}" +
    ".kefu-bot,.kefu-agent,.kefu-system{background:#eee;color:#222}" +
    ".kefu-agent{background:#e3f0ff}.kefu-system{background:#fff4d6}" +
    ".kefu-pending{opacity:.6}.kefu-error{background:#fde2e2;color:#8a1c1c}" +
    ".kefu-buttons button{margin:4px 6px 0 0;border:1px solid #b3202a;background:#fff;color:#b3202a;border-radius:14px;padding:4px 10px;cursor:pointer}" +
    "#kefu-form{display:flex;border-top:1px solid #ddd}" +
    "#kefu-input{flex:1;border:0;padding:10px;font-size:14px;outline:none}" +
    "#kefu-send{border:0;background:#b3202a;color:#fff;padding:0 16px;cursor:pointer;border-radius:0 0 10px 0}";
  document.head.appendChild(style);

  var launcher = document.createElement("button");
  launcher.id = "kefu-launcher";
  launcher.textContent = labels.open;
  var panel = document.createElement("div");
  panel.id = "kefu-panel";
  var head = document.createElement("div");
  head.id = "kefu-head";
  var title = document.createElement("span");
  title.textContent = labels.title;
  var status = document.createElement("span");
  status.id = "kefu-status";
  status.textContent = labels.offline;
  head.appendChild(title);
  head.appendChild(status);
  var log = document.createElement("div");
  log.id = "kefu-log";
  log.setAttribute("aria-live", "polite");
  var form = document.createElement("form");
  form.id = "kefu-form";
  var input = document.createElement("input");
  input.id = "kefu-input";
  input.setAttribute("autocomplete", "off");
  input.placeholder = labels.placeholder;
  var send = document.createElement("button");
  send.id = "kefu-send";
  send.type = "submit";
  send.textContent = labels.send;
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(log);
  panel.appendChild(form);
  document.body.appendChild(panel);
  document.body.appendChild(launcher);
  launcher.addEventListener("click", function () { panel.classList.toggle("open"); input.focus(); });

  var shown = {};
  var socket = null;
  var ready = false;
  var retryMs = 500;
  var limitedFor = 0;  /* seconds a limit asked us to wait (error frame "retry_after") */

  function render(entry, extraClass) {
    var key = entry.id;
    if (key && shown[key]) { shown[key].classList.remove("kefu-pending"); return shown[key]; }
    var bubble = document.createElement("div");
    bubble.className = "kefu-msg kefu-" + (entry.role || "bot") + (extraClass ? " " + extraClass : "");
    bubble.setAttribute("data-role", entry.role || "bot");
    bubble.textContent = entry.text || "";
    if (entry.buttons && entry.buttons.length) {
      var row = document.createElement("div");
      row.className = "kefu-buttons";
      entry.buttons.forEach(function (b) {
        var button = document.createElement("button");
        button.type = "button";
        button.textContent = b.title;
        button.addEventListener("click", function () { submit(b.title, b.payload); });
        row.appendChild(button);
      });
      bubble.appendChild(row);
    }
    if (key) { shown[key] = bubble; }
    log.appendChild(bubble);
    log.scrollTop = log.scrollHeight;
    return bubble;
  }

  function transmit(item) {
    if (ready && socket && socket.readyState === WebSocket.OPEN) {
      var frame = { type: "message", id: item.id, text: item.text };
      if (item.payload) { frame.payload = item.payload; }
      socket.send(JSON.stringify(frame));
    }
  }

  function submit(text, payload) {
    text = (text || "").trim();
    if (!text) { return; }
    var item = { id: randomId(), text: text, payload: payload || null };
    var items = outbox();
    items.push(item);
    saveOutbox(items);
    render({ id: "local:" + item.id, role: "customer", text: text }, "kefu-pending");
    transmit(item);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    submit(input.value);
    input.value = "";
  });

  function onFrame(frame, conversationId) {
    if (frame.type === "welcome") {
      ready = true;
      status.textContent = "";
      var known = {};
      frame.history.forEach(function (entry) {
        if (entry.role === "customer") {
          var clientId = entry.id.slice(entry.id.lastIndexOf(":") + 1);
          known[clientId] = true;
          if (shown["local:" + clientId]) { shown["local:" + clientId].classList.remove("kefu-pending"); return; }
        }
        render(entry);
      });
      var pending = outbox().filter(function (item) { return !known[item.id]; });
      saveOutbox(pending);
      pending.forEach(function (item) {
        render({ id: "local:" + item.id, role: "customer", text: item.text }, "kefu-pending");
        transmit(item);
      });
    } else if (frame.type === "ack") {
      saveOutbox(outbox().filter(function (item) { return item.id !== frame.id; }));
      if (shown["local:" + frame.id]) { shown["local:" + frame.id].classList.remove("kefu-pending"); }
    } else if (frame.type === "message") {
      render(frame);
    } else if (frame.type === "error") {
      if (frame.retry) { return; }  /* stays in the outbox; sent again after reconnecting */
      if (frame.retry_after) {  /* a limit: say why and when, keep the message, send it again then */
        limitedFor = Number(frame.retry_after) || 30;
        render({ role: "system", text: frame.message || frame.code }, "kefu-error");
        var waiting = outbox().filter(function (item) { return item.id === frame.id; })[0];
        if (waiting) { setTimeout(function () { transmit(waiting); }, limitedFor * 1000); }
        return;
      }
      if (frame.id) { saveOutbox(outbox().filter(function (item) { return item.id !== frame.id; })); }
      render({ role: "system", text: frame.message || (frame.code === "expired" ? labels.expired : frame.code) }, "kefu-error");
    }
  }

  function connect() {
    ready = false;
    socket = new WebSocket(wsUrl);
    socket.addEventListener("open", function () {
      retryMs = 500;
      var hello = { type: "hello", visitor_id: visitorId, lang: zh ? "zh" : "en" };
      if (customerId) { hello.customer_id = customerId; hello.issued_at = issuedAt; hello.signature = signature; }
      socket.send(JSON.stringify(hello));
    });
    socket.addEventListener("message", function (event) {
      try { onFrame(JSON.parse(event.data)); } catch (e) { /* ignore a frame we cannot read */ }
    });
    socket.addEventListener("close", function (event) {
      ready = false;
      status.textContent = labels.offline;
      if (event.code === 4401) { return; }
      if (event.code === 4429) { setTimeout(connect, Math.max(limitedFor, 5) * 1000); return; }
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    });
  }
  window.KefuWidget = { open: function () { panel.classList.add("open"); } };
  connect();
})();

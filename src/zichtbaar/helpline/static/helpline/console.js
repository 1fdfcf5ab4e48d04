// Counsellor / supervisor console over the staff websocket.
// Every text from the server is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) { return; }
  var strings = document.getElementById("t-strings").dataset;
  var canned = JSON.parse(document.getElementById("canned-data").textContent);
  var chats = {};  // conversation id -> {panel, tab, lastSeq, mode, status, unread}
  var selected = null;  // the one conversation in focus
  var knownQueue = null;  // ids seen in the queue (for the new-chat alert)
  var socket = null, retry = 0, counter = 0, me = null, colleagues = [];
  var el = function (id) { return document.getElementById(id); };
  function fill(t, v) { return t.replace(/%\((\w+)\)s/g, function (_m, k) { return String(v[k]); }); }
  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }
  function error(text) { var n = el("console-error"); n.textContent = text || ""; n.hidden = !text; }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + window.location.host + root.dataset.wsPath);
    socket.addEventListener("open", function () {
      retry = 0; el("connection").textContent = "";
      Object.keys(chats).forEach(function (id) {  // resume every open chat where we left off
        send({ type: "join", conversation: Number(id), last_seq: chats[id].lastSeq });
      });
    });
    socket.addEventListener("message", function (event) {
      var frame; try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    });
    socket.addEventListener("close", function () {
      el("connection").textContent = strings.offline;
      retry = Math.min(retry + 1, 6);
      window.setTimeout(connect, 500 * retry);
    });
  }

  // The console's state: a full "snapshot" on connect, then "update" frames with only what
  // changed (added or changed items replace by id, removed ids go).
  var view = { queue: {}, live: {} };
  function merge(part, diff) {
    if (!diff) { return; }
    (diff.remove || []).forEach(function (id) { delete view[part][id]; });
    (diff.add || []).forEach(function (item) {
      if (part === "queue") { item.since = Date.now() - item.waiting_seconds * 1000; }
      view[part][item.conversation] = item;
    });
  }
  function queueOrder(a, b) {  // the server's order: risk first, then by arrival
    if (a.risk !== b.risk) { return a.risk ? -1 : 1; }
    if (a.queued_at !== b.queued_at) { return a.queued_at < b.queued_at ? -1 : 1; }
    return a.conversation - b.conversation;
  }
  function values(part) { return Object.keys(view[part]).map(function (k) { return view[part][k]; }); }
  function renderQueue() {
    var items = values("queue").sort(queueOrder);
    var list = el("queue"); list.textContent = "";
    el("queue-empty").hidden = items.length > 0;
    items.forEach(function (item) {
      var node = el("t-queue-item").content.firstElementChild.cloneNode(true);
      var button = node.querySelector(".accept");
      button.textContent = strings.accept + ": " + (item.nickname || strings.anonymous);
      button.addEventListener("click", function () { send({ type: "accept", conversation: item.conversation }); });
      var meta = [fill(strings.waiting, { minutes: Math.floor((Date.now() - item.since) / 60000) })];
      if (item.age_band) { meta.push(item.age_band); }
      if (item.returning) { meta.push(strings.returning); }
      if (item.risk) { meta.unshift(strings.risk); node.classList.add("risk"); }
      node.querySelector(".meta").textContent = meta.join(" · ");
      list.appendChild(node);
    });
  }
  function renderLive() {
    var list = el("live"); if (!list) { return; }
    var items = values("live").sort(function (a, b) { return a.conversation - b.conversation; });
    list.textContent = "";
    items.forEach(function (item) {
      var node = el("t-live-item").content.firstElementChild.cloneNode(true);
      var button = node.querySelector(".read");
      button.textContent = strings.read + ": " + fill(strings.chat, { id: item.conversation });
      button.addEventListener("click", function () { send({ type: "join", conversation: item.conversation, last_seq: 0 }); });
      node.querySelector(".meta").textContent = (item.risk ? strings.risk + " · " : "") + item.counsellor;
      list.appendChild(node);
    });
  }

  // -- one chat in focus: tabs with unread badges ----------------------------------------
  function label(chat) { return chat.nickname || fill(strings.chat, { id: chat.id }); }
  function select(id, focus) {
    selected = chats[id] ? id : null;
    Object.keys(chats).forEach(function (k) {
      var chat = chats[k], on = String(k) === String(selected);
      chat.panel.hidden = !on;
      chat.tab.setAttribute("aria-selected", on ? "true" : "false");
      chat.tab.tabIndex = on ? 0 : -1;
      if (on) { chat.unread = 0; badge(chat); }
    });
    el("no-chats").hidden = Object.keys(chats).length > 0;
    if (focus && selected) { chats[selected].panel.querySelector("textarea").focus(); }
  }
  function badge(chat) {
    var node = chat.tab.querySelector(".unread");
    node.hidden = !chat.unread;
    node.textContent = chat.unread ? fill(strings.unread, { count: chat.unread }) : "";
  }
  function removeChat(id) {
    var chat = chats[id]; if (!chat) { return; }
    chat.panel.remove(); chat.tab.remove(); delete chats[id];
    if (String(selected) === String(id)) {
      var rest = Object.keys(chats); select(rest.length ? rest[0] : null, false);
    } else { select(selected, false); }
  }
  function presence(chat, connected, since) {
    chat.connected = connected;
    var text = connected ? strings.connected
      : fill(strings.goneSince, { time: new Date(since || Date.now()).toLocaleTimeString(document.documentElement.lang || "nl", { hour: "2-digit", minute: "2-digit" }) });
    chat.panel.querySelector(".presence").textContent = text;
    chat.panel.querySelector(".presence").classList.toggle("gone", !connected);
    chat.tab.querySelector(".dot").classList.toggle("gone", !connected);
    chat.tab.querySelector(".dot").title = text;
    chat.panel.querySelector(".abandon").hidden = connected || chat.mode === "read" || chat.status === "ended";
  }

  // -- optional alert for a new chat in the queue ---------------------------------------
  var alertBox = el("alert-new");
  try { alertBox.checked = window.localStorage.getItem("zb-console-alert") === "1"; } catch (e) { /* storage off */ }
  alertBox.addEventListener("change", function () {
    try { window.localStorage.setItem("zb-console-alert", alertBox.checked ? "1" : "0"); } catch (e) { /* storage off */ }
    if (alertBox.checked && window.Notification && Notification.permission === "default") { Notification.requestPermission(); }
  });
  function beep() {
    var Audio = window.AudioContext || window.webkitAudioContext; if (!Audio) { return; }
    try {
      var ctx = new Audio(), osc = ctx.createOscillator(), gain = ctx.createGain();
      osc.frequency.value = 880; gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(ctx.destination);
      osc.start(); osc.stop(ctx.currentTime + 0.25);
      osc.onended = function () { ctx.close(); };
    } catch (e) { /* no sound available */ }
  }
  function alertNew(count) {
    el("alert-live").textContent = fill(strings.newChat, { count: count });
    if (!alertBox.checked) { return; }
    beep();
    if (window.Notification && Notification.permission === "granted" && document.hidden) {
      new Notification(strings.newChatTitle, { body: fill(strings.newChat, { count: count }), tag: "zb-new-chat" });
    }
  }

  function addLine(chat, frame) {
    var list = chat.panel.querySelector(".messages-list");
    var item = document.createElement("li");
    item.className = "msg msg-" + frame.sender;
    var who = document.createElement("span"); who.className = "who";
    who.textContent = frame.sender === "visitor" ? strings.visitor : frame.sender === "system" ? strings.system : strings.you;
    var text = document.createElement("span"); text.className = "text"; text.textContent = frame.text;
    item.appendChild(who); item.appendChild(text); item.dataset.seq = frame.seq;
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    if (frame.sender === "visitor" && (String(selected) !== String(chat.id) || document.hidden)) {
      chat.unread += 1; badge(chat);
    }
  }
  function addNote(chat, frame) {
    var item = document.createElement("li");
    item.className = "note note-" + frame.type;
    item.textContent = (frame.type === "whisper" ? strings.whisper : strings.note) + " · " + frame.author + ": " + frame.text;
    chat.panel.querySelector(".notes").appendChild(item);
  }
  function setStatus(chat, status, risk) {
    chat.status = status;
    chat.panel.querySelector(".chat-status").textContent =
      status === "ended" ? strings.ended : chat.mode === "read" ? strings.readMode : strings.active;
    if (risk !== undefined) {
      chat.panel.querySelector(".risk-badge").hidden = !risk;
      chat.panel.querySelector(".risk").checked = !!risk;
    }
    chat.tab.classList.toggle("ended", status === "ended");
    if (status === "ended") {
      chat.panel.querySelector(".abandon").hidden = true;
      chat.panel.querySelector(".end").hidden = true;
      chat.panel.querySelector(".transfer").hidden = true;
      chat.panel.querySelector(".send-form").hidden = true;
      var link = chat.panel.querySelector(".code-link");
      link.href = strings.codingUrl.replace("/0/", "/" + chat.id + "/");
      link.hidden = chat.mode === "read";
    }
  }

  function openChat(frame) {
    var id = frame.conversation, chat = chats[id];
    var fresh = !chat;
    if (!chat) {
      var panel = el("t-chat").content.firstElementChild.cloneNode(true);
      var tab = el("t-tab").content.firstElementChild.cloneNode(true);
      chat = chats[id] = { id: id, panel: panel, tab: tab, lastSeq: 0, mode: frame.mode,
                           status: frame.status, nickname: frame.nickname, unread: 0, connected: true };
      panel.dataset.conversation = id; tab.dataset.conversation = id;
      panel.id = "chat-panel-" + id; tab.id = "chat-tab-" + id;
      tab.setAttribute("aria-controls", panel.id); panel.setAttribute("aria-labelledby", tab.id);
      panel.querySelector(".chat-title").textContent = fill(strings.chat, { id: id }) + (frame.nickname ? " · " + frame.nickname : "");
      tab.querySelector(".tab-name").textContent = label(chat);
      panel.querySelector(".send").textContent = fill(strings.sendTo, { name: label(chat) });
      tab.addEventListener("click", function () { select(id, true); });
      wire(chat);
      el("chat-tabs").appendChild(tab);
      el("chat-panels").appendChild(panel);
    }
    chat.mode = frame.mode;
    chat.panel.classList.toggle("read-mode", frame.mode === "read");
    chat.panel.querySelector(".send-form").hidden = frame.mode === "read";
    chat.panel.querySelector(".returning").hidden = !frame.returning;
    var earlier = chat.panel.querySelector(".earlier"); earlier.textContent = "";
    (frame.earlier_codings || []).forEach(function (c) {
      var li = document.createElement("li"); li.textContent = fill(strings.earlier, c); earlier.appendChild(li);
    });
    var notes = chat.panel.querySelector(".notes"); notes.textContent = "";
    (frame.notes || []).forEach(function (n) { addNote(chat, n); });
    fillTransfer(chat);
    setStatus(chat, frame.status, frame.risk);
    presence(chat, frame.visitor_connected !== false, frame.visitor_gone_since);
    if (fresh && (selected === null || frame.mode !== "read")) { select(id, frame.mode !== "read"); }
  }
  function fillTransfer(chat) {
    var select = chat.panel.querySelector(".transfer-to");
    select.textContent = "";
    var none = document.createElement("option"); none.value = ""; none.textContent = "—"; select.appendChild(none);
    colleagues.forEach(function (c) {
      var o = document.createElement("option"); o.value = c.id; o.textContent = c.name; select.appendChild(o);
    });
  }

  function wire(chat) {
    var p = chat.panel, id = chat.id, typingSent = 0;
    var select = p.querySelector(".canned");
    canned.forEach(function (c, i) {
      var o = document.createElement("option"); o.value = String(i); o.textContent = c.title; select.appendChild(o);
    });
    select.addEventListener("change", function () {
      if (select.value !== "") { p.querySelector("textarea").value = canned[Number(select.value)].text; select.value = ""; }
    });
    p.querySelector(".send-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var area = p.querySelector("textarea");
      if (!area.value.trim()) { return; }
      counter += 1;
      if (send({ type: "message", conversation: id, text: area.value, client_id: "c" + Date.now().toString(36) + "-" + counter })) { area.value = ""; }
    });
    p.querySelector("textarea").addEventListener("input", function () {
      var now = Date.now();
      if (now - typingSent > 2000) { typingSent = now; send({ type: "typing", conversation: id, active: true }); }
    });
    p.querySelector(".risk").addEventListener("change", function (event) { send({ type: "risk", conversation: id, flag: event.target.checked }); });
    p.querySelector(".transfer").addEventListener("click", function () {
      var to = Number(p.querySelector(".transfer-to").value);
      if (to) { send({ type: "transfer", conversation: id, to: to }); }
    });
    p.querySelector(".end").addEventListener("click", function () { send({ type: "end", conversation: id }); });
    p.querySelector(".abandon").addEventListener("click", function () {
      if (window.confirm(strings.abandonConfirm)) { send({ type: "end", conversation: id, reason: "abandoned" }); }
    });
    p.querySelector(".note-form").addEventListener("submit", function (event) {
      event.preventDefault(); var input = event.target.querySelector("input");
      if (send({ type: "note", conversation: id, text: input.value })) { input.value = ""; }
    });
    var whisper = p.querySelector(".whisper-form");
    if (whisper) {
      whisper.addEventListener("submit", function (event) {
        event.preventDefault(); var input = event.target.querySelector("input");
        if (send({ type: "whisper", conversation: id, text: input.value })) { input.value = ""; }
      });
      p.querySelector(".takeover").addEventListener("click", function () { send({ type: "takeover", conversation: id }); });
      p.querySelector(".block").addEventListener("click", function () { send({ type: "block", conversation: id, minutes: 60 }); });
    }
    p.querySelector(".close-panel").addEventListener("click", function () {
      send({ type: "leave", conversation: id }); removeChat(id);
    });
  }

  function handle(frame) {
    var chat = chats[frame.conversation];
    switch (frame.type) {
      case "hello": me = frame.user; break;
      case "snapshot": case "update":
        var before = knownQueue;
        if (frame.type === "snapshot") {
          root.dataset.ready = "1";  // the state has arrived (tests and scripts wait for it)
          view.queue = {}; view.live = {};
          merge("queue", { add: frame.queue }); merge("live", { add: frame.live || [] });
        } else {
          merge("queue", frame.queue); merge("live", frame.live);
        }
        if ("available" in frame) { el("available").checked = frame.available; }
        if ("limit" in frame) { el("limit").textContent = fill(strings.limit, frame); }
        if ("wellbeing" in frame) { el("wellbeing").textContent = frame.wellbeing; }
        if (frame.colleagues) {
          colleagues = frame.colleagues;
          Object.keys(chats).forEach(function (k) { fillTransfer(chats[k]); });
        }
        if ("coding_pending" in frame) {
          el("pending").hidden = !frame.coding_pending;
          if (frame.coding_pending) { el("pending-link").href = strings.codingUrl.replace("/0/", "/" + frame.coding_pending + "/"); }
        }
        knownQueue = {};
        Object.keys(view.queue).forEach(function (k) { knownQueue[k] = true; });
        if (before !== null) {
          var arrived = Object.keys(knownQueue).filter(function (k) { return !before[k]; }).length;
          if (arrived) { alertNew(arrived); }
        }
        if (frame.type === "snapshot" || frame.queue) { renderQueue(); }
        if (frame.type === "snapshot" || frame.live) { renderLive(); }
        (frame.mine || []).forEach(function (id) {
          if (!chats[id] || chats[id].mode === "read") { send({ type: "join", conversation: id, last_seq: chats[id] ? chats[id].lastSeq : 0 }); }
        });
        break;
      case "chat": openChat(frame); break;
      case "message":
        if (!chat || frame.seq <= chat.lastSeq) { break; }
        chat.lastSeq = frame.seq; addLine(chat, frame);
        if (frame.sender === "visitor") { chat.panel.querySelector(".typing").hidden = true; }
        break;
      case "typing": if (chat) { chat.panel.querySelector(".typing").hidden = !frame.active; } break;
      case "note": case "whisper": if (chat) { addNote(chat, frame); } break;
      case "presence": if (chat) { presence(chat, frame.connected, frame.since); } break;
      case "status":
        if (chat) {
          if (frame.counsellor !== me && root.dataset.supervisor !== "1" && frame.status !== "ended") {
            removeChat(frame.conversation); break;
          }
          if (frame.counsellor === me) { chat.mode = "counsel"; chat.panel.querySelector(".send-form").hidden = false; }
          setStatus(chat, frame.status, frame.risk);
        }
        break;
      case "error": error(frame.message); window.setTimeout(function () { error(""); }, 8000); break;
    }
  }

  el("chat-tabs").addEventListener("keydown", function (event) {  // arrow keys between tabs
    var ids = Object.keys(chats), at = ids.indexOf(String(selected));
    if (!ids.length || (event.key !== "ArrowRight" && event.key !== "ArrowLeft")) { return; }
    var next = ids[(at + (event.key === "ArrowRight" ? 1 : ids.length - 1)) % ids.length];
    select(next, false); chats[next].tab.focus(); event.preventDefault();
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && selected && chats[selected]) { chats[selected].unread = 0; badge(chats[selected]); }
  });
  window.setInterval(renderQueue, 30000);  // waiting minutes move on without frames
  el("available").addEventListener("change", function (event) { send({ type: "availability", available: event.target.checked }); });
  connect();
})();

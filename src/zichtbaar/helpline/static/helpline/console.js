// Counsellor / supervisor console over the staff websocket.
// Every text from the server is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) { return; }
  var strings = document.getElementById("t-strings").dataset;
  var canned = JSON.parse(document.getElementById("canned-data").textContent);
  var chats = {};  // conversation id -> {panel, lastSeq, mode, status}
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

  function renderQueue(items) {
    var list = el("queue"); list.textContent = "";
    el("queue-empty").hidden = items.length > 0;
    items.forEach(function (item) {
      var node = el("t-queue-item").content.firstElementChild.cloneNode(true);
      var button = node.querySelector(".accept");
      button.textContent = strings.accept + ": " + (item.nickname || strings.anonymous);
      button.addEventListener("click", function () { send({ type: "accept", conversation: item.conversation }); });
      var meta = [fill(strings.waiting, { minutes: Math.floor(item.waiting_seconds / 60) })];
      if (item.age_band) { meta.push(item.age_band); }
      if (item.returning) { meta.push(strings.returning); }
      if (item.risk) { meta.unshift(strings.risk); node.classList.add("risk"); }
      node.querySelector(".meta").textContent = meta.join(" · ");
      list.appendChild(node);
    });
  }
  function renderLive(items) {
    var list = el("live"); if (!list) { return; }
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

  function addLine(chat, frame) {
    var list = chat.panel.querySelector(".messages-list");
    var item = document.createElement("li");
    item.className = "msg msg-" + frame.sender;
    var who = document.createElement("span"); who.className = "who";
    who.textContent = frame.sender === "visitor" ? strings.visitor : frame.sender === "system" ? strings.system : strings.you;
    var text = document.createElement("span"); text.className = "text"; text.textContent = frame.text;
    item.appendChild(who); item.appendChild(text); item.dataset.seq = frame.seq;
    list.appendChild(item);
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
    if (status === "ended") {
      chat.panel.querySelector(".send-form").hidden = true;
      var link = chat.panel.querySelector(".code-link");
      link.href = strings.codingUrl.replace("/0/", "/" + chat.id + "/");
      link.hidden = chat.mode === "read";
    }
  }

  function openChat(frame) {
    var id = frame.conversation, chat = chats[id];
    if (!chat) {
      var panel = el("t-chat").content.firstElementChild.cloneNode(true);
      chat = chats[id] = { id: id, panel: panel, lastSeq: 0, mode: frame.mode, status: frame.status };
      panel.dataset.conversation = id;
      panel.querySelector(".chat-title").textContent = fill(strings.chat, { id: id }) + (frame.nickname ? " · " + frame.nickname : "");
      wire(chat);
      el("chats").appendChild(panel);
      panel.focus();
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
      send({ type: "leave", conversation: id }); p.remove(); delete chats[id];
    });
  }

  function handle(frame) {
    var chat = chats[frame.conversation];
    switch (frame.type) {
      case "hello": me = frame.user; break;
      case "snapshot":
        el("available").checked = frame.available;
        el("limit").textContent = fill(strings.limit, frame);
        el("wellbeing").textContent = frame.wellbeing;
        colleagues = frame.colleagues || [];
        Object.keys(chats).forEach(function (k) { fillTransfer(chats[k]); });
        el("pending").hidden = !frame.coding_pending;
        if (frame.coding_pending) { el("pending-link").href = strings.codingUrl.replace("/0/", "/" + frame.coding_pending + "/"); }
        renderQueue(frame.queue);
        if (frame.live) { renderLive(frame.live); }
        frame.mine.forEach(function (id) {
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
      case "status":
        if (chat) {
          if (frame.counsellor !== me && root.dataset.supervisor !== "1" && frame.status !== "ended") {
            chat.panel.remove(); delete chats[frame.conversation]; break;
          }
          if (frame.counsellor === me) { chat.mode = "counsel"; chat.panel.querySelector(".send-form").hidden = false; }
          setStatus(chat, frame.status, frame.risk);
        }
        break;
      case "error": error(frame.message); window.setTimeout(function () { error(""); }, 8000); break;
    }
  }

  el("available").addEventListener("change", function (event) { send({ type: "availability", available: event.target.checked }); });
  connect();
})();

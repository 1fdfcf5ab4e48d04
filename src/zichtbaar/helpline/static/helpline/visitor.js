// Visitor chat over a websocket (protocol: docs/subsystems/helpline-protocol.md).
// State lives in this tab's memory only: nothing in localStorage, sessionStorage or cookies.
// Every text is inserted with textContent, never as HTML.
(function () {
  "use strict";
  var app = document.getElementById("chat-app");
  if (!app) { return; }
  var strings = document.getElementById("t-strings").dataset;
  var el = function (id) { return document.getElementById(id); };
  var state = { token: "", lastSeq: 0, status: "", socket: null, pending: {}, retry: 0,
                closedByUs: false, typingSent: 0, startFrame: null, startRetried: false };
  // The start token names this page session; it is short-lived, so renew it when old.
  var startToken = { value: app.dataset.startToken, at: Date.now(),
                     seconds: Number(app.dataset.startTokenSeconds) || 900 };
  function withStartToken(done) {
    if (Date.now() - startToken.at < startToken.seconds * 1000 * 2 / 3) { done(startToken.value); return; }
    fetch(app.dataset.startTokenUrl, { credentials: "omit", cache: "no-store" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        startToken = { value: data.token, at: Date.now(), seconds: data.expires_in };
        done(startToken.value);
      })
      .catch(function () { done(startToken.value); });
  }
  var slug = app.dataset.wsPath.split("/")[4];

  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_m, key) { return String(values[key]); });
  }
  function show(id, visible) { el(id).hidden = !visible; }
  function showError(id, text) { var node = el(id); node.textContent = text || ""; node.hidden = !text; }

  function connect(onOpen) {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + window.location.host + app.dataset.wsPath);
    state.socket = socket;
    socket.addEventListener("open", function () { state.retry = 0; onOpen(socket); });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      handle(frame);
    });
    socket.addEventListener("close", function () {
      if (state.closedByUs || !state.token || state.status === "ended") { return; }
      el("queue-status").textContent = strings.reconnecting;
      state.retry = Math.min(state.retry + 1, 6);
      window.setTimeout(function () {
        connect(function (s) { send(s, { type: "resume", token: state.token, last_seq: state.lastSeq }); });
      }, 500 * state.retry);
    });
  }
  function send(socket, frame) {
    if (socket && socket.readyState === WebSocket.OPEN) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function addMessage(frame) {
    var item = document.createElement("li");
    item.className = "msg msg-" + frame.sender;
    var who = document.createElement("span");
    who.className = "who";
    who.textContent = frame.sender === "visitor" ? strings.you
      : frame.sender === "counsellor" ? strings.counsellor : strings.system;
    var text = document.createElement("span");
    text.className = "text";
    text.textContent = frame.text;
    item.appendChild(who);
    item.appendChild(text);
    item.dataset.seq = frame.seq;
    el("messages").appendChild(item);
    item.scrollIntoView({ block: "end" });
  }

  function setStatus(status) {
    state.status = status;
    if (status === "active") { el("queue-status").textContent = strings.active; }
    if (status === "ended") {
      show("send-form", false); show("end-chat", false); show("typing", false);
      show("ended", true);
    }
  }

  function handle(frame) {
    switch (frame.type) {
      case "started":
        state.token = frame.token; show("start-form", false); show("chat", true);
        el("text").focus(); break;
      case "resumed": showError("chat-error", ""); break;
      case "status": setStatus(frame.status); break;
      case "queue":
        var text = fill(strings.position, frame);
        if (frame.estimate_minutes === null) { text += " " + strings.nobody; }
        else if (frame.estimate_minutes === 0) { text += " " + strings.soon; }
        else { text += " " + fill(strings.estimate, { minutes: frame.estimate_minutes }); }
        el("queue-status").textContent = text; break;
      case "message":
        if (frame.seq <= state.lastSeq) { break; }
        state.lastSeq = frame.seq;
        delete state.pending[frame.client_id];
        addMessage(frame); break;
      case "ack": delete state.pending[frame.client_id]; break;
      case "typing": show("typing", !!frame.active); break;
      case "returning_code":
        el("code-result").textContent = frame.code ? fill(strings.code, { code: frame.code }) : strings.codeNone;
        break;
      case "error":
        if (!state.token && frame.code && frame.code.indexOf("start_token") === 0
            && !state.startRetried && state.startFrame) {
          // An old page: fetch a fresh token once and try again before saying anything.
          state.startRetried = true; startToken.at = 0;
          withStartToken(function (value) {
            state.startFrame.start_token = value; send(state.socket, state.startFrame);
          });
          break;
        }
        if (state.token) { showError("chat-error", frame.message); }
        else { showError("start-error", frame.message); }
        break;
    }
  }

  el("start-form").addEventListener("submit", function (event) {
    event.preventDefault();
    showError("start-error", "");
    var frame = { type: "start", consent: el("consent").checked, nickname: el("nickname").value,
                  age_band: el("age_band").value, returning_code: el("returning_code").value,
                  language: app.dataset.language };
    state.startRetried = false;
    withStartToken(function (value) {
      frame.start_token = value;
      state.startFrame = frame;
      if (state.socket && state.socket.readyState === WebSocket.OPEN) { send(state.socket, frame); }
      else { connect(function (s) { send(s, frame); }); }
    });
  });

  var counter = 0;
  el("send-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = el("text").value;
    if (!text.trim()) { return; }
    counter += 1;
    var clientId = "v" + Date.now().toString(36) + "-" + counter;
    state.pending[clientId] = text;
    if (send(state.socket, { type: "message", text: text, client_id: clientId })) { el("text").value = ""; }
  });
  el("text").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); el("send-form").requestSubmit(); }
  });
  el("text").addEventListener("input", function () {
    var now = Date.now();
    if (now - state.typingSent > 2000) { state.typingSent = now; send(state.socket, { type: "typing", active: true }); }
  });
  el("end-chat").addEventListener("click", function () { send(state.socket, { type: "end" }); });
  el("get-code").addEventListener("click", function () {
    send(state.socket, { type: "returning_code", chosen: el("chosen-code").value });
  });

  // Called by quick_exit.js before it navigates away.
  window.helplineQuickExit = function () {
    state.closedByUs = true;
    if (state.token) {
      send(state.socket, { type: "quick_exit" });
      // The beacon reaches the server even while the page unloads.
      var body = new URLSearchParams({ token: state.token });
      navigator.sendBeacon("/chat/" + slug + "/exit/", body);
    }
    state.token = ""; state.pending = {};
    try { if (state.socket) { state.socket.close(); } } catch (e) { /* gone already */ }
  };
})();

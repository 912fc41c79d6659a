// The hall TV page: follows /events (Server-Sent Events), never gives up, says each call once.
//
// - Every message that moves along the hall's feed has the feed's sequence number as its id; the
//   page remembers the last one and reconnects with ?since=<it> after any error, with backoff
//   (0.5 s doubling to 2 s: cheap for the server, and live soon after it is back), for ever: a server restart, a 5xx, a closed stream, a network cut.
// - The server sends a heartbeat every ~2 s while it and the database answer. Without one for
//   stale_ms the page shows the "reconnecting" banner over its last calls; a stream silent for
//   much longer (a cut that no error reports) is dropped and opened again.
// - Calls to be said arrive with an audio URL; they are played one after another, in call order,
//   each to its end ('ended') before the next. If the browser blocks autoplay, a one-time
//   "click to enable sound" overlay appears (kiosk browsers: --autoplay-policy=no-user-gesture-required).
// - Every heartbeat_ms the page POSTs /heartbeat with its display id and last sequence shown.
(function () {
  "use strict";
  const config = window.WT_CONFIG;
  const L = config.labels;
  const $ = (id) => document.getElementById(id);
  const state = { calls: [], lastSeq: 0, lastBeat: 0, lastMessage: 0, clockOffset: 0, waiting: [], broadcast: "" };
  const audioLog = [];
  window.__wt = { state, audioLog, connections: 0 };

  function query(extra) {
    const params = new URLSearchParams(config.query);
    for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
    const text = params.toString();
    return text ? "?" + text : "";
  }

  // -- drawing -------------------------------------------------------------------------------------

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function fitNumber() {
    const number = $("number");
    number.style.fontSize = "";
    const box = $("newest").clientWidth * 0.94;
    const width = number.scrollWidth;
    if (width > box && width > 0) {
      const size = parseFloat(getComputedStyle(number).fontSize);
      number.style.fontSize = Math.floor((size * box) / width) + "px";
    }
  }

  let freshTimer = null;
  function drawCalls(fresh) {
    const newest = state.calls[0];
    if (newest) {
      $("now-label").textContent = L.now_calling;
      $("number").textContent = newest.number;
      $("to-window").textContent = L.to_window;
      $("window").textContent = String(newest.window);
      $("window-suffix").textContent = L.window_suffix;
      $("call-text").textContent = newest.text;
    } else {
      $("now-label").textContent = "";
      $("number").textContent = "";
      $("to-window").textContent = "";
      $("window").textContent = "";
      $("window-suffix").textContent = "";
      $("call-text").textContent = L.none_yet;
    }
    fitNumber();
    const list = $("recent");
    list.replaceChildren();
    for (const call of state.calls.slice(1, config.calls_shown)) {
      const li = el("li");
      li.append(el("span", "num", call.number));
      // "3号窗口" in Chinese, "Window 3" in English
      li.append(el("span", "win", L.window_suffix ? call.window + L.window_suffix : L.window_short + " " + call.window));
      if (call.recall) li.append(el("span", "again", L.again));
      li.append(el("span", "at", call.at));
      list.append(li);
    }
    if (fresh) {
      const panel = $("newest");
      panel.classList.remove("fresh");
      void panel.offsetWidth;
      panel.classList.add("fresh");
      clearTimeout(freshTimer);
      freshTimer = setTimeout(() => panel.classList.remove("fresh"), 8000);
    }
  }

  function drawState() {
    const list = $("waiting");
    list.replaceChildren();
    for (const row of state.waiting) {
      const li = el("li");
      li.append(el("span", "name", row.name));
      li.append(el("span", "count", row.waiting + L.people));
      list.append(li);
    }
    const bar = $("broadcast");
    $("broadcast-text").textContent = state.broadcast || "";
    bar.classList.toggle("empty", !state.broadcast);
  }

  function drawClock() {
    const now = new Date(Date.now() + state.clockOffset);
    const opts = { timeZone: config.timezone, hour12: false, year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit", weekday: "short" };
    let text;
    try { text = now.toLocaleString(config.lang === "en" ? "en-GB" : "zh-CN", opts); }
    catch (e) { text = now.toLocaleString(); }
    $("clock").textContent = text;
  }

  function setStale(stale) {
    $("stale").hidden = !stale;
    document.body.classList.toggle("stale", stale);
  }

  // -- the stream ----------------------------------------------------------------------------------

  function seen(id) {
    if (id) {
      const seq = parseInt(id, 10);
      if (seq > state.lastSeq) state.lastSeq = seq;
    }
  }

  function applyState(data) {
    if (data.waiting) state.waiting = data.waiting;
    if (data.broadcast !== undefined) state.broadcast = data.broadcast;
    drawState();
  }

  function onSnapshot(e) {
    const data = JSON.parse(e.data);
    state.calls = data.calls;
    state.lastSeq = parseInt(e.lastEventId || "0", 10);
    applyState(data);
    drawCalls(false);
  }

  function onCall(e) {
    const call = JSON.parse(e.data);
    if (call.seq <= state.lastSeq) return; // shown already: exactly once
    seen(e.lastEventId);
    state.calls.unshift(call);
    state.calls.length = Math.min(state.calls.length, Math.max(config.calls_shown, 1));
    drawCalls(true);
    if (call.audio) announce(call);
  }

  function onState(e) {
    seen(e.lastEventId);
    applyState(JSON.parse(e.data));
  }

  function onBeat(e) {
    const data = JSON.parse(e.data);
    state.lastBeat = Date.now();
    state.clockOffset = data.now - Date.now();
    setStale(false);
  }

  let source = null;
  let backoff = 500;
  let retryTimer = null;

  function connect() {
    clearTimeout(retryTimer);
    retryTimer = null;
    if (source) source.close();
    state.openedAt = Date.now();
    const since = state.lastSeq ? { since: String(state.lastSeq) } : {};
    const es = new EventSource("/events" + query(since));
    source = es;
    window.__wt.connections += 1;
    const live = (handler) => (e) => {
      if (source !== es) return;
      state.lastMessage = Date.now();
      backoff = 500;
      handler(e);
    };
    es.addEventListener("snapshot", live(onSnapshot));
    es.addEventListener("call", live(onCall));
    es.addEventListener("state", live(onState));
    es.addEventListener("beat", live(onBeat));
    es.addEventListener("offline", live(() => { state.lastBeat = 0; setStale(true); }));
    es.onerror = () => {
      if (source !== es) return;
      // Never leave it to the browser: a 5xx or a closed stream would stop EventSource for good.
      es.close();
      source = null;
      retry();
    };
  }

  function retry() {
    if (retryTimer) return;
    retryTimer = setTimeout(connect, backoff);
    backoff = Math.min(backoff * 2, 2000);
  }

  function watchdog() {
    const now = Date.now();
    if (now - state.lastBeat > config.stale_ms) setStale(true);
    // Nothing at all for a long while: the connection is dead without an error; open a new one.
    if (source && now - Math.max(state.lastMessage, state.openedAt || 0) > config.stale_ms * 2.4) {
      connect();
    }
  }

  // -- the voice -----------------------------------------------------------------------------------

  const player = $("player");
  const queue = [];
  let playing = null;
  let blocked = false;

  function announce(call) {
    queue.push({ seq: call.seq, number: call.number, url: call.audio, queued: performance.now() });
    playNext();
  }

  function finish(item, how) {
    item.ended = performance.now();
    item.how = how;
    playing = null;
    playNext();
  }

  function playNext() {
    if (playing || blocked || !queue.length) return;
    const item = queue.shift();
    playing = item;
    audioLog.push(item);
    player.src = item.url;
    player.onended = () => finish(item, "ended");
    player.onerror = () => finish(item, "error");
    item.started = performance.now();
    const promise = player.play();
    if (promise && promise.catch) {
      promise.catch((err) => {
        if (err && err.name === "NotAllowedError") {
          // Autoplay blocked: keep the item, ask once for a click.
          audioLog.pop();
          playing = null;
          queue.unshift(item);
          blocked = true;
          $("sound").hidden = false;
        } else {
          finish(item, "error");
        }
      });
    }
  }

  $("sound").textContent = L.sound;
  $("sound").addEventListener("click", () => {
    $("sound").hidden = true;
    blocked = false;
    playNext();
  });

  // -- heartbeats to the server ---------------------------------------------------------------------

  function reportIn() {
    fetch("/heartbeat" + query(), {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ display: config.display, last_seq: state.lastSeq }),
    }).catch(() => {});
  }

  // -- start ---------------------------------------------------------------------------------------

  $("hall").textContent = config.hall.name;
  $("recent-title").textContent = L.recent;
  $("waiting-title").textContent = L.waiting;
  $("stale-text").textContent = L.stale;
  drawCalls(false);
  drawState();
  drawClock();
  connect();
  setInterval(drawClock, 1000);
  setInterval(watchdog, 500);
  setInterval(reportIn, config.heartbeat_ms);
  setTimeout(reportIn, 1000);
  window.addEventListener("resize", fitNumber);
})();

// sioless whiteboard page: negotiate, connect with the stock socket.io-client, draw on an SVG board.
// Events (functions/whiteboard.py), every emit one array argument: updateShape [author, id, shape] (stores and
// relays), patchShape [author, id, points] (relays the new points of a stroke), removeShape [author, id],
// clear author, newMessage [author, name, text]. The server emits the same events to the other clients, plus
// updateUser(count, takenAt) and updateBackground(id). GET /api/diagram loads the board after connecting.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const SVG = "http://www.w3.org/2000/svg";
  const COLORS = ["black", "grey", "darkred", "red", "orange", "yellow", "green", "deepskyblue", "indigo", "purple"];
  const WIDTHS = [1, 2, 4, 8];
  const NOTIFY_MS = 250; // as the original sample: at most one patch/update per 250 ms while drawing
  const ACK_TIMEOUT_MS = 8000;
  const MAX_IMAGE = 1920;

  const author = Math.random().toString(36).slice(2, 10);
  const state = {
    socket: null, author, tool: "polyline", color: "black", width: 2, shapes: new Map(), users: 0, usersAt: 0,
    undo: [], redo: [], drawing: null, background: null, acks: 0, pending: 0, errors: [],
  };
  window.whiteboard = state; // for the console and the browser test

  const generateId = () => Date.now().toString(36) + Math.random().toString(36).slice(2, 10);

  function setStatus(text, kind) {
    $("status").textContent = text;
    $("status").className = `status ${kind}`;
  }

  function showError(message) {
    state.errors.push(message);
    $("error").textContent = message;
  }

  // -- rendering ------------------------------------------------------------------------------------------------

  function attrs(kind, d) {
    switch (kind) {
      case "polyline": {
        const pts = [];
        for (let i = 0; i + 1 < d.length; i += 2) pts.push(`${d[i]},${d[i + 1]}`);
        return { points: pts.join(" ") };
      }
      case "line": return { x1: d[0], y1: d[1], x2: d[2], y2: d[3] };
      case "rect": return {
        x: Math.min(d[0], d[2]), y: Math.min(d[1], d[3]), width: Math.abs(d[2] - d[0]), height: Math.abs(d[3] - d[1]),
      };
      case "circle": return { cx: d[0], cy: d[1], r: d[2] };
      case "ellipse": return {
        cx: (d[0] + d[2]) / 2, cy: (d[1] + d[3]) / 2, rx: Math.abs(d[2] - d[0]) / 2, ry: Math.abs(d[3] - d[1]) / 2,
      };
    }
    return {};
  }

  function render(id, shape) {
    let el = $("shapes").querySelector(`[data-id="${CSS.escape(id)}"]`);
    if (!el || el.tagName !== shape.kind) {
      const fresh = document.createElementNS(SVG, shape.kind);
      fresh.dataset.id = id;
      if (el) el.replaceWith(fresh); else $("shapes").append(fresh);
      el = fresh;
    }
    el.setAttribute("stroke", shape.color);
    el.setAttribute("stroke-width", shape.width);
    el.setAttribute("fill", "none");
    el.setAttribute("stroke-linecap", "round");
    el.setAttribute("stroke-linejoin", "round");
    for (const [k, v] of Object.entries(attrs(shape.kind, shape.data))) el.setAttribute(k, v);
  }

  function putShape(id, shape) {
    state.shapes.set(id, shape);
    render(id, shape);
  }
  state.putShape = putShape; // the browser tests draw through it, as a stroke does

  function dropShape(id) {
    state.shapes.delete(id);
    $("shapes").querySelector(`[data-id="${CSS.escape(id)}"]`)?.remove();
  }

  function clearBoard() {
    state.shapes.clear();
    $("shapes").replaceChildren();
    setBackground(null);
  }

  function setBackground(id) {
    state.background = id;
    const bg = $("bg");
    if (!id) { bg.setAttribute("visibility", "hidden"); bg.removeAttribute("href"); return; }
    const img = new Image();
    img.onload = () => {
      bg.setAttribute("width", img.naturalWidth);
      bg.setAttribute("height", img.naturalHeight);
      bg.setAttribute("href", img.src);
      bg.setAttribute("visibility", "visible");
    };
    img.src = `/api/background/${id}`;
  }

  // -- talking to the server -------------------------------------------------------------------------------

  function send(event, payload) {
    if (!state.socket) return;
    state.pending += 1;
    state.socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, (err, ack) => {
      state.pending -= 1;
      if (err) showError(`${event}: no answer from the server`);
      else if (ack && ack.error) showError(`${event}: ${ack.error}`);
      else state.acks += 1;
    });
  }

  async function loadDiagram() {
    const response = await fetch("/api/diagram", { cache: "no-store" });
    if (!response.ok) { showError(`loading the board: HTTP ${response.status}`); return; }
    const diagram = await response.json();
    for (const [id, shape] of Object.entries(diagram.shapes)) {
      if (!state.drawing || state.drawing.id !== id) putShape(id, shape);
    }
    setBackground(diagram.background);
    state.loaded = true;
  }

  async function connect() {
    setStatus("connecting", "offline");
    // web/sioless.js negotiates before the first connection and before every reconnection attempt.
    const socket = sioless.socket("/api/whiteboard/negotiate");
    state.socket = socket;
    socket.on("connect", () => { setStatus("online", "online"); loadDiagram(); });
    socket.on("disconnect", () => setStatus("offline", "offline"));
    socket.on("connect_error", (err) => setStatus(`error: ${err.message}`, "error"));
    socket.on("updateUser", (count, takenAt) => {
      // Counts broadcast concurrently may arrive out of order: keep the newest (docs/state.md "Counting").
      if (typeof takenAt === "number" && takenAt < state.usersAt) return;
      state.users = count;
      state.usersAt = takenAt || 0;
      $("users").textContent = `${count} online`;
    });
    socket.on("updateShape", ([who, id, shape]) => { if (who !== author) putShape(id, shape); });
    socket.on("patchShape", ([who, id, points]) => {
      if (who === author) return;
      const shape = state.shapes.get(id);
      if (shape && shape.kind === "polyline") { shape.data.push(...points); render(id, shape); }
    });
    socket.on("removeShape", ([who, id]) => { if (who !== author) dropShape(id); });
    socket.on("clear", (who) => { if (who !== author) clearBoard(); });
    socket.on("newMessage", ([who, name, text]) => addMessage(name, text, who === author));
    socket.on("updateBackground", (id) => setBackground(id));
  }

  // -- drawing ---------------------------------------------------------------------------------------------------

  function point(ev) {
    const box = $("board").getBoundingClientRect();
    return [Math.round(ev.clientX - box.left), Math.round(ev.clientY - box.top)];
  }

  function startShape(ev) {
    if (ev.button !== 0) return;
    $("board").setPointerCapture(ev.pointerId);
    const [x, y] = point(ev);
    const data = state.tool === "polyline" ? [x, y] : state.tool === "circle" ? [x, y, 0] : [x, y, x, y];
    const shape = { kind: state.tool, color: state.color, width: state.width, data };
    const id = generateId();
    state.drawing = { id, shape, sent: 0, timer: null, origin: [x, y] };
    putShape(id, shape);
    send("updateShape", [author, id, shape]);
    state.drawing.sent = shape.data.length;
  }

  function moveShape(ev) {
    const drawing = state.drawing;
    if (!drawing) return;
    const [x, y] = point(ev);
    const { shape } = drawing;
    if (shape.kind === "polyline") shape.data.push(x, y);
    else if (shape.kind === "circle") {
      shape.data[2] = Math.round(Math.hypot(x - drawing.origin[0], y - drawing.origin[1]));
    } else { shape.data[2] = x; shape.data[3] = y; }
    render(drawing.id, shape);
    if (!drawing.timer) drawing.timer = setTimeout(() => notify(drawing), NOTIFY_MS);
  }

  function notify(drawing) {
    drawing.timer = null;
    const { shape } = drawing;
    if (shape.kind === "polyline") {
      if (shape.data.length > drawing.sent) {
        send("patchShape", [author, drawing.id, shape.data.slice(drawing.sent)]);
        drawing.sent = shape.data.length;
      }
    } else send("updateShape", [author, drawing.id, shape]);
  }

  function endShape() {
    const drawing = state.drawing;
    if (!drawing) return;
    clearTimeout(drawing.timer);
    state.drawing = null;
    send("updateShape", [author, drawing.id, drawing.shape]); // the whole shape: this is what is stored
    state.undo.push(drawing.id);
    state.redo = [];
  }

  function undo() {
    const id = state.undo.pop();
    if (!id) return;
    const shape = state.shapes.get(id);
    dropShape(id);
    if (shape) state.redo.push(shape);
    send("removeShape", [author, id]);
  }

  function redo() {
    const shape = state.redo.pop();
    if (!shape) return;
    const id = generateId();
    putShape(id, shape);
    state.undo.push(id);
    send("updateShape", [author, id, shape]);
  }

  // -- background and chat -------------------------------------------------------------------------------------

  async function upload(file) {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, MAX_IMAGE / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
    const response = await fetch("/api/background/upload", {
      method: "POST", body: blob, headers: { "Content-Type": "image/jpeg" },
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) showError(`background: ${answer.error || `HTTP ${response.status}`}`);
    else setBackground(answer.id);
  }

  function addMessage(name, text, mine) {
    const li = document.createElement("li");
    li.className = mine ? "mine" : "theirs";
    const who = document.createElement("b");
    who.textContent = `${name}:`;
    li.append(who, document.createTextNode(text));
    $("messages").append(li);
    li.scrollIntoView({ block: "end" });
  }

  // -- wiring ------------------------------------------------------------------------------------------------------

  function buttons(containerId, values, make, onPick) {
    const box = $(containerId);
    for (const value of values) {
      const b = make(value);
      b.addEventListener("click", () => {
        for (const other of box.children) other.classList.remove("active");
        b.classList.add("active");
        onPick(value);
      });
      box.append(b);
    }
    box.children[0]?.classList.add("active");
  }

  for (const b of $("tools").querySelectorAll("button")) {
    b.addEventListener("click", () => {
      for (const other of $("tools").children) other.classList.remove("active");
      b.classList.add("active");
      state.tool = b.dataset.tool;
    });
  }
  buttons("colors", COLORS, (c) => {
    const b = document.createElement("button");
    b.className = "swatch"; b.style.background = c; b.title = c; b.dataset.color = c;
    return b;
  }, (c) => { state.color = c; });
  buttons("widths", WIDTHS, (w) => {
    const b = document.createElement("button");
    b.textContent = String(w); b.dataset.width = String(w);
    return b;
  }, (w) => { state.width = w; });
  $("widths").children[1].click();

  const board = $("board");
  board.addEventListener("pointerdown", startShape);
  board.addEventListener("pointermove", moveShape);
  board.addEventListener("pointerup", endShape);
  board.addEventListener("pointercancel", endShape);
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("clear").addEventListener("click", () => { clearBoard(); state.undo = []; state.redo = []; send("clear", author); });
  $("background").addEventListener("change", (ev) => {
    const file = ev.target.files[0];
    if (file) upload(file).catch((e) => showError(`background: ${e.message}`));
    ev.target.value = "";
  });
  document.addEventListener("keydown", (ev) => {
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "z") { ev.preventDefault(); (ev.shiftKey ? redo : undo)(); }
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "y") { ev.preventDefault(); redo(); }
  });
  const params = new URLSearchParams(location.search);
  $("name").value = params.get("name") || `guest-${author.slice(0, 4)}`;
  $("chat-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("name").value.trim();
    const text = $("text").value.trim();
    if (!name || !text) return;
    send("newMessage", [author, name, text]);
    addMessage(name, text, true);
    $("text").value = "";
  });

  connect().catch((err) => setStatus(`error: ${err.message}`, "error"));
})();

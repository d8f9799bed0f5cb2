// sioless chat page: negotiate, connect with the stock socket.io-client, rooms, messages with ack state, typing.
// Events (functions/chat.py): join(room, name) / leave(room, name) -> ack {ok, room};
// "chat message"(room, text, name) -> ack {ok, id, ts}; typing(room, name). Server emits "chat message",
// "system message" {room, text} and "typing" {room, from}. An ack {error} reports a refused request.
(() => {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const ACK_TIMEOUT_MS = 8000;
  const TYPING_EVERY_MS = 1500;
  const TYPING_SHOWN_MS = 3000;

  const state = { socket: null, name: "", rooms: new Map(), current: null, lastTyping: 0, typers: new Map(), lastTs: new Map() };
  window.chat = state; // handy in the console and for the browser test

  function setStatus(text, kind) {
    const el = $("status");
    el.textContent = text;
    el.className = `status ${kind}`;
  }

  function room(name) {
    if (!state.rooms.has(name)) state.rooms.set(name, []);
    return state.rooms.get(name);
  }

  function renderRooms() {
    const list = $("rooms");
    list.replaceChildren();
    for (const name of state.rooms.keys()) {
      const li = document.createElement("li");
      li.dataset.room = name;
      li.className = name === state.current ? "active" : "";
      const label = document.createElement("span");
      label.textContent = `# ${name}`;
      const leave = document.createElement("button");
      leave.textContent = "leave";
      leave.addEventListener("click", (ev) => { ev.stopPropagation(); leaveRoom(name); });
      li.append(label, leave);
      li.addEventListener("click", () => select(name));
      list.append(li);
    }
    const joined = state.current !== null;
    $("current-room").textContent = joined ? `# ${state.current}` : "no room yet: join one";
    $("text").disabled = $("send").disabled = !joined;
  }

  function renderMessages() {
    const list = $("messages");
    list.replaceChildren();
    for (const m of state.current ? room(state.current) : []) {
      const li = document.createElement("li");
      li.className = m.kind;
      if (m.kind === "system") {
        li.textContent = m.text;
      } else {
        const from = document.createElement("span");
        from.className = "from";
        from.textContent = `${m.from}:`;
        const text = document.createElement("span");
        text.className = "text";
        text.textContent = m.text;
        li.append(from, text);
        if (m.kind === "mine") {
          const st = document.createElement("span");
          st.className = `state ${m.state}`;
          st.dataset.testid = "ack-state";
          st.textContent = { sending: "sending…", delivered: "✓ delivered", failed: `✗ ${m.error || "failed"}` }[m.state];
          li.append(st);
        }
      }
      list.append(li);
    }
    list.scrollTop = list.scrollHeight;
    renderTyping();
  }

  function renderTyping() {
    const now = Date.now();
    const names = [...state.typers.entries()]
      .filter(([key, until]) => until > now && key.startsWith(`${state.current}\u0000`))
      .map(([key]) => key.split("\u0000")[1]);
    $("typing").textContent = names.length ? `${names.join(", ")} ${names.length > 1 ? "are" : "is"} typing…` : "";
  }

  // The newest message time seen per room: what a rejoin asks for messages after.
  function seen(roomName, ts) {
    if (typeof ts === "number" && ts > (state.lastTs.get(roomName) ?? 0)) state.lastTs.set(roomName, ts);
  }

  function add(roomName, message) {
    room(roomName).push(message);
    if (roomName === state.current) renderMessages();
  }

  function select(name) {
    state.current = name;
    renderRooms();
    renderMessages();
  }

  function emitWithAck(event, ...args) {
    return new Promise((resolve) => {
      state.socket.timeout(ACK_TIMEOUT_MS).emit(event, ...args, (err, response) => {
        if (err) resolve({ error: "no answer (timeout)" });
        else resolve(response || { error: "empty answer" });
      });
    });
  }

  async function joinRoom(name) {
    const answer = await emitWithAck("join", name, state.name);
    if (answer.error) {
      add(state.current || name, { kind: "system", text: `could not join ${name}: ${answer.error}` });
      return;
    }
    room(answer.room);
    seen(answer.room, answer.ts); // the server's clock: a rejoin asks for what came after this
    add(answer.room, { kind: "system", text: `you joined ${answer.room}` });
    select(answer.room);
  }

  async function leaveRoom(name) {
    await emitWithAck("leave", name, state.name);
    state.rooms.delete(name);
    if (state.current === name) state.current = state.rooms.keys().next().value ?? null;
    renderRooms();
    renderMessages();
  }

  async function send(text) {
    const roomName = state.current;
    const message = { kind: "mine", from: state.name, text, state: "sending" };
    add(roomName, message);
    const answer = await emitWithAck("chat message", roomName, text, state.name);
    if (answer.error) {
      message.state = "failed";
      message.error = answer.error;
    } else {
      message.state = "delivered";
      message.id = answer.id;
      seen(roomName, answer.ts);
    }
    renderMessages();
  }

  function connect(name) {
    state.name = name;
    // web/sioless.js negotiates before the first connection and before every reconnection attempt (tokens
    // expire; a restarted service wants a new one). The socket is socket.io-client's own.
    // Reconnection is socket.io-client's default: unlimited attempts, 1-5 s apart.
    const socket = sioless.socket(`/api/chat/negotiate?userId=${encodeURIComponent(name)}`);
    state.socket = socket;
    socket.on("connect", () => {
      setStatus(`online as ${name}`, "online");
      $("signin").hidden = true;
      $("chat").hidden = false;
      // Back after a reconnection: re-enter the rooms quietly (the others never saw us leave) and show what
      // was said meanwhile (the ack's `missed`: messages after the newest one this page has seen).
      for (const roomName of state.rooms.keys()) {
        const since = state.lastTs.get(roomName) ?? 0;
        emitWithAck("join", roomName, name, { rejoin: true, since }).then((answer) => {
          for (const m of answer.missed || []) {
            seen(m.room, m.ts);
            if (!room(m.room).some((x) => x.id === m.id)) add(m.room, { kind: "theirs", from: m.from, text: m.text, id: m.id });
          }
        });
      }
    });
    socket.on("connect_error", (err) => {
      setStatus("refused", "error");
      $("signin-error").textContent = `connection refused: ${err.message}`;
    });
    socket.on("disconnect", (reason) => setStatus(`offline (${reason})`, "offline"));
    socket.on("chat message", (m) => {
      seen(m.room, m.ts);
      if (room(m.room).some((x) => x.id === m.id)) return; // already fetched with a rejoin
      add(m.room, { kind: "theirs", from: m.from, text: m.text, id: m.id });
      state.typers.delete(`${m.room}\u0000${m.from}`);
      renderTyping();
    });
    socket.on("system message", (m) => add(m.room, { kind: "system", text: m.text }));
    socket.on("typing", (t) => {
      state.typers.set(`${t.room}\u0000${t.from}`, Date.now() + TYPING_SHOWN_MS);
      renderTyping();
      setTimeout(renderTyping, TYPING_SHOWN_MS + 50);
    });
  }

  $("signin-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("name").value.trim();
    if (!name) return;
    $("signin-error").textContent = "";
    connect(name);
  });
  $("join-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const name = $("room").value.trim();
    if (name) joinRoom(name);
    $("room").value = "";
  });
  $("send-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const text = $("text").value.trim();
    if (text && state.current) send(text);
    $("text").value = "";
  });
  $("text").addEventListener("input", () => {
    const now = Date.now();
    if (state.current && now - state.lastTyping > TYPING_EVERY_MS) {
      state.lastTyping = now;
      state.socket.emit("typing", state.current, state.name);
    }
  });
  const preset = new URLSearchParams(location.search).get("name");
  if (preset) $("name").value = preset;

  // App Service Authentication (docs/identity.md): signed in, the socket is the principal and the name field
  // starts with its name; with sign-in available but not used, a link (guests still work).
  fetch("/api/chat/account", { cache: "no-store" }).then(async (response) => {
    const me = response.ok ? await response.json() : { signInAvailable: false };
    if (!me.signInAvailable) return; // no App Service Authentication: every caller is a guest
    const account = $("account");
    if (me.userId) {
      const shown = me.name || me.userId;
      account.textContent = `Signed in as ${shown}. `;
      if (!preset) $("name").value = shown;
      const out = Object.assign(document.createElement("a"), { href: "/.auth/logout?post_logout_redirect_uri=/api/chat", textContent: "Sign out" });
      account.append(out);
    } else {
      const login = Object.assign(document.createElement("a"), { href: "/.auth/login/aad?post_login_redirect_uri=/api/chat", textContent: "Sign in" });
      account.append("Chatting as a guest. ", login, " to chat as yourself.");
    }
    account.hidden = false;
  }).catch(() => {});
})();

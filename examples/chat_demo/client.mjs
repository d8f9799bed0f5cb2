// The chat demo's page logic (what socket.io's examples/chat/public/main.js does), headless: a log of what the
// page would show, and the same emits. Connects through web/sioless.js (negotiate, then the stock client).
//   const alice = createChatClient("http://127.0.0.1:7071", "alice");
//   await alice.login(); alice.sendMessage("hi"); alice.typing(); alice.close();
import sioless from "../../web/sioless.js";

const TYPING_TIMER_LENGTH = 400; // ms, as the demo

export function participantsMessage(numUsers) {
  return numUsers === 1 ? "there's 1 participant" : `there are ${numUsers} participants`;
}

export function createChatClient(base, username, options = {}) {
  const log = []; // what the page shows, in order: {kind: "log" | "message" | "typing", text}
  const typers = new Set();
  const negotiate = new URL(`/api/chatdemo/negotiate?userId=${encodeURIComponent(username)}`, base).href;
  const socket = sioless.socket(negotiate, { transports: ["websocket"], ...options });
  let connected = false;
  let typingTimer = null;

  const show = (kind, text) => log.push({ kind, text });

  socket.on("connect", () => {
    // The demo emits "add user" when the user submits a name, and again after a reconnection.
    if (connected) show("log", "you have been reconnected");
    connected = true;
    socket.emit("add user", username);
  });
  socket.on("login", (data) => {
    show("log", "Welcome to Socket.IO Chat – ");
    show("log", participantsMessage(data.numUsers));
  });
  socket.on("new message", (data) => show("message", `${data.username}: ${data.message}`));
  socket.on("user joined", (data) => {
    show("log", `${data.username} joined`);
    show("log", participantsMessage(data.numUsers));
  });
  socket.on("user left", (data) => {
    show("log", `${data.username} left`);
    show("log", participantsMessage(data.numUsers));
    typers.delete(data.username);
  });
  socket.on("typing", (data) => typers.add(data.username));
  socket.on("stop typing", (data) => typers.delete(data.username));
  socket.on("disconnect", () => show("log", "you have been disconnected"));
  socket.on("connect_error", (err) => show("log", `cannot connect: ${err.message}`));

  return {
    socket,
    log,
    typers,
    username,
    sendMessage(text) {
      show("message", `${username}: ${text}`); // the demo shows your own message at once
      socket.emit("new message", text);
    },
    typing() {
      socket.emit("typing");
      clearTimeout(typingTimer);
      typingTimer = setTimeout(() => socket.emit("stop typing"), TYPING_TIMER_LENGTH);
    },
    close() {
      clearTimeout(typingTimer);
      socket.close();
    },
  };
}

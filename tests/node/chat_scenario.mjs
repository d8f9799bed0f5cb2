// The chat scenarios with the stock node socket.io-client, against a running dev host + emulator.
// Usage: node tests/node/chat_scenario.mjs <devhost base url>. Prints one JSON line; exit 0 only if all passed.
import { io } from "socket.io-client";

const base = process.argv[2];
const TIMEOUT = 5000;
const checks = [];
const check = (name, ok, detail = undefined) => checks.push({ name, ok: Boolean(ok), detail });

async function negotiate(userId) {
  const url = new URL("/api/chat/negotiate", base);
  if (userId) url.searchParams.set("userId", userId);
  const response = await fetch(url);
  if (!response.ok) throw new Error(`negotiate: HTTP ${response.status}`);
  return response.json();
}

async function connect(userId, transports) {
  const neg = await negotiate(userId);
  const socket = io(neg.endpoint, { path: neg.path, query: { access_token: neg.token }, reconnection: false, transports });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("connect timeout")), TIMEOUT);
    socket.once("connect", () => { clearTimeout(timer); resolve(socket); });
    socket.once("connect_error", (err) => { clearTimeout(timer); socket.close(); reject(err); });
  });
}

const next = (socket, event, predicate = () => true) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${TIMEOUT} ms`)), TIMEOUT);
    const handler = (payload) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      socket.off(event, handler);
      resolve(payload);
    };
    socket.on(event, handler);
  });

const sockets = [];
try {
  // Without a user id, negotiate issues a guest id the client did not choose; the guest can connect.
  const guestNegotiation = await negotiate(undefined);
  check("guest id without userId", /^guest-[0-9a-f]{16}$/.test(guestNegotiation.userId), guestNegotiation.userId);
  sockets.push(await connect(undefined));

  const alice = await connect("alice", ["websocket"]);
  const bob = await connect("bob", ["polling", "websocket"]);
  sockets.push(alice, bob);
  check("connected", alice.connected && bob.connected);

  const joinedA = await alice.timeout(TIMEOUT).emitWithAck("join", "node-room", "alice");
  check("join ack", joinedA.ok === true && joinedA.room === "node-room", joinedA);
  const systemSeen = next(alice, "system message", (m) => m.text === "bob joined");
  await bob.timeout(TIMEOUT).emitWithAck("join", "node-room", "bob");
  check("system message on join", (await systemSeen).room === "node-room");

  const received = next(bob, "chat message", (m) => m.text === "hi from node");
  const ack = await alice.timeout(TIMEOUT).emitWithAck("chat message", "node-room", "hi from node", "alice");
  check("message ack", ack.ok === true && typeof ack.id === "string", ack);
  const message = await received;
  check("room message delivered", message.from === "alice" && message.id === ack.id, message);

  const typing = next(alice, "typing");
  bob.emit("typing", "node-room", "bob");
  check("typing indicator", (await typing).from === "bob");

  const refused = await alice.timeout(TIMEOUT).emitWithAck("chat message", "node-room", "", "alice");
  check("invalid message refused in ack", typeof refused.error === "string", refused);

  const left = next(alice, "system message", (m) => m.text === "bob left");
  await bob.timeout(TIMEOUT).emitWithAck("leave", "node-room", "bob");
  check("leave", (await left).room === "node-room");

  const closed = new Promise((resolve) => bob.once("disconnect", resolve));
  bob.disconnect();
  check("disconnect", (await closed) === "io client disconnect");
  const after = await alice.timeout(TIMEOUT).emitWithAck("chat message", "node-room", "after bob left", "alice");
  check("others keep working after a disconnect", after.ok === true, after);
} catch (err) {
  check("scenario ran to the end", false, String(err && err.stack || err));
} finally {
  for (const socket of sockets) socket.close();
}
const ok = checks.every((c) => c.ok);
console.log(JSON.stringify({ ok, checks }));
process.exit(ok ? 0 : 1);

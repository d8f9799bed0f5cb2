// Runs one scenario of tests/fixtures/compat_apps/scenarios.json with node's socket.io-client and prints the
// recording as one JSON line (the node twin of tests/fixtures/compat_apps/compat_runner.py; same record shape).
// Usage: node tests/node/compat_runner.mjs <app> <direct|sioless> <base url>
import { readFileSync } from "node:fs";
import { io } from "socket.io-client";

const [app, mode, base] = process.argv.slice(2);
const scenarios = JSON.parse(readFileSync(new URL("../fixtures/compat_apps/scenarios.json", import.meta.url)));
const TIMEOUT = 5000;
const QUIET = 150;
const MAX_SETTLE = 3000;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function open(step) {
  const ns = step.ns ?? "/";
  const query = { ...(step.query ?? {}) };
  let socket;
  if (mode === "direct") {
    const auth = step.user ? { sub: step.user } : undefined;
    socket = io(new URL(ns, base).href, { auth, query, reconnection: false, forceNew: true });
  } else {
    const url = new URL(`/api/${app}/negotiate`, base);
    if (step.user) url.searchParams.set("userId", step.user);
    const response = await fetch(url);
    if (!response.ok) throw new Error(`negotiate: HTTP ${response.status}`);
    const neg = await response.json();
    socket = io(new URL(ns, neg.endpoint).href, {
      path: neg.path,
      query: { access_token: neg.token, ...query },
      reconnection: false,
      forceNew: true,
    });
  }
  const received = [];
  socket.onAny((event, ...args) => received.push([event, ...args]));
  socket.on("disconnect", () => received.push(["__disconnect__"]));
  const result = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ result: "timeout" }), TIMEOUT);
    socket.once("connect", () => { clearTimeout(timer); resolve({ result: "connected" }); });
    socket.once("connect_error", (err) => { clearTimeout(timer); resolve({ result: "refused", message: err.message }); });
  });
  return { socket, received, result };
}

// Wait for the step's "wait" hint (at least n new events per client, bounded), then for QUIET ms of silence.
async function settle(clients, wait) {
  const deadline = Date.now() + TIMEOUT;
  const short = () => Object.entries(wait).some(([name, n]) => clients[name].received.length - (seen[name] ?? 0) < n);
  while (Date.now() < deadline && short()) await sleep(20);
  const total = () => Object.values(clients).reduce((n, c) => n + c.received.length, 0);
  for (let waited = 0; waited < MAX_SETTLE; waited += QUIET) {
    const before = total();
    await sleep(QUIET);
    if (total() === before) return;
  }
}

const clients = {};
const seen = {};
const recording = [];
try {
  for (const [index, step] of scenarios[app].entries()) {
    const entry = { step: index, op: step.op, client: step.client };
    if (step.op === "connect") {
      const client = await open(step);
      clients[step.client] = client;
      Object.assign(entry, client.result);
    } else if (step.op === "call" || step.op === "emit") {
      const { socket } = clients[step.client];
      entry.event = step.event;
      // "$sid:<client>" -> that client's Socket.IO sid (what the server calls `sid`).
      const args = step.args.map((arg) =>
        typeof arg === "string" && arg.startsWith("$sid:") ? clients[arg.slice(5)].socket.id : arg);
      if (step.op === "emit") {
        socket.emit(step.event, ...args);
      } else {
        entry.ack = await new Promise((resolve) => {
          socket.timeout(TIMEOUT).emit(step.event, ...args, (err, ...args) => resolve(err ? "timeout" : args));
        });
      }
    } else if (step.op === "disconnect") {
      clients[step.client].socket.disconnect();
    }
    await settle(clients, step.wait ?? {});
    const received = {};
    for (const [name, client] of Object.entries(clients)) {
      const fresh = client.received.slice(seen[name] ?? 0);
      seen[name] = client.received.length;
      if (fresh.length) received[name] = fresh;
    }
    entry.received = received;
    recording.push(entry);
  }
} finally {
  for (const client of Object.values(clients)) client.socket.close();
}
console.log(JSON.stringify(recording));
process.exit(0);

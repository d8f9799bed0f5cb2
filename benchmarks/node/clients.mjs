// Load generator for the benchmarks (docs/performance.md): many stock socket.io-client 4 sockets in one node
// process, so the client side is not Python-bound. Driven by the benchmark over stdin/stdout, one JSON object
// per line each way.
//
// Usage: node benchmarks/node/clients.mjs '<json config>'
//   {url, path, token, negotiate, join, event, parallel, connectTimeoutMs}
//   url + path (+ token as access_token) say where to connect; with `negotiate` (a URL) every client first GETs
//   it and connects to the {endpoint, path, token} it returns. With `join` (a room name) every client then
//   emits "join" with that room and waits for the ack.
// Commands (stdin):
//   {"op":"connect","count":N}    connect N more clients, `parallel` at a time; answers with the connect rate
//   {"op":"arm"}                  clear the received marks; answers {"op":"armed"}
//   {"op":"await","timeoutMs":T}  answers once every client received `event` since "arm" (or at the timeout),
//                                 with the wall-clock time (ms since the epoch) the last one got it
//   {"op":"cpu"}                  this process's CPU time so far (µs, user + system)
//   {"op":"acks","count":N,"room":R}
//                                 the first client emits N acked "message"(R, text) one after another; answers
//                                 with each round trip (ms)
//   {"op":"flood","count":N,"window":W,"room":R}
//                                 N acked "message"(R, text) in all, W in flight at any time, sent round-robin by
//                                 the clients; answers with the seconds taken and the rate
//   {"op":"tally","expect":N,"timeoutMs":T}
//                                 answers once `event` arrived N times in all since start (or at the timeout),
//                                 with the count
//   {"op":"close"}                disconnect every client, answer, exit
import { createInterface } from "node:readline";
import { io } from "socket.io-client";

const cfg = { parallel: 50, event: "news", connectTimeoutMs: 60000, ...JSON.parse(process.argv[2] || "{}") };
const reply = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const wallMs = () => performance.timeOrigin + performance.now();

const sockets = [];
let received = 0;
let lastWallMs = 0;
let waiter = null; // resolves when received === sockets.length
let tally = 0; // every `event` ever received, by all clients
let tallyWaiter = null;

function onEvent() {
  tally++;
  if (tallyWaiter) tallyWaiter();
  received++;
  if (received === sockets.length) {
    lastWallMs = wallMs();
    if (waiter) waiter();
  }
}

async function target() {
  if (!cfg.negotiate) return { endpoint: cfg.url, path: cfg.path, token: cfg.token };
  const response = await fetch(cfg.negotiate);
  if (!response.ok) throw new Error(`negotiate: HTTP ${response.status}`);
  return response.json();
}

async function connectOne() {
  const where = await target();
  const socket = io(where.endpoint, {
    path: where.path,
    query: where.token ? { access_token: where.token } : {},
    transports: ["websocket"],
    reconnection: false,
    forceNew: true,
    timeout: cfg.connectTimeoutMs,
  });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
  if (cfg.join) {
    const ack = await socket.timeout(cfg.connectTimeoutMs).emitWithAck("join", cfg.join);
    if (!ack || ack.ok !== true) throw new Error(`join refused: ${JSON.stringify(ack)}`);
  }
  socket.on(cfg.event, onEvent);
  return socket;
}

async function connect(count) {
  const started = performance.now();
  let next = 0;
  let errors = 0;
  let firstError = null;
  const fresh = [];
  const worker = async () => {
    while (next < count) {
      next++;
      try {
        fresh.push(await connectOne());
      } catch (err) {
        errors++;
        firstError ??= String(err.message || err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(cfg.parallel, count) }, worker));
  const seconds = (performance.now() - started) / 1000;
  sockets.push(...fresh);
  return {
    op: "connected",
    ok: fresh.length,
    errors,
    firstError,
    total: sockets.length,
    seconds,
    perSecond: fresh.length / seconds,
    sids: cfg.sids ? fresh.map((s) => s.id) : undefined,
  };
}

async function awaitAll(timeoutMs) {
  if (received < sockets.length) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      waiter = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    waiter = null;
  }
  return { op: "received", count: received, of: sockets.length, lastWallMs: received === sockets.length ? lastWallMs : null };
}

async function emitAcked(socket, room) {
  const ack = await socket.timeout(cfg.connectTimeoutMs).emitWithAck("message", room, "hello everyone");
  if (!ack || ack.ok !== true) throw new Error(`message refused: ${JSON.stringify(ack)}`);
}

async function acks(count, room) {
  const socket = sockets[0];
  const ms = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await emitAcked(socket, room);
    ms.push(performance.now() - started);
  }
  return { op: "acks", ms };
}

async function flood(count, window, room) {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const socket = sockets[next % sockets.length];
      next++;
      await emitAcked(socket, room);
    }
  };
  await Promise.all(Array.from({ length: Math.min(window, count) }, worker));
  const seconds = (performance.now() - started) / 1000;
  return { op: "flooded", count, seconds, perSecond: count / seconds };
}

async function awaitTally(expect, timeoutMs) {
  if (tally < expect) {
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      tallyWaiter = () => {
        if (tally >= expect) {
          clearTimeout(timer);
          resolve();
        }
      };
    });
    tallyWaiter = null;
  }
  return { op: "tally", count: tally };
}

const commands = createInterface({ input: process.stdin });
for await (const line of commands) {
  if (!line.trim()) continue;
  const command = JSON.parse(line);
  if (command.op === "connect") reply(await connect(command.count));
  else if (command.op === "arm") {
    received = 0;
    lastWallMs = 0;
    reply({ op: "armed" });
  } else if (command.op === "await") reply(await awaitAll(command.timeoutMs ?? 60000));
  else if (command.op === "cpu") {
    const usage = process.cpuUsage();
    reply({ op: "cpu", micros: usage.user + usage.system });
  } else if (command.op === "acks" || command.op === "flood") {
    try {
      if (command.op === "acks") reply(await acks(command.count, command.room));
      else reply(await flood(command.count, command.window, command.room));
    } catch (err) {
      reply({ op: "error", message: String(err.message || err) });
    }
  }  else if (command.op === "tally") reply(await awaitTally(command.expect, command.timeoutMs ?? 60000));
  else if (command.op === "close") {
    for (const socket of sockets) socket.disconnect();
    reply({ op: "closed" });
    break;
  } else reply({ op: "error", message: `unknown op ${command.op}` });
}
setTimeout(() => process.exit(0), 100);

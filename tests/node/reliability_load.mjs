// Load generator for the reliability suite (docs/reliability.md): many stock socket.io-client sockets in one
// process, spread over rooms of the chat sample, each sending acked "chat message"s through
// emulator -> dev host -> functions/chat.py -> REST -> emulator.
//
// Usage: node tests/node/reliability_load.mjs '<json config>'
//   {base, clients, rooms, messages, paceMs, ackTimeoutMs, connectBatch, drainMs, prefix, transports}
// Prints progress on stderr and one JSON summary line on stdout: acks, expected vs received deliveries
// (per receiver, only messages whose sender got the ack count as expected), lost, duplicates, order
// violations (a receiver seeing a sender's sequence numbers out of order), ack latency percentiles.
import { io } from "socket.io-client";

const cfg = {
  negotiatePath: "/api/chat/negotiate",
  clients: 40,
  rooms: 4,
  messages: 5,
  paceMs: 0,
  ackTimeoutMs: 60000,
  connectBatch: 25,
  drainMs: 3000,
  prefix: "r",
  transports: ["websocket"],
  ...JSON.parse(process.argv[2] || "{}"),
};
const log = (...args) => process.stderr.write(`[load] ${args.join(" ")}\n`);
const now = () => performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function negotiate(userId) {
  const url = new URL(cfg.negotiatePath, cfg.base);
  url.searchParams.set("userId", userId);
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`negotiate: HTTP ${response.status}`);
      return await response.json();
    } catch (err) {
      if (attempt >= 3) throw err;
      await sleep(200 * (attempt + 1));
    }
  }
}

function connect(neg) {
  const socket = io(neg.endpoint, {
    path: neg.path,
    query: { access_token: neg.token },
    reconnection: false,
    transports: cfg.transports,
    forceNew: true,
    timeout: 20000,
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(socket));
    socket.once("connect_error", (err) => {
      socket.close();
      reject(err);
    });
  });
}

function percentile(sorted, p) {
  if (!sorted.length) return null;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))];
}

const clients = []; // {index, name, room, socket, received: Map<sender, number[]>, disconnects}
const summary = { config: { ...cfg, base: undefined }, connectErrors: 0, joinErrors: 0 };

// 1. connect and join, in batches (every connect is a blocking webhook)
const connectStarted = now();
for (let start = 0; start < cfg.clients; start += cfg.connectBatch) {
  const batch = [];
  for (let index = start; index < Math.min(cfg.clients, start + cfg.connectBatch); index++) {
    const name = `${cfg.prefix}u${index}`;
    const room = `${cfg.prefix}room${index % cfg.rooms}`;
    batch.push(
      (async () => {
        try {
          const socket = await connect(await negotiate(name));
          const client = { index, name, room, socket, received: new Map(), disconnects: [] };
          socket.on("chat message", (message) => {
            const [sender, seq] = String(message.text).split(":").map(Number);
            if (!client.received.has(sender)) client.received.set(sender, []);
            client.received.get(sender).push(seq);
          });
          socket.on("disconnect", (reason) => client.disconnects.push(reason));
          const ack = await socket.timeout(cfg.ackTimeoutMs).emitWithAck("join", room, name);
          if (!ack || ack.ok !== true) throw new Error(`join refused: ${JSON.stringify(ack)}`);
          clients.push(client);
        } catch (err) {
          summary.connectErrors++;
          log(`client ${name}: ${err.message}`);
        }
      })(),
    );
  }
  await Promise.all(batch);
}
summary.connected = clients.length;
summary.connectSeconds = (now() - connectStarted) / 1000;
log(`${clients.length}/${cfg.clients} connected and joined in ${summary.connectSeconds.toFixed(1)} s`);
await sleep(300); // the join broadcasts ("system message") settle before the measured traffic

// 2. every client sends its messages, one at a time (the next after the ack), optionally paced
const latencies = [];
const acked = new Map(); // sender index -> Set of acked seqs
let ackErrors = 0;
let ackTimeouts = 0;
const sendStarted = now();
await Promise.all(
  clients.map(async (client) => {
    const mine = new Set();
    acked.set(client.index, mine);
    if (cfg.paceMs) await sleep(Math.random() * cfg.paceMs); // spread the first sends
    for (let seq = 0; seq < cfg.messages; seq++) {
      const started = now();
      try {
        const ack = await client.socket
          .timeout(cfg.ackTimeoutMs)
          .emitWithAck("chat message", client.room, `${client.index}:${seq}`, client.name);
        if (ack && ack.ok === true) {
          latencies.push(now() - started);
          mine.add(seq);
        } else {
          ackErrors++;
          log(`ack error ${client.name}#${seq}: ${JSON.stringify(ack)}`);
        }
      } catch (err) {
        ackTimeouts++;
        if (ackTimeouts <= 5) log(`no ack ${client.name}#${seq}: ${err.message}`);
      }
      if (cfg.paceMs) await sleep(cfg.paceMs);
    }
  }),
);
summary.sendSeconds = (now() - sendStarted) / 1000;

// 3. wait until every expected delivery arrived, or nothing arrived for drainMs
const byRoom = new Map();
for (const client of clients) {
  if (!byRoom.has(client.room)) byRoom.set(client.room, []);
  byRoom.get(client.room).push(client);
}
let expected = 0;
for (const client of clients) {
  expected += acked.get(client.index).size * (byRoom.get(client.room).length - 1);
}
const countReceived = () => clients.reduce((n, c) => n + [...c.received.values()].reduce((m, l) => m + l.length, 0), 0);
let received = countReceived();
let lastChange = now();
while (received < expected && now() - lastChange < cfg.drainMs) {
  await sleep(50);
  const current = countReceived();
  if (current !== received) lastChange = now();
  received = current;
}
summary.totalSeconds = (now() - sendStarted) / 1000;

// 4. check: every acked message reached every other member of its room once, in the sender's order
let lost = 0;
let duplicates = 0;
let orderViolations = 0;
let unexpected = 0;
const senders = new Map(clients.map((c) => [c.index, c]));
for (const receiver of clients) {
  for (const sender of byRoom.get(receiver.room)) {
    if (sender === receiver) continue;
    const seqs = receiver.received.get(sender.index) || [];
    const seen = new Set(seqs);
    duplicates += seqs.length - seen.size;
    for (let i = 1; i < seqs.length; i++) if (seqs[i] <= seqs[i - 1]) orderViolations++;
    for (const seq of acked.get(sender.index)) if (!seen.has(seq)) lost++;
    for (const seq of seen) if (!acked.get(sender.index).has(seq)) unexpected++;
  }
  for (const senderIndex of receiver.received.keys()) {
    const sender = senders.get(senderIndex);
    if (!sender || sender.room !== receiver.room) unexpected += receiver.received.get(senderIndex).length;
  }
}
latencies.sort((a, b) => a - b);
Object.assign(summary, {
  sent: clients.length * cfg.messages,
  acks: latencies.length,
  ackErrors,
  ackTimeouts,
  expected,
  received,
  lost,
  duplicates,
  unexpected,
  orderViolations,
  unexpectedDisconnects: clients.reduce((n, c) => n + c.disconnects.length, 0),
  ackP50Ms: percentile(latencies, 0.5),
  ackP99Ms: percentile(latencies, 0.99),
  ackMaxMs: latencies.length ? latencies[latencies.length - 1] : null,
  ackedPerSecond: latencies.length / summary.sendSeconds,
  deliveriesPerSecond: received / summary.totalSeconds,
});

// 5. leave politely, so the emulator and dev host see every disconnect
for (const client of clients) client.socket.disconnect();
await sleep(200);
process.stdout.write(JSON.stringify(summary) + "\n");
process.exit(0);

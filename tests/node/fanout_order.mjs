// Order check for fan-out (tests/integration/test_emulator_fanout_order.py): stock socket.io-client 4.8 sockets
// receive numbered "news" events while each also emits acked "mark" events, a few in flight. The process blocks
// its event loop now and then, so the emulator's writes to these sockets back up.
//
// Usage: node tests/node/fanout_order.mjs '<json>'  {url, path, clients, transports, marks, window, paceMs,
//   blockEvery, blockMs}
// Prints {"type":"ready"} once every socket is connected; starts the marks on the stdin line "go" (a mark paceMs
// after the previous one's ack); on the stdin line "finish <last seq>" it waits until every
// socket saw that seq (at most 20 s) and got its acks, then prints one JSON summary: per socket its Engine.IO id,
// transport, and what it received in arrival order ("n<seq>" for news, "a<k>" for the ack of mark k, "e<k>" for
// an ack that timed out). The test checks the order.
import { io } from "socket.io-client";
import { createInterface } from "node:readline";

const cfg = JSON.parse(process.argv[2]);
const out = (o) => console.log(JSON.stringify(o));
const sockets = [];
let received = 0;

function block(ms) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // busy: the sockets' data piles up in the kernel and then in the emulator's transport buffers
  }
}

function start() {
  const entry = { socket: null, events: [], last: null, acked: 0 };
  const socket = io(cfg.url, { path: cfg.path, transports: cfg.transports, reconnection: false, forceNew: true });
  entry.socket = socket;
  socket.on("news", (payload) => {
    entry.events.push(`n${payload.seq}`);
    entry.last = payload.seq;
    received += 1;
    if (cfg.blockEvery && received % cfg.blockEvery === 0) block(cfg.blockMs);
  });
  // the callback form runs as the ACK packet is handled, in order with the "news" handlers
  entry.marks = () =>
    new Promise((resolve) => {
      let next = 0;
      const one = () => {
        if (next >= cfg.marks) return;
        const k = next++;
        socket.timeout(20000).emit("mark", k, (err) => {
          entry.events.push(err ? `e${k}` : `a${k}`);
          entry.acked += 1;
          if (entry.acked === cfg.marks) resolve();
          setTimeout(one, cfg.paceMs);
        });
      };
      for (let i = 0; i < cfg.window; i++) one();
    });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => {
      sockets.push(entry);
      resolve();
    });
    socket.once("connect_error", reject);
  });
}

await Promise.all(Array.from({ length: cfg.clients }, start));
out({ type: "ready" });
let lastSeq = null;
let marking = null;
for await (const line of createInterface({ input: process.stdin })) {
  const [word, seq] = line.trim().split(" ");
  if (word === "go") marking = Promise.all(sockets.map((s) => s.marks()));
  if (word === "finish") {
    lastSeq = Number(seq);
    break;
  }
}
const deadline = Date.now() + 20000;
while (Date.now() < deadline && sockets.some((s) => s.last !== lastSeq)) {
  await new Promise((resolve) => setTimeout(resolve, 20));
}
await marking;
out({
  type: "summary",
  sockets: sockets.map((s) => ({ sid: s.socket.io.engine.id, transport: s.socket.io.engine.transport.name, events: s.events })),
});
for (const s of sockets) s.socket.disconnect();
setTimeout(() => process.exit(0), 50);

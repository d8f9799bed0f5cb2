// Emulator-restart case of the reliability suite (docs/reliability.md): stock socket.io-client sockets on the
// whiteboard hub with reconnection on; each reconnection attempt uses a token from a fresh negotiate.
//
// Usage: node tests/node/reliability_reconnect.mjs '<json config>'   {base, clients, negotiatePath, timeoutMs}
// Protocol (one JSON line per step on stdout; commands on stdin):
//   -> {"event":"ready", ids, users}          all connected; users = newest updateUser count each client holds
//   <- "check"                                 (sent after the emulator was restarted)
//   -> {"event":"checked", ...}                reconnected sockets, new ids, fresh negotiations, newest counts,
//                                              convergeMs: from "check" until every client's newest count is exact
//                                              acked probes after the restart; then the process exits
import { io } from "socket.io-client";
import { createInterface } from "node:readline";

const cfg = { negotiatePath: "/api/whiteboard/negotiate", clients: 10, timeoutMs: 20000, ...JSON.parse(process.argv[2]) };
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const log = (...a) => process.stderr.write(`[reconnect] ${a.join(" ")}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function negotiate() {
  const response = await fetch(new URL(cfg.negotiatePath, cfg.base));
  if (!response.ok) throw new Error(`negotiate: HTTP ${response.status}`);
  return response.json();
}

const clients = [];
for (let i = 0; i < cfg.clients; i++) {
  const neg = await negotiate();
  const socket = io(neg.endpoint, {
    path: neg.path,
    query: { access_token: neg.token },
    transports: ["websocket"],
    reconnection: true,
    reconnectionDelay: 250,
    reconnectionDelayMax: 1000,
    timeout: 5000,
  });
  const client = { socket, ids: [], users: null, usersAt: -1, negotiations: 1, disconnects: [], connectErrors: 0 };
  socket.on("connect", () => client.ids.push(socket.id));
  socket.on("updateUser", (count, takenAt) => {
    if (takenAt >= client.usersAt) [client.users, client.usersAt] = [count, takenAt];
  });
  socket.on("disconnect", (reason) => {
    client.disconnects.push(reason);
    // A fresh token for the next attempt: the Manager reads opts.query when it opens the next engine.
    negotiate()
      .then((fresh) => {
        socket.io.opts.query = { access_token: fresh.token };
        client.negotiations++;
      })
      .catch((err) => log(`negotiate after disconnect failed: ${err.message}`));
  });
  socket.io.on("reconnect_error", () => client.connectErrors++);
  clients.push(client);
}
const deadline = Date.now() + cfg.timeoutMs;
while (clients.some((c) => !c.socket.connected) && Date.now() < deadline) await sleep(20);
await sleep(500); // the connected broadcasts of the last sockets arrive
out({ event: "ready", connected: clients.filter((c) => c.socket.connected).length, users: clients.map((c) => c.users) });

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() !== "check") continue;
  const started = Date.now();
  const end = started + cfg.timeoutMs;
  const reconnected = () => clients.filter((c) => c.socket.connected && c.ids.length >= 2).length;
  while (reconnected() < clients.length && Date.now() < end) await sleep(20);
  const reconnectMs = Date.now() - started;
  // presence converges: the newest count every client holds equals the number of sockets
  while (clients.some((c) => c.users !== clients.length) && Date.now() < end) await sleep(50);
  const convergeMs = clients.every((c) => c.users === clients.length) ? Date.now() - started : null;
  let probes = 0;
  for (const client of clients) {
    try {
      const ack = await client.socket.timeout(5000).emitWithAck("newMessage", ["probe", "probe", "after restart"]);
      if (ack && ack.ok === true) probes++;
    } catch (err) {
      log(`probe failed: ${err.message}`);
    }
  }
  out({
    event: "checked",
    clients: clients.length,
    reconnected: reconnected(),
    reconnectMs,
    convergeMs,
    newIds: clients.filter((c) => c.ids.length >= 2 && c.ids.at(-1) !== c.ids[0]).length,
    freshNegotiations: clients.reduce((n, c) => n + c.negotiations - 1, 0),
    reconnectErrors: clients.reduce((n, c) => n + c.connectErrors, 0),
    disconnectReasons: [...new Set(clients.flatMap((c) => c.disconnects))],
    users: clients.map((c) => c.users),
    probesAcked: probes,
  });
  for (const client of clients) client.socket.disconnect();
  await sleep(200);
  process.exit(0);
}

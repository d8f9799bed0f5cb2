// web/sioless.js (the connect helper) with the stock node socket.io-client against the greeting fixture app
// (tests/fixtures/apps/greeting: hub greet, join/say, a greeting in connect, ?mode=false refuses).
// Usage: node tests/node/connect_helper.mjs <devhost base url>
// Protocol (one JSON line per step on stdout; commands on stdin):
//   -> {"event":"ready", checks}   refusal / bad route / both forms connected, alice in a room (joined in `connect`)
//   <- "check"                     (sent after the emulator was restarted)
//   -> {"event":"checked", ok, checks}  alice came back by herself with a fresh negotiation, her `connect` listener
//                                  ran again and re-joined the room (bob's message reaches her); then it exits
import sioless from "../../web/sioless.js";
import { createInterface } from "node:readline";

const base = process.argv[2];
const TIMEOUT = 10000;
const checks = [];
const check = (name, ok, detail = undefined) => checks.push({ name, ok: Boolean(ok), detail });
const out = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const route = (user) => new URL(`/api/greet/negotiate?userId=${user}`, base).href;

// A fetch that records each negotiation's token, to prove every (re)connection used a fresh one.
const tokens = [];
const countingFetch = async (url, init) => {
  const response = await fetch(url, init);
  const copy = response.clone();
  if (response.ok) tokens.push((await copy.json()).token);
  return response;
};
const fast = { transports: ["websocket"], reconnectionDelay: 200, reconnectionDelayMax: 500, timeout: 4000 };

async function waitFor(predicate, what) {
  const end = Date.now() + TIMEOUT;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

const sockets = [];
let alice;
let firstId;
const alice_ = { connects: 0, joins: [], messages: [], greetings: 0 };
try {
  try {
    // the app refuses ?mode=false on the Engine.IO query: the helper keeps the page's own query next to the token
    sockets.push(await sioless.connect(route("mallory"), { ...fast, query: { mode: "false" } }));
    check("refused connect rejects", false, "connected");
  } catch (err) {
    check("refused connect rejects with the service's message", /refused/i.test(err.message), err.message);
  }
  try {
    await sioless.connect(new URL("/api/no-such-route", base).href, fast);
    check("bad negotiate route rejects", false, "connected");
  } catch (err) {
    check("bad negotiate route rejects naming the HTTP status", /HTTP 404/.test(err.message), err.message);
  }

  // The synchronous form: listeners are attached before anything happened.
  alice = sioless.socket(route("alice"), { ...fast, fetch: countingFetch });
  sockets.push(alice);
  check("synchronous form returns a socket at once", alice && !alice.connected && typeof alice.on === "function");
  alice.on("connect", async () => {
    alice_.connects++;
    const answer = await alice.timeout(5000).emitWithAck("join", "helper-room");
    alice_.joins.push(answer);
  });
  alice.on("said", (text) => alice_.messages.push(text));
  alice.on("hello", () => alice_.greetings++);
  await waitFor(() => alice_.joins.length === 1, "alice's first join");
  check("synchronous form connects and joins in its connect listener", alice_.joins[0].ok === true, alice_.joins[0]);
  check("one negotiation for the first connection", tokens.length === 1, tokens.length);
  check("the token used is the negotiated one", alice.io.opts.query.access_token === tokens[0]);

  const bob = await sioless.connect(route("bob"), fast);
  sockets.push(bob);
  check("promise form resolves connected", bob.connected && typeof bob.id === "string");
  firstId = alice.id;
  out({ event: "ready", id: alice.id, negotiations: tokens.length });
} catch (err) {
  check("setup ran to the end", false, String((err && err.stack) || err));
  out({ event: "ready", failed: true });
}

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (line.trim() !== "check") continue;
  try {
    await waitFor(() => alice_.joins.length >= 2 && alice.connected, "alice to reconnect and re-join");
    check("the connect listener ran again after the reconnection", alice_.connects >= 2, alice_.connects);
    check("re-joined in the connect listener", alice_.joins.at(-1).ok === true, alice_.joins.at(-1));
    check("negotiated again for the reconnection", tokens.length >= 2, tokens.length);
    check("a new socket id after the restart", alice.id !== firstId, [firstId, alice.id]);
    check("the reconnection used the newest token", alice.io.opts.query.access_token === tokens.at(-1));
    const bob = sockets.at(-1);
    await waitFor(() => bob.connected, "bob to reconnect");
    const ack = await bob.timeout(5000).emitWithAck("say", "helper-room", "after the restart");
    check("bob's message is acked after the restart", ack.ok === true, ack);
    await waitFor(() => alice_.messages.includes("after the restart"), "bob's message at alice");
    check("alice is in her room again", true);
    await waitFor(() => alice_.greetings >= 2, "the greeting of the new connection");
    check("the connect handler's greeting arrives on the reconnection too", alice_.greetings >= 2, alice_.greetings);
  } catch (err) {
    check("reconnection ran to the end", false, String((err && err.stack) || err));
  }
  break;
}
for (const socket of sockets) socket.close();
const ok = checks.every((c) => c.ok);
out({ event: "checked", ok, checks });
process.exit(ok ? 0 : 1);

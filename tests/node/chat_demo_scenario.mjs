// socket.io's chat demo (ported: examples/chat_demo) with its own page logic (examples/chat_demo/client.mjs).
// Usage: node tests/node/chat_demo_scenario.mjs <devhost base url>. Prints one JSON line; exit 0 only if all passed.
import { createChatClient, participantsMessage } from "../../examples/chat_demo/client.mjs";

const base = process.argv[2];
const TIMEOUT = 10000;
const checks = [];
const check = (name, ok, detail = undefined) => checks.push({ name, ok: Boolean(ok), detail });
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const texts = (client) => client.log.map((entry) => entry.text);

async function waitFor(predicate, what) {
  const end = Date.now() + TIMEOUT;
  while (!predicate()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}
const shown = (client, text) => waitFor(() => texts(client).includes(text), `"${text}" on ${client.username}'s page`);

const clients = [];
try {
  const alice = createChatClient(base, "alice");
  clients.push(alice);
  await shown(alice, participantsMessage(1));
  check("the first user is told there's 1 participant", texts(alice)[0] === "Welcome to Socket.IO Chat – ", texts(alice));

  const bob = createChatClient(base, "bob");
  clients.push(bob);
  await shown(bob, participantsMessage(2));
  check("numUsers counts the caller right after it joins", true);
  await shown(alice, "bob joined");
  check("the others see who joined and the new count", texts(alice).at(-1) === participantsMessage(2), texts(alice));

  const carol = createChatClient(base, "carol");
  clients.push(carol);
  await shown(carol, participantsMessage(3));
  await shown(bob, "carol joined");

  alice.sendMessage("hello from alice");
  await shown(bob, "alice: hello from alice");
  await shown(carol, "alice: hello from alice");
  check("a message reaches everyone else", true);
  check("the sender is not sent its own message", texts(alice).filter((t) => t === "alice: hello from alice").length === 1);

  bob.typing();
  await waitFor(() => alice.typers.has("bob") && carol.typers.has("bob"), "bob typing");
  await waitFor(() => !alice.typers.has("bob"), "bob stopping typing");
  check("typing and stop typing reach the others", true);

  bob.close();
  await shown(alice, "bob left");
  check("a disconnect of a signed-in user is announced with the new count", texts(alice).at(-1) === participantsMessage(2), texts(alice));
  await shown(carol, "bob left");

  const dave = createChatClient(base, "dave");
  clients.push(dave);
  await shown(dave, participantsMessage(3));
  check("the count stays right after leaves (presence, not a module global)", true);
} catch (err) {
  check("scenario ran to the end", false, String((err && err.stack) || err));
} finally {
  for (const client of clients) client.close();
}
const ok = checks.every((c) => c.ok);
console.log(JSON.stringify({ ok, checks }));
process.exit(ok ? 0 : 1);

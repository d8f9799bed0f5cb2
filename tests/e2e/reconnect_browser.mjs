// Chat and whiteboard pages in headless Chromium recover by themselves: the caller SIGKILLs the dev host (and
// restarts it) while the pages send, then SIGKILLs and restarts the emulator. Between "KILL_DEVHOST" /
// "KILL_EMULATOR" on stdout and a line on stdin the caller does the deed. After each: every page is connected
// again, in its rooms (a message after recovery reaches the other chat page), the whiteboards show every shape
// that was acked to anyone, the chat shows no duplicate "joined" lines. Default failure policy
// (close_connection): a page whose emit hit the crash has its connection closed and reconnects by itself.
// Usage: node tests/e2e/reconnect_browser.mjs <devhost base url> <artifacts dir>. Last stdout line: JSON result.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { callerLines, launch, newResult, openPage } from "./browser.mjs";

const [base, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const TIMEOUT = 20000;
const RECOVERY_MS = 45000;
const { result, step } = newResult({ phases: {}, userCountExactAfterMs: null });
const lines = callerLines();
const nextLine = lines.nextLine;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const browser = await launch();
const newPage = (name, path) => openPage(browser, result, name, `${base}${path}`, { timeout: TIMEOUT });

async function openChat(name) {
  const page = await newPage(name, `/api/chat?name=${name}`);
  await page.click("#connect");
  await page.waitForSelector("#status.online");
  await page.fill("#room", "lobby");
  await page.click("#join");
  await page.waitForSelector("#messages li.system:has-text('you joined lobby')");
  return page;
}

async function openBoard(name) {
  const page = await newPage(name, `/api/whiteboard?name=${name}`);
  await page.waitForSelector("#status.online");
  await page.waitForFunction(() => window.whiteboard.loaded === true);
  return page;
}

// A sender inside the page, through the page's own socket (it survives reconnections: socket.io-client keeps
// the same Socket object). Records what was acked, what failed, disconnects and reconnects with times.
function install(page, kind) {
  return page.evaluate((kind) => {
    const app = kind === "chat" ? window.chat : window.whiteboard;
    const socket = app.socket;
    const t = (window.__test = { acked: [], failed: 0, down: [], up: [], ids: [socket.id], n: 0, timer: null, socket });
    socket.on("disconnect", (reason) => t.down.push([Date.now(), reason]));
    socket.on("connect", () => { t.up.push(Date.now()); t.ids.push(socket.id); });
    t.relayed = [];
    t.ackTimes = [];
    t.loads = [];
    if (kind !== "chat") {
      socket.on("updateShape", ([, id]) => t.relayed.push([Date.now(), id]));
      const realFetch = window.fetch;
      window.fetch = async (...args) => {
        const response = await realFetch(...args);
        if (String(args[0]).includes("/api/diagram")) {
          response.clone().json().then((d) => t.loads.push([Date.now(), response.status, Object.keys(d.shapes || {}).length])).catch(() => t.loads.push([Date.now(), response.status, -1]));
        }
        return response;
      };
    }
    t.start = () => {
      t.timer = setInterval(() => {
        if (!socket.connected) return;
        const n = t.n++;
        if (kind === "chat") {
          const text = `${app.name}-${n}`;
          socket.timeout(5000).emit("chat message", "lobby", text, app.name, (err, ack) => {
            if (!err && ack && ack.ok) t.acked.push(text); else t.failed++;
          });
        } else {
          const id = `${socket.id.slice(0, 6).replace(/[^A-Za-z0-9]/g, "x")}-${n}`;
          const x = 20 + ((n * 37) % 800), y = 20 + ((n * 53) % 480);
          const shape = { kind: "line", color: "teal", width: 2, data: [x, y, x + 30, y + 20] };
          app.putShape(id, shape); // shown at once, stored when acked: what the page does for a stroke
          socket.timeout(5000).emit("updateShape", ["tester", id, shape], (err, ack) => {
            if (!err && ack && ack.ok) { t.acked.push(id); t.ackTimes.push([Date.now(), id]); } else t.failed++;
          });
        }
      }, kind === "chat" ? 300 : 200);
    };
    t.stop = () => clearInterval(t.timer);
  }, kind);
}

const pages = {};
// (window.chat on the whiteboard page is its #chat element: ask each page for the app it runs)
const connectedAll = async () =>
  (await Promise.all(Object.values(pages).map((p) => p.evaluate(() => window.__test.socket.connected)))).every(Boolean);

async function phase(name, signal) {
  const before = Object.fromEntries(await Promise.all(Object.entries(pages).map(async ([k, p]) => [k, await p.evaluate(() => window.__test.up.length)])));
  await Promise.all(Object.values(pages).map((p) => p.evaluate(() => window.__test.start())));
  await sleep(1500);
  console.log(signal);
  const killedAt = Date.now();
  await nextLine();
  const restartedAt = Date.now();
  await sleep(2000); // keep sending after the restart too
  await Promise.all(Object.values(pages).map((p) => p.evaluate(() => window.__test.stop())));
  const deadline = Date.now() + RECOVERY_MS;
  while (!(await connectedAll()) && Date.now() < deadline) await sleep(200);
  if (!(await connectedAll())) throw new Error(`${name}: not every page came back within ${RECOVERY_MS} ms`);
  await sleep(1500); // the last acks and relays land; reconnected pages reload the board
  const info = {};
  for (const [k, p] of Object.entries(pages)) {
    const t = await p.evaluate(() => ({ ...window.__test, timer: null, start: null, stop: null, socket: null }));
    const reconnects = t.up.length - before[k];
    const lastUp = t.up.at(-1);
    info[k] = {
      acked: t.acked.length,
      failed: t.failed,
      reconnected: reconnects > 0,
      backAfterMs: reconnects > 0 ? lastUp - killedAt : 0,
      downReasons: [...new Set(t.down.map((d) => d[1]))],
    };
  }
  result.phases[name] = { killToRestartMs: restartedAt - killedAt, pages: info };
  // Rooms restored: a message from each chat page now reaches the other.
  const [carol, dan] = [pages.carol, pages.dan];
  for (const [from, to, who] of [[carol, dan, "carol"], [dan, carol, "dan"]]) {
    const text = `${name}: hello from ${who} after recovery`;
    await from.fill("#text", text);
    await from.click("#send");
    await to.waitForSelector(`#messages li.theirs:has-text('${text}')`);
  }
  step(`${name}: every page back; chat rooms restored (messages flow both ways)`);
  // No duplicate system messages on any chat page.
  for (const [k, p] of [["carol", carol], ["dan", dan]]) {
    const system = await p.evaluate(() => window.chat.rooms.get("lobby").filter((m) => m.kind === "system").map((m) => m.text));
    const seen = new Set();
    const dupes = system.filter((s) => (seen.has(s) ? true : (seen.add(s), false)));
    if (dupes.length) throw new Error(`${name}: ${k} shows duplicate system messages: ${dupes}`);
    result.phases[name].pages[k].systemMessages = system;
  }
  step(`${name}: no duplicate system messages`);
  // Give rejoins with `since` a moment: the missed messages arrive in their acks.
  await sleep(500);
  // Acked chat messages: each sender's acked messages reached the other page unless it was reconnecting.
  for (const [from, to, fk, tk] of [[carol, dan, "carol", "dan"], [dan, carol, "dan", "carol"]]) {
    const acked = await from.evaluate(() => window.__test.acked);
    const shown = new Set(await to.evaluate(() => window.chat.rooms.get("lobby").filter((m) => m.kind === "theirs").map((m) => m.text)));
    const missed = acked.filter((x) => !shown.has(x));
    result.phases[name].pages[tk][`missedFrom_${fk}`] = missed.length;
    if (missed.length) throw new Error(`${name}: ${tk} does not show ${missed.length} messages acked to ${fk}: ${missed.slice(0, 5)}`);
    const own = await from.evaluate(() => window.chat.rooms.get("lobby").filter((m) => m.kind === "mine").length);
    result.phases[name].pages[fk].ownShown = own;
  }
  // Whiteboard: every shape acked to either page is stored and shown on both pages.
  const acked = [...(await pages.alice.evaluate(() => window.__test.acked)), ...(await pages.bob.evaluate(() => window.__test.acked))];
  const diagram = await (await fetch(`${base}/api/diagram`)).json();
  const stored = new Set(Object.keys(diagram.shapes));
  const lost = acked.filter((id) => !stored.has(id));
  if (lost.length) throw new Error(`${name}: ${lost.length} acked shapes are not stored: ${lost.slice(0, 5)}`);
  for (const k of ["alice", "bob"]) {
    await pages[k].waitForFunction((ids) => ids.every((id) => window.whiteboard.shapes.has(id)), acked, { timeout: 10000 })
      .catch(async () => {
        const missing = await pages[k].evaluate((ids) => ids.filter((id) => !window.whiteboard.shapes.has(id)), acked);
        const other = await pages[k === "alice" ? "bob" : "alice"].evaluate(() => window.__test.ackTimes.slice(-8));
        const t = await pages[k].evaluate(() => ({ up: window.__test.up, down: window.__test.down, loads: window.__test.loads, relayed: window.__test.relayed.slice(-8), errors: window.whiteboard.errors }));
        throw new Error(`${name}: ${k} does not show ${missing.length} acked shapes: ${missing.slice(0, 5)} ${JSON.stringify(t)} other acks ${JSON.stringify(other)} stored now ${stored.size} acked ${acked.length} has15 ${stored.has(missing[0])}`);
      });
  }
  result.phases[name].shapesAcked = acked.length;
  step(`${name}: all ${acked.length} acked shapes stored and shown on both whiteboards`);
  for (const [k, p] of Object.entries(pages)) await p.screenshot({ path: join(artifacts, `reconnect-${name}-${k}.png`) });
}

try {
  pages.carol = await openChat("carol");
  pages.dan = await openChat("dan");
  await pages.carol.waitForSelector("#messages li.system:has-text('dan joined')");
  pages.alice = await openBoard("alice");
  pages.bob = await openBoard("bob");
  for (const k of ["carol", "dan"]) await install(pages[k], "chat");
  for (const k of ["alice", "bob"]) await install(pages[k], "board");
  step("two chat pages in lobby, two whiteboard pages");
  await phase("devhost-kill", "KILL_DEVHOST");
  await phase("emulator-kill", "KILL_EMULATOR");
  // The SIGKILLs left presence rows of sockets that no longer exist (no disconnected webhook reached the app);
  // the presence sweep removes them: both whiteboards show exactly 2 users again within the 60 s bound.
  const converging = Date.now();
  for (const k of ["alice", "bob"]) {
    await pages[k].waitForFunction(() => window.whiteboard.users === 2, null, { timeout: 60000, polling: 250 });
  }
  result.userCountExactAfterMs = Date.now() - converging;
  step(`the user count shown is exact again (2) ${result.userCountExactAfterMs} ms after recovery`);
  for (const k of ["alice", "bob"]) await pages[k].screenshot({ path: join(artifacts, `reconnect-converged-${k}.png`) });
  const ids = await pages.alice.evaluate(() => window.__test.ids);
  if (new Set(ids).size < 2) throw new Error(`alice kept one socket id across the emulator restart: ${ids}`);
  result.ok = true;
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err);
  for (const [k, p] of Object.entries(pages)) await p.screenshot({ path: join(artifacts, `reconnect-failed-${k}.png`) }).catch(() => {});
} finally {
  await browser.close();
  console.log(JSON.stringify(result));
  lines.close();
}

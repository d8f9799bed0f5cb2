// Presence converges under many browser clients: N whiteboard pages in one headless Chromium, then the caller
// SIGKILLs the emulator and starts it again. Every page must reconnect by itself (web/sioless.js negotiates
// again) and show the exact user count again. Talks to the caller over stdio:
//   stdout "READY {ids}"  every page online and showing N; the caller samples presence, then kills the emulator
//   stdin  "restarted"    the emulator is up again (the pages are reconnecting by themselves meanwhile)
//   stdout "BACK {ids}"   every page connected again with a new socket id
//   stdout "HELD"         every page showed N, and still did one hold period later; the caller takes its last
//                         presence sample while the pages are still connected
//   stdin  "done"         then the browser closes; stdout last line: the JSON result
// Usage: node tests/e2e/presence_browser.mjs <devhost base url> <artifacts dir> <pages> <bound ms> <hold ms>
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { callerLines, launch, newResult, openPage } from "./browser.mjs";

const [base, artifacts, pageArg, boundArg, holdArg] = process.argv.slice(2);
const PAGES = Number(pageArg);
const BOUND_MS = Number(boundArg);
const HOLD_MS = Number(holdArg);
const OPEN_BATCH = 8; // pages opened at once: 40 page loads at a time only queue up on two cores
mkdirSync(artifacts, { recursive: true });
const { result, step } = newResult({ pages: PAGES, timings: {} });
const lines = callerLines();
const nextLine = lines.nextLine;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const started = Date.now();

// One renderer process per page would be 40 processes on 2 cores; same-site pages can share a few renderers
// (each page keeps its own window, socket.io-client and timers).
const browser = await launch(["--disable-quic", "--renderer-process-limit=4"]);
const context = await browser.newContext({ viewport: { width: 760, height: 420 } });
const pages = [];

async function openBoard(i) {
  const page = await openPage(browser, result, `page ${i}`, `${base}/api/whiteboard`, { context, timeout: 30000, console: "errors" });
  await page.waitForSelector("#status.online");
  // What each page's socket went through, recorded inside the page (the Socket object survives reconnections).
  await page.evaluate(() => {
    const socket = window.whiteboard.socket;
    const t = (window.__presence = { ids: [socket.id], down: [], up: [], counts: [] });
    socket.on("disconnect", (reason) => t.down.push([Date.now(), reason]));
    socket.on("connect", () => { t.up.push(Date.now()); t.ids.push(socket.id); });
    socket.on("updateUser", (count) => t.counts.push([Date.now(), count]));
  });
  return page;
}

const each = (fn) => Promise.all(pages.map(fn));
// What every page shows: its socket state and the count in #users (the text a user reads).
const views = () =>
  each((p) => p.evaluate(() => ({
    connected: window.whiteboard.socket.connected,
    id: window.whiteboard.socket.id,
    users: window.whiteboard.users,
    shown: document.getElementById("users").textContent,
    status: document.getElementById("status").textContent,
  })));
const exact = (v) => v.connected && v.users === PAGES && v.shown === `${PAGES} online`;

async function waitFor(what, predicate, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await views();
    if (predicate(last)) return last;
    await sleep(250);
  }
  const wrong = last.map((v, i) => [i, v]).filter(([, v]) => !predicate([v]));
  throw new Error(`${what}: not within ${timeoutMs} ms; ${wrong.length} pages not there, e.g. ${JSON.stringify(wrong.slice(0, 3))}`);
}

try {
  for (let i = 0; i < PAGES; i += OPEN_BATCH) {
    const batch = await Promise.all(Array.from({ length: Math.min(OPEN_BATCH, PAGES - i) }, (_, k) => openBoard(i + k)));
    pages.push(...batch);
  }
  result.timings.openMs = Date.now() - started;
  const before = await waitFor(`every page shows ${PAGES}`, (vs) => vs.every(exact), 30000);
  step(`${PAGES} pages online, each showing ${PAGES} online`);
  console.log(`READY ${JSON.stringify(before.map((v) => v.id))}`);

  await nextLine(); // the emulator was SIGKILLed and has been started again
  const restartedAt = Date.now();
  const back = await waitFor("every page reconnected by itself", (vs) => vs.every((v) => v.connected && !before.some((b) => b.id === v.id)), BOUND_MS);
  result.timings.backAfterRestartMs = Date.now() - restartedAt;
  step(`every page reconnected by itself with a new socket id, ${result.timings.backAfterRestartMs} ms after the restart`);
  console.log(`BACK ${JSON.stringify(back.map((v) => v.id))}`);

  const converged = await waitFor(`every page shows exactly ${PAGES} again`, (vs) => vs.every(exact), BOUND_MS);
  result.timings.exactAfterRestartMs = Date.now() - restartedAt;
  step(`every page shows ${PAGES} online ${result.timings.exactAfterRestartMs} ms after the restart`);
  // It stays exact: the sweeps that run meanwhile remove nothing that is connected.
  await sleep(HOLD_MS);
  const held = await views();
  if (!held.every(exact)) throw new Error(`the count did not hold: ${JSON.stringify(held.filter((v) => !exact(v)).slice(0, 3))}`);
  if (held.some((v, i) => v.id !== converged[i].id)) throw new Error("a page changed its socket id while holding");
  step(`still ${PAGES} on every page ${HOLD_MS} ms later`);

  const history = await each((p) => p.evaluate(() => window.__presence));
  result.reconnects = history.map((h) => h.up.length);
  result.disconnectReasons = [...new Set(history.flatMap((h) => h.down.map((d) => d[1])))];
  // the highest count any page was shown after the restart (more than N: rows of crashed sockets were counted)
  result.highestCountAfterRestart = Math.max(0, ...history.flatMap((h) => h.counts.filter(([at]) => at >= restartedAt).map(([, c]) => c)));
  result.finalIds = held.map((v) => v.id);
  await pages[0].screenshot({ path: join(artifacts, "presence40-converged.png") });
  console.log("HELD");
  await nextLine();
  result.ok = true;
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err);
  if (pages[0]) await pages[0].screenshot({ path: join(artifacts, "presence40-failed.png") }).catch(() => {});
} finally {
  result.timings.wallMs = Date.now() - started;
  await browser.close();
  console.log(JSON.stringify(result));
  lines.close();
}

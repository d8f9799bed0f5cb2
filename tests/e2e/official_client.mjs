// Headless Chromium pages speaking Microsoft's whiteboard client protocol (tests/fixtures/apps/official_whiteboard/
// static/client.js) against the recipe app, plus CORS from other origins.
// Usage: node tests/e2e/official_client.mjs <devhost url> <allowed origin port> <other origin port> <artifacts dir>
// Between "RESTART_EMULATOR" on stdout and a line on stdin the caller restarts the emulator. Last line: JSON result.
import { createServer } from "node:http";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { callerLines, launch, newResult, openPage, png } from "./browser.mjs";

const [base, allowedPort, otherPort, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const { result, step } = newResult({}, { echo: true });
const { nextLine } = callerLines();
// Whatever happens, answer before the caller's own timeout.
const deadline = setTimeout(() => {
  result.error = `gave up after 100 s; last step: ${result.steps.at(-1)}`;
  console.log(JSON.stringify(result));
  process.exit(1);
}, 100_000);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// Two plain pages on other origins (loopback, so Chromium's private-network rules do not apply).
const servers = await Promise.all(
  [allowedPort, otherPort].map(
    (port) =>
      new Promise((resolve) => {
        const server = createServer((_, res) => {
          res.writeHead(200, { "content-type": "text/html" });
          res.end("<!doctype html><title>another origin</title>");
        });
        server.listen(Number(port), "127.0.0.1", () => resolve(server));
      }),
  ),
);

const browser = await launch();

async function open(name) {
  const page = await openPage(browser, result, name, `${base}/`, { viewport: { width: 800, height: 500 } });
  await page.waitForFunction(() => window.client && window.client.state.loaded && window.client.state.connected);
  return page;
}

const state = (page) => page.evaluate(() => JSON.parse(JSON.stringify(window.client.state)));
const shapesOf = (page) => page.evaluate(() => JSON.stringify(window.client.state.shapes, Object.keys(window.client.state.shapes).sort()));

// The other page shows shape `id` exactly as `from` has it (its patches and updates applied).
async function seen(page, id, from) {
  const want = JSON.stringify(await from.evaluate((i) => window.client.state.shapes[i], id));
  await page.waitForFunction(([i, w]) => JSON.stringify(window.client.state.shapes[i]) === w, [id, want]);
}

// A stroke as the stock client makes it: start, moves (some more than 250 ms apart, so patches go out), end.
async function stroke(page, kind, color, width, points) {
  const [first, ...rest] = points;
  const id = await page.evaluate(([k, c, w, [x, y]]) => window.client.startShape(k, c, w, x, y), [kind, color, width, first]);
  for (const [i, [x, y]] of rest.entries()) {
    await page.evaluate(([px, py]) => window.client.drawShape(px, py), [x, y]);
    if (i % 2 === 1) await sleep(260);
  }
  await page.evaluate(() => window.client.endShape());
  return id;
}

// A pale gradient for the background uploads.
const gradient = (x, y) => [220, 235 - (y % 30), 210 + (x % 40)];

// page.upload(file) with the bytes as a File, as the stock client's file input gives it.
async function upload(page, bytes, name, type) {
  await page.evaluate(
    async ([b64, n, t]) => {
      const data = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
      await window.client.upload(new File([data], n, { type: t }));
    },
    [Buffer.from(bytes).toString("base64"), name, type],
  );
}

function expect(condition, message) {
  if (!condition) throw new Error(message);
}

try {
  // --- CORS, from real pages on other origins --------------------------------------------------------------
  const corsContext = await browser.newContext();
  const allowed = await corsContext.newPage();
  await allowed.goto(`http://127.0.0.1:${allowedPort}/`);
  const fromAllowed = await allowed.evaluate(async (b) => {
    const diagram = await fetch(`${b}/diagram`, { credentials: "include" });
    // application/json makes Chromium send a preflight first; the function then refuses the body (4xx), and
    // the page can read that answer because the CORS headers allow it.
    const preflighted = await fetch(`${b}/background/upload`, {
      method: "POST",
      credentials: "include",
      headers: { "content-type": "application/json", "x-requested-with": "whiteboard" },
      body: "{}",
    });
    return { diagram: diagram.status, shapes: typeof (await diagram.json()).shapes, upload: preflighted.status };
  }, base);
  expect(fromAllowed.diagram === 200 && fromAllowed.shapes === "object", `allowed origin: ${JSON.stringify(fromAllowed)}`);
  expect(fromAllowed.upload >= 400 && fromAllowed.upload < 500, `allowed origin, preflighted: ${JSON.stringify(fromAllowed)}`);
  const other = await corsContext.newPage();
  await other.goto(`http://127.0.0.1:${otherPort}/`);
  const fromOther = await other.evaluate(async (b) => {
    try {
      await fetch(`${b}/diagram`);
      return "read";
    } catch (error) {
      return `blocked: ${error.name}`;
    }
  }, base);
  expect(fromOther === "blocked: TypeError", `an origin not in Host.CORS must be blocked, got ${fromOther}`);
  await corsContext.close();
  step("Chromium: an origin in Host.CORS reads /diagram and a preflighted POST (with credentials); another origin is blocked");

  // --- the official client's flow ------------------------------------------------------------------------
  const alice = await open("alice");
  const bob = await open("bob");
  await alice.waitForFunction(() => window.client.state.users >= 2);
  step("two pages negotiated at /whiteboard/negotiate, connected, loaded /diagram; alice sees 2 users");

  const line = await stroke(alice, "polyline", "red", 4, [[40, 60], [60, 70], [80, 90], [110, 80], [130, 70], [180, 120], [220, 80]]);
  await seen(bob, line, alice);
  const rect = await stroke(alice, "rect", "deepskyblue", 8, [[260, 60], [300, 100], [420, 180]]);
  await seen(bob, rect, alice);
  const circle = await stroke(bob, "circle", "green", 2, [[520, 140], [560, 140], [580, 140]]);
  await seen(alice, circle, bob);
  const ellipse = await stroke(bob, "ellipse", "purple", 1, [[80, 220], [200, 300], [300, 320]]);
  await seen(alice, ellipse, bob);
  step("freehand (updateShape, throttled patchShape, addShape), rectangle, circle and ellipse reach the other page");

  await alice.evaluate(() => window.client.undo());
  await bob.waitForFunction((id) => !(id in window.client.state.shapes), rect);
  const redone = await alice.evaluate(() => window.client.redo());
  await seen(bob, redone, alice);
  step("undo (removeShape) and redo (a new id: updateShape + addShape) reach the other page");

  await bob.evaluate(() => window.client.sendMessage("bob", "hello from bob"));
  await alice.waitForFunction(() => window.client.state.messages.some((m) => m.name === "bob" && m.message === "hello from bob"));
  step("newMessage reaches the other page");

  await upload(alice, png(2400, 600, gradient), "wide.png", "image/png");
  const afterUpload = await state(alice);
  expect(afterUpload.uploads[0] === 200, `upload answered ${afterUpload.uploads}`);
  await alice.waitForFunction(() => window.client.state.background);
  const background = (await state(alice)).background;
  await bob.waitForFunction((b) => window.client.state.background === b, background);
  const image = await bob.evaluate(async (url) => {
    const response = await fetch(url);
    const bytes = new Uint8Array(await response.arrayBuffer());
    return { status: response.status, type: response.headers.get("content-type"), jpeg: bytes[0] === 0xff && bytes[1] === 0xd8 };
  }, background);
  expect(image.status === 200 && image.type === "image/jpeg" && image.jpeg, `background ${JSON.stringify(image)}`);
  step("a 2400 px PNG is resized to a JPEG by the client, uploaded as multipart 'file'; updateBackground reaches both; /background/<id> serves it");

  const carol = await open("carol");
  expect((await shapesOf(carol)) === (await shapesOf(alice)), `carol loaded ${await shapesOf(carol)}, alice has ${await shapesOf(alice)}`);
  expect((await state(carol)).background === background, "carol loads the background");
  step("carol, opened later, loads the whole diagram (shapes stored by addShape) and the background");
  await carol.screenshot({ path: join(artifacts, "official-client-carol.png") });

  // --- limits: no ack is asked, so a refusal is silent --------------------------------------------------
  // (The backend also sends the sender a `refused` event, which the stock client does not listen to; a listener
  // is added here, outside the client, to see who gets it.)
  for (const page of [alice, bob]) await page.evaluate(() => window.client.socket.on("refused", (r) => (window.refusedSeen ||= []).push(r)));
  await bob.evaluate(() => window.client.sendMessage("", "a message with a blank name"));
  await bob.evaluate(() => window.client.sendMessage("bob", "x".repeat(1001)));
  await upload(bob, Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'), "bg.svg", "image/svg+xml");
  await bob.evaluate(() => window.client.sendMessage("bob", "after the refusals"));
  await alice.waitForFunction(() => window.client.state.messages.some((m) => m.message === "after the refusals"));
  const aliceNow = await state(alice);
  const bobNow = await state(bob);
  expect(!aliceNow.messages.some((m) => m.message.startsWith("a message with") || m.message.length > 1000), "refused messages must not be relayed");
  expect(bobNow.messages.some((m) => m.message === "a message with a blank name"), "the sender shows its own message anyway");
  expect(bobNow.uploads.at(-1) === 415, `an SVG background is refused with 415, got ${bobNow.uploads}`);
  expect(aliceNow.background === background && bobNow.background === background, "a refused background changes nobody's board");
  const refusedBob = await bob.evaluate(() => window.refusedSeen || []);
  const refusedAlice = await alice.evaluate(() => window.refusedSeen || []);
  expect(
    JSON.stringify(refusedBob.map((r) => [r.event, /name must be a non-empty string|longer than 1000/.test(r.error)])) ===
      JSON.stringify([["newMessage", true], ["newMessage", true]]),
    `the sender gets one 'refused' event per refused message: ${JSON.stringify(refusedBob)}`,
  );
  expect(refusedAlice.length === 0, `only the sender is told: ${JSON.stringify(refusedAlice)}`);
  result.limits = { senderShows: true, othersSee: false, svgUpload: bobNow.uploads.at(-1), refused: refusedBob };
  step("a blank name, a 1001-character message and an SVG background are refused: the sender still shows its message, nobody else sees anything, the upload's 415 is not read");

  // --- reconnection: negotiate again on reconnect_attempt ---------------------------------------------
  const before = await Promise.all([alice, bob, carol].map(state));
  console.log("RESTART_EMULATOR");
  await nextLine();
  for (const [i, page] of [alice, bob, carol].entries()) {
    await page.waitForFunction(
      ([connects, negotiations]) =>
        window.client.state.connected && window.client.state.connects > connects && window.client.state.negotiations > negotiations,
      [before[i].connects, before[i].negotiations],
    );
  }
  const lineAfter = await stroke(carol, "line", "black", 2, [[50, 400], [150, 420], [250, 450]]);
  await seen(alice, lineAfter, carol);
  await seen(bob, lineAfter, carol);
  step("after an emulator restart every page negotiated again on reconnect_attempt, reconnected, and a new line flows");

  await carol.evaluate(() => window.client.clear());
  for (const page of [alice, bob]) {
    await page.waitForFunction(() => Object.keys(window.client.state.shapes).length === 0 && window.client.state.background === null);
  }
  const dave = await open("dave");
  const daveState = await state(dave);
  expect(Object.keys(daveState.shapes).length === 0 && daveState.background === null, "a page opened after clear loads an empty board");
  step("clear (a plain author string) empties the other pages and the stored diagram");

  result.ok = true;
} catch (error) {
  result.error = String(error && error.stack ? error.stack : error);
} finally {
  clearTimeout(deadline);
  console.log(JSON.stringify(result));
  await browser.close();
  for (const server of servers) server.close();
  process.exit(0);
}

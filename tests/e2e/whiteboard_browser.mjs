// Whiteboard pages in headless Chromium: two draw and see each other's shapes, a late third loads the board,
// then (between "RESTART" on stdout and a line on stdin) the dev host is restarted by the caller: the pages stay
// connected, new strokes flow and nothing is lost; undo, redo and clear reach the other pages.
// Usage: node tests/e2e/whiteboard_browser.mjs <devhost base url> <artifacts dir>. Last stdout line: JSON result.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { callerLines, launch, newResult, openPage, png } from "./browser.mjs";

const [base, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const { result, step } = newResult();
const lines = callerLines();
const nextLine = lines.nextLine;

const browser = await launch();

async function open(name) {
  const page = await openPage(browser, result, name, `${base}/api/whiteboard?name=${name}`);
  await page.waitForSelector("#status.online");
  await page.waitForFunction(() => window.whiteboard.loaded === true);
  return page;
}

async function draw(page, tool, color, width, points) {
  await page.click(`#tools [data-tool="${tool}"]`);
  await page.click(`#colors [data-color="${color}"]`);
  await page.click(`#widths [data-width="${width}"]`);
  const box = await page.locator("#board").boundingBox();
  await page.mouse.move(box.x + points[0][0], box.y + points[0][1]);
  await page.mouse.down();
  for (const [x, y] of points.slice(1)) await page.mouse.move(box.x + x, box.y + y, { steps: 4 });
  await page.mouse.up();
  // Every emit of the shape, the final updateShape (which stores it) included, is acknowledged.
  await page.waitForFunction(() => window.whiteboard.pending === 0 && !window.whiteboard.drawing);
  const errors = await page.evaluate(() => window.whiteboard.errors);
  if (errors.length) throw new Error(`errors on the page: ${errors}`);
  return page.evaluate(() => window.whiteboard.undo[window.whiteboard.undo.length - 1]);
}

// Another page shows the shape exactly as the drawing page has it (same data, after patches and the final update).
async function seen(page, id, from) {
  const want = JSON.stringify(await from.evaluate((i) => window.whiteboard.shapes.get(i), id));
  await page.waitForFunction(([i, w]) => JSON.stringify(window.whiteboard.shapes.get(i)) === w, [id, want]);
  await page.waitForSelector(`#shapes [data-id="${id}"]`);
}
const ids = (page) => page.evaluate(() => [...window.whiteboard.shapes.keys()].sort());
const socketId = (page) => page.evaluate(() => window.whiteboard.socket.id);

// A pale gradient for the background upload.
const gradient = (x, y) => [230, 240 - (y % 40), 200 + (x % 50)];

async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `whiteboard-${name}.png`) });
}

try {
  const alice = await open("alice");
  const bob = await open("bob");
  await alice.waitForFunction(() => window.whiteboard.users >= 2);
  step("two pages online; alice sees 2+ users");

  const stroke = await draw(alice, "polyline", "red", 4, [[40, 60], [80, 90], [130, 70], [180, 120], [220, 80]]);
  await seen(bob, stroke, alice);
  const rect = await draw(alice, "rect", "deepskyblue", 8, [[260, 60], [420, 180]]);
  await seen(bob, rect, alice);
  const circle = await draw(bob, "circle", "green", 2, [[520, 140], [580, 140]]);
  await seen(alice, circle, bob);
  const ellipse = await draw(bob, "ellipse", "purple", 4, [[80, 220], [300, 320]]);
  await seen(alice, ellipse, bob);
  step("alice and bob see each other's freehand, rectangle, circle and ellipse");

  await bob.fill("#text", "hello from bob");
  await bob.click("#chat-form button");
  await alice.waitForSelector("#messages li.theirs:has-text('hello from bob')");
  step("chat message reached alice");

  await alice.setInputFiles("#background", { name: "bg.png", mimeType: "image/png", buffer: png(640, 400, gradient) });
  const background = await alice.waitForFunction(() => window.whiteboard.background).then((h) => h.jsonValue());
  await bob.waitForFunction((id) => window.whiteboard.background === id, background);
  await bob.waitForSelector("#bg[visibility=visible]", { state: "attached" });
  step("alice uploaded a background; bob shows it");

  const carol = await open("carol");
  const expected = [stroke, rect, circle, ellipse].sort();
  const carolIds = await ids(carol);
  if (JSON.stringify(carolIds) !== JSON.stringify(expected)) throw new Error(`carol loaded ${carolIds}`);
  await carol.waitForFunction(() => window.whiteboard.users >= 3);
  await carol.waitForSelector("#bg[visibility=visible]", { state: "attached" });
  step("carol, opened later, loaded the whole diagram");
  await shot(alice, "alice");
  await shot(carol, "carol-late");

  const sockets = await Promise.all([alice, bob, carol].map(socketId));
  console.log("RESTART");
  await nextLine();
  const after = await Promise.all([alice, bob, carol].map(socketId));
  const connected = await Promise.all([alice, bob, carol].map((p) => p.evaluate(() => window.whiteboard.socket.connected)));
  if (JSON.stringify(after) !== JSON.stringify(sockets) || connected.includes(false)) {
    throw new Error(`sockets changed across the restart: ${sockets} -> ${after} (${connected})`);
  }
  step("after the dev host restart, all three pages are still connected with the same sockets");

  const line = await draw(carol, "line", "orange", 8, [[350, 250], [600, 400]]);
  await seen(alice, line, carol);
  await seen(bob, line, carol);
  const dave = await open("dave");
  const daveIds = await ids(dave);
  const all = [...expected, line].sort();
  if (JSON.stringify(daveIds) !== JSON.stringify(all)) throw new Error(`dave loaded ${daveIds}, wanted ${all}`);
  step("a new stroke flows after the restart; a new page loads everything drawn before and after");

  await alice.click("#undo"); // removes alice's rectangle
  await bob.waitForSelector(`#shapes [data-id="${rect}"]`, { state: "detached" });
  step("undo on alice removed the rectangle on bob's page");
  await alice.click("#redo"); // puts the rectangle back, under a new id
  await alice.waitForFunction(() => window.whiteboard.pending === 0);
  const redone = await alice.evaluate(() => window.whiteboard.undo[window.whiteboard.undo.length - 1]);
  if (redone === rect) throw new Error("redo reused the undone id");
  await seen(bob, redone, alice);
  step("redo on alice put the rectangle back on bob's page");
  await shot(bob, "bob-after-restart");
  await shot(dave, "dave");

  await bob.click("#clear");
  await bob.waitForFunction(() => window.whiteboard.pending === 0);
  await alice.waitForFunction(() => window.whiteboard.shapes.size === 0 && window.whiteboard.background === null);
  const eve = await open("eve");
  const eveState = await eve.evaluate(() => [window.whiteboard.shapes.size, window.whiteboard.background]);
  if (JSON.stringify(eveState) !== "[0,null]") throw new Error(`after clear, eve loaded ${eveState}`);
  step("clear on bob emptied alice's page and the stored diagram");
  result.ok = true;
} catch (err) {
  result.error = String(err && err.stack ? err.stack : err);
} finally {
  await browser.close();
  console.log(JSON.stringify(result));
  lines.close();
}
